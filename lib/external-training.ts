import { ArnFormat, Duration, Size, SizeRoundingBehavior, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { ArtifactStore } from './artifact-store.js';

/** Where a run's outputs go in the models bucket: the same prefix the Train function writes to. */
const runPrefix = (bucket: string) =>
  sfn.JsonPath.format(`s3://${bucket}/models/{}/runs/{}/`, sfn.JsonPath.stringAt('$.run.model'), sfn.JsonPath.stringAt('$.run.runId'));

export interface SageMakerTrainingOptions {
  /**
   * The training container. `tasks.DockerImage.fromEcrRepository(repository, tag)` also lets the
   * job's role pull it; a URI string is pulled as it is (a public image, or a repository whose
   * policy lets the role pull).
   */
  readonly image: tasks.DockerImage | string;
  /** @default ml.m5.xlarge */
  readonly instanceType?: ec2.InstanceType;
  /** @default 1 */
  readonly instanceCount?: number;
  /** Storage attached to each instance (the dataset is copied there in File mode). @default Size.gibibytes(30) */
  readonly volumeSize?: Size;
  /** SageMaker stops the job after this long; it must be shorter than the pipeline's timeout. @default Duration.hours(1) */
  readonly maxRuntime?: Duration;
  /**
   * The role SageMaker assumes. It is granted read on the datasets bucket, write on the models
   * bucket and its own logs whichever role it is.
   * @default - a new role that SageMaker can assume
   */
  readonly role?: iam.IRole;
}

export interface EcsTrainingOptions {
  readonly cluster: ecs.ICluster;
  /** Runs with its task role, which is granted read on the datasets bucket and write on the models bucket. */
  readonly taskDefinition: ecs.TaskDefinition;
  /** The container that trains; it gets the run's environment variables. @default - the task definition's default (first essential) container */
  readonly containerName?: string;
  /** @default - Fargate, latest platform version */
  readonly launchTarget?: tasks.IEcsLaunchTarget;
  /** @default - the VPC's private subnets (public ones when assignPublicIp is true) */
  readonly subnets?: ec2.SubnetSelection;
  /** @default - a new security group with no inbound rules */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default false */
  readonly assignPublicIp?: boolean;
  /** Step Functions stops the task after this long; it must be shorter than the pipeline's timeout. @default Duration.hours(1) */
  readonly timeout?: Duration;
}

export interface ExternalTrainingBindOptions {
  readonly store: ArtifactStore;
}

/** What the pipeline wires in place of the Train step. */
export interface BoundExternalTraining {
  readonly service: 'sagemaker' | 'ecs';
  /** The task's state name, also the `step` a failure is recorded under. */
  readonly stateName: string;
  /** The `.sync` task; the pipeline adds its Retry and its Catch into RecordFailure. */
  readonly task: sfn.TaskStateBase;
  /** Where RegisterExternalArtifact finds the produced artifact: a path or intrinsic over the state. */
  readonly artifactUri: string;
  /** Errors of the service call (capacity, throttling) worth another attempt; a failed job is not retried. */
  readonly retryErrors: string[];
  /** The role the job runs with, as the pipeline's grants see it (imported into the pipeline's stack when it lives elsewhere). */
  readonly grantee: iam.IRole;
}

/**
 * Training outside Lambda, for models that outgrow its 15 minutes and 10 GB: a SageMaker
 * training job or an ECS task, run with the Step Functions `.sync` integration, in place of the
 * Train function. Either way the job gets the run's dataset and must leave a model file the
 * platform reads (`model.json`: a built-in artifact as Train writes it, or an ONNX model's
 * manifest; lambdas/core/model-file.ts) under `s3://<models bucket>/models/<model>/runs/<runId>/`;
 * RegisterExternalArtifact then checks it, hashes it and records it on the run, and Evaluate,
 * Gate and Register follow as usual. An import (an ONNX model trained elsewhere) still goes to the
 * Train function, which describes it.
 *
 * - SageMaker: the dataset object is the `train` channel (/opt/ml/input/data/train/); the
 *   hyperparameters (all strings) are `model`, `run_id`, `algorithm`, `seed`, `params` (the
 *   algorithm's parameters as JSON) and `spec` (the run's whole model spec as JSON: SageMaker caps
 *   each value at 2,500 characters, so a spec with many features fails the step, recorded on the
 *   run). Write `model.json` to /opt/ml/model/; SageMaker uploads it as `model.tar.gz` under
 *   `<job name>/output/`, and RegisterExternalArtifact takes it out to `<runId>/model.json`.
 * - ECS: the container gets RUN_ID, MODEL, DATASET_URI, OUTPUT_URI (the prefix above) and
 *   MODEL_SPEC (JSON; ECS allows 8 KiB of overrides) and writes `${OUTPUT_URI}model.json` itself.
 *
 * It is a construct prop (TrainingPipeline, PlatformStack) for people composing their own stack,
 * not a cdk.json setting: an ECS task needs a cluster and a task definition, which are constructs.
 * The local stack never uses it and the emulator does not run these `.sync` integrations, so
 * infra tests cover it (test/infra/external-training.test.ts).
 */
export abstract class ExternalTraining {
  /** A SageMaker training job (createTrainingJob.sync). */
  static sageMaker(options: SageMakerTrainingOptions): ExternalTraining {
    return new SageMakerTraining(options);
  }

  /** An ECS task (runTask.sync); by default on Fargate in the cluster VPC's private subnets. */
  static ecsTask(options: EcsTrainingOptions): ExternalTraining {
    return new EcsTraining(options);
  }

  /** The longest the job may run, checked against the pipeline's timeout. */
  abstract readonly maxDuration: Duration;
  /** Creates the task state (and the role or grants it needs) in `scope`. Called once by TrainingPipeline. */
  abstract bind(scope: Construct, options: ExternalTrainingBindOptions): BoundExternalTraining;
}

/** A rule on the options: returns the problem, naming the option and the value received, or undefined. */
type Rule<T> = (options: T) => string | undefined;

const SAGEMAKER_RULES: Rule<SageMakerTrainingOptions>[] = [
  ({ instanceCount }) =>
    instanceCount === undefined || (Number.isInteger(instanceCount) && instanceCount >= 1)
      ? undefined
      : `instanceCount must be a whole number of at least 1, got ${instanceCount}`,
  ({ volumeSize }) => {
    const gib = volumeSize?.toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    return gib === undefined || (Number.isInteger(gib) && gib >= 1 && gib <= 16_384)
      ? undefined
      : `volumeSize must be a whole number of GiB from 1 to 16384, got ${volumeSize!.toMebibytes({ rounding: SizeRoundingBehavior.NONE })} MiB`;
  },
  ({ maxRuntime }) =>
    maxRuntime === undefined || (maxRuntime.toSeconds({ integral: false }) >= 1 && maxRuntime.toSeconds({ integral: false }) <= Duration.days(28).toSeconds())
      ? undefined
      : `maxRuntime must be from 1 second to 28 days (SageMaker's limit), got ${maxRuntime.toHumanString()}`,
  ({ image }) => (typeof image !== 'string' || image.trim() !== '' ? undefined : 'image must be an image URI, got an empty string'),
];

const ECS_RULES: Rule<EcsTrainingOptions>[] = [
  ({ timeout }) =>
    timeout === undefined || timeout.toSeconds({ integral: false }) >= 60 ? undefined : `timeout must be at least 1 minute, got ${timeout.toHumanString()}`,
  ({ containerName, taskDefinition }) =>
    containerName === undefined || taskDefinition.findContainer(containerName)
      ? undefined
      : `containerName "${containerName}" is not a container of task definition ${taskDefinition.node.path}`,
];

function validate<T>(what: string, rules: Rule<T>[], options: T): void {
  const problems = rules.map((rule) => rule(options)).filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0) throw new Error(`invalid ${what} options: ${problems.join('; ')}`);
}

