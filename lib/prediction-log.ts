import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FeedbackRecordSchema, PredictionLogRecordSchema } from '../lambdas/core/serving/records.js';
import { glueColumnsOf } from './glue-columns.js';

/** The log's two kinds, each a Firehose stream, a key prefix and a Glue table of the same name. */
export const LOG_KINDS = ['predictions', 'feedback'] as const;
export type LogKind = (typeof LOG_KINDS)[number];

/** Partition keys, in path order: the first two come from the record (jq), the date from the arrival time. */
export const LOG_PARTITION_KEYS = [
  { name: 'model', type: 'string' },
  { name: 'version', type: 'int' },
  { name: 'date', type: 'string' },
] as const;

/** Firehose's key prefix for a kind: `predictions/model=<m>/version=<v>/date=<yyyy-MM-dd>/` (lambdas/core/serving/records.ts logPrefix). */
export const firehosePrefix = (kind: LogKind) =>
  `${kind}/model=!{partitionKeyFromQuery:model}/version=!{partitionKeyFromQuery:version}/date=!{timestamp:yyyy-MM-dd}/`;
/** Where Firehose puts what it could not deliver, by error type (processing-failed, format-conversion-failed, ...). */
export const firehoseErrorPrefix = (kind: LogKind) => `errors/${kind}/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/`;
/** Where the workgroup writes query results in the prediction-logs bucket (kept a week at most: they may quote records). */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';
/** The jq query that gives the partition keys. */
export const PARTITION_QUERY = '{model: .model, version: .version}';

