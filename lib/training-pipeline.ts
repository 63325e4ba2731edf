import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ArtifactStore } from './artifact-store.js';
import type { BoundExternalTraining, ExternalTraining } from './external-training.js';
import { PlatformFunction } from './platform-function.js';

export interface TrainingPipelineProps {
  readonly store: ArtifactStore;
  readonly registryTable: dynamodb.ITable;
  readonly trackingTable: dynamodb.ITable;
  readonly alertTopic: sns.ITopic;
  /** When true, every new production version waits for a person (WaitForApproval); models can also ask for it in their spec. */
  readonly productionRequiresApproval: boolean;
  /**
   * How long a release waits for approval before it is rejected.
   * @default Duration.days(3)
   */
  readonly approvalTimeout?: Duration;
  readonly environmentName: string;
  /** Recorded with every run: the git commit the stack was deployed from. */
  readonly codeVersion: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Longest a training run may take, not counting the wait for approval (the state machine's
   * timeout is this plus `approvalTimeout`).
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;
  /**
   * Trains in a SageMaker training job or an ECS task (Step Functions `.sync`) instead of the Train
   * function; RegisterExternalArtifact then checks, hashes and records the job's artifact.
   * @default - the Train function trains the model
   */
  readonly externalTraining?: ExternalTraining;
  /**
   * Register and Promote read fault plans from the tracking table and throw where they say
   * (lambdas/aws/faults.ts), so tests can provoke transient and permanent faults inside the
   * functions. For the local emulator only.
   * @default false
   */
  readonly faultInjection?: boolean;
}

/** Errors that a retry can cure: throttles and brief service faults surfaced by the SDK. */
export const TRANSIENT_ERRORS = [
  'Lambda.TooManyRequestsException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
];

/** A function that ran out of time (Lambda's error for it); retried only for short idempotent steps. */
export const TIMEOUT_ERRORS = ['Sandbox.Timedout'];

/**
 * The training pipeline, which is also the release path: a Standard state machine
 * StartRun -> ValidateData -> Train -> Evaluate -> Gate -> (passed?) Register
 *   -> (approval required?) WaitForApproval -> Promote (production moves) -> Released.
 * A promotion (mode `promote`) of a registered version skips ValidateData and Train: its artifact
 * is evaluated against production again and goes through the same gate and approval. A transfer
 * (mode `transfer`) does the same with an artifact copied from another environment, and Register
 * records it as a new version with its origin.
 * With `externalTraining`, Train is replaced by the external job (TrainOnSageMaker or TrainOnEcs)
 * followed by RegisterExternalArtifact; an import (an ONNX model trained elsewhere) still goes to Train.
 * Any failed step, and a failed gate, goes to RecordFailure (run marked FAILED with the
 * reason, alert published) and the execution fails. The registry is written only after the gate
 * passed: by Register, by the approval steps (RequestApproval, ExpireApproval) and by Promote.
 */
