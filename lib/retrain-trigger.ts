import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { UPLOADS_PREFIX } from '../lambdas/core/data/dataset-api.js';
import { PlatformFunction } from './platform-function.js';

export interface RetrainTriggerProps {
  /** Models (read); the retraining lock and the trigger decisions (written, under the model); drift checks (read, for `monitor`). */
  readonly registryTable: dynamodb.ITable;
  /** Runs (read: the last training) and dataset versions (read, and written when a version is built from the log). */
  readonly trackingTable: dynamodb.ITable;
  /** The training pipeline every started run goes through (its gates and approval). */
  readonly pipeline: sfn.IStateMachine;
  /** The owner is told of every decision here. */
  readonly alertTopic: sns.ITopic;
  /** Dataset files: read, and the built file's upload, stored version and profile written (registration inline). */
  readonly datasets: s3.IBucket;
  /** The prediction log and its feedback (read), for drift and performance triggers. */
  readonly predictionLogs: s3.IBucket;
  /** The prediction log's delivery buffer: a window ending now ends this long before now. */
  readonly logBuffer: Duration;
  /** The largest dataset file registration accepts. */
  readonly maxDatasetBytes: number;
  /** The environment's name: the model alarms `monitor` lists are named after it. */
  readonly environmentName: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The retraining guardrails (lambdas/retrain-trigger): retraining schedules and DriftCheck invoke it,
 * it decides (cooldown, one run at a time, budget, new data, new labels), records every decision and
 * starts runs through the training pipeline. It also serves RETRAIN_ROUTES (`mlops monitor`).
 */
export class RetrainTrigger extends Construct {
  public readonly function: PlatformFunction;

  constructor(scope: Construct, id: string, props: RetrainTriggerProps) {
    super(scope, id);
    this.function = new PlatformFunction(this, 'Function', {
      handlerDir: 'retrain-trigger',
      description: 'Retraining guardrails: cooldown, lock, budget, new data and labels before a run starts; trigger history and monitor routes',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      // Building a dataset from the log reads the window and registers the file inline.
      timeout: Duration.minutes(5),
      memorySize: 1024,
      environment: {
        REGISTRY_TABLE: props.registryTable.tableName,
        TRACKING_TABLE: props.trackingTable.tableName,
        TRAINING_PIPELINE_ARN: props.pipeline.stateMachineArn,
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        DATASETS_BUCKET: props.datasets.bucketName,
        PREDICTION_LOGS_BUCKET: props.predictionLogs.bucketName,
        LOG_BUFFER_SECONDS: String(props.logBuffer.toSeconds()),
        MAX_DATASET_BYTES: String(props.maxDatasetBytes),
        ENVIRONMENT_NAME: props.environmentName,
      },
    });
    const fn = this.function.function;
    props.registryTable.grantReadData(fn);
    props.registryTable.grant(fn, 'dynamodb:PutItem');
    props.trackingTable.grantReadWriteData(fn);
    props.pipeline.grantStartExecution(fn);
    props.alertTopic.grantPublish(fn);
    props.datasets.grantRead(fn);
    props.datasets.grantPut(fn);
    props.datasets.grantDelete(fn, `${UPLOADS_PREFIX}*`);
    props.predictionLogs.grantRead(fn, 'predictions/*');
    props.predictionLogs.grantRead(fn, 'feedback/*');
    // DescribeAlarms supports no resource-level permissions.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
  }

  /** Lets `fn` (DriftCheck) hand a model over asynchronously, and tells it where (RETRAIN_TRIGGER_FUNCTION_ARN). */
  allowTriggering(fn: lambda.Function): void {
    fn.addEnvironment('RETRAIN_TRIGGER_FUNCTION_ARN', this.function.function.functionArn);
    // The function's ARN itself: no versions or aliases (grantInvoke would add ARN:*).
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.function.functionArn] }));
  }
}
