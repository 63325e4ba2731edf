import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PlatformFunction } from './platform-function.js';
import { PredictionLog } from './prediction-log.js';
import { PlatformRestApi } from './rest-api.js';

/** Per-client quotas: a usage plan on the serving stage, with an API key required besides IAM. */
export interface ServingApiKeys {
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly quota: { readonly limit: number; readonly period: 'DAY' | 'WEEK' | 'MONTH' };
}

export interface ServingApiProps {
  readonly registryTable: dynamodb.ITable;
  readonly modelsBucket: s3.IBucket;
  /** Where Firehose lands the log and the feedback; the construct adds their retention rules. */
  readonly predictionLogsBucket: s3.Bucket;
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
  /**
   * How long a warm predict function trusts its in-memory routing state.
   * @default Duration.seconds(2)
   */
  readonly routingStaleness?: Duration;
  /**
   * How long an issued request id stays in the request index.
   * @default Duration.days(30)
   */
  readonly requestIndexTtl?: Duration;
  /**
   * How long the log and the feedback are kept in S3.
   * @default Duration.days(90)
   */
  readonly predictionLogRetention?: Duration;
  /**
   * What readers of the log wait out (LOG_BUFFER_SECONDS). Firehose gets at least 60 s, the least it
   * takes with dynamic partitioning; a shorter value only makes sense on the emulator, which delivers at once.
   * @default Duration.seconds(60)
   */
  readonly logBuffer?: Duration;
  /**
   * How the log lands in S3.
   * @default 'jsonl'
   */
  readonly logFormat?: 'jsonl' | 'parquet';
  /**
   * Usage plan and API keys for callers outside AWS, on top of IAM.
   * @default - IAM alone
   */
  readonly apiKeys?: ServingApiKeys;
  /**
   * Releases the predict function's code through CodeDeploy: a `live` alias behind the API, shifted by
   * a canary and rolled back on its alarms. The emulator has no CodeDeploy (docs/ARCHITECTURE.md).
   * @default true
   */
  readonly codeDeploy?: boolean;
  /**
   * Adds `POST /bench/echo`: a function that answers the request body, built exactly as predict is (same
   * construct, memory, ONNX layer, runtime and bundling) behind the same validator and IAM auth, so the
   * serving bench can tell predict's own cost from the API Gateway path's. For the emulator's `local` only.
   * @default false
   */
  readonly benchEcho?: boolean;
}

/** The predict function's memory (and so its CPU share); the bench's echo function gets the same. */
const PREDICT_MEMORY_MB = 1024;

/** The Firehose buffer the stream gets: dynamic partitioning takes 60 to 900 s. */
const FIREHOSE_MIN_BUFFER = Duration.seconds(60);

/**
 * HTTPS prediction endpoints, IAM-authorized (callers sign with SigV4):
 *   POST /models/{model}/predict   the predict function (production, canary, shadow)
 *   POST /models/{model}/feedback  the feedback function (labels for issued request ids)
 * with the prediction log (Firehose -> S3, Glue, Athena) and the request index they write.
 */
export class ServingApi extends Construct {
  public readonly api: apigateway.RestApi;
  /** The REST API with the platform's defaults, including the account's API Gateway logging role. */
  public readonly restApi: PlatformRestApi;
  public readonly predictFunction: PlatformFunction;
  public readonly feedbackFunction: PlatformFunction;
  /** The log: Firehose streams, Glue database and tables, Athena workgroup. */
  public readonly log: PredictionLog;
  /** Which request ids serving issued, with a TTL (`expiresAt`, epoch seconds). */
  public readonly requestIndexTable: dynamodb.Table;
  /** The alias API Gateway calls, shifted by CodeDeploy; absent where codeDeploy is off. */
  public readonly liveAlias?: lambda.Alias;
  public readonly deploymentGroup?: codedeploy.LambdaDeploymentGroup;
  public readonly usagePlan?: apigateway.UsagePlan;
  /** The Firehose buffer interval as configured, in seconds. */
  public readonly logBufferSeconds: number;
  /**
   * What readers of the log (rollout and drift checks) wait out before they trust a window: AWS
   * documents that with dynamic partitioning a record may land up to 1.5 times the buffer interval
   * after it was sent. Zero on the emulator's `local` config, which writes every record at once.
   */
  public readonly logReadAllowance: Duration;
  /** The bench's echo function behind `POST /bench/echo`; absent unless benchEcho is on. */
  public readonly benchEchoFunction?: PlatformFunction;

