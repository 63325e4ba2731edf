import { CfnResource, Stack, Token, Validations, type Acknowledgment } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { CodePipeline } from 'aws-cdk-lib/pipelines';
import type { IConstruct } from 'constructs';
import type { Alerts } from './alerts.js';
import type { ArtifactStore } from './artifact-store.js';
import type { BatchScoring } from './batch-scoring.js';
import type { DatasetRegistration } from './dataset-registration.js';
import type { DeclaredModels } from './declared-models.js';
import type { DriftCheck } from './drift-check.js';
import type { ManagementApi } from './management-api.js';
import type { ModelSchedules } from './model-schedules.js';
import type { Monitoring } from './monitoring.js';
import type { Tracking } from './registry.js';
import type { RegistryEvents } from './registry-events.js';
import type { RetrainTrigger } from './retrain-trigger.js';
import type { Rollout } from './rollout.js';
import type { ServingApi } from './serving-api.js';
import type { TrainingPipeline } from './training-pipeline.js';
import { SCHEDULE_KINDS } from '../lambdas/core/monitoring/model-schedules.js';

/** The parts of a platform stack whose findings are acknowledged here (the stack passes itself). */
export interface AcknowledgedPlatform extends Stack {
  readonly store: ArtifactStore;
  readonly tracking: Tracking;
  readonly pipeline: TrainingPipeline;
  readonly serving: ServingApi;
  readonly alerts: Alerts;
  readonly datasetRegistration: DatasetRegistration;
  readonly management: ManagementApi;
  readonly declaredModels: DeclaredModels;
  readonly batchScoring: BatchScoring;
  readonly rollout: Rollout;
  readonly driftCheck: DriftCheck;
  readonly modelSchedules: ModelSchedules;
  readonly retrainTrigger: RetrainTrigger;
  readonly monitoring: Monitoring;
  readonly registryEvents: RegistryEvents;
  /** False on the emulator only, which serves plain HTTP (see PlatformStack). */
  readonly tlsOnly: boolean;
}

/** `<LogicalId.Arn>`, the way cdk-nag spells a resource ARN in an IAM5 finding. */
function arnToken(resource: IConstruct): string {
  const cfn = resource.node.defaultChild;
  if (!CfnResource.isCfnResource(cfn)) throw new Error(`${resource.node.path} has no CloudFormation resource`);
  return `<${Stack.of(resource).getLogicalId(cfn)}.Arn>`;
}

/** An ARN in the stack's partition, region and account, the way cdk-nag spells it. */
function nagArn(stack: Stack, service: string, resource: string): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}

/**
 * Every cdk-nag finding the platform accepts, each with its reason, in one place for review.
 * Acknowledgements are attached to the narrowest construct that produces the finding and
 * name the exact finding (policy, action or resource), so a new wildcard elsewhere still fails.
 */