/**
 * The role to grant on from the pipeline: itself when it is in the pipeline's stack; otherwise
 * imported there, so the grants become a policy of the pipeline's stack and nothing in the role's
 * stack refers back to the buckets (which would make the two stacks depend on each other).
 */
function grantableRole(scope: Construct, id: string, role: iam.IRole): iam.IRole {
  return Stack.of(role) === Stack.of(scope) ? role : iam.Role.fromRoleArn(scope, id, role.roleArn, { mutable: true });
}

/** An S3 location given by an expression over the state; grants are made explicitly, on the platform buckets only. */
class ExpressionLocation extends tasks.S3Location {
  constructor(private readonly uri: string) {
    super();
  }

  bind(): tasks.S3LocationConfig {
    return { uri: this.uri };
  }
}

class SageMakerTraining extends ExternalTraining {
  private readonly stateName = 'TrainOnSageMaker';
  readonly maxDuration: Duration;

  constructor(private readonly options: SageMakerTrainingOptions) {
    super();
    validate('ExternalTraining.sageMaker', SAGEMAKER_RULES, options);
    this.maxDuration = options.maxRuntime ?? Duration.hours(1);
  }

  bind(scope: Construct, { store }: ExternalTrainingBindOptions): BoundExternalTraining {
    const { options } = this;
    const role =
      options.role ??
      new iam.Role(scope, 'TrainingJobRole', {
        assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
        description: 'Assumed by the training pipeline\'s SageMaker training jobs: reads datasets, writes model artifacts',
      });
    const grantee = grantableRole(scope, 'TrainingJobRoleGrants', role);
    store.datasets.grantRead(grantee);
    store.models.grantPut(grantee);
    grantee.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [
          Stack.of(scope).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws/sagemaker/TrainingJobs:*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const image = typeof options.image === 'string' ? tasks.DockerImage.fromRegistry(options.image) : options.image;
    const task = new tasks.SageMakerCreateTrainingJob(scope, this.stateName, {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      // Unique per execution, within SageMaker's 63 characters whatever the run id looks like.
      trainingJobName: sfn.JsonPath.format('mlops-{}', sfn.JsonPath.hash(sfn.JsonPath.executionId, 'SHA-1')),
      role,
      algorithmSpecification: { trainingImage: image, trainingInputMode: tasks.InputMode.FILE },
      inputDataConfig: [
        {
          channelName: 'train',
          dataSource: {
            s3DataSource: { s3Location: new ExpressionLocation(sfn.JsonPath.stringAt('$.run.dataset.uri')), s3DataType: tasks.S3DataType.S3_PREFIX },
          },
        },
      ],
      outputDataConfig: { s3OutputLocation: new ExpressionLocation(runPrefix(store.models.bucketName)) },
      hyperparameters: {
        model: sfn.JsonPath.stringAt('$.run.model'),
        run_id: sfn.JsonPath.stringAt('$.run.runId'),
        algorithm: sfn.JsonPath.stringAt('$.run.spec.training.algorithm'),
        seed: sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.run.spec.training.seed')),
        params: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.run.spec.training.params')),
        spec: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.run.spec')),
      },
      resourceConfig: {
        instanceCount: options.instanceCount ?? 1,
        instanceType: options.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.M5, ec2.InstanceSize.XLARGE),
        volumeSize: options.volumeSize ?? Size.gibibytes(30),
      },
      stoppingCondition: { maxRuntime: this.maxDuration },
      // Keep only what RegisterExternalArtifact needs of DescribeTrainingJob's answer.
      resultSelector: {
        artifactUri: sfn.JsonPath.stringAt('$.ModelArtifacts.S3ModelArtifacts'),
        trainingJobName: sfn.JsonPath.stringAt('$.TrainingJobName'),
      },
      resultPath: '$.externalTraining',
    });
    return {
      service: 'sagemaker',
      stateName: this.stateName,
      task,
      artifactUri: sfn.JsonPath.stringAt('$.externalTraining.artifactUri'),
      retryErrors: ['SageMaker.AmazonSageMakerException', 'ThrottlingException'],
      grantee,
    };
  }
}

