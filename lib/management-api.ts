import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
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
  /** Largest dataset file accepted, in bytes. */
  readonly maxDatasetBytes: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The API that declares the account's API Gateway logging role, which this one shares. */
  readonly sharesLoggingRoleOf: PlatformRestApi;
}

/** Routes of the datasets API, as `METHOD path`; docs/CLI.md documents each. */
export const DATASET_ROUTES = [
  'GET /datasets',
  'GET /datasets/{name}/versions',
  'POST /datasets/{name}/uploads',
  'POST /datasets/{name}/versions',
  'GET /datasets/{name}/versions/{version}',
  'GET /datasets/{name}/versions/{version}/profile',
  'POST /datasets/{name}/versions/{version}/validate',
  'GET /datasets/{name}/registrations/{registrationId}',
] as const;

/** Routes of the model registry API, served by their own function. */
export const REGISTRY_ROUTES = [
  'GET /models',
  'GET /models/{model}',
  'GET /models/{model}/versions/{version}',
  'GET /models/{model}/versions/{version}/lineage',
  'POST /models/{model}/versions/{version}/approve',
  'POST /models/{model}/versions/{version}/reject',
  'POST /models/{model}/aliases/{alias}',
  'POST /models/{model}/rollback',
  'GET /models/{model}/audit',
  'GET /datasets/{name}/versions/{version}/lineage',
] as const;

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
      },
    });
    const fn = this.handler.function;
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
      },
    });
    const registryFn = this.registryHandler.function;
    props.registryTable.grantReadWriteData(registryFn);
    props.trackingTable.grantReadData(registryFn);
    props.trainingPipeline.grantStartExecution(registryFn);
    // Approve and reject complete the task token a waiting release holds.
    props.trainingPipeline.grantTaskResponse(registryFn);

    this.api = new PlatformRestApi(this, 'Rest', {
      description: 'serverless-mlops management API (datasets and model registry)',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      throttle: { rateLimit: 20, burstLimit: 40 },
      sharesLoggingRoleOf: props.sharesLoggingRoleOf,
    }).api;
    // API Gateway checks that a POST body is a JSON object; the function checks its fields with zod.
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
          ...(method === 'POST' ? { requestModels: { 'application/json': jsonObject } } : {}),
        });
      }
    };
    addRoutes(DATASET_ROUTES, new apigateway.LambdaIntegration(fn));
    addRoutes(REGISTRY_ROUTES, new apigateway.LambdaIntegration(registryFn));
  }
}