export class TrainingPipeline extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly functions: Record<string, PlatformFunction>;
  /** The external training job wired in place of Train, when `externalTraining` is given. */
  public readonly externalTraining?: BoundExternalTraining;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    const { store, externalTraining } = props;
    const approvalTimeout = props.approvalTimeout ?? Duration.days(3);
    const trainingTimeout = props.timeout ?? Duration.hours(2);
    // The execution must outlive the wait for approval, so a timed-out approval is still recorded.
    const timeout = trainingTimeout.plus(approvalTimeout);
    if (externalTraining && externalTraining.maxDuration.toSeconds() >= trainingTimeout.toSeconds()) {
      throw new Error(
        `externalTraining may run ${externalTraining.maxDuration.toHumanString()}, which does not fit in the pipeline's timeout ` +
          `of ${trainingTimeout.toHumanString()}: lower its maxRuntime (or timeout) or raise the pipeline's timeout, so a failed job is still recorded`,
      );
    }
    const common = {
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      environment: {
        ENVIRONMENT_NAME: props.environmentName,
        CODE_VERSION: props.codeVersion,
        REGISTRY_TABLE: props.registryTable.tableName,
        TRACKING_TABLE: props.trackingTable.tableName,
        MODELS_BUCKET: store.models.bucketName,
        REPORTS_BUCKET: store.reports.bucketName,
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        PRODUCTION_REQUIRES_APPROVAL: String(props.productionRequiresApproval),
        APPROVAL_TIMEOUT_SECONDS: String(approvalTimeout.toSeconds()),
      },
    };
    const fn = (handlerDir: string, description: string, extra?: { timeout?: Duration; memorySize?: number; onnxRuntime?: boolean; environment?: Record<string, string> }) =>
      new PlatformFunction(this, `${handlerDir.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}Handler`, {
        handlerDir,
        description,
        ...common,
        ...extra,
      });

    const startRun = fn('start-run', 'Creates the run record and resolves the model spec and dataset version');
    const validateData = fn('validate-data', 'ValidateData: checks the dataset against the model spec', {
      timeout: Duration.minutes(15),
      memorySize: 2048,
    });
    const train = fn('train', 'Train: fits the model on the training split and stores the artifact', {
      timeout: Duration.minutes(15),
      memorySize: 2048,
      // An import reads the ONNX model to describe it.
      onnxRuntime: true,
    });
    // With external training the job trains and this step records what it produced; Train still describes imports.
    const registerExternalArtifact = externalTraining
      ? fn('register-external-artifact', 'RegisterExternalArtifact: checks, hashes and records the artifact an external training job produced', {
          timeout: Duration.minutes(5),
          memorySize: 2048,
        })
      : undefined;
    const evaluate = fn('evaluate', 'Evaluate: scores the artifact on the held-out split', {
      timeout: Duration.minutes(15),
      memorySize: 2048,
      onnxRuntime: true,
    });
    const gate = fn('gate', 'Gate: judges the candidate against thresholds and against production, and writes the gate report', {
      timeout: Duration.minutes(5),
      memorySize: 1024,
    });
    // With the fault switch (the local environment only), an injected timeout costs 12 s rather than the
    // default 30: Register and Promote make a few table writes, well inside it even on a cold start.
    const faults = props.faultInjection ? { environment: { ...common.environment, FAULT_INJECTION: 'on' }, timeout: Duration.seconds(12) } : {};
    const register = fn('register', 'Register: creates the model version and points candidate at it', faults);
    const requestApproval = fn('request-approval', 'WaitForApproval: marks the version as waiting, keeps the task token and alerts');
    const expireApproval = fn('expire-approval', 'Closes an approval request nobody answered in time');
    const promote = fn('promote', 'Promote: moves production to the released version (one conditional write)', faults);
    const recordFailure = fn('record-failure', 'Marks the run FAILED with the reason and publishes an alert');
    this.functions = {
      startRun,
      validateData,
      train,
      ...(registerExternalArtifact && { registerExternalArtifact }),
      evaluate,
      gate,
      register,
      requestApproval,
      expireApproval,
      promote,
      recordFailure,
    };

    // Least privilege: each step gets only the tables, buckets and actions it uses.
    props.registryTable.grantReadData(startRun.function);
    props.trackingTable.grantReadWriteData(startRun.function);
    props.trackingTable.grantReadWriteData(validateData.function);
    // Missing rates are judged against the dataset the production (or newest) version was trained on.
    props.registryTable.grantReadData(validateData.function);
    store.datasets.grantRead(validateData.function);
    store.reports.grantPut(validateData.function);
    props.trackingTable.grantReadWriteData(train.function);
    store.datasets.grantRead(train.function);
    store.models.grantPut(train.function);
    // An import reads the uploaded ONNX file to describe it.
    store.models.grantRead(train.function);
    if (registerExternalArtifact) {
      // Reads the job's output, and writes model.json when the job left a tarball.
      props.trackingTable.grantReadWriteData(registerExternalArtifact.function);
      store.models.grantRead(registerExternalArtifact.function);
      store.models.grantPut(registerExternalArtifact.function);
    }
    props.trackingTable.grantReadWriteData(evaluate.function);
    // Evaluate also scores the production version, and leaves the per-row evidence for the Gate.
    props.registryTable.grantReadData(evaluate.function);
    store.datasets.grantRead(evaluate.function);
    store.models.grantRead(evaluate.function);
    store.reports.grantPut(evaluate.function);
    props.trackingTable.grantReadWriteData(gate.function);
    store.reports.grantRead(gate.function);
    store.reports.grantPut(gate.function);
    props.registryTable.grantReadWriteData(register.function);
    props.trackingTable.grantReadWriteData(register.function);
    props.registryTable.grantReadWriteData(requestApproval.function);
    props.alertTopic.grantPublish(requestApproval.function);
    props.registryTable.grantReadWriteData(expireApproval.function);
    props.registryTable.grantReadWriteData(promote.function);
    props.trackingTable.grantReadWriteData(promote.function);
    props.trackingTable.grantReadWriteData(recordFailure.function);
    props.alertTopic.grantPublish(recordFailure.function);

    const recordFailureTask = new tasks.LambdaInvoke(this, 'RecordFailure', {
      lambdaFunction: recordFailure.function,
      payloadResponseOnly: true,
      resultPath: sfn.JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    }).next(new sfn.Fail(this, 'TrainingFailed', { errorPath: '$.failure.error', causePath: '$.failure.cause' }));

    /** A Pass that names the failed step, its error and cause (each a value or a path into the state), then joins RecordFailure. */
    type Field = string | { path: string };
    const field = (name: string, value: Field) => (typeof value === 'string' ? { [name]: value } : { [`${name}.$`]: value.path });
    const failWith = (id: string, step: string, error: Field, cause: Field) =>
      new sfn.Pass(this, id, { parameters: { step, ...field('error', error), ...field('cause', cause) }, resultPath: '$.failure' }).next(recordFailureTask);
    const caughtError = { path: '$.caught.Error' };
    const caughtCause = { path: '$.caught.Cause' };

    // Each step's Catch records which step failed, then joins RecordFailure.
    const guard = <T extends sfn.TaskStateBase>(name: string, task: T, retry: sfn.RetryProps): T => {
      task.addRetry(retry);
      task.addCatch(failWith(`${name}Failed`, name, caughtError, caughtCause), { errors: ['States.ALL'], resultPath: '$.caught' });
      return task;
    };
    const step = (name: string, handler: PlatformFunction, resultPath: string, payload?: sfn.TaskInput, options: { retryTimeouts?: boolean } = {}) => {
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: handler.function,
        payloadResponseOnly: true,
        payload,
        resultPath,
        retryOnServiceExceptions: true,
      });
      // A short, idempotent step that timed out (a slow dependency) is tried again; a long one (Train) is not.
      if (options.retryTimeouts) task.addRetry({ errors: TIMEOUT_ERRORS, interval: Duration.seconds(2), maxAttempts: 2, backoffRate: 2 });
      return guard(name, task, { errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    };
    this.externalTraining = externalTraining?.bind(this, { store });
    // Called where Train sits in the chain, so the default definition is built in the same order as before.
    const training = () => {
      const trainStep = step('Train', train, '$.training');
      const external = this.externalTraining;
      if (!external || !registerExternalArtifact) return trainStep;
      // A job that cannot start (capacity, throttling) is tried again; a job that failed is not.
      const job = guard(external.stateName, external.task, {
        errors: external.retryErrors,
        interval: Duration.seconds(30),
        maxAttempts: 3,
        backoffRate: 2,
      });
      const payload = sfn.TaskInput.fromObject({ run: sfn.JsonPath.objectAt('$.run'), artifactUri: external.artifactUri });
      // An import brings a model trained elsewhere: Train describes it, as without external training.
      return new sfn.Choice(this, 'Import?')
        .when(sfn.Condition.stringEquals('$.run.mode', 'import'), trainStep)
        .otherwise(sfn.Chain.start(job).next(step('RegisterExternalArtifact', registerExternalArtifact, '$.training', payload)))
        .afterwards();
    };

    const startRunTask = new tasks.LambdaInvoke(this, 'StartRun', {
      lambdaFunction: startRun.function,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({
        'executionName.$': '$$.Execution.Name',
        'executionArn.$': '$$.Execution.Id',
        'request.$': '$',
      }),
      resultPath: '$.run',
      retryOnServiceExceptions: true,
    });
    startRunTask.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    // Before the run exists there is nothing to mark FAILED, but the alert still goes out.
    startRunTask.addCatch(
      failWith('StartRunFailed', 'StartRun', caughtError, caughtCause),
      { errors: ['States.ALL'], resultPath: '$.caught' },
    );

    // The release: after Register, a person approves where the policy says so, then production moves.
    const promoteStep = step('Promote', promote, '$.release', undefined, { retryTimeouts: true }).next(
      new sfn.Choice(this, 'Promoted?')
        .when(sfn.Condition.booleanEquals('$.release.moved', true), new sfn.Succeed(this, 'Released'))
        .otherwise(
          failWith('PromotionRefused', 'Promote', { path: '$.release.error' }, { path: '$.release.message' }),
        ),
    );
    const waitForApproval = new tasks.LambdaInvoke(this, 'WaitForApproval', {
      lambdaFunction: requestApproval.function,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        run: sfn.JsonPath.objectAt('$.run'),
        registration: sfn.JsonPath.objectAt('$.registration'),
        gate: sfn.JsonPath.objectAt('$.gate'),
      }),
      resultPath: '$.approval',
      taskTimeout: sfn.Timeout.duration(approvalTimeout),
      retryOnServiceExceptions: true,
    });
    const expire = new tasks.LambdaInvoke(this, 'ExpireApproval', {
      lambdaFunction: expireApproval.function,
      payloadResponseOnly: true,
      resultPath: sfn.JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
    expire.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    const timedOut = failWith(
      'ApprovalTimedOut',
      'WaitForApproval',
      'APPROVAL_TIMED_OUT',
      `nobody approved or rejected the release within ${approvalTimeout.toHumanString()}; production did not move`,
    );
    // Closing the request is bookkeeping: if it keeps failing, the run still fails as timed out and alerts.
    expire.addCatch(timedOut, { errors: ['States.ALL'], resultPath: '$.caught' });
    waitForApproval.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    waitForApproval.addCatch(expire.next(timedOut), { errors: ['States.Timeout'], resultPath: '$.caught' });
    // `mlops reject` fails the task with this error; the registry has already recorded who and why.
    waitForApproval.addCatch(failWith('ApprovalRejected', 'WaitForApproval', 'APPROVAL_REJECTED', caughtCause), {
      errors: ['ApprovalRejected'],
      resultPath: '$.caught',
    });
    waitForApproval.addCatch(failWith('WaitForApprovalFailed', 'WaitForApproval', 'APPROVAL_FAILED', caughtCause), {
      errors: ['States.ALL'],
      resultPath: '$.caught',
    });
    const release = step('Register', register, '$.registration', undefined, { retryTimeouts: true }).next(
      new sfn.Choice(this, 'Release?')
        // `mlops train --register-only`: the version stays a candidate, to promote later.
        .when(sfn.Condition.booleanEquals('$.registration.release', false), new sfn.Succeed(this, 'Registered'))
        .otherwise(
          new sfn.Choice(this, 'ApprovalRequired?')
            .when(sfn.Condition.booleanEquals('$.registration.needsApproval', true), waitForApproval.next(promoteStep))
            .otherwise(promoteStep),
        ),
    );

    const gateFailed = failWith('GateRejected', 'Gate', 'GateFailedError', { path: '$.gate.summary' });
    const gateAndRelease = step('Gate', gate, '$.gate').next(
      new sfn.Choice(this, 'GatePassed').when(sfn.Condition.booleanEquals('$.gate.passed', true), release).otherwise(gateFailed),
    );
    const evaluateStep = step('Evaluate', evaluate, '$.evaluation');
    evaluateStep.next(
      // A reproduction (mlops reproduce) only re-trains and re-scores: it never reaches the registry.
      new sfn.Choice(this, 'Reproduction?')
        .when(sfn.Condition.stringEquals('$.run.mode', 'reproduce'), new sfn.Succeed(this, 'Reproduced'))
        .otherwise(gateAndRelease),
    );
    const definition = startRunTask.next(
      // A promotion re-judges a registered artifact, a transfer one copied from another environment: nothing to train.
      new sfn.Choice(this, 'Promotion?')
        .when(
          sfn.Condition.or(sfn.Condition.stringEquals('$.run.mode', 'promote'), sfn.Condition.stringEquals('$.run.mode', 'transfer')),
          new sfn.Pass(this, 'UseRegisteredArtifact', { parameters: { 'artifact.$': '$.run.artifact' }, resultPath: '$.training' }).next(evaluateStep),
        )
        .otherwise(step('ValidateData', validateData, '$.validation').next(training()).next(evaluateStep)),
    );

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}