export function acknowledgePlatformFindings(stack: AcknowledgedPlatform): void {
  const { store, tracking, pipeline, serving, alerts, datasetRegistration, management, declaredModels } = stack;
  const functions = [...Object.values(pipeline.functions), serving.predictFunction, serving.feedbackFunction, datasetRegistration.registerFunction, management.handler];
  // The bench's echo function (local only) has predict's role shape: basic execution and tracing.
  if (serving.benchEchoFunction) functions.push(serving.benchEchoFunction);

  const bucketActions = (actions: string[]): Acknowledgment[] =>
    actions.map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `CDK bucket grants (grantRead/grantPut) expand to ${action}; each is scoped to the one platform bucket the function needs.`,
    }));
  const bucketObjects = (buckets: IConstruct[]): Acknowledgment[] =>
    buckets.map((bucket) => ({
      id: `AwsSolutions-IAM5[Resource::${arnToken(bucket)}/*]`,
      reason: `Object keys are created per dataset, model and run at run time, so the grant covers the objects of the ${bucket.node.id} bucket.`,
    }));

  const basicExecutionRole: Acknowledgment = {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The basic execution role only allows writing CloudWatch Logs; each function writes to its own log group with a retention.',
  };
  const tracing: Acknowledgment = {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions, so tracing needs Resource "*".',
  };
  const trackingIndexes: Acknowledgment = {
    id: `AwsSolutions-IAM5[Resource::${arnToken(tracking.table)}/index/*]`,
    reason: 'Runs and dataset versions are listed by time through the tracking table\'s byTime index; the grant covers that table\'s indexes only.',
  };
  const functionFindings: Acknowledgment[] = [
    basicExecutionRole,
    tracing,
    trackingIndexes,
    ...bucketActions(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*', 's3:DeleteObject*']),
    ...bucketObjects([store.datasets, store.models, store.reports, store.predictionLogs]),
    {
      id: `AwsSolutions-IAM5[Resource::${arnToken(store.datasets)}/uploads/*]`,
      reason: 'Uploads get a fresh key per file under uploads/; puts and deletes are limited to that prefix of the datasets bucket.',
    },
    {
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked synchronously (by Step Functions or API Gateway); failures are caught by the state machine or returned to the caller, so an async DLQ would never receive anything.',
    },
  ];
  for (const fn of functions) Validations.of(fn).acknowledge(...functionFindings);

  const apiDlq: Acknowledgment = {
    id: 'Serverless-LambdaDLQ',
    reason: 'Invoked synchronously by API Gateway, which returns a failure to the caller (the CLI); an async DLQ would never receive anything.',
  };
  const underPrefix = (bucket: IConstruct, prefix: string, what: string): Acknowledgment => ({
    id: `AwsSolutions-IAM5[Resource::${arnToken(bucket)}/${prefix}]`,
    reason: `Keys are made per model, run or dataset at run time; the grant covers ${what} under ${prefix.replace(/\*$/, '')} of the ${bucket.node.id} bucket only.`,
  });
  // The grants name executions by the state machine's name, which CloudFormation only knows at deploy time.
  const executionsOf = (machine: CfnResource, reason: string): Acknowledgment => {
    const machineName = JSON.stringify({ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: stack.getLogicalId(machine) }] }] });
    return { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${stack.region}:${stack.account}:execution:${machineName}:*]`, reason };
  };
  const trainingExecutions = executionsOf(
    pipeline.stateMachine.node.defaultChild as CfnResource,
    'A run\'s status and steps are read per execution (DescribeExecution, GetExecutionHistory); the grant covers the training pipeline\'s executions only.',
  );

  // RegistryApi: reads and writes the registry table, reads the tracking table (and its index), starts
  // and answers training pipeline executions, and reads stored gate reports (gates/ in the reports bucket).
  // Its SendTaskSuccess/SendTaskFailure grant is on the training pipeline's ARN (grantTaskResponse), not "*";
  // only the emulator's stack (local) adds them on "*", which the emulator needs (PlatformStack; docs/IAM.md).
  Validations.of(management.registryHandler).acknowledge(
    basicExecutionRole,
    tracing,
    trackingIndexes,
    apiDlq,
    trainingExecutions,
    ...bucketActions(['s3:GetObject*', 's3:GetBucket*', 's3:List*']),
    underPrefix(store.reports, 'gates/*', 'reads of gate reports'),
  );

  // RunsApi: reads both tables (StartRun writes the runs), starts and reads training executions, reads
  // datasets, model files and stored reports, and signs uploads of ONNX imports and cross-environment transfers.
  Validations.of(management.runsHandler).acknowledge(
    basicExecutionRole,
    tracing,
    trackingIndexes,
    apiDlq,
    trainingExecutions,
    ...bucketActions(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']),
    underPrefix(store.datasets, 'datasets/*', 'reads of registered dataset files'),
    underPrefix(store.models, 'models/*', 'reads of model files'),
    underPrefix(store.models, 'models/*/imports/*', 'puts of ONNX imports'),
    underPrefix(store.models, 'models/*/transfers/*', 'puts of versions promoted from another environment'),
    underPrefix(store.reports, 'gates/*', 'reads of gate reports'),
    underPrefix(store.reports, 'validation/*', 'reads of validation reports'),
  );

  // DeclaredModels: its function only reads and writes the registry table (no bucket, no index).
  Validations.of(declaredModels.handler).acknowledge(basicExecutionRole, tracing, {
    id: 'Serverless-LambdaDLQ',
    reason: 'Invoked synchronously by the custom-resource provider, which reports a failure to CloudFormation and so fails the deploy; an async DLQ would never receive anything.',
  });
  // The provider framework's function is aws-cdk-lib's own: it relays CloudFormation's event to DeclareModels.
  Validations.of(declaredModels.provider.node.findChild('framework-onEvent')).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The CDK provider framework\'s function uses the basic execution role only to write CloudWatch Logs, to its own log group with a retention.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${arnToken(declaredModels.handler.function)}:*]`,
      reason: 'The provider framework may invoke the DeclareModels function and its versions and aliases (ARN:*), and nothing else.',
    },
    {
      id: 'Serverless-LambdaDLQ',
      reason: 'CloudFormation waits for the provider\'s answer on the response URL; a lost invocation fails the deploy at the custom resource\'s 5-minute service timeout, so a DLQ would add nothing.',
    },
    {
      id: 'Serverless-LambdaDefaultMemorySize',
      reason: 'The CDK provider framework\'s function only relays one event per deploy to DeclareModels; Provider does not expose its memory, and 128 MB serves it.',
    },
    {
      id: 'Serverless-LambdaTracing',
      reason: 'The CDK provider framework\'s function only relays the event and does not expose tracing; DeclareModels, which does the work, is traced.',
    },
  );

  // External training (a construct prop, not set by cdk.json): the job's role reads datasets and writes models.
  const external = pipeline.externalTraining;
  const externalCalls = {
    sagemaker: ', as does sagemaker:ListTags of the SageMaker training integration',
    ecs: ', as do ecs:StopTask and ecs:DescribeTasks of the ECS integration (task ARNs are only known at run time)',
  };
  if (external) {
    Validations.of(external.grantee).acknowledge(
      ...bucketActions(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']),
      ...bucketObjects([store.datasets, store.models]),
      ...(external.service === 'sagemaker'
        ? [
            {
              id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'logs', 'log-group:/aws/sagemaker/TrainingJobs:*')}]`,
              reason: 'SageMaker writes each training job\'s logs to streams it names per job in /aws/sagemaker/TrainingJobs; the grant covers that log group only.',
            },
          ]
        : []),
    );
    if (external.service === 'sagemaker') {
      Validations.of(pipeline.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'sagemaker', 'training-job/*')}]`,
        reason: 'Training job names are made per execution (mlops-<hash of the execution id>), so the .sync integration\'s grant covers this account\'s training jobs in the region.',
      });
    }
  }

  Validations.of(pipeline.stateMachine).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray tracing for a state machine require Resource "*"${external ? externalCalls[external.service] : ''}.`,
    },
    ...Object.values(pipeline.functions).map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::${arnToken(fn.function)}:*]`,
      reason: 'The LambdaInvoke task grant covers the function and its versions and aliases (ARN:*), and nothing else.',
    })),
  );

  Validations.of(datasetRegistration.stateMachine).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray tracing for a state machine require Resource "*".',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${arnToken(datasetRegistration.registerFunction.function)}:*]`,
      reason: 'The LambdaInvoke task grant covers the function and its versions and aliases (ARN:*), and nothing else.',
    },
  );
  Validations.of(management.handler).acknowledge(
    executionsOf(
      datasetRegistration.stateMachine.node.defaultChild as CfnResource,
      'Registration status is read per execution (DescribeExecution); the grant covers the executions of the registration state machine only.',
    ),
  );

  for (const api of [serving.api, management.api]) Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'API Gateway\'s account-level logging role uses the AWS-managed push-to-CloudWatch policy, which AWS documents for this purpose.',
    },
    {
      id: 'AwsSolutions-APIG3',
      reason: 'Every route requires IAM (SigV4) authorization and the stage is throttled; a WAF web ACL is an account-level choice left to the operator.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason: 'Callers are services and the CLI with AWS credentials, so the API uses IAM authorization rather than a Cognito user pool.',
    },
  );

  // Firehose delivery roles: each writes its own kind's prefix and error prefix of the prediction-logs bucket.
  for (const [kind, log] of [['predictions', serving.log.predictions], ['feedback', serving.log.feedback]] as const) {
    Validations.of(log.deliveryRole).acknowledge(
      underPrefix(store.predictionLogs, `${kind}/*`, `Firehose's objects of the ${kind} log (named per model, version, day and batch)`),
      underPrefix(store.predictionLogs, `errors/${kind}/*`, `Firehose's records of the ${kind} log it could not deliver`),
    );
  }
  // CodeDeploy (outside the emulator): the deployment group's role shifts the predict function's live alias.
  if (serving.deploymentGroup) {
    Validations.of(serving.deploymentGroup).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason: 'CodeDeploy\'s own managed policy for Lambda deployments: it updates aliases, invokes hooks and reads alarms; CDK\'s LambdaDeploymentGroup attaches it to the group\'s service role.',
    });
  }

  // Batch scoring: its steps read model files (models/), inputs (batch-jobs/ uploads or a dataset's file)
  // and write work files and outputs under batch-jobs/ of the reports bucket; its API signs uploads there.
  const { batchScoring } = stack;
  const batchMachine = batchScoring.stateMachine.node.defaultChild as CfnResource;
  const batchObjects = underPrefix(store.reports, 'batch-jobs/*', 'batch jobs\' inputs, work files and outputs');
  for (const fn of [batchScoring.prepareFunction, batchScoring.scoreChunkFunction, batchScoring.finishFunction, batchScoring.apiFunction]) {
    Validations.of(fn).acknowledge(
      basicExecutionRole,
      tracing,
      apiDlq,
      ...bucketActions(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']),
      batchObjects,
      underPrefix(store.models, 'models/*', 'reads of model files'),
      underPrefix(store.datasets, 'datasets/*', 'reads of registered dataset files'),
    );
  }
  Validations.of(batchScoring.apiFunction).acknowledge(
    underPrefix(store.reports, 'batch-jobs/uploads/*', 'puts of local inputs on presigned URLs'),
    executionsOf(batchMachine, 'A batch job\'s status and steps are read per execution (DescribeExecution, GetExecutionHistory); the grant covers the batch state machine\'s executions only.'),
  );
  const batchMachineName = JSON.stringify({ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: stack.getLogicalId(batchMachine) }] }] });
  Validations.of(batchScoring.stateMachine).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray tracing for a state machine require Resource "*".',
    },
    ...[batchScoring.prepareFunction, batchScoring.scoreChunkFunction, batchScoring.finishFunction].map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::${arnToken(fn.function)}:*]`,
      reason: 'The LambdaInvoke task grant covers the function and its versions and aliases (ARN:*), and nothing else.',
    })),
    underPrefix(store.reports, 'batch-jobs/*', 'the Distributed Map ItemReader\'s reads of the chunk manifest'),
    executionsOf(batchMachine, 'The Distributed Map runs each chunk as a child execution of this state machine and describes and stops them; the grant covers its own executions only.'),
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${stack.region}:${stack.account}:execution:${batchMachineName}/ScoreChunks:*]`,
      reason: 'Child executions of the ScoreChunks Distributed Map are named per map run at run time; the grant covers that map\'s child executions only.',
    },
  );

  // Rollouts: the check reads the log's prefixes and writes its evidence under rollouts/; the step only
  // writes the registry; the state machine runs the training pipeline (.sync) for the gate and the promotion.
  const { rollout } = stack;
  const rolloutMachine = rollout.stateMachine.node.defaultChild as CfnResource;
  for (const fn of [rollout.stepFunction, rollout.checkFunction]) {
    Validations.of(fn).acknowledge(basicExecutionRole, tracing, {
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked synchronously by the rollout state machine, which retries and catches failures (Fail clears canary and shadow); an async DLQ would never receive anything.',
    });
  }
  // Begin/Finish/Fail read why a release run failed from the tracking table (read-only; the grant includes its index).
  Validations.of(rollout.stepFunction).acknowledge(trackingIndexes);
  Validations.of(rollout.checkFunction).acknowledge(
    ...bucketActions(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']),
    underPrefix(store.predictionLogs, 'predictions/*', 'reads of the prediction log (per model, version and day)'),
    underPrefix(store.predictionLogs, 'feedback/*', 'reads of the feedback (per model, version and day)'),
    underPrefix(store.reports, 'rollouts/*', 'puts of rollout check reports'),
  );
  const pipelineName = JSON.stringify({ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: stack.getLogicalId(pipeline.stateMachine.node.defaultChild as CfnResource) }] }] });
  Validations.of(rollout.stateMachine).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray tracing for a state machine require Resource "*".',
    },
    ...[rollout.stepFunction, rollout.checkFunction].map((fn) => ({
      id: `AwsSolutions-IAM5[Resource::${arnToken(fn.function)}:*]`,
      reason: 'The LambdaInvoke task grant covers the function and its versions and aliases (ARN:*), and nothing else.',
    })),
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${stack.region}:${stack.account}:execution:${pipelineName}*]`,
      reason: 'The startExecution.sync integration describes and stops the training pipeline executions it starts (named per run at run time); the grant covers that state machine\'s executions only.',
    },
  );
  Validations.of(management.registryHandler).acknowledge(
    executionsOf(rolloutMachine, 'Rollout status, abort and a manual rollback read and stop the rollout\'s execution (named per rollout at run time); the grant covers the rollout state machine\'s executions only.'),
  );

  // The datasets API builds dataset versions from the prediction log (`dataset from-logs`): it reads the log and the feedback.
  Validations.of(management.handler).acknowledge(
    underPrefix(store.predictionLogs, 'predictions/*', 'reads of the prediction log (per model, version and day)'),
    underPrefix(store.predictionLogs, 'feedback/*', 'reads of the feedback labels (per model, version and day)'),
  );

  // DriftCheck: reads the registry, model files and reference samples, dataset files (the reference of a
  // version stored before reference samples), the prediction log; writes its reports under drift-checks/.
  const { driftCheck } = stack;
  Validations.of(driftCheck.function).acknowledge(
    basicExecutionRole,
    tracing,
    apiDlq,
    ...bucketActions(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']),
    underPrefix(store.models, 'models/*', 'reads of model files and reference samples'),
    underPrefix(store.datasets, 'datasets/*', 'reads of registered dataset files'),
    underPrefix(store.predictionLogs, 'predictions/*', 'reads of the prediction log (per model, version and day)'),
    underPrefix(store.predictionLogs, 'feedback/*', 'reads of the feedback labels joined to the window (per model, version and day)'),
    underPrefix(store.reports, 'drift-checks/*', 'reads and puts of drift check reports'),
    // With monitoring.athenaAboveBytes: Athena writes and reads each query's result files as the caller, named by query id.
    underPrefix(store.predictionLogs, 'athena-results/*', 'Athena query results (one object per query id, written and read as the caller)'),
  );

  // RetrainTrigger: the retraining guardrails. Reads the registry (and writes its lock and decisions), reads runs and
  // dataset versions and registers one built from the log (tracking table and datasets bucket, as registration does),
  // reads the prediction log and its feedback, starts training pipeline executions, publishes to the alerts topic, and
  // lists the model's open alarms.
  const { retrainTrigger } = stack;
  Validations.of(retrainTrigger.function).acknowledge(
    basicExecutionRole,
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords and CloudWatch DescribeAlarms (listed by the model\'s name prefix) support no resource-level permissions.',
    },
    trackingIndexes,
    ...bucketActions(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*', 's3:DeleteObject*']),
    ...bucketObjects([store.datasets]),
    {
      id: `AwsSolutions-IAM5[Resource::${arnToken(store.datasets)}/uploads/*]`,
      reason: 'A dataset built from the log is uploaded under uploads/ and deleted from there once registered; deletes are limited to that prefix.',
    },
    underPrefix(store.predictionLogs, 'predictions/*', 'reads of the prediction log (per model, version and day)'),
    underPrefix(store.predictionLogs, 'feedback/*', 'reads of the feedback labels (per model, version and day)'),
    {
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Notifying the owner on the alerts topic, encrypted with its customer managed key: grantPublish adds kms:GenerateDataKey* (all its variants) on that one key.',
    },
    {
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked asynchronously by Scheduler (with its own retry policy) and DriftCheck, and synchronously by API Gateway. A trigger that fails every retry leaves no decision and is logged as an error; the next schedule or check triggers again.',
    },
  );

  // Model schedules are created per model at run time (named after the model), so their managers' grant
  // covers the stack's own schedule group; on the emulator also schedule/default/<kind>-*, the ARNs it checks.
  const { modelSchedules } = stack;
  const scheduleGrants: Acknowledgment[] = [
    {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'scheduler', `schedule/${modelSchedules.group.scheduleGroupName}/*`)}]`,
      reason: 'Create, update and delete of the drift and retraining schedules, one per model and kind named at run time, in the stack\'s own schedule group only.',
    },
    ...(stack.tlsOnly
      ? []
      : SCHEDULE_KINDS.map((kind) => ({
          id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'scheduler', `schedule/default/${kind}-*`)}]`,
          reason: `Only on the local emulator, which checks every schedule as schedule/default/<name> whatever its group; limited to ${kind}-* names.`,
        }))),
  ];
  for (const fn of [management.registryHandler, declaredModels.handler]) Validations.of(fn).acknowledge(...scheduleGrants);

  if (!stack.tlsOnly) {
    const plainHttp = 'Only on the local emulator, which serves plain HTTP and, with AUTH=true, evaluates aws:SecureTransport: a TLS-only policy would refuse every role. Every other environment is TLS-only (infra test).';
    for (const bucket of [store.accessLogs, store.datasets, store.models, store.reports, store.predictionLogs]) Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S10', reason: plainHttp });
    Validations.of(alerts.topic).acknowledge({ id: 'AwsSolutions-SNS3', reason: plainHttp });
  }

  // System monitoring (lib/monitoring.ts): each model's alarms and dashboard are written at run time with its
  // spec (named after the model), so their managers' grant covers the environment's name prefixes; the alerts
  // topic's customer managed key (CloudWatch alarms cannot use the AWS managed one) needs GenerateDataKey* to publish.
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const environment = stack.monitoring.environmentName;
  const monitoringGrants: Acknowledgment[] = [
    {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'cloudwatch', `alarm:mlops/${environment}/*`)}]`,
      reason: 'PutMetricAlarm and DeleteAlarms of the models\' alarms, named mlops/<env>/<model>/<kind> at run time; this environment\'s names only.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch::${account}:dashboard/mlops_${environment}_*]`,
      reason: 'PutDashboard and DeleteDashboards of the models\' dashboards, named mlops_<env>_<model> at run time; this environment\'s names only.',
    },
  ];
  for (const fn of [management.registryHandler, declaredModels.handler]) Validations.of(fn).acknowledge(...monitoringGrants);
  for (const fn of [pipeline.functions.requestApproval!, pipeline.functions.recordFailure!]) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Publishing to the alerts topic, encrypted with its customer managed key: grantPublish adds kms:GenerateDataKey* (all its variants) on that one key.',
    });
  }

  // Registry events (lib/registry-events.ts): the stream publisher and the queue its failed batches go to.
  const { registryEvents } = stack;
  Validations.of(registryEvents.publisher).acknowledge(
    basicExecutionRole,
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords and dynamodb:ListStreams (which the stream event source needs to find the stream) do not support resource-level permissions.',
    },
    {
      id: 'Serverless-LambdaDLQ',
      reason: 'Invoked by the DynamoDB stream event source mapping only, never asynchronously: batches that fail every retry go to the mapping\'s on-failure queue (DeadLetters), with an alarm.',
    },
  );
  Validations.of(registryEvents.deadLetters).acknowledge(
    { id: 'AwsSolutions-SQS3', reason: 'It is the dead-letter destination itself (stream batches that could not be published); an alarm fires on its first message.' },
    { id: 'Serverless-SQSRedrivePolicy', reason: 'It is the dead-letter destination itself (stream batches that could not be published); an alarm fires on its first message.' },
    ...(stack.tlsOnly ? [] : [{ id: 'AwsSolutions-SQS4', reason: 'Only on the local emulator, which serves plain HTTP: a TLS-only queue policy would refuse every role there. Every other environment is TLS-only (infra test).' }]),
  );

  Validations.of(alerts.topic).acknowledge({
    id: 'Serverless-SNSRedrivePolicy',
    reason: 'The only subscription is the operators\' e-mail address; SNS retries e-mail delivery itself and the alert is also in the run record and the logs.',
  });
}

// Delivery (lib/delivery/): the pipeline stack, the GitHub deploy roles, and the smoke role of a pipeline stage.

/** `<LogicalId>`, the way cdk-nag spells a Ref. */
function refToken(resource: IConstruct): string {
  const cfn = resource.node.defaultChild ?? resource;
  if (!CfnResource.isCfnResource(cfn)) throw new Error(`${resource.node.path} has no CloudFormation resource`);
  return `<${Stack.of(resource).getLogicalId(cfn)}>`;
}

/** A smoke-route resource with a path parameter left as `*` (a run id, a version, an alias), one per route (lib/delivery/smoke-access.ts). */
const smokeRouteReason = (tail: string) =>
  `The smoke test calls ${tail} for the mlops-smoke model or dataset only; the trailing * is a run id, version, registration or alias the test learns at run time.`;

/** The smoke role a delivery stage's PlatformStack carries (lib/delivery/smoke-test-role.ts): `*` only where a route's path parameter is. */
export function acknowledgeSmokeTestRoleFindings(role: IConstruct, apis: readonly { api: RestApi; tails: readonly string[] }[]): void {
  const stack = Stack.of(role);
  const acknowledgements = apis.flatMap(({ api, tails }) =>
    tails
      .filter((tail) => tail.includes('*'))
      .map((tail) => ({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'execute-api', `${refToken(api)}/${refToken(api.deploymentStage)}/${tail}`)}]`,
        reason: smokeRouteReason(tail),
      })),
  );
  if (acknowledgements.length > 0) Validations.of(role).acknowledge(...acknowledgements);
}

/** One environment's GitHub Actions deploy role (lib/delivery/github-deploy-role-stack.ts). */
export function acknowledgeGitHubDeployRoleFindings(role: IConstruct, platformStackName: string, tails: readonly string[]): void {
  const stack = Stack.of(role);
  Validations.of(role).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'cloudformation', `stack/${platformStackName}/*`)}]`,
      reason: `DescribeStacks on the one platform stack ${platformStackName}: the trailing * is its stack id, which changes when the stack is re-created.`,
    },
    ...tails.map((tail) => ({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'execute-api', `*/*/${tail}`)}]`,
      reason: `The APIs live in the platform stack, which this role must be able to deploy before it exists, so the API id and stage are *; the route is the smoke test's ${tail}, for the mlops-smoke model or dataset only.`,
    })),
  );
}

