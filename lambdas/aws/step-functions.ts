import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { newRunId, type TrainingRequest } from '../core/training/run.js';

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export interface ExecutionDescription {
  readonly executionArn: string;
  /** The execution name: a run id, a registration id. */
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startedAt: string;
  readonly stoppedAt?: string;
  /** The execution's input (JSON text), when asked for: a batch job's record. */
  readonly input?: string;
  /** The execution's output (JSON text), once it succeeded. */
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

const isNamed = (error: unknown, name: string) => (error as { name?: string })?.name === name;

/**
 * Step Functions for every handler that starts or inspects executions: one way to start a run (the
 * execution's name is the run id, so a run and its execution find each other), describe it, list
 * the states it entered, and answer a task token.
 */
export class StepFunctions {
  constructor(private readonly sfn: SFNClient) {}

  /** The ARN an execution of `stateMachineArn` named `name` has, started or not. */
  static executionArn(stateMachineArn: string, name: string): string {
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /** Starts an execution named `name` (a run id); the name is unique per state machine for 90 days. */
  async start(stateMachineArn: string, name: string, input: unknown): Promise<{ executionArn: string; startedAt: string }> {
    try {
      const { executionArn, startDate } = await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      if (!executionArn) throw new Error('Step Functions returned no execution ARN');
      return { executionArn, startedAt: (startDate ?? new Date()).toISOString() };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists || isNamed(error, 'ExecutionAlreadyExists')) {
        throw new ConflictError(`an execution named ${name} already exists`, { field: 'runId', cause: error });
      }
      throw error;
    }
  }

  /** An execution's status and result (and its input with `withInput`); NOT_FOUND when there is none. */
  async describe(executionArn: string, options: { withInput?: boolean } = {}): Promise<ExecutionDescription> {
    try {
      const execution = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return {
        executionArn,
        name: execution.name ?? executionArn.split(':').at(-1)!,
        status: (execution.status ?? 'RUNNING') as ExecutionStatus,
        startedAt: (execution.startDate ?? new Date(0)).toISOString(),
        ...(execution.stopDate ? { stoppedAt: execution.stopDate.toISOString() } : {}),
        ...(options.withInput && execution.input !== undefined ? { input: execution.input } : {}),
        ...(execution.output !== undefined ? { output: execution.output } : {}),
        ...(execution.error ? { error: execution.error } : {}),
        ...(execution.cause ? { cause: execution.cause } : {}),
      };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist || isNamed(error, 'ExecutionDoesNotExist')) {
        throw new NotFoundError(`no execution ${executionArn}`, { field: 'executionArn', cause: error });
      }
      throw error;
    }
  }

  /** The states an execution entered, in order (read after `describe`, it holds every state of an ended execution). */
  async steps(executionArn: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      for (const event of page.events ?? []) {
        const name = event.stateEnteredEventDetails?.name;
        if (name) names.push(name);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  /** Stops an execution; one that already ended (or never started) is left as it is. Answers whether it was running. */
  async stop(executionArn: string, error: string, cause: string): Promise<boolean> {
    try {
      if ((await this.describe(executionArn)).status !== 'RUNNING') return false;
      await this.sfn.send(new StopExecutionCommand({ executionArn, error, cause: cause.slice(0, 32_000) }));
      return true;
    } catch (failure) {
      if (failure instanceof NotFoundError) return false;
      throw failure;
    }
  }

  /** Resumes a task waiting on `taskToken` with `output`. */
  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    await this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }

  /** Fails a task waiting on `taskToken`; `error` is what the state machine's Catch matches. */
  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await this.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }
}

/**
 * Starts a run of the training pipeline, the one way a run starts: a fresh run id names its execution
 * (or the one the caller drew: the retraining guardrails record it in their lock before starting).
 */
export async function startTrainingRun(
  stepFunctions: Pick<StepFunctions, 'start'>,
  pipelineArn: string,
  request: TrainingRequest,
  runId = newRunId(request.model, new Date(), randomBytes(3).toString('hex')),
): Promise<{ runId: string; executionArn: string }> {
  const { executionArn } = await stepFunctions.start(pipelineArn, runId, request);
  return { runId, executionArn };
}
