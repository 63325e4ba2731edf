import { App, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifact-store.js';
import { ExternalTraining } from '../../lib/external-training.js';
import { PlatformStack } from '../../lib/platform-stack.js';
import { Registry, Tracking } from '../../lib/registry.js';
import { TrainingPipeline } from '../../lib/training-pipeline.js';
import { actionsOfRoleFor, DECLARED_MODELS, ENVIRONMENTS, stateMachineDefinition, statementsOfPoliciesFor } from './helpers.js';

// External training runs on AWS only (the emulator has no SageMaker and no .sync integrations), so
// these tests pin the synthesized definition and grants.

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** A fresh App and Stack; bundling is skipped, as in helpers.ts. */
function freshStack(id = 'Pipeline') {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return { app, stack: new Stack(app, id, { env: ENV }) };
}

/** A TrainingPipeline with its own store, tables and topic in `stack`. */
function pipelineIn(stack: Stack, externalTraining?: ExternalTraining, timeout?: Duration) {
  const removalPolicy = RemovalPolicy.DESTROY;
  const store = new ArtifactStore(stack, 'Store', { removalPolicy, autoDeleteObjects: false });
  return new TrainingPipeline(stack, 'TrainingPipeline', {
    store,
    registryTable: new Registry(stack, 'Registry', { removalPolicy }).table,
    trackingTable: new Tracking(stack, 'Tracking', { removalPolicy }).table,
    alertTopic: new sns.Topic(stack, 'Alerts'),
    productionRequiresApproval: false,
    environmentName: 'test',
    codeVersion: 'test',
    logRetention: logs.RetentionDays.ONE_WEEK,
    removalPolicy,
    externalTraining,
    timeout,
  });
}

/** A Fargate task definition whose trainer container logs (so it also has an execution role). */
function ecsTrainer(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Trainer', { cpu: 4096, memoryLimitMiB: 16_384 });
  taskDefinition.addContainer('sidecar', { image: ecs.ContainerImage.fromRegistry('example/sidecar:1'), essential: false });
  taskDefinition.addContainer('trainer', {
    image: ecs.ContainerImage.fromRegistry('example/trainer:1'),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'trainer' }),
  });
  return { vpc, cluster, taskDefinition };
}

const logicalIdOf = (template: Template, type: string, prefix: string) => {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0]!;
};

/** Every failure of `state` is recorded (its Pass names the step) and ends in RecordFailure. */
function expectCaughtIntoRecordFailure(definition: Record<string, any>, state: string) {
  expect(definition.States[state].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: `${state}Failed` }]);
  expect(definition.States[`${state}Failed`]).toMatchObject({ Type: 'Pass', Parameters: { step: state }, Next: 'RecordFailure' });
}

describe('TrainingPipeline without external training', () => {
  it('trains in the Train function', () => {
    const { stack } = freshStack();
    pipelineIn(stack);
    const template = Template.fromStack(stack);
    const definition = stateMachineDefinition(template);
    expect(definition.States.ValidateData.Next).toBe('Train');
    expect(definition.States.Train).toMatchObject({ Type: 'Task', ResultPath: '$.training', Next: 'Evaluate' });
    expect(JSON.stringify(definition.States.Train.Resource)).not.toMatch(/sagemaker|ecs/);
    const trainFunction = logicalIdOf(template, 'AWS::Lambda::Function', 'TrainingPipelineTrainHandler');
    expect(definition.States.Train.Resource).toBe('TOKEN'); // the function's ARN
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).some((id) => id.startsWith('TrainingPipelineRegisterExternalArtifact'))).toBe(false);
    expect(definition.States['Import?']).toBeUndefined();
    // The state machine may invoke the Train function, and calls no training service.
    const machineActions = actionsOfRoleFor(template, 'TrainingPipelineStateMachineRole');
    expect(machineActions.filter((a) => /^(sagemaker|ecs|iam):/.test(a))).toEqual([]);
    expect(JSON.stringify(statementsOfPoliciesFor(template, 'TrainingPipelineStateMachineRole'))).toContain(trainFunction);
    for (const state of Object.keys(definition.States)) expect(state).not.toMatch(/^TrainOn|External/);
    expect(actionsOfRoleFor(template, 'TrainingPipelineTrainHandler')).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject']));
  });
});

