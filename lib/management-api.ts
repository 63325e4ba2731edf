import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentName } from '../lambdas/core/environments.js';
import { DATASET_ROUTES, REGISTRY_ROUTES, RUNS_ROUTES, routeResource, type ManagementRoute } from '../lambdas/contract/routes.js';
import { UPLOADS_PREFIX } from '../lambdas/core/data/dataset-api.js';
import type { ArtifactStore } from './artifact-store.js';
import { PlatformFunction } from './platform-function.js';
import { PlatformRestApi } from './rest-api.js';

export interface ManagementApiProps {
  readonly store: ArtifactStore;
  readonly registryTable: dynamodb.ITable;
  readonly trackingTable: dynamodb.ITable;
  readonly registration: sfn.IStateMachine;
  /** The training pipeline, which is also the release path a promotion to production starts. */
  readonly trainingPipeline: sfn.IStateMachine;
  /**
   * The rollout state machine (lib/rollout.ts): the registry function starts, reads and stops its
   * executions (rollout start, status, abort, and a manual rollback during a rollout).
   * @default - no rollout routes work
   */
  readonly rollout?: sfn.IStateMachine;
  /** Largest dataset file accepted, in bytes. */
  readonly maxDatasetBytes: number;
  /** What readers of the prediction log wait out (LOG_BUFFER_SECONDS): `dataset from-logs` reads the log. */
  readonly logBuffer: Duration;
  /** The stage's throttle (requests per second and burst), per environment. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The API that declares the account's API Gateway logging role, which this one shares. */
  readonly sharesLoggingRoleOf: PlatformRestApi;
  /** Named in the registry events `GET /events` answers (as the bus's events are). */
  readonly environmentName: EnvironmentName;
}

/**
 * The platform's management HTTP API, which the CLI is a thin client of: IAM-authorized routes
 * (callers sign with SigV4) served by one function. Dataset bytes never pass through it: uploads
 * go straight to S3 on presigned URLs. The registry's routes (models, versions, aliases, approvals,
 * lineage, audit) are served by a second function with its own, narrower permissions.
 */
export class ManagementApi extends Construct {
  public readonly api: apigateway.RestApi;
  public readonly handler: PlatformFunction;
  public readonly registryHandler: PlatformFunction;
  /** Serves RUNS_ROUTES: starts runs through the pipeline and reads them back; writes no table. */
  public readonly runsHandler: PlatformFunction;
  private readonly addRoutesTo: (routes: readonly string[], integration: apigateway.LambdaIntegration) => void;