export interface PredictionLogProps {
  /** The prediction-logs bucket; the construct adds the retention rules for its prefixes. */
  readonly bucket: s3.Bucket;
  /** Names the Glue database (`mlops_<environment>`) and the Athena workgroup. */
  readonly environmentName: string;
  /** How long Firehose buffers (the hint it gets; with dynamic partitioning at least 60 s). */
  readonly bufferInterval: Duration;
  /** JSON Lines, or Parquet through record format conversion with the Glue table's schema. */
  readonly format: 'jsonl' | 'parquet';
  /** How long records under predictions/, feedback/ and errors/ are kept. */
  readonly retention: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** One kind's stream, its delivery role and its Glue table. */
export interface LogStream {
  readonly stream: firehose.CfnDeliveryStream;
  readonly deliveryRole: iam.Role;
  readonly table: glue.CfnTable;
}

/**
 * The prediction log and the feedback: two Firehose streams (Direct PUT) that land records in the
 * prediction-logs bucket partitioned by model, version and day, a Glue table over each (partition
 * projection, so Athena needs no crawler), an Athena workgroup, and the prefixes' retention.
 */
export class PredictionLog extends Construct {
  public readonly predictions: LogStream;
  public readonly feedback: LogStream;
  public readonly database: glue.CfnDatabase;
  public readonly databaseName: string;
  public readonly workGroup: athena.CfnWorkGroup;
  /** Firehose's error logs (one log stream per kind). */
  public readonly deliveryLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PredictionLogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Glue and Athena names allow lowercase letters, digits and underscores.
    this.databaseName = `mlops_${props.environmentName.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: 'serverless-mlops prediction log and feedback' },
    });
    this.database.applyRemovalPolicy(props.removalPolicy);

    this.deliveryLogs = new logs.LogGroup(this, 'DeliveryLogs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.predictions = this.logStream('predictions', props);
    this.feedback = this.logStream('feedback', props);

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `mlops-${props.environmentName}`,
      description: 'Queries over the prediction log and the feedback',
      recursiveDeleteOption: props.removalPolicy === RemovalPolicy.DESTROY,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        resultConfiguration: {
          outputLocation: props.bucket.s3UrlForObject(ATHENA_RESULTS_PREFIX),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    this.workGroup.applyRemovalPolicy(props.removalPolicy);

    // Retention: the log and the feedback for the configured days; a deleted object's old versions a day later,
    // so an erased record is gone for good. Query results may quote records: kept a week at most.
    for (const prefix of ['predictions/', 'feedback/', 'errors/']) {
      props.bucket.addLifecycleRule({
        id: `retain-${prefix.replace('/', '')}`,
        prefix,
        expiration: props.retention,
        noncurrentVersionExpiration: Duration.days(1),
      });
    }
    props.bucket.addLifecycleRule({
      id: 'expire-athena-results',
      prefix: ATHENA_RESULTS_PREFIX,
      expiration: Duration.days(Math.min(7, props.retention.toDays())),
      noncurrentVersionExpiration: Duration.days(1),
    });
  }

  private logStream(kind: LogKind, props: PredictionLogProps): LogStream {
    const stack = Stack.of(this);
    const id = kind === 'predictions' ? 'Predictions' : 'Feedback';
    const schema = kind === 'predictions' ? PredictionLogRecordSchema : FeedbackRecordSchema;
    const location = props.bucket.s3UrlForObject(`${kind}/`);
    const parquet = props.format === 'parquet';

    const table = new glue.CfnTable(this, `${id}Table`, {
      catalogId: stack.account,
      databaseName: this.databaseName,
      tableInput: {
        name: kind,
        description: `serverless-mlops ${kind} (${parquet ? 'Parquet' : 'JSON Lines'}), written by Firehose`,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: LOG_PARTITION_KEYS.map(({ name, type }) => ({ name, type })),
        parameters: {
          classification: parquet ? 'parquet' : 'json',
          // Partition projection: Athena computes the partitions from the query, so no crawler and no
          // partition writes. Queries name the model and the version(s) (`model = 'm' AND version IN (3, 4)`).
          'projection.enabled': 'true',
          'projection.model.type': 'injected',
          'projection.version.type': 'injected',
          'projection.date.type': 'date',
          'projection.date.format': 'yyyy-MM-dd',
          'projection.date.range': '2025-01-01,NOW',
          'projection.date.interval': '1',
          'projection.date.interval.unit': 'DAYS',
          'storage.location.template': `${location}model=\${model}/version=\${version}/date=\${date}/`,
        },
        storageDescriptor: {
          location,
          columns: glueColumnsOf(schema, LOG_PARTITION_KEYS.map((key) => key.name)),
          ...(parquet
            ? {
                inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
                outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
                serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
              }
            : {
                inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
                outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
                serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
              }),
        },
      },
    });
    table.addResourceDependency(this.database);
    table.applyRemovalPolicy(props.removalPolicy);

    const logStream = new logs.CfnLogStream(this, `${id}DeliveryLogStream`, { logGroupName: this.deliveryLogs.logGroupName, logStreamName: kind });
    logStream.applyRemovalPolicy(props.removalPolicy);

    // Least privilege: this stream writes its own prefix and its error prefix of the one bucket, nothing else.
    const deliveryRole = new iam.Role(this, `${id}DeliveryRole`, {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `Firehose delivery of ${kind} to the prediction-logs bucket`,
    });
    deliveryRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [props.bucket.bucketArn],
      }),
    );
    deliveryRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: [props.bucket.arnForObjects(`${kind}/*`), props.bucket.arnForObjects(`errors/${kind}/*`)],
      }),
    );
    deliveryRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:PutLogEvents'],
        resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `${this.deliveryLogs.logGroupName}:log-stream:${kind}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    if (parquet) {
      deliveryRole.addToPolicy(
        new iam.PolicyStatement({
          actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
          resources: [
            stack.formatArn({ service: 'glue', resource: 'catalog' }),
            stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
            stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${kind}` }),
          ],
        }),
      );
    }

    const stream = new firehose.CfnDeliveryStream(this, `${id}Stream`, {
      deliveryStreamType: 'DirectPut',
      // Encrypted at rest inside Firehose with an AWS-owned key; S3 encrypts the objects with the bucket's default.
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: props.bucket.bucketArn,
        roleArn: deliveryRole.roleArn,
        prefix: firehosePrefix(kind),
        errorOutputPrefix: firehoseErrorPrefix(kind),
        // Dynamic partitioning and format conversion need at least 64 MiB; the interval is what readers wait out.
        bufferingHints: { intervalInSeconds: props.bufferInterval.toSeconds(), sizeInMBs: 64 },
        compressionFormat: 'UNCOMPRESSED',
        cloudWatchLoggingOptions: { enabled: true, logGroupName: this.deliveryLogs.logGroupName, logStreamName: kind },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'MetadataExtraction',
              parameters: [
                { parameterName: 'MetadataExtractionQuery', parameterValue: PARTITION_QUERY },
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
              ],
            },
          ],
        },
        ...(parquet
          ? {
              dataFormatConversionConfiguration: {
                enabled: true,
                schemaConfiguration: {
                  catalogId: stack.account,
                  databaseName: this.databaseName,
                  tableName: kind,
                  region: stack.region,
                  roleArn: deliveryRole.roleArn,
                  versionId: 'LATEST',
                },
                inputFormatConfiguration: { deserializer: { openXJsonSerDe: {} } },
                outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'SNAPPY' } } },
              },
            }
          : {}),
      },
    });
    // The role's policy must exist before Firehose checks it can write.
    stream.node.addDependency(deliveryRole);
    stream.addResourceDependency(table);
    return { stream, deliveryRole, table };
  }
}
