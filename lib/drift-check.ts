import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PlatformFunction } from './platform-function.js';

export interface DriftCheckProps {
  /** Models, their aliases and versions (read); the check records (written, under the model). */
  readonly registryTable: dynamodb.ITable;
  /** Model files and reference samples (read). */
  readonly models: s3.IBucket;
  /** Dataset files: the reference of a version stored before reference samples is drawn from its dataset (read). */
  readonly datasets: s3.IBucket;
  /** Where the prediction log lands (its predictions/ and feedback/ prefixes are read). */
  readonly predictionLogs: s3.IBucket;
  /** Where each check's JSON report goes (drift-checks/). */
  readonly reports: s3.IBucket;
  /** The prediction log's delivery buffer: a window ending now ends this long before now. */
  readonly logBuffer: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Memory of the function, which holds the reference sample and the window's bounded summaries.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * The Athena path for large windows (config `monitoring.athenaAboveBytes`): windows of more log
   * bytes than `aboveBytes` are aggregated by Athena in the log's workgroup over its `predictions`
   * Glue table, results under `resultsPrefix` of the logs bucket. `dialect`: `duckdb` on the
   * emulator, whose Athena runs DuckDB, `trino` on AWS.
   * @default - every window is streamed through the function
   */
  readonly athena?: DriftCheckAthenaProps;
}

export interface DriftCheckAthenaProps {
  readonly aboveBytes: number;
  readonly dialect: 'trino' | 'duckdb';
  readonly workGroupName: string;
  readonly databaseName: string;
  /** The Glue table of the prediction log. */
  readonly tableName: string;
  /** Where the workgroup writes query results in the prediction-logs bucket, e.g. `athena-results/`. */
  readonly resultsPrefix: string;
}

/** The reports bucket's prefix for drift check reports. */
export const DRIFT_REPORTS_PREFIX = 'drift-checks/';

/**
 * DriftCheck: the function behind DRIFT_ROUTES on the management API (`mlops drift`). It reads a
 * window of the prediction log and the version's reference sample, writes a JSON report and a check
 * record. Scheduled checks (`monitoring.schedule`) are not wired yet: the schedules step of the
 * monitoring issue adds them.
 */
export class DriftCheck extends Construct {
  public readonly function: PlatformFunction;

  constructor(scope: Construct, id: string, props: DriftCheckProps) {
    super(scope, id);
    this.function = new PlatformFunction(this, 'Function', {
      handlerDir: 'drift-check',
      description: 'DriftCheck: compares a window of the prediction log with the version reference sample',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      // API Gateway answers after 29 s whatever the function does; on-demand checks stay under it.
      timeout: Duration.seconds(29),
      memorySize: props.memorySize ?? 1024,
      // A version from before reference samples is scored at check time, imported (ONNX) models too.
      onnxRuntime: true,
      environment: {
        REGISTRY_TABLE: props.registryTable.tableName,
        PREDICTION_LOGS_BUCKET: props.predictionLogs.bucketName,
        REPORTS_BUCKET: props.reports.bucketName,
        LOG_BUFFER_SECONDS: String(props.logBuffer.toSeconds()),
      },
    });
    const fn = this.function.function;
    props.registryTable.grantReadData(fn);
    props.registryTable.grant(fn, 'dynamodb:PutItem');
    props.models.grantRead(fn, 'models/*');
    props.datasets.grantRead(fn, 'datasets/*');
    props.predictionLogs.grantRead(fn, 'predictions/*');
    // The performance window joins the log with the feedback labels (core/monitoring/labelled-window.ts).
    props.predictionLogs.grantRead(fn, 'feedback/*');
    props.reports.grantRead(fn, `${DRIFT_REPORTS_PREFIX}*`);
    props.reports.grantPut(fn, `${DRIFT_REPORTS_PREFIX}*`);
    if (props.athena) this.grantAthena(fn, props.predictionLogs, props.athena);
  }

  /** Environment and least privilege for the Athena path: queries in the one workgroup, the one table, results under their prefix. */
  private grantAthena(fn: PlatformFunction['function'], logs: s3.IBucket, athena: DriftCheckAthenaProps): void {
    const stack = Stack.of(this);
    fn.addEnvironment('ATHENA_ABOVE_BYTES', String(athena.aboveBytes));
    fn.addEnvironment('ATHENA_SQL_DIALECT', athena.dialect);
    fn.addEnvironment('ATHENA_WORKGROUP', athena.workGroupName);
    fn.addEnvironment('GLUE_DATABASE', athena.databaseName);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
        resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: athena.workGroupName })],
      }),
    );
    // Athena reads the table's definition as the caller (partition projection: no partitions to read).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetTable'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: athena.databaseName }),
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${athena.databaseName}/${athena.tableName}` }),
        ],
      }),
    );
    // The log itself is read with the function's own grant (predictions/*); Athena writes and reads its results as the caller.
    logs.grantRead(fn, `${athena.resultsPrefix}*`);
    logs.grantPut(fn, `${athena.resultsPrefix}*`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], resources: [logs.arnForObjects(`${athena.resultsPrefix}*`)] }));
  }
}
