import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BATCH_PREFIX, BATCH_UPLOADS_PREFIX, DEFAULT_MAX_CONCURRENCY } from '../lambdas/core/batch/job.js';
import type { ArtifactStore } from './artifact-store.js';
import { PlatformFunction } from './platform-function.js';
import { TRANSIENT_ERRORS } from './training-pipeline.js';

export interface BatchScoringProps {
  readonly store: ArtifactStore;
  readonly registryTable: dynamodb.ITable;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Chunks scored at once (the Distributed Map's MaxConcurrency).
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Memory of the Prepare and Finish functions, which hold one chunk (Prepare) or the whole output (Finish).
   * @default 2048
   */
  readonly memorySize?: number;
}

/**
 * Batch scoring (`mlops score`): a Standard state machine Prepare -> ScoreChunks -> Finish, and the
 * small API function that starts and reads jobs. Prepare cuts the input into chunk files and writes
 * a JSON manifest; ScoreChunks is a Distributed Map whose S3 ItemReader reads that manifest, one
 * child execution per chunk; Finish concatenates the parts in order. Every step passes S3 keys under
 * the reports bucket's batch-jobs/ prefix, never rows. One definition runs on AWS and on the
 * emulator (docs/ARCHITECTURE.md, "Batch scoring", says what was checked there).
 */
export class BatchScoring extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly prepareFunction: PlatformFunction;
  public readonly scoreChunkFunction: PlatformFunction;
  public readonly finishFunction: PlatformFunction;
  /** Serves BATCH_ROUTES on the management API. */
  public readonly apiFunction: PlatformFunction;

  constructor(scope: Construct, id: string, props: BatchScoringProps) {
    super(scope, id);
    const { store } = props;
    const batchObjects = `${BATCH_PREFIX}*`;
    const step = (name: string, handlerDir: string, description: string, extra: { memorySize?: number; onnxRuntime?: boolean } = {}) =>
      new PlatformFunction(this, name, {
        handlerDir,
        description,
        logRetention: props.logRetention,
        removalPolicy: props.removalPolicy,
        timeout: Duration.minutes(15),
        ...extra,
      });

    this.prepareFunction = step('Prepare', 'batch-prepare', 'Batch scoring: reads the input once and cuts it into chunk files and a manifest', {
      memorySize: props.memorySize ?? 2048,
    });
    this.scoreChunkFunction = step('ScoreChunk', 'batch-score-chunk', 'Batch scoring: scores one chunk with the version artifact, as the online path does', {
      memorySize: 2048,
      onnxRuntime: true,
    });
    this.finishFunction = step('Finish', 'batch-finish', 'Batch scoring: writes the output and the errors file, judges the bad-row share', {
      memorySize: props.memorySize ?? 2048,
    });
    // Model files are read (and checked against their sha256) by Prepare (features) and ScoreChunk.
    for (const fn of [this.prepareFunction, this.scoreChunkFunction]) store.models.grantRead(fn.function, 'models/*');
    // Inputs: uploads under batch-jobs/, or a registered dataset's file.
    store.reports.grantRead(this.prepareFunction.function, batchObjects);
    store.datasets.grantRead(this.prepareFunction.function, 'datasets/*');
    store.reports.grantPut(this.prepareFunction.function, batchObjects);
    store.reports.grantRead(this.scoreChunkFunction.function, batchObjects);
    store.reports.grantPut(this.scoreChunkFunction.function, batchObjects);
    store.reports.grantRead(this.finishFunction.function, batchObjects);
    store.reports.grantPut(this.finishFunction.function, batchObjects);

    const invoke = (name: string, fn: PlatformFunction, options: Partial<tasks.LambdaInvokeProps>) => {
      const task = new tasks.LambdaInvoke(this, name, { lambdaFunction: fn.function, payloadResponseOnly: true, retryOnServiceExceptions: true, ...options });
      task.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
      return task;
    };
    const prepare = invoke('PrepareInput', this.prepareFunction, { resultPath: '$.prepared' });
    const scoreChunk = invoke('ScoreChunkTask', this.scoreChunkFunction, {});
    const finish = invoke('FinishJob', this.finishFunction, { payload: sfn.TaskInput.fromObject({ job: sfn.JsonPath.objectAt('$.job') }), resultPath: '$.result' });

    // No ItemBatcher and no ResultWriter: the emulator ignores both (see docs/ARCHITECTURE.md), so
    // each item is one chunk and the Map's results are discarded; ScoreChunk writes its part to S3.
    const scoreChunks = new sfn.DistributedMap(this, 'ScoreChunks', {
      // The bucket comes from the job (the reports bucket): with `bucket` CDK would grant GetObject on all of
      // its objects, while the grant below covers batch-jobs/ only.
      itemReader: new sfn.S3JsonItemReader({ bucketNamePath: sfn.JsonPath.stringAt('$.job.bucket'), key: sfn.JsonPath.stringAt('$.prepared.manifestKey') }),
      itemSelector: { job: sfn.JsonPath.objectAt('$.job'), chunk: sfn.JsonPath.objectAt('$$.Map.Item.Value') },
      maxConcurrency: props.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
      resultPath: sfn.JsonPath.DISCARD,
      label: 'ScoreChunks',
    });
    scoreChunks.itemProcessor(scoreChunk);

    const finished = new sfn.Choice(this, 'WithinErrorRate?')
      .when(sfn.Condition.stringEquals('$.result.status', 'FAILED'), new sfn.Fail(this, 'TooManyBadRows', { errorPath: '$.result.error.code', causePath: '$.result.error.message' }))
      .otherwise(new sfn.Succeed(this, 'Done', { outputPath: '$.result' }));
    const prepared = new sfn.Choice(this, 'Prepared?')
      .when(sfn.Condition.stringEquals('$.prepared.status', 'REJECTED'), new sfn.Fail(this, 'InputRefused', { errorPath: '$.prepared.error.code', causePath: '$.prepared.error.message' }))
      .otherwise(scoreChunks.next(finish).next(finished));

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(prepare.next(prepared)),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });

    // The ItemReader reads the manifest Prepare wrote under the job's prefix.
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [store.reports.arnForObjects(batchObjects)] }));

    this.apiFunction = new PlatformFunction(this, 'Api', {
      handlerDir: 'batch-api',
      description: 'Batch scoring API: uploads, starts and reads batch scoring jobs',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      timeout: Duration.seconds(29),
      environment: {
        REGISTRY_TABLE: props.registryTable.tableName,
        BATCH_STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        BATCH_BUCKET: store.reports.bucketName,
        DATASETS_BUCKET: store.datasets.bucketName,
      },
    });
    const apiFn = this.apiFunction.function;
    props.registryTable.grantReadData(apiFn);
    this.stateMachine.grantStartExecution(apiFn);
    this.stateMachine.grantExecution(apiFn, 'states:DescribeExecution', 'states:GetExecutionHistory');
    // Presigned PUTs carry this role's permission: uploads only. Reads: inputs exist, results, presigned GETs of outputs.
    store.reports.grantPut(apiFn, `${BATCH_UPLOADS_PREFIX}*`);
    store.reports.grantRead(apiFn, batchObjects);
    store.datasets.grantRead(apiFn, 'datasets/*');
  }
}
