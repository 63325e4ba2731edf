import { describe, expect, it } from 'vitest';
import { MlopsError } from '../../lambdas/core/errors.js';
import { decideApproval, type ApprovalRecords, type ReleaseTasks, type TaskAnswer } from '../../lambdas/core/registry/approval.js';
import type { Alias, ModelVersion } from '../../lambdas/core/registry/records.js';
import { promoteRun } from '../../lambdas/core/registry/release.js';
import type { RunUpdate } from '../../lambdas/core/stores.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const RUN = 'credit-default-run-1';

function pendingVersion(): ModelVersion {
  return {
    model: 'credit-default',
    version: 2,
    runId: RUN,
    artifact: { uri: 's3://models/a.json', sha256: 'a'.repeat(64) },
    dataset: { name: 'credit-applications', version: 'b'.repeat(64), uri: 's3://datasets/x.csv' },
    metrics: { accuracy: 0.9 },
    gateReportUri: 's3://reports/gate.json',
    status: 'PENDING_APPROVAL',
    approval: { state: 'PENDING', runId: RUN, requestedAt: '2025-03-01T11:00:00.000Z', requestedBy: 'starter', expiresAt: '2025-03-04T11:00:00.000Z' },
    createdAt: '2025-03-01T11:00:00.000Z',
    createdBy: 'starter',
  };
}

/** The registry's approval records in memory, with the same rules as RegistryStore (conditional on the pending run). */
class FakeRecords implements ApprovalRecords {
  version = pendingVersion();
  audit: string[] = [];
  failWrites = false;
  async pendingApproval() {
    return { version: structuredClone(this.version), taskToken: this.version.status === 'PENDING_APPROVAL' ? 'token-1' : undefined };
  }
  async recordDecision(input: Parameters<ApprovalRecords['recordDecision']>[0]) {
    if (this.failWrites) throw new Error('ProvisionedThroughputExceededException');
    const state = input.decision === 'approve' ? 'APPROVED' : 'REJECTED';
    if (this.version.approval?.runId !== input.runId) return false;
    if (this.version.status === state) return true;
    if (this.version.status !== 'PENDING_APPROVAL') return false;
    this.version = { ...this.version, status: state, approval: { ...this.version.approval, state, decidedBy: input.actor, decidedAt: input.at, reason: input.reason } };
    this.audit.push(input.decision === 'approve' ? 'approval.granted' : 'approval.rejected');
    return true;
  }
  async closeApproval(input: Parameters<ApprovalRecords['closeApproval']>[0]) {
    if (this.version.status !== 'PENDING_APPROVAL') return false;
    this.version = { ...this.version, status: 'REGISTERED', approval: { ...this.version.approval!, state: 'EXPIRED', decidedBy: input.actor, reason: input.reason } };
    this.audit.push('approval.expired');
    return true;
  }
}

/** Step Functions' task answers: `gone` is what TaskTimedOut / TaskDoesNotExist / InvalidToken become. */
class FakeTasks implements ReleaseTasks {
  sent: { kind: string; payload: unknown }[] = [];
  constructor(
    private readonly answer: TaskAnswer | Error = 'sent',
    private readonly running = false,
  ) {}
  private give(kind: string, payload: unknown): Promise<TaskAnswer> {
    if (this.answer instanceof Error) return Promise.reject(this.answer);
    if (this.answer === 'sent') this.sent.push({ kind, payload });
    return Promise.resolve(this.answer);
  }
  resume(_token: string, output: unknown) {
    return this.give('success', output);
  }
  stop(_token: string, error: string, cause: string) {
    return this.give('failure', { error, cause });
  }
  async isRunning() {
    return this.running;
  }
}

const log = { warn: () => {} };
const input = (decision: 'approve' | 'reject') => ({ model: 'credit-default', version: 2, decision, actor: 'arn:aws:iam::000000000000:user/approver', reason: 'reviewed', now: NOW });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as MlopsError).code;
  }
  throw new Error('expected a refusal');
}