describe('ExternalTraining.sageMaker', () => {
  const synth = (options: Partial<Parameters<typeof ExternalTraining.sageMaker>[0]> = {}) => {
    const { stack } = freshStack();
    const pipeline = pipelineIn(stack, ExternalTraining.sageMaker({ image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/trainer:1', ...options }));
    const template = Template.fromStack(stack);
    return { stack, pipeline, template, definition: stateMachineDefinition(template) };
  };

  it('trains in a createTrainingJob.sync task followed by RegisterExternalArtifact; imports still go to Train', () => {
    const { definition } = synth({ instanceType: ec2.InstanceType.of(ec2.InstanceClass.G5, ec2.InstanceSize.XLARGE2), instanceCount: 2, volumeSize: Size.gibibytes(100), maxRuntime: Duration.minutes(90) });
    // Only an import (an ONNX model trained elsewhere) still goes to the Train function, which describes it.
    expect(definition.States.ValidateData.Next).toBe('Import?');
    expect(definition.States['Import?']).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.run.mode', StringEquals: 'import', Next: 'Train' }],
      Default: 'TrainOnSageMaker',
    });
    expect(definition.States.Train.Next).toBe('Evaluate');
    const job = definition.States.TrainOnSageMaker;
    expect(job.Resource).toMatch(/^arn:[^:]+:states:::sagemaker:createTrainingJob\.sync$/);
    expect(job.Next).toBe('RegisterExternalArtifact');
    expect(job.Parameters).toMatchObject({
      'TrainingJobName.$': "States.Format('mlops-{}', States.Hash($$.Execution.Id, 'SHA-1'))",
      AlgorithmSpecification: { TrainingImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/trainer:1', TrainingInputMode: 'File' },
      // The dataset version the run resolved is the train channel.
      InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { 'S3Uri.$': '$.run.dataset.uri', S3DataType: 'S3Prefix' } } }],
      // Output goes under the run's folder in the models bucket.
      OutputDataConfig: { 'S3OutputPath.$': "States.Format('s3://TOKEN/models/{}/runs/{}/', $.run.model, $.run.runId)" },
      ResourceConfig: { InstanceCount: 2, InstanceType: 'ml.g5.2xlarge', VolumeSizeInGB: 100 },
      StoppingCondition: { MaxRuntimeInSeconds: 5400 },
      HyperParameters: {
        'model.$': '$.run.model',
        'run_id.$': '$.run.runId',
        'algorithm.$': '$.run.spec.training.algorithm',
        'seed.$': "States.Format('{}', $.run.spec.training.seed)",
        'params.$': 'States.JsonToString($.run.spec.training.params)',
        'spec.$': 'States.JsonToString($.run.spec)',
      },
    });
    // Only the artifact's location (and the job's name) is kept of DescribeTrainingJob's answer.
    expect(job.ResultSelector).toEqual({ 'artifactUri.$': '$.ModelArtifacts.S3ModelArtifacts', 'trainingJobName.$': '$.TrainingJobName' });
    expect(job.ResultPath).toBe('$.externalTraining');
    // RegisterExternalArtifact records the artifact where Train would ($.training), and Evaluate follows.
    expect(definition.States.RegisterExternalArtifact).toMatchObject({
      Type: 'Task',
      Parameters: { 'run.$': '$.run', 'artifactUri.$': '$.externalTraining.artifactUri' },
      ResultPath: '$.training',
      Next: 'Evaluate',
    });
  });

  it('uses the defaults: one ml.m5.xlarge, 30 GiB, one hour', () => {
    const { definition } = synth();
    expect(definition.States.TrainOnSageMaker.Parameters.ResourceConfig).toEqual({ InstanceCount: 1, InstanceType: 'ml.m5.xlarge', VolumeSizeInGB: 30 });
    expect(definition.States.TrainOnSageMaker.Parameters.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600 });
  });

  it('retries a job that cannot start and catches every failure into RecordFailure', () => {
    const { definition } = synth();
    expect(definition.States.TrainOnSageMaker.Retry).toEqual([
      { ErrorEquals: ['SageMaker.AmazonSageMakerException', 'ThrottlingException'], IntervalSeconds: 30, MaxAttempts: 3, BackoffRate: 2 },
    ]);
    expectCaughtIntoRecordFailure(definition, 'TrainOnSageMaker');
    expectCaughtIntoRecordFailure(definition, 'RegisterExternalArtifact');
    expect(definition.States.RegisterExternalArtifact.Retry.flatMap((r: { ErrorEquals: string[] }) => r.ErrorEquals)).toEqual(
      expect.arrayContaining(['Lambda.TooManyRequestsException', 'ThrottlingException']),
    );
  });

  it('lets the state machine create, watch and stop training jobs and pass only the training role to SageMaker', () => {
    const { template } = synth();
    const role = logicalIdOf(template, 'AWS::IAM::Role', 'TrainingPipelineTrainingJobRole');
    const statements = statementsOfPoliciesFor(template, 'TrainingPipelineStateMachineRole');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'] }),
        {
          Action: 'iam:PassRole',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [role, 'Arn'] },
          Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
        },
        // .sync watches the job through an EventBridge rule Step Functions manages.
        expect.objectContaining({ Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'] }),
      ]),
    );
    const passRoles = statements.filter((s) => [s.Action].flat().includes('iam:PassRole'));
    expect(passRoles).toHaveLength(1);
  });

  it('gives the training role read on datasets, write on models and its logs, and no managed policy', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
    });
    const statements = statementsOfPoliciesFor(template, 'TrainingPipelineTrainingJobRole');
    const bucketOf = (statement: { Resource: unknown }) => JSON.stringify(statement.Resource).match(/"(Store(Datasets|Models|Reports|PredictionLogs)[0-9A-F]{8})"/)?.[2];
    const reads = statements.filter((s) => [s.Action].flat().includes('s3:GetObject*'));
    const writes = statements.filter((s) => [s.Action].flat().includes('s3:PutObject'));
    expect(reads.map(bucketOf)).toEqual(['Datasets']);
    expect(writes.map(bucketOf)).toEqual(['Models']);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    const logStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')));
    expect(JSON.stringify(logStatements.map((s) => s.Resource))).toContain(':log-group:/aws/sagemaker/TrainingJobs:*');
  });

  it('records the artifact with RegisterExternalArtifact, which may read and write models only', () => {
    const { template, pipeline } = synth();
    expect(Object.keys(pipeline.functions)).toEqual(expect.arrayContaining(['train', 'registerExternalArtifact']));
    const actions = actionsOfRoleFor(template, 'TrainingPipelineRegisterExternalArtifactHandler');
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 'dynamodb:UpdateItem']));
    const statements = statementsOfPoliciesFor(template, 'TrainingPipelineRegisterExternalArtifactHandler');
    expect(JSON.stringify(statements)).not.toMatch(/StoreDatasets|RegistryTable/);
  });

  it('lets a job pull its image from ECR when given the repository', () => {
    const { stack } = freshStack();
    const repository = new ecr.Repository(stack, 'Trainers', { removalPolicy: RemovalPolicy.DESTROY });
    pipelineIn(stack, ExternalTraining.sageMaker({ image: tasks.DockerImage.fromEcrRepository(repository, '1.0') }));
    const template = Template.fromStack(stack);
    expect(actionsOfRoleFor(template, 'TrainingPipelineTrainingJobRole')).toEqual(
      expect.arrayContaining(['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:GetAuthorizationToken']),
    );
  });

  it('uses a given role and grants on it', () => {
    const { stack } = freshStack();
    const role = new iam.Role(stack, 'MyTrainingRole', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    pipelineIn(stack, ExternalTraining.sageMaker({ image: 'example/trainer:1', role }));
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::IAM::Role')).some((id) => id.startsWith('TrainingPipelineTrainingJobRole'))).toBe(false);
    expect(actionsOfRoleFor(template, 'MyTrainingRole')).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 'logs:PutLogEvents']));
  });

  it('fails when instanceCount is not a positive whole number', () => {
    expect(() => ExternalTraining.sageMaker({ image: 'example/trainer:1', instanceCount: 0 })).toThrow(/instanceCount must be a whole number of at least 1, got 0/);
  });

  it('fails when maxRuntime is beyond SageMaker\'s 28 days', () => {
    expect(() => ExternalTraining.sageMaker({ image: 'example/trainer:1', maxRuntime: Duration.days(29) })).toThrow(/maxRuntime must be from 1 second to 28 days.*29 days/);
  });

  it('fails when the job may outlast the pipeline', () => {
    const { stack } = freshStack();
    // A timed-out execution skips RecordFailure, so the run would never be marked FAILED.
    expect(() => pipelineIn(stack, ExternalTraining.sageMaker({ image: 'example/trainer:1', maxRuntime: Duration.hours(3) }))).toThrow(
      /externalTraining may run 3 hours, which does not fit in the pipeline's timeout of 2 hours/,
    );
    const { stack: longer } = freshStack();
    expect(() => pipelineIn(longer, ExternalTraining.sageMaker({ image: 'example/trainer:1', maxRuntime: Duration.hours(3) }), Duration.hours(4))).not.toThrow();
  });
});

