import { describe, expect, it } from 'vitest';
import './handlers/lambda-env.js';
import { createHandler as retrainHandler } from '../../lambdas/retrain-trigger/handler.js';
import { runStores } from '../../lambdas/aws/run-stores.js';
import type { DriftCheckRecord } from '../../lambdas/contract/drift.js';
import { MonitorAnswerSchema, TriggerListSchema, type TriggerDecision } from '../../lambdas/contract/retraining.js';
import type { DatasetVersion } from '../../lambdas/core/data/dataset-version.js';
import { InputValidationError } from '../../lambdas/core/errors.js';
import {
  checkBudget,
  checkCooldown,
  EMPTY_PACE,
  newDatasetVersion,
  retrainTriggerFor,
  runRetrainTrigger,
  type LogDataset,
  type RetrainLock,
  type RetrainPace,
  type RetrainStores,
  type TriggerDecisionRecords,
} from '../../lambdas/core/monitoring/retraining.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { RunRecord, TrainingRequest } from '../../lambdas/core/training/run.js';
import { datasetVersion, MemoryChecks, MemoryRegistry, MemoryTracking, partialStore } from './fakes.js';
import { rejectedWith, smallSpec } from './helpers.js';
import { answerOf, apiEvent } from './handlers/api-event.js';
import { formatMonitor } from '../../lib/client/render/monitor.js';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * HOUR).toISOString();
const SCHEMA = {
  source: 'inferred' as const,
  columns: [
    { name: 'x1', type: 'numeric' as const, nullable: false },
    { name: 'x2', type: 'numeric' as const, nullable: false },
    { name: 'label', type: 'numeric' as const, nullable: false },
  ],
};
const version = (id: string, hoursAgo: number, overrides: Partial<DatasetVersion> = {}) =>
  datasetVersion({ name: 'small-data', version: id.repeat(64).slice(0, 64), arrivedAt: at(hoursAgo), rowCount: 500, schema: SCHEMA, ...overrides });

/** The lock in memory: a claim succeeds only on the revision it read, as the conditional put in the registry table. */
class MemoryLock implements RetrainLock {
  pace: RetrainPace = EMPTY_PACE;
  async read() {
    return this.pace;
  }
  async claim(_model: string, seen: RetrainPace, next: RetrainPace) {
    if (this.pace.revision !== seen.revision) return false;
    this.pace = next;
    return true;
  }
}

class MemoryDecisions implements TriggerDecisionRecords {
  readonly records: TriggerDecision[] = [];
  async put(decision: TriggerDecision) {
    this.records.push(decision);
  }
  async list(model: string, limit: number) {
    return this.records.filter((r) => r.model === model).sort((a, b) => b.triggerId.localeCompare(a.triggerId)).slice(0, limit);
  }
}

function lastRun(hoursAgo: number): RunRecord {
  return { runId: 'small-model-last', mode: 'train', startedAt: at(hoursAgo), dataset: { name: 'small-data', version: 'a'.repeat(64), uri: 's3://d/a' } } as RunRecord;
}

/** Everything a trigger reads, in memory; each part replaceable. */
function world(retraining: Record<string, unknown> = {}, parts: { versions?: DatasetVersion[]; last?: RunRecord; fromLogs?: LogDataset; spec?: Partial<ModelSpec> } = {}) {
  const spec = smallSpec({ dataset: 'small-data', schedule: 'rate(1 day)', owner: 'team-risk@example.com', retraining: { cooldown: '6h', budget: { perDay: 2, perWeek: 3 }, minNewLabels: 100, ...retraining }, ...parts.spec });
  const registry = new MemoryRegistry();
  void registry.putModel(spec, 'alice');
  const tracking = new MemoryTracking();
  for (const v of parts.versions ?? [version('b', 1)]) tracking.addDataset(v);
  // The log builder registers its version (inline) before the trigger plans the run on it.
  if (parts.fromLogs?.version) tracking.addDataset(parts.fromLogs.version);
  const lock = new MemoryLock();
  const decisions = new MemoryDecisions();
  const started: { request: TrainingRequest; runId: string }[] = [];
  const notified: TriggerDecision[] = [];
  const stores: RetrainStores = {
    findModel: (model) => registry.findModel(model),
    lock,
    decisions,
    lastTraining: async () => parts.last ?? lastRun(48),
    datasetVersions: (name) => tracking.listDatasetVersions(name),
    fromLogs: async () => parts.fromLogs ?? { labelled: 0, detail: 'nothing logged' },
    plan: { ...runStores(partialStore<Parameters<typeof runStores>[0]>(registry), tracking), readUpload: () => Promise.reject(new Error('no uploads')) },
    startRun: async (request, runId) => {
      started.push({ request, runId });
      return { executionArn: `arn:aws:states:us-east-1:000000000000:execution:training:${runId}` };
    },
    notify: async (decision) => void notified.push(decision),
  };
  let n = 0;
  const fire = (trigger: 'schedule' | 'drift' | 'performance', now = NOW, check?: { checkId: string; reportUri: string }) =>
    runRetrainTrigger(stores, { event: { kind: 'retrain-trigger', model: 'small-model', trigger, ...(check ? { check } : {}) }, now, suffix: (n++).toString(16).padStart(6, '0') });
  return { spec, stores, lock, decisions, started, notified, tracking, registry, fire };
}

