import { CfnOutput, CliCredentialsStackSynthesizer, Duration, RemovalPolicy, SecretValue, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BATCH_ROUTES, DRIFT_ROUTES, RETRAIN_ROUTES } from '../lambdas/contract/routes.js';
import type { StackOutputs } from '../lambdas/contract/stack.js';
import type { ModelSpec } from '../lambdas/core/training/model-spec.js';
import { Alerts } from './alerts.js';
import { BatchScoring } from './batch-scoring.js';
import { DatasetRegistration } from './dataset-registration.js';
import { DeclaredModels } from './declared-models.js';
import { DriftCheck } from './drift-check.js';
import { ManagementApi } from './management-api.js';
import { ModelSchedules } from './model-schedules.js';
import { Monitoring } from './monitoring.js';
import { ArtifactStore } from './artifact-store.js';
import type { EnvironmentConfig, EnvironmentName } from './config.js';
import { ATHENA_RESULTS_PREFIX, type LogKind } from './prediction-log.js';
import { acknowledgePlatformFindings } from './nag-acknowledgements.js';
import { Registry, Tracking } from './registry.js';
import { RegistryEvents } from './registry-events.js';
import { RegistryWebhook } from './registry-webhook.js';
import { Rollout } from './rollout.js';
import { RetrainTrigger } from './retrain-trigger.js';
import { ServingApi } from './serving-api.js';
import { SmokeTestRole, type SmokeTestTrust } from './delivery/smoke-test-role.js';
import type { ExternalTraining } from './external-training.js';
import { TrainingPipeline } from './training-pipeline.js';

export interface PlatformStackProps extends StackProps {
  readonly environmentName: EnvironmentName;
  readonly config: EnvironmentConfig;
  /**
   * Models declared in config/models: `cdk deploy` writes them into the registry with their schedules
   * (DeclaredModels, as `PUT /models/{model}` does).
   */
  readonly models: readonly ModelSpec[];
  /**
   * Trains in a SageMaker training job or an ECS task instead of the Train function, for models
   * that outgrow Lambda. Set it when composing your own stack; cdk.json does not configure it.
   * @default - the Train function trains every model
   */
  readonly externalTraining?: ExternalTraining;
  /**
   * Recorded with every run as its code version.
   * @default 'unversioned'
   */
  readonly codeVersion?: string;
  /**
   * Makes the stack a stage of the delivery pipeline: a role its smoke step (in the pipeline's account)
   * assumes, allowed only the smoke test's routes (lib/delivery/smoke-test-role.ts).
   * @default - no smoke role (not a pipeline stage)
   */
  readonly smokeTest?: SmokeTestTrust;
}

/** The whole platform for one environment. Output names are what the CLI and the tests read. */
export class PlatformStack extends Stack {
  public readonly store: ArtifactStore;
  public readonly registry: Registry;
  public readonly tracking: Tracking;
  public readonly alerts: Alerts;
  public readonly pipeline: TrainingPipeline;
  public readonly serving: ServingApi;
  public readonly declaredModels: DeclaredModels;
  public readonly datasetRegistration: DatasetRegistration;
  public readonly management: ManagementApi;
  /** `mlops rollout start`: shadow, canary steps and checks, then the release path's Promote. */
  public readonly rollout: Rollout;
  public readonly batchScoring: BatchScoring;
  /** `mlops drift`: checks a window of the prediction log against the version's reference. */
  public readonly driftCheck: DriftCheck;
  /** Each model's drift and retraining schedules (EventBridge Scheduler), put and removed with its spec by the registry API and DeclareModels. */
  public readonly modelSchedules: ModelSchedules;
  /** The retraining guardrails: every automatic run (schedule, drift, performance) starts here; `mlops monitor`. */
  public readonly retrainTrigger: RetrainTrigger;
  /** The environment's dashboard, and the grants to publish metrics and to manage each model's dashboard and alarms. */
  public readonly monitoring: Monitoring;
  /** Every registry change (audit events, drift verdicts) as one event on the platform's EventBridge bus. */
  public readonly registryEvents: RegistryEvents;
  /** Whether resource policies refuse plain HTTP: everywhere but on the emulator. */
  public readonly tlsOnly: boolean;
  /** The delivery pipeline's smoke role, when the stack is a pipeline stage (props.smokeTest). */
  public readonly smokeTestRole?: SmokeTestRole;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    // On the emulator (AUTH=true, plain HTTP) the bootstrap roles cannot reach the TLS-only bootstrap
    // bucket, so the deploy publishes assets with the caller's own credentials instead.
    super(scope, id, { ...props, synthesizer: props.synthesizer ?? (props.config.emulator ? new CliCredentialsStackSynthesizer() : undefined) });
    const { config } = props;
    // The emulator serves plain HTTP: TLS-only resource policies would refuse every role there.
    const tlsOnly = !config.emulator;
    this.tlsOnly = tlsOnly;
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    Tags.of(this).add('mlops:environment', props.environmentName);