describe('ExternalTraining.ecsTask', () => {
  const synth = (options: Partial<Parameters<typeof ExternalTraining.ecsTask>[0]> = {}) => {
    const { stack } = freshStack();
    const { cluster, taskDefinition } = ecsTrainer(stack);
    const pipeline = pipelineIn(stack, ExternalTraining.ecsTask({ cluster, taskDefinition, containerName: 'trainer', ...options }));
    const template = Template.fromStack(stack);
    return { stack, pipeline, template, definition: stateMachineDefinition(template), taskDefinition };
  };

  it('trains in a runTask.sync task that tells the container its run, then RegisterExternalArtifact', () => {
    const { definition } = synth({ timeout: Duration.minutes(90) });
    expect(definition.States.ValidateData.Next).toBe('Import?');
    expect(definition.States['Import?']).toMatchObject({ Choices: [{ Variable: '$.run.mode', StringEquals: 'import', Next: 'Train' }], Default: 'TrainOnEcs' });
    const task = definition.States.TrainOnEcs;
    expect(task.Resource).toMatch(/^arn:[^:]+:states:::ecs:runTask\.sync$/);
    expect(task).toMatchObject({ Next: 'RegisterExternalArtifact', TimeoutSeconds: 5400, ResultPath: null });
    expect(task.Parameters).toMatchObject({ LaunchType: 'FARGATE', PlatformVersion: 'LATEST' });
    expect(task.Parameters.Overrides.ContainerOverrides).toEqual([
      {
        Name: 'trainer',
        Environment: [
          { Name: 'RUN_ID', 'Value.$': '$.run.runId' },
          { Name: 'MODEL', 'Value.$': '$.run.model' },
          { Name: 'DATASET_URI', 'Value.$': '$.run.dataset.uri' },
          { Name: 'OUTPUT_URI', 'Value.$': "States.Format('s3://TOKEN/models/{}/runs/{}/', $.run.model, $.run.runId)" },
          { Name: 'MODEL_SPEC', 'Value.$': 'States.JsonToString($.run.spec)' },
        ],
      },
    ]);
    // The container writes model.json under OUTPUT_URI; RegisterExternalArtifact reads it there.
    expect(definition.States.RegisterExternalArtifact).toMatchObject({
      Parameters: { 'run.$': '$.run', 'artifactUri.$': "States.Format('s3://TOKEN/models/{}/runs/{}/model.json', $.run.model, $.run.runId)" },
      ResultPath: '$.training',
      Next: 'Evaluate',
    });
  });

  it('runs in the VPC\'s private subnets with a security group, one hour by default', () => {
    const { definition, template } = synth();
    const task = definition.States.TrainOnEcs;
    expect(task.TimeoutSeconds).toBe(3600);
    expect(task.Parameters.NetworkConfiguration.AwsvpcConfiguration.Subnets).toHaveLength(2);
    expect(task.Parameters.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBeUndefined();
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('TrainOnEcs'), SecurityGroupIngress: Match.absent() });
  });

  it('retries a task that cannot be placed and catches every failure into RecordFailure', () => {
    const { definition } = synth();
    expect(definition.States.TrainOnEcs.Retry).toEqual([{ ErrorEquals: ['ECS.AmazonECSException'], IntervalSeconds: 30, MaxAttempts: 3, BackoffRate: 2 }]);
    expectCaughtIntoRecordFailure(definition, 'TrainOnEcs');
    expectCaughtIntoRecordFailure(definition, 'RegisterExternalArtifact');
  });

  it('lets the state machine run the task definition and pass its task and execution roles', () => {
    const { template } = synth();
    const taskRole = logicalIdOf(template, 'AWS::IAM::Role', 'TrainerTaskRole');
    const executionRole = logicalIdOf(template, 'AWS::IAM::Role', 'TrainerExecutionRole');
    const statements = statementsOfPoliciesFor(template, 'TrainingPipelineStateMachineRole');
    const runTask = statements.find((s) => s.Action === 'ecs:RunTask');
    expect(runTask).toBeDefined();
    expect(JSON.stringify(runTask!.Resource)).toMatch(/"Ref":"Trainer[0-9A-F]{8}"/);
    const passRole = statements.find((s) => s.Action === 'iam:PassRole');
    expect(passRole?.Resource).toEqual([{ 'Fn::GetAtt': [taskRole, 'Arn'] }, { 'Fn::GetAtt': [executionRole, 'Arn'] }]);
    expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'] })]));
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('sagemaker:'))).toEqual([]);
  });

  it('gives the task role read on datasets and write on models', () => {
    const { template } = synth();
    const actions = actionsOfRoleFor(template, 'TrainerTaskRole');
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject']));
    expect(actions.filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    const statements = JSON.stringify(statementsOfPoliciesFor(template, 'TrainerTaskRole'));
    expect(statements).toMatch(/StoreDatasets/);
    expect(statements).toMatch(/StoreModels/);
    expect(statements).not.toMatch(/StoreReports|StorePredictionLogs/);
  });

  it('uses the default container when no name is given', () => {
    const { definition } = synth({ containerName: undefined });
    // The first essential container is the task definition's default.
    expect(definition.States.TrainOnEcs.Parameters.Overrides.ContainerOverrides[0].Name).toBe('trainer');
  });

  it('fails when containerName is not in the task definition', () => {
    const { stack } = freshStack();
    const { cluster, taskDefinition } = ecsTrainer(stack);
    expect(() => ExternalTraining.ecsTask({ cluster, taskDefinition, containerName: 'trainr' })).toThrow(/containerName "trainr" is not a container of task definition/);
  });

  it('fails when the timeout is under a minute', () => {
    const { stack } = freshStack();
    const { cluster, taskDefinition } = ecsTrainer(stack);
    expect(() => ExternalTraining.ecsTask({ cluster, taskDefinition, timeout: Duration.seconds(30) })).toThrow(/timeout must be at least 1 minute, got 30 seconds/);
  });
});

