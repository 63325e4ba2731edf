import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { UPLOADS_PREFIX } from '../lambdas/core/data/dataset-api.js';
import type { ArtifactStore } from './artifact-store.js';
import { PlatformFunction } from './platform-function.js';
import { TRANSIENT_ERRORS } from './training-pipeline.js';

export interface DatasetRegistrationProps {
  readonly store: ArtifactStore;
  readonly trackingTable: dynamodb.ITable;
  /** Largest dataset file accepted, in bytes. */
  readonly maxDatasetBytes: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Memory of the function that streams and profiles a file (more memory also buys CPU). The
   * pass is single-threaded and its memory is bounded whatever the file (the exact duplicate
   * table stops at 12 million rows, 128 MiB; a 1 GB CSV peaks under 512 MB), so the default is
   * the size at which Lambda gives one full vCPU: more would add cost, not speed.
   * @default 1769
   */
  readonly memorySize?: number;
}

/**
 * Dataset registration as a Standard state machine with one step, RegisterDataset: the function
 * streams an uploaded file once (format, hash, schema, profile) and records the version. It runs
 * asynchronously because a large file takes longer than API Gateway waits (29 s); the API starts
 * an execution and callers poll it. Transient faults are retried; a rejected file ends in the
 * Rejected state, whose error is the rejection's code (such as DATA_VALIDATION_FAILED) and whose
 * cause is its message.
 */
export class DatasetRegistration extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly registerFunction: PlatformFunction;

  constructor(scope: Construct, id: string, props: DatasetRegistrationProps) {
    super(scope, id);
    const { store } = props;
    this.registerFunction = new PlatformFunction(this, 'RegisterDataset', {
      handlerDir: 'register-dataset',
      description: 'Streams an uploaded dataset file once (format, hash, schema, profile) and records the version',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      timeout: Duration.minutes(15),
      memorySize: props.memorySize ?? 1769,
      environment: {
        TRACKING_TABLE: props.trackingTable.tableName,
        DATASETS_BUCKET: store.datasets.bucketName,
        MAX_DATASET_BYTES: String(props.maxDatasetBytes),
      },
    });
    const fn = this.registerFunction.function;
    props.trackingTable.grantReadWriteData(fn);
    store.datasets.grantRead(fn);
    store.datasets.grantPut(fn);
    store.datasets.grantDelete(fn, `${UPLOADS_PREFIX}*`);

    const register = new tasks.LambdaInvoke(this, 'Register', {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    register.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });

    const outcome = new sfn.Choice(this, 'Registered?')
      .when(
        sfn.Condition.stringEquals('$.status', 'REJECTED'),
        new sfn.Fail(this, 'Rejected', { errorPath: '$.error.code', causePath: '$.error.message' }),
      )
      .otherwise(new sfn.Succeed(this, 'Done'));

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(register.next(outcome)),
      // Room for a 15-minute attempt and its retries.
      timeout: Duration.hours(1),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}