    this.store = new ArtifactStore(this, 'ArtifactStore', {
      removalPolicy,
      // The emulator deletes nothing on stack deletion, so skip the auto-delete custom resource there.
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY && !config.emulator,
      tlsOnly,
    });
    this.registry = new Registry(this, 'Registry', { removalPolicy });
    this.tracking = new Tracking(this, 'Tracking', { removalPolicy });
    this.alerts = new Alerts(this, 'Alerts', { tlsOnly, removalPolicy, ...(config.alarmEmail ? { email: config.alarmEmail } : {}) });
    this.pipeline = new TrainingPipeline(this, 'TrainingPipeline', {
      store: this.store,
      registryTable: this.registry.table,
      trackingTable: this.tracking.table,
      alertTopic: this.alerts.topic,
      productionRequiresApproval: config.productionRequiresApproval,
      approvalTimeout: Duration.seconds(config.approvalTimeoutSeconds),
      // The fault switch exists in `local` only, whatever config a caller hands over.
      faultInjection: config.faultInjection && props.environmentName === 'local',
      environmentName: props.environmentName,
      codeVersion: props.codeVersion ?? 'unversioned',
      logRetention,
      removalPolicy,
      externalTraining: props.externalTraining,
    });
    const { serving } = config;
    this.serving = new ServingApi(this, 'ServingApi', {
      registryTable: this.registry.table,
      modelsBucket: this.store.models,
      predictionLogsBucket: this.store.predictionLogs,
      environmentName: props.environmentName,
      logRetention,
      removalPolicy,
      throttle: serving.throttle,
      routingStaleness: Duration.millis(serving.routingStalenessSeconds * 1000),
      requestIndexTtl: Duration.days(serving.requestIndexTtlDays),
      predictionLogRetention: Duration.days(serving.predictionLogRetentionDays),
      logBuffer: Duration.seconds(serving.logBufferSeconds),
      logFormat: serving.logFormat,
      ...(serving.apiKeys ? { apiKeys: serving.apiKeys } : {}),
      // The emulator has no CodeDeploy: a deployment group there makes the deploy roll back.
      codeDeploy: !config.emulator,
      // The bench's echo route exists in `local` on the emulator only, whatever config a caller hands over.
      benchEcho: serving.benchEcho && config.emulator && props.environmentName === 'local',
    });
    this.datasetRegistration = new DatasetRegistration(this, 'DatasetRegistration', {
      store: this.store,
      trackingTable: this.tracking.table,
      maxDatasetBytes: config.maxDatasetBytes,
      logRetention,
      removalPolicy,
    });
    this.rollout = new Rollout(this, 'Rollout', {
      registryTable: this.registry.table,
      trackingTable: this.tracking.table,
      predictionLogs: this.store.predictionLogs,
      reports: this.store.reports,
      pipeline: this.pipeline.stateMachine,
      logBuffer: this.serving.logReadAllowance,
      logRetention,
      removalPolicy,
    });
    this.management = new ManagementApi(this, 'ManagementApi', {
      rollout: this.rollout.stateMachine,
      store: this.store,
      registryTable: this.registry.table,
      trackingTable: this.tracking.table,
      registration: this.datasetRegistration.stateMachine,
      trainingPipeline: this.pipeline.stateMachine,
      maxDatasetBytes: config.maxDatasetBytes,
      logBuffer: this.serving.logReadAllowance,
      throttle: config.managementApiThrottle,
      logRetention,
      removalPolicy,
      sharesLoggingRoleOf: this.serving.restApi,
      environmentName: props.environmentName,
    });
    if (config.emulator) {
      // The emulator (AUTH=true) cannot tell which state machine a task token belongs to, so it checks
      // SendTaskSuccess/SendTaskFailure against "*" and the grant on the pipeline's ARN never matches.
      // AWS checks the pipeline's ARN: every other environment keeps grantTaskResponse's narrow grant.
      this.management.registryHandler.function.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: ['*'] }),
      );
    }
    this.batchScoring = new BatchScoring(this, 'BatchScoring', { store: this.store, registryTable: this.registry.table, logRetention, removalPolicy });
    this.management.addFunctionRoutes(BATCH_ROUTES, this.batchScoring.apiFunction.function);
    this.driftCheck = new DriftCheck(this, 'DriftCheck', {
      registryTable: this.registry.table,
      models: this.store.models,
      datasets: this.store.datasets,
      predictionLogs: this.store.predictionLogs,
      reports: this.store.reports,
      logBuffer: this.serving.logReadAllowance,
      logRetention,
      removalPolicy,
      ...(props.config.monitoring.athenaAboveBytes !== undefined && {
        athena: {
          aboveBytes: props.config.monitoring.athenaAboveBytes,
          // The emulator's Athena runs DuckDB (docs/ARCHITECTURE.md, "Drift at scale").
          dialect: props.config.emulator ? 'duckdb' : 'trino',
          workGroupName: this.serving.log.workGroup.name,
          databaseName: this.serving.log.databaseName,
          tableName: 'predictions' satisfies LogKind,
          resultsPrefix: ATHENA_RESULTS_PREFIX,
        },
      }),
    });
    this.management.addFunctionRoutes(DRIFT_ROUTES, this.driftCheck.function.function);
    this.declaredModels = new DeclaredModels(this, 'DeclaredModels', {
      registryTable: this.registry.table,
      models: props.models,
      logRetention,
      removalPolicy,
    });
    this.retrainTrigger = new RetrainTrigger(this, 'RetrainTrigger', {
      registryTable: this.registry.table,
      trackingTable: this.tracking.table,
      pipeline: this.pipeline.stateMachine,
      alertTopic: this.alerts.topic,
      datasets: this.store.datasets,
      predictionLogs: this.store.predictionLogs,
      logBuffer: this.serving.logReadAllowance,
      maxDatasetBytes: config.maxDatasetBytes,
      environmentName: props.environmentName,
      logRetention,
      removalPolicy,
    });
    this.management.addFunctionRoutes(RETRAIN_ROUTES, this.retrainTrigger.function.function);
    // A check that finds drift or decay hands the model to the guardrails (asynchronously).
    this.retrainTrigger.allowTriggering(this.driftCheck.function.function);
    this.modelSchedules = new ModelSchedules(this, 'ModelSchedules', {
      driftCheck: this.driftCheck.function.function,
      retrainTrigger: this.retrainTrigger.function.function,
      removalPolicy,
      emulator: config.emulator,
    });
    this.modelSchedules.allowManaging(this.management.registryHandler.function);
    this.modelSchedules.allowManaging(this.declaredModels.handler.function);
    // Each model's dashboard and alarms are written with its spec, by the same two functions as its schedules.
    this.monitoring = new Monitoring(this, 'Monitoring', {
      environmentName: props.environmentName,
      alertTopic: this.alerts.topic,
      predict: this.serving.predictFunction.function,
      driftCheck: this.driftCheck.function.function,
      alarms: {
        period: Duration.seconds(config.monitoring.alarmPeriodSeconds),
        evaluationPeriods: config.monitoring.alarmEvaluationPeriods,
        checkPeriod: Duration.seconds(config.monitoring.checkAlarmPeriodSeconds),
      },
      emulator: config.emulator,
    });
    this.monitoring.allowPublishing(this.driftCheck.function.function);
    this.monitoring.allowManaging(this.management.registryHandler.function);
    this.monitoring.allowManaging(this.declaredModels.handler.function);
    this.registryEvents = new RegistryEvents(this, 'RegistryEvents', {
      registryTable: this.registry.table,
      environmentName: props.environmentName,
      alertTopic: this.alerts.topic,
      logRetention,
      removalPolicy,
      tlsOnly,
    });
    // Webhooks from cdk.json: each a rule on the bus to an API destination (docs/DELIVERY.md).
    for (const webhook of config.webhooks) {
      new RegistryWebhook(this, `Webhook-${webhook.name}`, {
        bus: this.registryEvents.bus,
        filter: { types: webhook.events, alias: webhook.alias, ...(webhook.models ? { models: webhook.models } : {}) },
        url: webhook.url,
        apiKey: { header: webhook.apiKeyHeader, value: SecretValue.secretsManager(webhook.apiKeySecret) },
        deadLetterQueue: this.registryEvents.deadLetters,
      });
    }
    if (props.smokeTest) {
      this.smokeTestRole = new SmokeTestRole(this, 'SmokeTestRole', { ...props.smokeTest, environmentName: props.environmentName, managementApi: this.management.api, servingApi: this.serving.api });
    }
    acknowledgePlatformFindings(this);

    // Typed by the contract: an output missing or renamed here fails `tsc`, as the CLI reads these names.
    const outputs: StackOutputs = {
      DatasetsBucket: this.store.datasets.bucketName,
      ModelsBucket: this.store.models.bucketName,
      ReportsBucket: this.store.reports.bucketName,
      PredictionLogsBucket: this.store.predictionLogs.bucketName,
      RegistryTable: this.registry.table.tableName,
      TrackingTable: this.tracking.table.tableName,
      TrainingPipelineArn: this.pipeline.stateMachine.stateMachineArn,
      AlertTopicArn: this.alerts.topic.topicArn,
      ApiId: this.serving.api.restApiId,
      ApiStage: this.serving.api.deploymentStage.stageName,
      ApiUrl: this.serving.api.url,
      ManagementApiId: this.management.api.restApiId,
      ManagementApiStage: this.management.api.deploymentStage.stageName,
      ManagementApiUrl: this.management.api.url,
      DatasetRegistrationArn: this.datasetRegistration.stateMachine.stateMachineArn,
      PredictionLogStream: this.serving.log.predictions.stream.ref,
      FeedbackStream: this.serving.log.feedback.stream.ref,
      RequestIndexTable: this.serving.requestIndexTable.tableName,
      GlueDatabase: this.serving.log.databaseName,
      AthenaWorkGroup: this.serving.log.workGroup.ref,
      EventBusName: this.registryEvents.bus.eventBusName,
      EventBusArn: this.registryEvents.bus.eventBusArn,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