/** What CDK Pipelines' own grants on the artifact bucket and its cross-account key expand to. */
const ARTIFACT_ACTIONS = ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'];

/** The CDK Pipelines delivery pipeline (lib/delivery/delivery-pipeline-stack.ts): the roles CDK Pipelines generates, and the smoke steps' roles. */
export function acknowledgePipelineFindings(stack: Stack, pipeline: CodePipeline, smokeSteps: readonly { role: IConstruct; project: IConstruct }[]): void {
  const { artifactBucket } = pipeline.pipeline;
  const artifactGrants: Acknowledgment[] = [
    ...ARTIFACT_ACTIONS.map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `CDK Pipelines grants ${action} on the pipeline's artifact bucket and its KMS key only (bucket.grantReadWrite, key.grantEncryptDecrypt), which every stage's action reads and writes.`,
    })),
    {
      id: `AwsSolutions-IAM5[Resource::${arnToken(artifactBucket)}/*]`,
      reason: 'Artifact object keys are created per pipeline execution, so the grant covers the objects of the pipeline artifact bucket only.',
    },
  ];
  const buildLogs = (project: IConstruct): Acknowledgment[] => [
    {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'logs', `log-group:/aws/codebuild/${refToken(project)}:*`)}]`,
      reason: 'CodeBuild writes its build logs to log streams it names per build, in the one log group of this project.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'codebuild', `report-group/${refToken(project)}-*`)}]`,
      reason: 'CodeBuild test report groups are created per report under this project name prefix; the project writes no other report group.',
    },
  ];
  // One per stage region other than the pipeline's (whose entry is the artifact bucket itself).
  const replicationBuckets = Object.values(pipeline.pipeline.crossRegionSupport).filter((support) => support.stack !== stack).map(({ replicationBucket }) => replicationBucket);
  Validations.of(pipeline).acknowledge(
    ...artifactGrants,
    ...buildLogs(pipeline.synthProject),
    ...buildLogs(pipeline.selfMutationProject),
    {
      id: 'AwsSolutions-S1',
      reason: 'The pipeline artifact bucket holds only build artifacts, encrypted with the pipeline KMS key and reachable by the pipeline roles only; CodePipeline and CloudTrail record every access.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CDK Pipelines: the pipeline role uses the cross-region replication keys by alias (kms), self-mutation reads any stack (cloudformation:DescribeStacks, s3:ListBucket for cdk deploy), asset publishing starts its CodeBuild builds; none supports a narrower resource known at synth.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:*:iam::${stack.account}:role/*]`,
      reason: 'Self-mutation assumes the CDK bootstrap roles of the pipeline account only: the statement is conditioned on their aws-cdk:bootstrap-role tag (deploy, file-publishing, image-publishing).',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'logs', 'log-group:/aws/codebuild/*')}]`,
      reason: 'The asset publishing role is shared by the CodeBuild projects CDK Pipelines creates for each asset, whose names are generated; it writes only to CodeBuild log groups.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'codebuild', 'report-group/*')}]`,
      reason: 'The asset publishing role is shared by the CodeBuild projects CDK Pipelines creates for each asset, whose names are generated; it writes only CodeBuild report groups.',
    },
    ...replicationBuckets.map((bucket) => ({
      // Resolved from the pipeline stack, the support stack's bucket is its generated physical name.
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${String(stack.resolve(bucket.bucketName))}/*]`,
      reason: 'The cross-region replication bucket of a stage region, which the pipeline writes that stage artifacts to; object keys are created per execution.',
    })),
  );
  for (const bucket of replicationBuckets) {
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'A CDK Pipelines cross-region replication bucket: build artifacts only, encrypted with its KMS key and reachable by the pipeline roles only; CodePipeline and CloudTrail record every access.',
    });
  }
  for (const { role, project } of smokeSteps) {
    Validations.of(role).acknowledge(...artifactGrants, ...buildLogs(project));
  }
}