  constructor(scope: Construct, id: string, props: ServingApiProps) {
    super(scope, id);
    const logBuffer = props.logBuffer ?? FIREHOSE_MIN_BUFFER;
    this.logBufferSeconds = logBuffer.toSeconds();
    this.logReadAllowance = Duration.seconds(Math.ceil(logBuffer.toSeconds() * 1.5));
    const requestIndexTtl = props.requestIndexTtl ?? Duration.days(30);

    this.log = new PredictionLog(this, 'Log', {
      bucket: props.predictionLogsBucket,
      environmentName: props.environmentName,
      bufferInterval: logBuffer.toSeconds() < FIREHOSE_MIN_BUFFER.toSeconds() ? FIREHOSE_MIN_BUFFER : logBuffer,
      format: props.logFormat ?? 'jsonl',
      retention: props.predictionLogRetention ?? Duration.days(90),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.requestIndexTable = new dynamodb.Table(this, 'RequestIndex', {
      partitionKey: { name: 'requestId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });

    this.predictFunction = new PlatformFunction(this, 'Predict', {
      handlerDir: 'predict',
      description: 'Serves predictions: production, canary by weight, shadow; logs through Firehose',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      memorySize: PREDICT_MEMORY_MB,
      onnxRuntime: true,
      // Artifacts are read by the URI their version records, so no models bucket name is needed.
      environment: {
        ENVIRONMENT_NAME: props.environmentName,
        REGISTRY_TABLE: props.registryTable.tableName,
        PREDICTION_LOG_STREAM: this.log.predictions.stream.ref,
        REQUEST_INDEX_TABLE: this.requestIndexTable.tableName,
        REQUEST_INDEX_TTL_DAYS: String(requestIndexTtl.toDays()),
        ROUTING_STALENESS_MS: String((props.routingStaleness ?? Duration.seconds(2)).toMilliseconds()),
      },
    });
    const predict = this.predictFunction.function;
    props.registryTable.grantReadData(predict);
    props.modelsBucket.grantRead(predict);
    grant(predict, ['firehose:PutRecordBatch'], [this.log.predictions.stream.attrArn]);
    grant(predict, ['dynamodb:PutItem'], [this.requestIndexTable.tableArn]);

    this.feedbackFunction = new PlatformFunction(this, 'Feedback', {
      handlerDir: 'feedback',
      description: "Takes labels for issued request ids and lands them beside the prediction log",
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      environment: {
        REGISTRY_TABLE: props.registryTable.tableName,
        REQUEST_INDEX_TABLE: this.requestIndexTable.tableName,
        REQUEST_INDEX_TTL_DAYS: String(requestIndexTtl.toDays()),
        FEEDBACK_STREAM: this.log.feedback.stream.ref,
      },
    });
    const feedback = this.feedbackFunction.function;
    props.registryTable.grantReadData(feedback);
    // Labels are checked against the model's task, which its artifact records.
    props.modelsBucket.grantRead(feedback);
    grant(feedback, ['firehose:PutRecordBatch'], [this.log.feedback.stream.attrArn]);
    // Looks requests up in batches and marks each label (conditional put), so a resend is not stored twice.
    grant(feedback, ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'], [this.requestIndexTable.tableArn]);

    // Code releases: API Gateway calls the `live` alias, which CodeDeploy shifts to a new version by a canary.
    let predictTarget: lambda.IFunction = predict;
    if (props.codeDeploy ?? true) {
      this.liveAlias = new lambda.Alias(this, 'PredictLive', { aliasName: 'live', version: predict.currentVersion });
      const errors = new cloudwatch.Alarm(this, 'PredictLiveErrors', {
        alarmDescription: 'The predict function\'s live alias fails invocations during a code release',
        metric: this.liveAlias.metricErrors({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      // The new version's cold starts fall in its first minute: 3 slow minutes out of 5 roll back, one does not.
      const latency = new cloudwatch.Alarm(this, 'PredictLiveLatencyP99', {
        alarmDescription: 'The predict function\'s live alias answers slowly (p99) during a code release',
        metric: this.liveAlias.metricDuration({ period: Duration.minutes(1), statistic: cloudwatch.Stats.p(99) }),
        threshold: 2500,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'PredictRelease', {
        alias: this.liveAlias,
        deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
        alarms: [errors, latency],
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
      predictTarget = this.liveAlias;
    }

    this.restApi = new PlatformRestApi(this, 'Rest', {
      description: 'serverless-mlops prediction endpoints',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      ...(props.stageName ? { stageName: props.stageName } : {}),
      ...(props.throttle ? { throttle: props.throttle } : {}),
    });
    this.api = this.restApi.api;

    // API Gateway checks the shape (a JSON object); the functions check it against the model.
    const validator = this.api.addRequestValidator('BodyValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const jsonObject = { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT };
    const predictionRequest = this.api.addModel('PredictionRequest', { contentType: 'application/json', schema: jsonObject });
    const feedbackRequest = this.api.addModel('FeedbackRequest', { contentType: 'application/json', schema: jsonObject });
    const apiKeyRequired = props.apiKeys !== undefined;
    const modelResource = this.api.root.addResource('models').addResource('{model}');
    modelResource.addResource('predict').addMethod('POST', new apigateway.LambdaIntegration(predictTarget), {
      requestValidator: validator,
      requestModels: { 'application/json': predictionRequest },
      requestParameters: { 'method.request.path.model': true },
      apiKeyRequired,
    });
    modelResource.addResource('feedback').addMethod('POST', new apigateway.LambdaIntegration(feedback), {
      requestValidator: validator,
      requestModels: { 'application/json': feedbackRequest },
      requestParameters: { 'method.request.path.model': true },
      apiKeyRequired,
    });

    if (props.benchEcho) {
      // Predict's props but the environment and the grants: the bench compares the two routes' latencies.
      this.benchEchoFunction = new PlatformFunction(this, 'BenchEcho', {
        handlerDir: 'bench-echo',
        description: 'Bench reference: answers the request body, deployed as predict is',
        logRetention: props.logRetention,
        removalPolicy: props.removalPolicy,
        memorySize: PREDICT_MEMORY_MB,
        onnxRuntime: true,
      });
      this.api.root.addResource('bench').addResource('echo').addMethod('POST', new apigateway.LambdaIntegration(this.benchEchoFunction.function), {
        requestValidator: validator,
        requestModels: { 'application/json': predictionRequest },
        apiKeyRequired,
      });
    }

    if (props.apiKeys) {
      // Keys are issued per outside caller (docs/CLI.md) and added to this plan; IAM still signs every call.
      this.usagePlan = this.api.addUsagePlan('UsagePlan', {
        description: 'Per-client quotas for callers outside AWS (API key besides IAM)',
        throttle: { rateLimit: props.apiKeys.rateLimit, burstLimit: props.apiKeys.burstLimit },
        quota: { limit: props.apiKeys.quota.limit, period: apigateway.Period[props.apiKeys.quota.period] },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
    }
  }
}

/** One statement with exactly these actions on exactly these resources. */
function grant(grantee: iam.IGrantable, actions: string[], resourceArns: string[]): void {
  iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
}
