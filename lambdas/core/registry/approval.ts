import { MlopsError } from '../errors.js';
import { checkDecision, type Decision } from './alias-rules.js';
import type { Approval, ModelVersion } from './records.js';

/**
 * Approve or reject a release that waits on a task token, so that the registry's record and the
 * execution never disagree:
 * - reject: the safe outcome is recorded first (a REJECTED version never serves), then the task is
 *   failed. If the execution cannot be told, it stops at its approval timeout; production stays.
 * - approve: the execution is resumed first, then the decision is recorded. A version is never
 *   APPROVED while its release is not moving: if the task answer fails because the execution is
 *   gone (TaskTimedOut, TaskDoesNotExist, InvalidToken), the request is closed as EXPIRED and the
 *   caller gets RELEASE_NOT_WAITING; on any other failure nothing is recorded and the approver
 *   may retry. If the record fails after the execution resumed, Promote records the approval
 *   before it moves production (`recordDecision` is idempotent per run), so it is never lost.
 */

/** A pending version with the task token its waiting release holds. */
export interface PendingApproval {
  version: ModelVersion;
  taskToken: string | undefined;
}

/** The registry side of a decision (RegistryStore implements it over DynamoDB). */
export interface ApprovalRecords {
  pendingApproval(model: string, version: number): Promise<PendingApproval>;
  /** Records the decision if the version still waits for `runId`'s release (or already carries it); false otherwise. */
  recordDecision(input: { model: string; version: number; runId: string; decision: Decision; actor: string; reason: string; at: string }): Promise<boolean>;
  /** Closes a request whose release no longer waits: back to REGISTERED, approval EXPIRED, with its audit event. */
  closeApproval(input: { model: string; version: number; runId: string; actor: string; reason: string; at: string }): Promise<boolean>;
}

/** What became of a task answer: delivered, or the execution no longer waits on that token. */
export type TaskAnswer = 'sent' | 'gone';

/** The Step Functions side (StepFunctions in lambdas/aws implements it). */
export interface ReleaseTasks {
  resume(taskToken: string, output: ApprovalOutput): Promise<TaskAnswer>;
  stop(taskToken: string, error: string, cause: string): Promise<TaskAnswer>;
  /** Whether the run's execution is still running (a token answered by someone else leaves it running). */
  isRunning(runId: string): Promise<boolean>;
}

/** What WaitForApproval hands to Promote: the approver is the actor of the production move. */
export interface ApprovalOutput {
  approvedBy: string;
  reason: string;
  decidedAt: string;
}

export interface DecisionResult {
  version: ModelVersion;
  /** `resumed`/`stopped`: the release was told; `not-waiting`: it had already stopped (a rejection still stands). */
  release: 'resumed' | 'stopped' | 'not-waiting';
  /** False when the execution resumed but the registry write failed: Promote records the approval. */
  recorded: boolean;
}

export interface DecisionInput {
  model: string;
  version: number;
  decision: Decision;
  actor: string;
  reason: string;
  now: Date;
}

export interface DecisionLog {
  warn(message: string, details: Record<string, unknown>): void;
}

const decided = (version: ModelVersion, decision: Decision, actor: string, reason: string, at: string): ModelVersion => {
  const approval: Approval = { ...version.approval!, state: decision === 'approve' ? 'APPROVED' : 'REJECTED', decidedAt: at, decidedBy: actor, reason };
  return { ...version, status: approval.state as 'APPROVED' | 'REJECTED', approval };
};

const notPending = (input: DecisionInput) =>
  new MlopsError('APPROVAL_NOT_PENDING', `version ${input.version} of ${input.model} was decided by someone else meanwhile; nothing changed`, { field: 'version' });

export async function decideApproval(records: ApprovalRecords, tasks: ReleaseTasks, input: DecisionInput, log: DecisionLog): Promise<DecisionResult> {
  const { version, taskToken } = await records.pendingApproval(input.model, input.version);
  checkDecision(version, input.decision, input.now);
  const runId = version.approval!.runId;
  const at = input.now.toISOString();
  const record = { model: input.model, version: input.version, runId, decision: input.decision, actor: input.actor, reason: input.reason, at };

  if (input.decision === 'reject') {
    if (!(await records.recordDecision(record))) throw notPending(input);
    const answer = taskToken ? await tasks.stop(taskToken, 'ApprovalRejected', `rejected by ${input.actor}: ${input.reason}`) : 'gone';
    return { version: decided(version, 'reject', input.actor, input.reason, at), release: answer === 'sent' ? 'stopped' : 'not-waiting', recorded: true };
  }

  const answer = taskToken ? await tasks.resume(taskToken, { approvedBy: input.actor, reason: input.reason, decidedAt: at }) : 'gone';
  if (answer === 'gone') {
    // Someone else's answer took the token while the execution runs on: their decision stands.
    if (await tasks.isRunning(runId)) throw notPending(input);
    await records.closeApproval({
      model: input.model,
      version: input.version,
      runId,
      actor: input.actor,
      reason: `approved by ${input.actor}, but release run ${runId} no longer waits (it stopped or timed out): production did not move`,
      at,
    });
    throw new MlopsError(
      'RELEASE_NOT_WAITING',
      `release run ${runId} of ${input.model} version ${input.version} is no longer waiting for approval (it stopped or timed out); nothing was approved and production did not move: promote the version again`,
      { field: 'version' },
    );
  }
  try {
    if (!(await records.recordDecision(record))) log.warn('approval delivered but the request was no longer pending', { ...record });
    return { version: decided(version, 'approve', input.actor, input.reason, at), release: 'resumed', recorded: true };
  } catch (error) {
    // The release already moves on: Promote records this approval before it moves production.
    log.warn('approval delivered, record left to Promote', { ...record, error: String(error) });
    return { version: decided(version, 'approve', input.actor, input.reason, at), release: 'resumed', recorded: false };
  }
}
