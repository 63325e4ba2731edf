import type { ApprovalOutput, ReleaseTasks, TaskAnswer } from '../core/registry/approval.js';
import { NotFoundError } from '../core/errors.js';
import { StepFunctions } from './step-functions.js';

/** Errors that mean the execution no longer waits on the token: it ended, timed out, or the token was answered already. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** The task answers of a release waiting for approval in the training pipeline. */
export class PipelineReleaseTasks implements ReleaseTasks {
  constructor(
    private readonly steps: StepFunctions,
    private readonly pipelineArn: string,
  ) {}

  private async answer(send: () => Promise<void>): Promise<TaskAnswer> {
    try {
      await send();
      return 'sent';
    } catch (error) {
      if (GONE.has((error as { name?: string }).name ?? '')) return 'gone';
      throw error;
    }
  }

  resume(taskToken: string, output: ApprovalOutput): Promise<TaskAnswer> {
    return this.answer(() => this.steps.sendTaskSuccess(taskToken, output));
  }

  stop(taskToken: string, error: string, cause: string): Promise<TaskAnswer> {
    return this.answer(() => this.steps.sendTaskFailure(taskToken, error, cause));
  }

  async isRunning(runId: string): Promise<boolean> {
    try {
      return (await this.steps.describe(StepFunctions.executionArn(this.pipelineArn, runId))).status === 'RUNNING';
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }
}