  constructor(scope: Construct, id: string, props: ManagementApiProps) {
    super(scope, id);
    const { store } = props;
    this.handler = new PlatformFunction(this, 'DatasetsApi', {
      handlerDir: 'datasets-api',
      description: 'Datasets API: uploads, registration, versions, profiles and validation',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      // API Gateway waits 29 s at most; anything longer runs in the registration state machine.
      timeout: Duration.seconds(29),
      memorySize: 1024,
      environment: {
        TRACKING_TABLE: props.trackingTable.tableName,
        REGISTRY_TABLE: props.registryTable.tableName,
        DATASETS_BUCKET: store.datasets.bucketName,
        REPORTS_BUCKET: store.reports.bucketName,
        REGISTRATION_STATE_MACHINE_ARN: props.registration.stateMachineArn,
        MAX_DATASET_BYTES: String(props.maxDatasetBytes),
        PREDICTION_LOGS_BUCKET: store.predictionLogs.bucketName,
        LOG_BUFFER_SECONDS: String(props.logBuffer.toSeconds()),
      },
    });
    const fn = this.handler.function;
    // `dataset from-logs` reads the prediction log and the feedback (never the Athena results beside them).
    store.predictionLogs.grantRead(fn, 'predictions/*');
    store.predictionLogs.grantRead(fn, 'feedback/*');
    props.trackingTable.grantReadData(fn);
    props.registryTable.grantReadData(fn);
    store.datasets.grantRead(fn);
    // Presigned part URLs carry this role's permission to put objects, under uploads/ only.
    store.datasets.grantPut(fn, `${UPLOADS_PREFIX}*`);
    store.datasets.grantDelete(fn, `${UPLOADS_PREFIX}*`);
    store.reports.grantPut(fn);
    props.registration.grantStartExecution(fn);
    props.registration.grantRead(fn);

    this.registryHandler = new PlatformFunction(this, 'RegistryApi', {
      handlerDir: 'registry-api',
      description: 'Registry API: models, versions, promotions, rollbacks, approvals, lineage and audit',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      timeout: Duration.seconds(29),
      environment: {
        TRACKING_TABLE: props.trackingTable.tableName,
        REGISTRY_TABLE: props.registryTable.tableName,
        TRAINING_PIPELINE_ARN: props.trainingPipeline.stateMachineArn,
        ENVIRONMENT_NAME: props.environmentName,
        ...(props.rollout ? { ROLLOUT_STATE_MACHINE_ARN: props.rollout.stateMachineArn } : {}),
      },
    });
    const registryFn = this.registryHandler.function;
    if (props.rollout) {
      props.rollout.grantStartExecution(registryFn);
      // Status reads the execution; abort and a manual rollback stop it, and the release run it waits on.
      props.rollout.grantExecution(registryFn, 'states:DescribeExecution', 'states:StopExecution');
      props.trainingPipeline.grantExecution(registryFn, 'states:StopExecution');
    }
    props.registryTable.grantReadWriteData(registryFn);
    props.trackingTable.grantReadData(registryFn);
    props.trainingPipeline.grantStartExecution(registryFn);
    // Approve and reject complete the task token a waiting release holds.
    props.trainingPipeline.grantTaskResponse(registryFn);
    // An approval whose task token is gone asks whether the release still runs (someone else answered) or ended.
    props.trainingPipeline.grantExecution(registryFn, 'states:DescribeExecution');
    // A version's gate report, answered by GET /models/{model}/versions/{version}/gate-report.
    store.reports.grantRead(registryFn, 'gates/*');

    this.runsHandler = new PlatformFunction(this, 'RunsApi', {
      handlerDir: 'runs-api',
      description: 'Runs API: starts, shows, lists and compares runs; ONNX imports and cross-environment transfers',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      timeout: Duration.seconds(29),
      // An import's ONNX file is read whole and loaded to check its input before the run starts.
      memorySize: 2048,
      onnxRuntime: true,
      environment: {
        TRACKING_TABLE: props.trackingTable.tableName,
        REGISTRY_TABLE: props.registryTable.tableName,
        TRAINING_PIPELINE_ARN: props.trainingPipeline.stateMachineArn,
        MODELS_BUCKET: store.models.bucketName,
      },
    });
    const runsFn = this.runsHandler.function;
    // Runs are written by the pipeline's StartRun step, never by the API: it only reads the tables.
    props.registryTable.grantReadData(runsFn);
    props.trackingTable.grantReadData(runsFn);
    props.trainingPipeline.grantStartExecution(runsFn);
    props.trainingPipeline.grantExecution(runsFn, 'states:DescribeExecution', 'states:GetExecutionHistory');
    // Model files and uploads are read (checked, hashed, presigned GETs); presigned PUTs carry this
    // role's permission, so it may put only under the imports/ and transfers/ keys it issues.
    store.models.grantRead(runsFn, 'models/*');
    store.models.grantPut(runsFn, 'models/*/imports/*');
    store.models.grantPut(runsFn, 'models/*/transfers/*');
    store.reports.grantRead(runsFn, 'validation/*');
    store.reports.grantRead(runsFn, 'gates/*');
    // A version's dataset on a presigned GET, for the environment it is promoted into.
    store.datasets.grantRead(runsFn, 'datasets/*');

    this.api = new PlatformRestApi(this, 'Rest', {
      description: 'serverless-mlops management API (datasets and model registry)',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      throttle: props.throttle,
      sharesLoggingRoleOf: props.sharesLoggingRoleOf,
    }).api;
    // API Gateway checks that a POST or PUT body is a JSON object; the function checks its fields with zod.
    const validator = this.api.addRequestValidator('BodyValidator', { validateRequestBody: true, validateRequestParameters: true });
    const jsonObject = this.api.addModel('JsonObject', {
      contentType: 'application/json',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
    });
    const addRoutes = (routes: readonly string[], integration: apigateway.LambdaIntegration) => {
      for (const route of routes) {
        const [method, path] = route.split(' ') as [string, string];
        const pathParameters = [...path.matchAll(/\{(\w+)\}/g)].map((match) => `method.request.path.${match[1]}`);
        this.api.root.resourceForPath(path).addMethod(method, integration, {
          requestValidator: validator,
          requestParameters: Object.fromEntries(pathParameters.map((name) => [name, true])),
          ...(method === 'POST' || method === 'PUT' ? { requestModels: { 'application/json': jsonObject } } : {}),
        });
      }
    };
    addRoutes(DATASET_ROUTES, new apigateway.LambdaIntegration(fn));
    addRoutes(REGISTRY_ROUTES, new apigateway.LambdaIntegration(registryFn));
    addRoutes(RUNS_ROUTES, new apigateway.LambdaIntegration(runsFn));
    this.addRoutesTo = addRoutes;
  }

  /** Serves `routes` with a function built outside this construct (batch scoring brings its own), with the same validation. */
  addFunctionRoutes(routes: readonly ManagementRoute[], fn: lambda.IFunction): void {
    this.addRoutesTo(routes, new apigateway.LambdaIntegration(fn));
  }

  /** The execute-api ARN of one route on this API's stage, path parameters as `*` (docs/IAM.md). */
  routeArn(route: ManagementRoute): string {
    const [method, path] = routeResource(route).split(/\/(.*)/s) as [string, string];
    return this.api.arnForExecuteApi(method, `/${path}`, this.api.deploymentStage.stageName);
  }

  /** Lets `grantee` call exactly these routes (a viewer, a trainer, an approver: docs/IAM.md has examples). */
  grantInvoke(grantee: iam.IGrantable, routes: readonly ManagementRoute[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns: routes.map((route) => this.routeArn(route)) });
  }
}