class EcsTraining extends ExternalTraining {
  private readonly stateName = 'TrainOnEcs';
  readonly maxDuration: Duration;

  constructor(private readonly options: EcsTrainingOptions) {
    super();
    validate('ExternalTraining.ecsTask', ECS_RULES, options);
    this.maxDuration = options.timeout ?? Duration.hours(1);
  }

  bind(scope: Construct, { store }: ExternalTrainingBindOptions): BoundExternalTraining {
    const { options } = this;
    const { taskDefinition } = options;
    const container = options.containerName ? taskDefinition.findContainer(options.containerName) : taskDefinition.defaultContainer;
    if (!container) throw new Error(`invalid ExternalTraining.ecsTask options: task definition ${taskDefinition.node.path} has no container to run`);
    const grantee = grantableRole(scope, 'TaskRoleGrants', taskDefinition.taskRole);
    store.datasets.grantRead(grantee);
    store.models.grantPut(grantee);
    const outputUri = runPrefix(store.models.bucketName);
    const task = new tasks.EcsRunTask(scope, this.stateName, {
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster: options.cluster,
      taskDefinition,
      launchTarget: options.launchTarget ?? new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
      subnets: options.subnets,
      securityGroups: options.securityGroups,
      assignPublicIp: options.assignPublicIp,
      containerOverrides: [
        {
          containerDefinition: container,
          environment: [
            { name: 'RUN_ID', value: sfn.JsonPath.stringAt('$.run.runId') },
            { name: 'MODEL', value: sfn.JsonPath.stringAt('$.run.model') },
            { name: 'DATASET_URI', value: sfn.JsonPath.stringAt('$.run.dataset.uri') },
            { name: 'OUTPUT_URI', value: outputUri },
            { name: 'MODEL_SPEC', value: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.run.spec')) },
          ],
        },
      ],
      taskTimeout: sfn.Timeout.duration(this.maxDuration),
      // The task's description is large and nothing later needs it.
      resultPath: sfn.JsonPath.DISCARD,
    });
    return {
      service: 'ecs',
      stateName: this.stateName,
      task,
      grantee,
      artifactUri: sfn.JsonPath.format(
        `s3://${store.models.bucketName}/models/{}/runs/{}/model.json`,
        sfn.JsonPath.stringAt('$.run.model'),
        sfn.JsonPath.stringAt('$.run.runId'),
      ),
      retryErrors: ['ECS.AmazonECSException'],
    };
  }
}