describe('decideApproval', () => {
  it('resumes the release with the approver, then records the approval', async () => {
    const records = new FakeRecords();
    const tasks = new FakeTasks('sent');
    const result = await decideApproval(records, tasks, input('approve'), log);
    expect(tasks.sent).toEqual([{ kind: 'success', payload: { approvedBy: input('approve').actor, reason: 'reviewed', decidedAt: NOW.toISOString() } }]);
    expect(result).toMatchObject({ release: 'resumed', recorded: true, version: { status: 'APPROVED' } });
    expect(records.version.status).toBe('APPROVED');
    expect(records.audit).toEqual(['approval.granted']);
  });

  it('never leaves a version APPROVED when the execution is gone: the request is closed and RELEASE_NOT_WAITING answered', async () => {
    const records = new FakeRecords();
    expect(await codeOf(decideApproval(records, new FakeTasks('gone', false), input('approve'), log))).toBe('RELEASE_NOT_WAITING');
    expect(records.version.status).toBe('REGISTERED');
    expect(records.version.approval).toMatchObject({ state: 'EXPIRED', decidedBy: input('approve').actor });
    expect(records.audit).toEqual(['approval.expired']);
  });

  it('changes nothing when someone else answered the token and the execution runs on', async () => {
    const records = new FakeRecords();
    expect(await codeOf(decideApproval(records, new FakeTasks('gone', true), input('approve'), log))).toBe('APPROVAL_NOT_PENDING');
    expect(records.version.status).toBe('PENDING_APPROVAL');
    expect(records.audit).toEqual([]);
  });

  it('records nothing when the task answer fails for another reason, so the approver can retry', async () => {
    const records = new FakeRecords();
    await expect(decideApproval(records, new FakeTasks(new Error('ThrottlingException')), input('approve'), log)).rejects.toThrow('ThrottlingException');
    expect(records.version.status).toBe('PENDING_APPROVAL');
    expect(records.audit).toEqual([]);
  });

  it('answers resumed but not recorded when the registry write fails after the release resumed (Promote records it)', async () => {
    const records = new FakeRecords();
    records.failWrites = true;
    const result = await decideApproval(records, new FakeTasks('sent'), input('approve'), log);
    expect(result).toMatchObject({ release: 'resumed', recorded: false });
    expect(records.version.status).toBe('PENDING_APPROVAL');
  });

  it('records a rejection first, then stops the release; a release already gone leaves the rejection standing', async () => {
    const records = new FakeRecords();
    const tasks = new FakeTasks('sent');
    expect(await decideApproval(records, tasks, input('reject'), log)).toMatchObject({ release: 'stopped', version: { status: 'REJECTED' } });
    expect(tasks.sent[0]).toMatchObject({ kind: 'failure', payload: { error: 'ApprovalRejected' } });
    const gone = new FakeRecords();
    expect(await decideApproval(gone, new FakeTasks('gone'), input('reject'), log)).toMatchObject({ release: 'not-waiting' });
    expect(gone.version.status).toBe('REJECTED');
  });

  it('tells nothing to the release when the rejection cannot be recorded', async () => {
    const records = new FakeRecords();
    records.failWrites = true;
    const tasks = new FakeTasks('sent');
    await expect(decideApproval(records, tasks, input('reject'), log)).rejects.toThrow();
    expect(tasks.sent).toEqual([]);
  });
});

/** The registry as Promote sees it, in memory. */
class FakeReleaseRegistry {
  records = new FakeRecords();
  aliases = new Map<string, Alias>();
  moves: { actor: string; version: number }[] = [];
  recordDecision = (i: Parameters<ApprovalRecords['recordDecision']>[0]) => this.records.recordDecision(i);
  async findAlias(_model: string, alias: 'production' | 'previous') {
    return this.aliases.get(alias);
  }
  async moveAlias(i: { model: string; version: number; actor: string }) {
    const before = this.aliases.get('production') ?? null;
    const alias: Alias = { model: i.model, alias: 'production', version: i.version, weight: 1, updatedAt: NOW.toISOString(), updatedBy: i.actor };
    this.aliases.set('production', alias);
    this.moves.push({ actor: i.actor, version: i.version });
    return { alias, before };
  }
}

describe('promoteRun', () => {
  const run = { runId: RUN, model: 'credit-default', actor: 'arn:aws:iam::000000000000:user/starter' };
  const approval = { approvedBy: 'arn:aws:iam::000000000000:user/approver', reason: 'reviewed', decidedAt: NOW.toISOString() };

  it('moves production as the approver, records the approval if the API could not, and keeps the starter as the run\'s actor', async () => {
    const registry = new FakeReleaseRegistry();
    const updates: RunUpdate[] = [];
    const answer = await promoteRun({ registry, runs: { updateRun: async (_id, fields) => void updates.push(fields) } }, { run, registration: { version: 2, judgedAgainst: null }, approval, now: NOW });
    expect(answer).toMatchObject({ moved: true, production: { version: 2, updatedBy: approval.approvedBy } });
    expect(registry.moves).toEqual([{ actor: approval.approvedBy, version: 2 }]);
    expect(registry.records.version).toMatchObject({ status: 'APPROVED', approval: { decidedBy: approval.approvedBy } });
    // The run's record is updated with its outcome only: its actor stays who started it.
    expect(updates).toEqual([{ status: 'SUCCEEDED', endedAt: NOW.toISOString() }]);
  });

  it('moves as the run\'s starter when nobody had to approve', async () => {
    const registry = new FakeReleaseRegistry();
    await promoteRun({ registry, runs: { updateRun: async () => {} } }, { run, registration: { version: 2, judgedAgainst: null }, now: NOW });
    expect(registry.moves).toEqual([{ actor: run.actor, version: 2 }]);
  });

  it('answers moved on a retry after its move committed, without a second move (a transient fault after the commit)', async () => {
    const registry = new FakeReleaseRegistry();
    let faults = 1;
    const hooks = { afterCommit: async () => { if (faults-- > 0) throw Object.assign(new Error('injected'), { name: 'ThrottlingException' }); } };
    const stores = { registry, runs: { updateRun: async () => {} } };
    const attempt = () => promoteRun(stores, { run, registration: { version: 2, judgedAgainst: null }, now: NOW }, hooks);
    await expect(attempt()).rejects.toThrow('injected');
    expect(await attempt()).toMatchObject({ moved: true, production: { version: 2 } });
    expect(registry.moves).toHaveLength(1);
  });
});