const decisionOf = (outcome: Awaited<ReturnType<ReturnType<typeof world>['fire']>>) => {
  if (!('decision' in outcome)) throw new Error(`skipped: ${outcome.skipped}`);
  return outcome.decision;
};

describe('the guardrails, one decision each', () => {
  it('starts a scheduled run on the newest version arrived since the last training, through planRun, and records it with its evidence', async () => {
    const w = world({}, { versions: [version('b', 30), version('c', 2)] });
    const decision = decisionOf(await w.fire('schedule'));
    expect(decision).toMatchObject({ outcome: 'started', trigger: 'schedule', actor: 'system:schedule', owner: 'team-risk@example.com', dataset: { name: 'small-data', version: 'c'.repeat(64) } });
    expect(decision.evidence).toMatchObject({
      cooldown: { period: '6h', lastStartedAt: null },
      budget: { perDay: 2, perWeek: 3, startedInDay: 0, startedInWeek: 0 },
      lastTraining: { runId: 'small-model-last' },
      newLabels: { count: 500, min: 100, counted: 'rows of the new dataset version' },
    });
    expect(w.started).toHaveLength(1);
    const [{ request, runId }] = w.started as [{ request: TrainingRequest; runId: string }];
    expect(runId).toBe(decision.runId);
    expect(request).toMatchObject({ model: 'small-model', mode: 'train', trigger: 'schedule', actor: 'system:schedule', dataset: { name: 'small-data', version: 'c'.repeat(64) }, triggeredBy: { triggerId: decision.triggerId } });
    expect(w.lock.pace.starts).toEqual([{ runId, trigger: 'schedule', at: NOW.toISOString() }]);
    expect(w.decisions.records).toEqual([decision]);
    expect(w.notified).toEqual([decision]);
  });

  it('suppresses a trigger the spec does not enable, and a schedule the spec no longer has', async () => {
    const w = world({ triggers: ['drift'] });
    expect(decisionOf(await w.fire('schedule'))).toMatchObject({ outcome: 'suppressed', reason: 'disabled' });
    const unscheduled = world({}, { spec: { schedule: undefined } });
    expect(decisionOf(await unscheduled.fire('schedule'))).toMatchObject({ outcome: 'suppressed', reason: 'not-scheduled' });
    expect([...w.started, ...unscheduled.started]).toEqual([]);
    expect(w.decisions.records).toHaveLength(1);
  });

  it('suppresses a second trigger within the cooldown, recorded with when the cooldown ends; after it, the next one starts', async () => {
    const w = world({}, { versions: [version('b', 3)], last: lastRun(48) });
    expect(decisionOf(await w.fire('schedule'))).toMatchObject({ outcome: 'started' });
    const second = decisionOf(await w.fire('schedule', new Date(NOW.getTime() + 2 * HOUR)));
    expect(second).toMatchObject({ outcome: 'suppressed', reason: 'cooldown', evidence: { cooldown: { lastStartedAt: NOW.toISOString(), until: new Date(NOW.getTime() + 6 * HOUR).toISOString() } } });
    expect(w.started).toHaveLength(1);
    expect(w.notified.map((d) => d.reason ?? d.outcome)).toEqual(['started', 'cooldown']);
    // Pure: exactly at the end of the cooldown it lets the trigger through.
    expect(checkCooldown(w.lock.pace, w.spec.retraining, new Date(NOW.getTime() + 6 * HOUR)).suppression).toBeUndefined();
  });

  it('of two concurrent triggers starts exactly one run: the other loses the lock and names the winner', async () => {
    const w = world({}, { versions: [version('b', 3)] });
    const outcomes = (await Promise.all([w.fire('schedule'), w.fire('drift', NOW, undefined)])).map(decisionOf);
    // The drift trigger has no log data here, so make both schedule triggers for the race:
    const race = world({}, { versions: [version('b', 3)] });
    const [a, b] = (await Promise.all([race.fire('schedule'), race.fire('schedule')])).map(decisionOf) as [TriggerDecision, TriggerDecision];
    expect([a.outcome, b.outcome].sort()).toEqual(['started', 'suppressed']);
    const winner = a.outcome === 'started' ? a : b;
    const loser = a.outcome === 'started' ? b : a;
    expect(loser).toMatchObject({ reason: 'concurrent', evidence: { lock: { winner: winner.runId } } });
    expect(race.started.map((s) => s.runId)).toEqual([winner.runId]);
    expect(race.lock.pace.revision).toBe(1);
    // The owner hears of the run once, not of the duplicate.
    expect(race.notified).toEqual([winner]);
    expect(outcomes.filter((d) => d.outcome === 'started')).toHaveLength(1);
  });

  it('keeps to the budget per rolling day and per week, counting automatic runs only', async () => {
    const policy = smallSpec({ retraining: { cooldown: '1m', budget: { perDay: 2, perWeek: 3 } } }).retraining;
    const start = (hoursAgo: number, runId: string) => ({ runId, trigger: 'drift' as const, at: at(hoursAgo) });
    const day = checkBudget({ starts: [start(1, 'r1'), start(20, 'r2')], revision: 2 }, policy, NOW);
    expect(day).toMatchObject({ suppression: { reason: 'budget-day' }, evidence: { startedInDay: 2, startedInWeek: 2 } });
    // A run 25 hours ago left the rolling day: the day has room, the week does not.
    const week = checkBudget({ starts: [start(1, 'r1'), start(25, 'r2'), start(100, 'r3')], revision: 3 }, policy, NOW);
    expect(week).toMatchObject({ suppression: { reason: 'budget-week' }, evidence: { startedInDay: 1, startedInWeek: 3 } });
    expect(checkBudget({ starts: [start(1, 'r1'), start(8 * 24, 'r0')], revision: 2 }, policy, NOW).suppression).toBeUndefined();

    const w = world({ cooldown: '1m', budget: { perDay: 2, perWeek: 3 } }, { versions: [version('b', 3)] });
    w.lock.pace = { starts: [start(1, 'r1'), start(2, 'r2')], revision: 2 };
    expect(decisionOf(await w.fire('schedule'))).toMatchObject({ outcome: 'suppressed', reason: 'budget-day', evidence: { budget: { startedInDay: 2 } } });
    expect(w.started).toEqual([]);
  });

  it('suppresses with no new data: nothing arrived since the last training', async () => {
    const w = world({}, { versions: [version('b', 60)], last: lastRun(48) });
    const decision = decisionOf(await w.fire('schedule'));
    expect(decision).toMatchObject({ outcome: 'suppressed', reason: 'no-new-data', evidence: { newData: { source: 'dataset', since: at(48), quarantined: [] } } });
    expect(decision.message).toMatch(/learn nothing new/);
    expect(w.started).toEqual([]);
  });

  it('counts a version quarantined for the model as no new data, and takes an older one that is not', async () => {
    const quarantined = version('c', 2, { quarantinedFor: [{ model: 'small-model', gate: 'data-validation', reason: 'label missing in 30% of rows', at: at(2) }] });
    const only = world({}, { versions: [version('b', 60), quarantined] });
    expect(decisionOf(await only.fire('schedule'))).toMatchObject({ reason: 'no-new-data', evidence: { newData: { quarantined: [expect.stringMatching(/^c{12} \(label missing/)] } } });
    // Quarantined for another model only: still new data for this one.
    const other = version('c', 2, { quarantinedFor: [{ model: 'other-model', gate: 'data-validation', reason: 'x', at: at(2) }] });
    expect(newDatasetVersion([other], 'small-model', at(48)).version?.version).toBe('c'.repeat(64));
    const older = newDatasetVersion([version('b', 10), quarantined], 'small-model', at(48));
    expect([older.version?.version, older.quarantined.length]).toEqual(['b'.repeat(64), 1]);
  });

  it('suppresses a drift trigger whose log holds fewer new labels than minNewLabels, or whose built version is quarantined', async () => {
    const built = version('e', 0);
    const few = world({}, { fromLogs: { version: built, labelled: 40, detail: 'REGISTERED' } });
    const check = { checkId: '20261206T120000000Z-abcdef', reportUri: 's3://reports/drift-checks/small-model/x.json' };
    expect(decisionOf(await few.fire('drift', NOW, check))).toMatchObject({
      outcome: 'suppressed',
      reason: 'too-few-labels',
      check,
      evidence: { newLabels: { count: 40, min: 100 }, newData: { source: 'prediction-log' } },
    });
    const blocked = world({}, { fromLogs: { version: { ...built, quarantinedFor: [{ model: 'small-model', gate: 'data-validation', reason: 'bad', at: at(0) }] }, labelled: 400, detail: 'REGISTERED' } });
    expect(decisionOf(await blocked.fire('performance', NOW, check))).toMatchObject({ reason: 'no-new-data', evidence: { newData: { quarantined: [expect.stringMatching(/bad/)] } } });
    const none = world({}, { fromLogs: { labelled: 0, detail: 'NO_LABELLED_ROWS: no feedback yet' } });
    expect(decisionOf(await none.fire('drift', NOW, check))).toMatchObject({ reason: 'no-new-data', evidence: { newData: { detail: 'NO_LABELLED_ROWS: no feedback yet' } } });
    expect([...few.started, ...blocked.started, ...none.started]).toEqual([]);
  });

  it('starts a drift run on the version built from the log, with trigger drift and the check linked', async () => {
    const w = world({}, { fromLogs: { version: version('e', 0), labelled: 400, detail: 'REGISTERED' } });
    const check = { checkId: '20261206T120000000Z-abcdef', reportUri: 's3://reports/drift-checks/small-model/x.json' };
    const decision = decisionOf(await w.fire('drift', NOW, check));
    expect(decision).toMatchObject({ outcome: 'started', trigger: 'drift', actor: 'system:drift', check, evidence: { newLabels: { count: 400 } } });
    expect(w.started[0]!.request).toMatchObject({ trigger: 'drift', triggeredBy: { triggerId: decision.triggerId, checkId: check.checkId, reportUri: check.reportUri } });
  });

  it('records a run the one path refuses as rejected, and takes no turn of the lock', async () => {
    const w = world({}, { versions: [version('b', 2, { schema: { source: 'inferred', columns: [{ name: 'x1', type: 'numeric', nullable: false }] } })] });
    expect(decisionOf(await w.fire('schedule'))).toMatchObject({ outcome: 'suppressed', reason: 'rejected' });
    expect(w.lock.pace).toEqual(EMPTY_PACE);
  });

  it('gives the turn back when the execution cannot start, and rethrows so the invoke is retried', async () => {
    const w = world({}, { versions: [version('b', 2)] });
    w.stores.startRun = () => Promise.reject(new Error('Step Functions throttled'));
    await rejectedWith(w.fire('schedule'), Error);
    expect(w.lock.pace).toMatchObject({ starts: [], revision: 2 });
    expect(w.decisions.records).toEqual([]);
  });

  it('skips, without a record, a model that does not exist; refuses a malformed event', async () => {
    const w = world();
    expect(await runRetrainTrigger(w.stores, { event: { kind: 'retrain-trigger', model: 'gone-model', trigger: 'drift' }, now: NOW, suffix: 'aaaaaa' })).toEqual({ skipped: 'model gone-model is not registered' });
    await rejectedWith(runRetrainTrigger(w.stores, { event: { kind: 'retrain-trigger', model: 'small-model', trigger: 'manual' }, now: NOW, suffix: 'aaaaaa' }), InputValidationError);
    expect(w.decisions.records).toEqual([]);
  });
});

describe('the retraining spec block', () => {
  it('has safe defaults and refuses out-of-range values, naming the field', () => {
    expect(smallSpec().retraining).toEqual({ cooldown: '24h', budget: { perDay: 2, perWeek: 5 }, minNewLabels: 100, triggers: ['schedule', 'drift', 'performance'] });
    const fieldOf = (retraining: unknown) => {
      try {
        smallSpec({ retraining });
      } catch (error) {
        return (error as InputValidationError).field;
      }
      return undefined;
    };
    expect(fieldOf({ budget: { perDay: 6, perWeek: 5 } })).toBe('retraining.budget.perDay');
    expect(fieldOf({ cooldown: 'soon' })).toBe('retraining.cooldown');
    expect(fieldOf({ minNewLabels: -1 })).toBe('retraining.minNewLabels');
    expect(fieldOf({ triggers: ['manual'] })).toBe('retraining.triggers.0');
  });
});

describe('drift checks hand over to the guardrails', () => {
  const check = (overrides: Partial<DriftCheckRecord>): DriftCheckRecord =>
    ({ checkId: '20261206T120000000Z-abcdef', model: 'small-model', status: 'no_drift', reportUri: 's3://r/x.json', ...overrides }) as DriftCheckRecord;
  it('drift gives a drift trigger, a judged decay a performance trigger, anything else none', () => {
    expect(retrainTriggerFor(check({ status: 'drift' }))).toEqual({ kind: 'retrain-trigger', model: 'small-model', trigger: 'drift', check: { checkId: '20261206T120000000Z-abcdef', reportUri: 's3://r/x.json' } });
    const decayed = { status: 'judged', decayed: true, metric: 'accuracy', value: 0.6, baseline: 0.8, estimated: null, labelled: 300, coverage: 0.9 } as const;
    expect(retrainTriggerFor(check({ status: 'no_drift', performance: decayed }))?.trigger).toBe('performance');
    expect(retrainTriggerFor(check({ status: 'drift', performance: decayed }))?.trigger).toBe('performance');
    expect(retrainTriggerFor(check({ status: 'insufficient' }))).toBeUndefined();
    expect(retrainTriggerFor(check({ status: 'no_drift', performance: { ...decayed, decayed: false } }))).toBeUndefined();
  });

});

describe('the retrain-trigger routes', () => {
  it('lists the trigger history and what monitor shows: checks, open alarms by the model prefix, triggers', async () => {
    const w = world({}, { versions: [version('b', 3)] });
    await w.fire('schedule');
    await w.fire('schedule', new Date(NOW.getTime() + HOUR));
    const checks = new MemoryChecks();
    const prefixes: string[] = [];
    const handler = retrainHandler(
      {
        ...w.stores,
        checks,
        openAlarms: async (prefix) => {
          prefixes.push(prefix);
          return [{ name: `${prefix}errors`, reason: 'Threshold Crossed', since: NOW.toISOString(), metric: 'Errors' }];
        },
      },
      { environment: 'local', clock: () => NOW },
    );
    const list = answerOf(await handler(apiEvent('GET', '/models/{model}/triggers', { params: { model: 'small-model' } })));
    expect(list.status).toBe(200);
    expect(TriggerListSchema.parse(list.body).triggers.map((t) => t.reason ?? t.outcome)).toEqual(['cooldown', 'started']);
    const monitor = answerOf(await handler(apiEvent('GET', '/models/{model}/monitor', { params: { model: 'small-model' }, query: { limit: '5' } })));
    const body = MonitorAnswerSchema.parse(monitor.body);
    expect(body).toMatchObject({ model: 'small-model', alarmPrefix: 'mlops/local/small-model/', alarms: [{ name: 'mlops/local/small-model/errors' }], checks: [] });
    expect(body.triggers).toHaveLength(2);
    expect(prefixes).toEqual(['mlops/local/small-model/']);
    // `mlops monitor`'s text: the three sections, the open alarm, and each decision with its reason.
    const text = formatMonitor(body);
    expect(text).toMatch(/latest drift checks:\n  none yet/);
    expect(text).toContain('mlops/local/small-model/errors');
    expect(text).toMatch(/schedule +suppressed \(cooldown\)/);
    expect(text).toMatch(/schedule +STARTED small-model-/);
    const missing = answerOf<{ error: { code: string } }>(await handler(apiEvent('GET', '/models/{model}/monitor', { params: { model: 'nobody-here' } })));
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const bad = answerOf<{ error: { code: string; field: string } }>(await handler(apiEvent('GET', '/models/{model}/triggers', { params: { model: 'small-model' }, query: { limit: '0' } })));
    expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_INPUT']);
  });
});
