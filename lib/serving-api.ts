import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PlatformFunction } from './platform-function.js';
import { PlatformRestApi } from './rest-api.js';

export interface ServingApiProps {
  readonly registryTable: dynamodb.ITable;
  readonly modelsBucket: s3.IBucket;
  readonly predictionLogsBucket: s3.IBucket;
  readonly environmentName: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Stage name in the invoke URL.
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * Steady-state requests per second per stage, and the burst above it.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/**
 * HTTPS prediction endpoints: `POST /models/{model}/predict`, IAM-authorized (callers sign
 * with SigV4), backed by the predict function, which serves the model's `production` alias.
 */
export class ServingApi extends Construct {
  public readonly api: apigateway.RestApi;
  /** The REST API with the platform's defaults, including the account's API Gateway logging role. */
  public readonly restApi: PlatformRestApi;
  public readonly predictFunction: PlatformFunction;

  constructor(scope: Construct, id: string, props: ServingApiProps) {
    super(scope, id);
    this.predictFunction = new PlatformFunction(this, 'Predict', {
      handlerDir: 'predict',
      description: "Serves predictions from a model's production alias",
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      memorySize: 1024,
      onnxRuntime: true,
      // Artifacts are read by the URI their version records, so no models bucket name is needed.
      environment: {
        ENVIRONMENT_NAME: props.environmentName,
        REGISTRY_TABLE: props.registryTable.tableName,
        PREDICTION_LOGS_BUCKET: props.predictionLogsBucket.bucketName,
      },
    });
    props.registryTable.grantReadData(this.predictFunction.function);
    props.modelsBucket.grantRead(this.predictFunction.function);
    props.predictionLogsBucket.grantPut(this.predictFunction.function);

    this.restApi = new PlatformRestApi(this, 'Rest', {
      description: 'serverless-mlops prediction endpoints',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      ...(props.stageName ? { stageName: props.stageName } : {}),
      ...(props.throttle ? { throttle: props.throttle } : {}),
    });
    this.api = this.restApi.api;

    // API Gateway checks the shape (a JSON object); the function checks it against the model's features.
    const validator = this.api.addRequestValidator('BodyValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const predictionRequest = this.api.addModel('PredictionRequest', {
      contentType: 'application/json',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
    });
    this.api.root
      .addResource('models')
      .addResource('{model}')
      .addResource('predict')
      .addMethod('POST', new apigateway.LambdaIntegration(this.predictFunction.function), {
        requestValidator: validator,
        requestModels: { 'application/json': predictionRequest },
        requestParameters: { 'method.request.path.model': true },
      });
  }
}
