import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { PlatformFunction } from './platform-function.js';
import { TRANSIENT_ERRORS } from './training-pipeline.js';

export interface RolloutProps {
  readonly registryTable: dynamodb.ITable;
  /** Runs of the release path: why a gate or a promotion failed is read from its run record. */
  readonly trackingTable: dynamodb.ITable;
  /** Where the prediction log and the feedback land (read by RolloutCheck). */
  readonly predictionLogs: s3.IBucket;
  /** Where each check's evidence goes, as a JSON report. */
  readonly reports: s3.IBucket;
  /** The training pipeline, which is also the release path: its Evaluate and Gate judge the version, its Promote moves production. */
  readonly pipeline: sfn.IStateMachine;
  /** The prediction log's delivery buffer: every bake waits this out before its check reads the window. */
  readonly logBuffer: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Longest a rollout may run, bakes, extensions and the wait for approval included.
   * @default Duration.days(30)
   */
  readonly timeout?: Duration;
}

/**
 * The rollout state machine (`mlops rollout start`), one definition for AWS and the emulator:
 *
 *   Gate (the release path run as a promotion that stops after Evaluate and Gate, against production)
 *     -> Begin (shadow alias, or the first canary weight) -> Bake (Wait bake + log buffer) -> Check
 *     -> advance: the next step (Bake again) or, after the last step below 1, Promote
 *        (the release path again: gate, approval where required, Promote moves production) -> Finish
 *     -> extend: Bake again; rollback / hold: the rollout ends (Check already recorded it)
 *   any failure -> Fail (canary and shadow cleared, production untouched) -> Failed
 *
 * The rollout's state lives in the registry table (one item per model); the steps answer only
 * where to go next and how long to wait, so the payloads stay small. Every registry change a step
 * makes is conditioned on the rollout still running, so an abort wins over a step in flight.
 */
export class Rollout extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** Begin, Finish and Fail: registry changes only. */
  public readonly stepFunction: PlatformFunction;
  /** RolloutCheck: reads the log's window, writes the evidence, records the decision. */
  public readonly checkFunction: PlatformFunction;

  constructor(scope: Construct, id: string, props: RolloutProps) {
    super(scope, id);
    const environment = { REGISTRY_TABLE: props.registryTable.tableName, LOG_BUFFER_SECONDS: String(props.logBuffer.toSeconds()) };
    this.stepFunction = new PlatformFunction(this, 'RolloutStep', {
      handlerDir: 'rollout-step',
      description: 'Rollout: sets shadow or canary after the gate, clears them after the promotion or a failure',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      environment: { ...environment, TRACKING_TABLE: props.trackingTable.tableName },
    });
    this.checkFunction = new PlatformFunction(this, 'RolloutCheck', {
      handlerDir: 'rollout-check',
      description: 'RolloutCheck: compares the arms over the bake window and steps, extends, holds or rolls back',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      timeout: Duration.minutes(5),
      memorySize: 1024,
      environment: { ...environment, PREDICTION_LOGS_BUCKET: props.predictionLogs.bucketName, REPORTS_BUCKET: props.reports.bucketName },
    });
    props.registryTable.grantReadWriteData(this.stepFunction.function);
    props.trackingTable.grantReadData(this.stepFunction.function);
    props.registryTable.grantReadWriteData(this.checkFunction.function);
    props.predictionLogs.grantRead(this.checkFunction.function, 'predictions/*');
    props.predictionLogs.grantRead(this.checkFunction.function, 'feedback/*');
    props.reports.grantPut(this.checkFunction.function, 'rollouts/*');

    const retry = { errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 };
    const pointer = { 'model.$': '$.model', 'rolloutId.$': '$.rolloutId' };
    const invoke = (name: string, fn: PlatformFunction, payload: Record<string, unknown>) => {
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn.function,
        payloadResponseOnly: true,
        payload: sfn.TaskInput.fromObject(payload),
        resultPath: '$.progress',
        retryOnServiceExceptions: true,
      });
      task.addRetry(retry);
      return task;
    };

    const failed = new sfn.Fail(this, 'Failed', { errorPath: '$.caught.Error', causePath: '$.caught.Cause' });
    const fail = invoke('Fail', this.stepFunction, { action: 'fail', ...pointer, 'error.$': '$.caught.Error', 'cause.$': '$.caught.Cause' });
    // Recording the failure is bookkeeping: if it keeps failing, the execution still fails.
    fail.addCatch(failed, { errors: ['States.ALL'], resultPath: sfn.JsonPath.DISCARD });
    fail.next(failed);
    const guard = <T extends sfn.TaskStateBase>(task: T): T => {
      task.addCatch(fail, { errors: ['States.ALL'], resultPath: '$.caught' });
      return task;
    };

    /** The release path, run to its end and waited for (`startExecution.sync:2`); its run id names it. */
    const release = (name: string, from: '$.gate' | '$.promote') =>
      guard(
        new tasks.StepFunctionsStartExecution(this, name, {
          stateMachine: props.pipeline,
          integrationPattern: sfn.IntegrationPattern.RUN_JOB,
          name: sfn.JsonPath.stringAt(`${from}.name`),
          input: sfn.TaskInput.fromJsonPathAt(`${from}.input`),
          // The pipeline's input is a strict TrainingRequest: no parent-execution field added.
          associateWithParent: false,
          resultPath: sfn.JsonPath.DISCARD,
        }),
      );

    const ended = new sfn.Succeed(this, 'Ended');
    const finish = guard(invoke('Finish', this.stepFunction, { action: 'finish', ...pointer }));
    const promote = release('Promote', '$.promote');
    promote.next(finish).next(ended);
    const check = guard(invoke('Check', this.checkFunction, pointer));
    const bake = new sfn.Wait(this, 'Bake', { time: sfn.WaitTime.secondsPath('$.progress.waitSeconds') });
    const route = new sfn.Choice(this, 'Next?')
      .when(sfn.Condition.stringEquals('$.progress.next', 'bake'), bake)
      .when(sfn.Condition.stringEquals('$.progress.next', 'promote'), promote)
      .otherwise(ended);
    bake.next(check);
    check.next(route);
    const begin = guard(invoke('Begin', this.stepFunction, { action: 'begin', ...pointer }));
    const definition = release('Gate', '$.gate').next(begin).next(route);

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: props.removalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: props.timeout ?? Duration.days(30),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}
