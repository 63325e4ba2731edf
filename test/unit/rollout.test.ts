import { describe, expect, it } from 'vitest';
import { MlopsError } from '../../lambdas/core/errors.js';
import {
  applyVerdict,
  beginRollout,
  failRollout,
  finishRollout,
  planRollout,
  ROLLOUT_ACTOR,
  startRollout,
  stopRollout,
  type RolloutRecord,
  type StartRolloutInput,
} from '../../lambdas/core/registry/rollout.js';
import { checkWindow, readArms, readJsonLines, windowDates } from '../../lambdas/core/serving/rollout-evidence.js';
import { runRolloutCheck } from '../../lambdas/core/serving/rollout-run.js';
import { PredictionLogRecordSchema, logPrefix } from '../../lambdas/core/serving/records.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { registerRun } from '../../lambdas/core/registry/release.js';
import { MemoryRuns, modelVersion, runContext } from './fakes.js';
import { smallSpec } from './helpers.js';
import { MemoryLogs, MemoryRolloutExecutions, MemoryRolloutRegistry } from './rollout-fakes.js';

const ALICE = 'arn:aws:iam::000000000000:user/alice';
const T0 = new Date('2026-12-06T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const IDS = { rolloutId: 'small-model-r1-rollout', gateRunId: 'small-model-r1-gate', promoteRunId: 'small-model-r1-promote' };
const settings = { bufferSeconds: 60 };

function setup(rollout: Record<string, unknown> = {}) {
  const spec = smallSpec({ rollout: { steps: [0.2, 0.5, 1], bake: '20s', minRequests: 10, maxBakeExtensions: 1, ...rollout } });
  const registry = new MemoryRolloutRegistry();
  registry.models.set(spec.name, { spec, latestVersion: 3, createdAt: T0.toISOString(), updatedAt: T0.toISOString() });
  const artifact = (n: number) => ({ uri: `s3://models/${n}.json`, sha256: String(n).repeat(64) });
  registry.addVersion(modelVersion(spec, 1, artifact(1))).addVersion(modelVersion(spec, 2, artifact(2))).addVersion(modelVersion(spec, 3, artifact(3), { status: 'REJECTED' }));
  registry.pointAlias(spec.name, 'production', 1);
  return { spec, registry, executions: new MemoryRolloutExecutions() };
}

function startInput(spec: ModelSpec, registry: MemoryRolloutRegistry, overrides: Partial<StartRolloutInput> = {}): StartRolloutInput {
  return {
    model: spec.name,
    spec,
    version: registry.versions.get(`${spec.name}/2`)!,
    production: registry.aliases.get(`${spec.name}/production`),
    current: undefined,
    request: { version: 2 },
    actor: ALICE,
    ...IDS,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:rollout:${IDS.rolloutId}`,
    now: T0,
    ...overrides,
  };
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as MlopsError).code;
  }
  return 'NO ERROR';
};

async function running(rollout: Record<string, unknown> = {}) {
  const world = setup(rollout);
  const { change } = planRollout(startInput(world.spec, world.registry));
  expect(await world.registry.changeRollout(change)).toBe(true);
  return world;
}

const record = (registry: MemoryRolloutRegistry) => registry.rollouts.get('small-model')!;
const alias = (registry: MemoryRolloutRegistry, name: string) => registry.aliases.get(`small-model/${name}`);
const verdict = (decision: 'advance' | 'extend' | 'rollback' | 'hold', reason = `${decision} because`) => ({
  decision,
  reason,
  reportUri: 's3://reports/rollouts/r1/check.json',
  window: { from: T0.toISOString(), to: at(20).toISOString() },
  signals: [],
});

describe('the check window and the log buffer', () => {
  it('reads from the step start to bufferSeconds before now, so records still in the Firehose buffer are not trusted', () => {
    // The state machine waits bake (20 s) + buffer (60 s): the window then spans exactly the bake.
    expect(checkWindow(T0.toISOString(), at(80), 60)).toEqual({ from: T0.toISOString(), to: at(20).toISOString() });
    // Without a buffer (the emulator) the window reaches now.
    expect(checkWindow(T0.toISOString(), at(80), 0)).toEqual({ from: T0.toISOString(), to: at(80).toISOString() });
    // Checked too early: an empty window, never a reversed one.
    expect(checkWindow(T0.toISOString(), at(30), 60)).toEqual({ from: T0.toISOString(), to: T0.toISOString() });
  });

  it('lists the days a window may be filed under, across midnight', () => {
    expect(windowDates({ from: '2026-12-06T23:59:00.000Z', to: '2026-12-06T23:59:30.000Z' }, new Date('2026-12-07T00:00:30.000Z'))).toEqual(['2026-12-06', '2026-12-07']);
    expect(windowDates({ from: T0.toISOString(), to: at(20).toISOString() }, at(80))).toEqual(['2026-12-06']);
  });

  it('excludes records inside the buffer from the window it reads, and skips objects written before the window', async () => {
    const logs = new MemoryLogs();
    const log = (requestId: string, seconds: number, version: number, arm: string) => ({ requestId, at: at(seconds).toISOString(), model: 'small-model', version, arm, inputs: [{ x1: 1 }], outputs: [{ label: '1', probability: 0.9 }], latencyMs: 3 });
    logs.put(`${logPrefix('predictions', 'small-model', 2, '2026-12-06')}a.json`, [log('in', 10, 2, 'canary'), log('buffered', 50, 2, 'canary'), log('before', -5, 2, 'canary'), log('other-arm', 10, 2, 'shadow')], at(15));
    logs.put(`${logPrefix('predictions', 'small-model', 2, '2026-12-06')}old.json`, [log('old', 10, 2, 'canary')], at(-60));
    const window = checkWindow(T0.toISOString(), at(80), 60);
    const { candidate, stats } = await readArms(logs, { model: 'small-model', production: 1, version: 2, mode: 'canary', window, now: at(80) });
    expect(candidate.records.map((r) => r.requestId)).toEqual(['in']);
    expect(candidate.records[0]!.inputs).toEqual([]);
    expect(stats).toMatchObject({ objects: 1, badLines: 0 });
  });
});

describe('reading JSON Lines', () => {
  it('parses records across chunk boundaries and skips and counts bad lines', async () => {
    const good = { requestId: 'r1', at: T0.toISOString(), model: 'small-model', version: 1, arm: 'production', inputs: [], outputs: [1], latencyMs: 2 };
    const text = [JSON.stringify(good), '{not json', JSON.stringify({ ...good, version: 'one' }), '', JSON.stringify({ ...good, requestId: 'r2' })].join('\n');
    const bytes = new TextEncoder().encode(text);
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 7) yield bytes.slice(i, i + 7);
    }
    const seen: string[] = [];
    const read = await readJsonLines(chunks(), PredictionLogRecordSchema, () => true, (record) => seen.push(record.requestId));
    expect(seen).toEqual(['r1', 'r2']);
    expect(read).toEqual({ lines: 4, bad: 2 });
  });
});

describe('starting a rollout', () => {
  it('refuses a rejected version, production itself, no production, a running rollout, and bad steps, with codes', async () => {
    const { spec, registry } = setup();
    expect(code(() => planRollout(startInput(spec, registry, { version: registry.versions.get('small-model/3')!, request: { version: 3 } })))).toBe('VERSION_REJECTED');
    expect(code(() => planRollout(startInput(spec, registry, { version: registry.versions.get('small-model/1')!, request: { version: 1 } })))).toBe('ALREADY_IN_ALIAS');
    expect(code(() => planRollout(startInput(spec, registry, { production: undefined })))).toBe('NO_PRODUCTION');
    expect(code(() => planRollout(startInput(spec, registry, { request: { version: 2, steps: [0.5, 0.2, 1] } })))).toBe('INVALID_INPUT');
    expect(code(() => planRollout(startInput(spec, registry, { request: { version: 2, steps: [0.5] } })))).toBe('INVALID_INPUT');
    const { change } = planRollout(startInput(spec, registry));
    expect(code(() => planRollout(startInput(spec, registry, { current: change.record })))).toBe('ROLLOUT_RUNNING');
  });

  it('records the rollout as the caller with the overrides, and starts the gate as a promotion that does not release', async () => {
    const { spec, registry, executions } = setup();
    const { record, execution } = await startRollout(
      { registry, executions },
      { model: spec.name, request: { version: 2, steps: [0.5, 1], bake: '45s' }, actor: ALICE, now: T0, ids: IDS },
      { warn: () => {} },
    );
    expect(record).toMatchObject({ state: 'RUNNING', phase: 'gate', version: 2, production: 1, startedBy: ALICE, policy: { steps: [0.5, 1], bake: '45s', minRequests: 10 } });
    expect(execution.gate).toEqual({ name: IDS.gateRunId, input: expect.objectContaining({ mode: 'promote', release: false, promotion: expect.objectContaining({ version: 2, expectedVersion: 1 }) }) });
    expect(execution.promote.input).toMatchObject({ mode: 'promote', release: true, actor: ALICE });
    expect(executions.started.map((s) => s.name)).toEqual([IDS.rolloutId]);
    expect(registry.audit.map((e) => [e.action, e.actor])).toEqual([['rollout.started', ALICE]]);
    // A second one is refused while it runs.
    await expect(
      startRollout({ registry, executions }, { model: spec.name, request: { version: 2 }, actor: ALICE, now: T0, ids: { ...IDS, rolloutId: 'other' } }, { warn: () => {} }),
    ).rejects.toMatchObject({ code: 'ROLLOUT_RUNNING' });
  });

  it('closes a rollout whose execution ended without an outcome, so it no longer blocks', async () => {
    const { spec, registry, executions } = await running();
    executions.status.set(record(registry).executionArn, 'TIMED_OUT');
    const again = await startRollout({ registry, executions }, { model: spec.name, request: { version: 2 }, actor: ALICE, now: at(5), ids: { ...IDS, rolloutId: 'second' } }, { warn: () => {} });
    expect(again.record.rolloutId).toBe('second');
    expect(registry.audit.map((e) => e.action)).toEqual(['rollout.started', 'rollout.failed', 'rollout.started']);
  });
});

describe("the rollout's gate run", () => {
  it('ends a promotion that does not release after the gate: Register records nothing new and the run succeeds', async () => {
    const spec = smallSpec();
    const runs = new MemoryRuns();
    const run = runContext(spec, { mode: 'promote', release: false, promotion: { version: 2, reason: 'rollout r1: gate against production', expectedVersion: 1 } });
    const registry = { registerVersion: async () => { throw new Error('a gate run registers nothing'); } };
    const answer = await registerRun({ registry, runs }, { environment: 'local', productionRequiresApproval: false, codeVersion: 'test' }, {
      run,
      spec,
      artifact: { uri: 's3://models/2.json', sha256: '2'.repeat(64) },
      metrics: {},
      gate: { reportUri: 's3://reports/gates/g.json', summary: 'passed', champion: { version: 1 } },
    });
    expect(answer).toMatchObject({ version: 2, created: false, release: false, judgedAgainst: 1 });
    expect(runs.get(run.runId)).toMatchObject({ status: 'SUCCEEDED', modelVersion: 2 });
  });
});

describe('the rollout state machine decisions', () => {
  it('sets the first canary weight after the gate, then steps, then hands over to Promote, each an audited change by the rollout', async () => {
    const { registry } = await running();
    expect(await beginRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(1) })).toEqual({ next: 'bake', waitSeconds: 20 + 60, state: 'RUNNING' });
    expect(alias(registry, 'canary')).toMatchObject({ version: 2, weight: 0.2, updatedBy: ROLLOUT_ACTOR });
    // A retried Begin changes nothing.
    await beginRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(2) });
    expect(registry.audit).toHaveLength(2);

    expect(await applyVerdict(registry, settings, record(registry), verdict('advance', 'errorRate 0 within 0.01'), at(90))).toMatchObject({ next: 'bake' });
    expect(alias(registry, 'canary')).toMatchObject({ weight: 0.5 });
    expect(record(registry)).toMatchObject({ phase: 'canary', stepIndex: 1, weight: 0.5, since: at(90).toISOString(), lastCheck: { decision: 'advance' } });
    expect(await applyVerdict(registry, settings, record(registry), verdict('advance'), at(180))).toEqual({ next: 'promote', waitSeconds: 0, state: 'RUNNING' });
    expect(record(registry).phase).toBe('promote');
    const stepped = registry.audit.filter((e) => e.action === 'rollout.stepped');
    expect(stepped.map((e) => e.actor)).toEqual([ROLLOUT_ACTOR, ROLLOUT_ACTOR, ROLLOUT_ACTOR]);
    expect(stepped[1]!.reason).toContain('errorRate 0 within 0.01');
    expect(stepped[1]!.reason).toContain(`started by ${ALICE}`);
    expect(stepped[1]!.after).toMatchObject({ reportUri: 's3://reports/rollouts/r1/check.json' });

    expect(await finishRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(200) })).toMatchObject({ next: 'end', state: 'PROMOTED' });
    expect(alias(registry, 'canary')).toBeUndefined();
    expect(registry.audit.slice(-2).map((e) => e.action)).toEqual(['rollout.promoted', 'alias.cleared']);
  });

  it('goes through shadow first when asked, and the shadow gives way to the canary', async () => {
    const { registry } = await running({ shadowFirst: '30s' });
    expect(await beginRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(1) })).toMatchObject({ next: 'bake', waitSeconds: 30 + 60 });
    expect(alias(registry, 'shadow')).toMatchObject({ version: 2, weight: 0 });
    await applyVerdict(registry, settings, record(registry), verdict('advance'), at(100));
    expect(alias(registry, 'shadow')).toBeUndefined();
    expect(alias(registry, 'canary')).toMatchObject({ version: 2, weight: 0.2 });
  });

  it('extends a bake on too little traffic, then holds (the canary stays for a person to decide)', async () => {
    const { registry } = await running();
    await beginRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(1) });
    expect(await applyVerdict(registry, settings, record(registry), verdict('extend', 'Too little traffic'), at(90))).toMatchObject({ next: 'bake', waitSeconds: 80 });
    expect(record(registry).extensions).toBe(1);
    expect(await applyVerdict(registry, settings, record(registry), verdict('extend', 'Too little traffic'), at(170))).toMatchObject({ next: 'end', state: 'HELD' });
    expect(alias(registry, 'canary')).toMatchObject({ version: 2 });
    expect(registry.audit.slice(-2).map((e) => e.action)).toEqual(['rollout.extended', 'rollout.held']);
  });

  it('rolls back: canary cleared, production untouched, the reason names the signal', async () => {
    const { registry } = await running();
    await beginRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(1) });
    const progress = await applyVerdict(registry, settings, record(registry), verdict('rollback', 'Rolling back: predictionShift 0.41 above 0.1'), at(90));
    expect(progress).toEqual({ next: 'end', waitSeconds: 0, state: 'ROLLED_BACK' });
    expect(alias(registry, 'canary')).toBeUndefined();
    expect(alias(registry, 'production')).toMatchObject({ version: 1 });
    const [rolledBack, cleared] = registry.audit.slice(-2);
    expect(rolledBack).toMatchObject({ action: 'rollout.rolled_back', actor: ROLLOUT_ACTOR, after: { reportUri: 's3://reports/rollouts/r1/check.json' } });
    expect(rolledBack!.reason).toContain('predictionShift 0.41 above 0.1');
    expect(cleared).toMatchObject({ action: 'alias.cleared', after: { cleared: ['canary'] } });
  });

  it('fails on a failed gate without touching any alias', async () => {
    const { registry } = await running();
    expect(await failRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, error: 'GateFailedError', cause: 'auc 0.61 below 0.7' })).toMatchObject({ next: 'end', state: 'FAILED' });
    expect(record(registry).outcome).toBe('the gate against production failed (GateFailedError): auc 0.61 below 0.7');
    expect(alias(registry, 'canary')).toBeUndefined();
  });

  it('names the failed release run and its recorded reason, when the execution only says the nested run failed', async () => {
    const { registry } = await running();
    const runs = async (runId: string) => (runId === IDS.gateRunId ? { error: 'GateFailedError', reason: 'champion: accuracy -0.21 below -0.05' } : undefined);
    await failRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, error: 'States.TaskFailed', cause: 'Nested execution ended with status FAILED' }, runs);
    expect(record(registry).outcome).toBe(`the gate against production failed (run ${IDS.gateRunId}, GateFailedError): champion: accuracy -0.21 below -0.05`);
    expect(registry.audit.at(-1)).toMatchObject({ action: 'rollout.failed', actor: ROLLOUT_ACTOR });
  });

  it('abort stops the executions, clears canary as the caller, and a step in flight then changes nothing', async () => {
    const { registry, executions } = await running();
    await executions.start(IDS.rolloutId, {} as never);
    await beginRollout(registry, settings, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(1) });
    const stale = record(registry);
    const stopped = await stopRollout({ registry, executions }, { model: 'small-model', actor: ALICE, reason: 'bad idea', now: at(5) }, { warn: () => {} });
    expect(stopped).toMatchObject({ record: { state: 'ABORTED' }, cleared: ['canary'] });
    expect(executions.stopped).toEqual([stale.executionArn]);
    expect(registry.audit.slice(-2).map((e) => [e.action, e.actor])).toEqual([
      ['rollout.aborted', ALICE],
      ['alias.cleared', ALICE],
    ]);
    // The execution's check, already running, finds the rollout stopped: no change, the execution ends.
    const events = registry.audit.length;
    expect(await applyVerdict(registry, settings, stale, verdict('advance'), at(90))).toMatchObject({ next: 'end', state: 'ABORTED' });
    expect(registry.audit).toHaveLength(events);
    expect(alias(registry, 'canary')).toBeUndefined();
    await expect(stopRollout({ registry, executions }, { model: 'small-model', actor: ALICE, reason: 'again', now: at(6) }, { warn: () => {} })).rejects.toMatchObject({ code: 'ROLLOUT_NOT_RUNNING' });
  });
});

describe('RolloutCheck over the log', () => {
  const log = (requestId: string, seconds: number, version: number, arm: string, probability: number) => ({
    requestId,
    at: at(seconds).toISOString(),
    model: 'small-model',
    version,
    arm,
    inputs: [{ x1: 1, x2: 2 }],
    outputs: [{ label: probability >= 0.5 ? '1' : '0', probability }],
    latencyMs: 4,
  });

  async function check(candidateProbability: (i: number) => number, requests = 30) {
    const { registry } = await running();
    await beginRollout(registry, { bufferSeconds: 0 }, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(0) });
    const logs = new MemoryLogs();
    const date = T0.toISOString().slice(0, 10);
    logs.put(`${logPrefix('predictions', 'small-model', 1, date)}p.json`, [...Array.from({ length: requests }, (_, i) => log(`p${i}`, 1 + (i % 15), 1, 'production', 0.2 + (i % 10) / 20)), 'garbage'], at(16));
    logs.put(`${logPrefix('predictions', 'small-model', 2, date)}c.json`, Array.from({ length: requests }, (_, i) => log(`c${i}`, 1 + (i % 15), 2, 'canary', candidateProbability(i))), at(16));
    const reports = new Map<string, string>();
    const stores = {
      registry,
      logs,
      reports: { put: async (key: string, json: string) => (reports.set(key, json), `s3://reports/${key}`) },
      task: async () => 'binary_classification' as const,
    };
    const progress = await runRolloutCheck(stores, { bufferSeconds: 0 }, { model: 'small-model', rolloutId: IDS.rolloutId, now: at(20) });
    return { registry, progress, reports };
  }

  it('rolls a diverging canary back, with the evidence in a report named by the audit event', async () => {
    const { registry, progress, reports } = await check(() => 0.97);
    expect(progress.state).toBe('ROLLED_BACK');
    const event = registry.audit.find((e) => e.action === 'rollout.rolled_back')!;
    expect(event.reason).toMatch(/predictionShift \S+ above 0\.1/);
    const uri = (event.after as { reportUri: string }).reportUri;
    const report = JSON.parse(reports.get(uri.replace('s3://reports/', ''))!) as Record<string, unknown>;
    expect(report).toMatchObject({ decision: 'rollback', mode: 'canary', read: { badLines: 1 }, arms: { production: { requests: 30 }, canary: { requests: 30 } } });
    expect(alias(registry, 'production')).toMatchObject({ version: 1 });
  });

  it('advances a canary that predicts like production, and extends on too little traffic', async () => {
    expect((await check((i) => 0.2 + (i % 10) / 20)).progress).toMatchObject({ next: 'bake', state: 'RUNNING' });
    const { registry, progress } = await check((i) => 0.2 + (i % 10) / 20, 5);
    expect(progress).toMatchObject({ next: 'bake' });
    expect(registry.audit.at(-1)).toMatchObject({ action: 'rollout.extended' });
  });
});