describe('PlatformStack with external training', () => {
  /** The platform stack composed with a job whose cluster, task definition or role live in another stack. */
  function composed(make: (infra: Stack) => ExternalTraining) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const infra = new Stack(app, 'TrainingInfra', { env: ENV });
    // Something to deploy even when the job needs nothing from this stack.
    new sns.Topic(infra, 'Placeholder');
    const stack = new PlatformStack(app, 'Mlops-dev', {
      environmentName: 'dev',
      config: ENVIRONMENTS.dev!,
      models: DECLARED_MODELS,
      codeVersion: 'test',
      env: ENV,
      externalTraining: make(infra),
    });
    return { app, infra, stack, template: Template.fromStack(stack), infraTemplate: Template.fromStack(infra) };
  }
  const findings = (stack: Stack) =>
    [AwsSolutionsChecks, ServerlessChecks].flatMap((Pack) =>
      new Pack(stack).validateScope(stack).violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
    );

  it('grants on a task role of another stack from the platform stack, so the stacks do not depend on each other', () => {
    const { template, infraTemplate, app } = composed((infra) => {
      const { cluster, taskDefinition } = ecsTrainer(infra);
      return ExternalTraining.ecsTask({ cluster, taskDefinition });
    });
    expect(stateMachineDefinition(template).States.TrainOnEcs).toBeDefined();
    // The bucket grants are a policy of the platform stack attached to the imported task role ...
    const grants = statementsOfPoliciesFor(template, 'TrainingPipelineTaskRoleGrants');
    expect(JSON.stringify(grants)).toMatch(/ArtifactStoreDatasets/);
    expect(JSON.stringify(grants)).toMatch(/ArtifactStoreModels/);
    // ... and nothing in the infra stack refers to the platform's buckets.
    expect(JSON.stringify(infraTemplate.toJSON())).not.toMatch(/ArtifactStore|Mlops-dev/);
    expect(() => app.synth()).not.toThrow();
  });

  it('has no unacknowledged cdk-nag finding with SageMaker, its role in another stack', () => {
    const { stack, template, infraTemplate } = composed((infra) =>
      ExternalTraining.sageMaker({ image: 'example/trainer:1', role: new iam.Role(infra, 'TrainingRole', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') }) }),
    );
    expect(JSON.stringify(statementsOfPoliciesFor(template, 'TrainingPipelineTrainingJobRoleGrants'))).toMatch(/ArtifactStoreModels/);
    expect(JSON.stringify(infraTemplate.toJSON())).not.toMatch(/ArtifactStore|Mlops-dev/);
    expect(findings(stack)).toEqual([]);
  });

  it('has no unacknowledged cdk-nag finding with SageMaker and the role it makes', () => {
    const { stack } = composed(() => ExternalTraining.sageMaker({ image: 'example/trainer:1' }));
    expect(findings(stack)).toEqual([]);
  });

  it('leaves only the ECS integration\'s RunTask grant on the task definition family to the composer', () => {
    // Step Functions may run any revision of the family (ARN:*); the ARN comes from the composer's
    // stack as an import whose name CDK chooses at synthesis, so it cannot be named here.
    const { stack } = composed((infra) => {
      const { cluster, taskDefinition } = ecsTrainer(infra);
      return ExternalTraining.ecsTask({ cluster, taskDefinition });
    });
    expect(findings(stack)).toEqual([
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:.*Fn::ImportValue.*:\*\] at Mlops-dev\/TrainingPipeline\/StateMachine\/Role\/DefaultPolicy\/Resource$/),
    ]);
  });
});
