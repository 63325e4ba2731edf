import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import type { RolloutStatus } from '../../lambdas/contract/registry.js';
import type { ModelSpecInput } from '../../lambdas/core/training/model-spec.js';
import { routingPoint } from '../../lambdas/core/serving/routing.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { creditSpec, goodCsv, mlops, platformClient, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

const tables = stackTables();

// Automatic rollouts on the emulator (LOG_BUFFER_SECONDS is 0 locally: its Firehose writes at once).
// One model and its versions: `weak` (regularized to a constant, registered before any production,
// so it never met a champion), `production`; then, with the spec asking for approval in local:
// `good` (trained like production), `diverging` (trained on flipped labels: it passes its gate
// against production, judged on its own data, but predicts the opposite) and `rejected`.
// Bakes are 20 s, and each bake is fed keyed, signed predict calls: the same rows to each arm.

const BAKE = '20s';
const ROLLOUT = { bake: BAKE, minRequests: 30, maxBakeExtensions: 2, maxErrorRate: 0.05, maxLatencyP99Ms: 30_000 };
// Lenient on purpose: the flipped model must pass its gate against production (each run is judged on its own dataset).
// accuracy's champion tolerance is what the weak version fails against production.
const GATE: ModelSpecInput['gate'] = { minRows: 100, champion: { metrics: { rocAuc: { tolerance: 0.2 }, accuracy: { tolerance: 0.05 } } } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Feature rows with a realistic spread, so the arms' score distributions are comparable. */
const ROWS = makeCreditDataset(400, 23)
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [age, income, debtRatio, creditLines, latePayments] = line.split(',').map(Number);
    return { age, income, debt_ratio: debtRatio, credit_lines: creditLines, late_payments: latePayments };
  });

const flipped = (csv: string) => {
  const [header, ...rows] = csv.trim().split('\n');
  return [header, ...rows.map((row) => row.replace(/,([01])$/, (_, label: string) => `,${label === '1' ? '0' : '1'}`))].join('\n') + '\n';
};

describe('rollouts: gate, canary steps checked against production, promotion or rollback', () => {
  let platform: PlatformClient;
  const model = uniqueName('e2e-rollout');
  const dataset = uniqueName('e2e-rollout-data');
  const flippedDataset = uniqueName('e2e-rollout-flipped');
  let requests = 0;
  const v = { weak: 0, production: 0, good: 0, diverging: 0, rejected: 0 };

  async function train(options: { release: boolean; C: number; dataset?: string }): Promise<number> {
    const { runId, executionArn } = await tables.startExecution({ model, dataset: { name: options.dataset ?? dataset }, actor: 'e2e', release: options.release, params: { C: options.C } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');
    return outcome.run!.modelVersion!;
  }

  /** Polls the rollout until `done` says so (or the time runs out), answering the last status. */
  async function waitFor(done: (status: RolloutStatus) => boolean, timeoutMs: number): Promise<RolloutStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await platform.rolloutStatus(model);
      if (done(status) || Date.now() > deadline) return status;
      await sleep(500);
    }
  }

  /**
   * The same `rows` rows sent to each arm: each row once with a routing key that lands on the canary
   * at `weight` and once with one that lands on production (routingPoint, as predict routes), so the
   * arms see the same inputs and their prediction distributions differ only by their models. Eight
   * calls at a time; every call must answer 200 from the arm its key chose.
   */
  async function traffic(rows: number, weight: number): Promise<void> {
    const keyFor = (canary: boolean) => {
      for (;;) {
        const key = `customer-${(requests += 1)}`;
        if (routingPoint(model, key) < weight === canary) return key;
      }
    };
    const calls = Array.from({ length: rows }, (_, i) => [
      { row: ROWS[i % ROWS.length], key: keyFor(true), arm: 'canary' },
      { row: ROWS[i % ROWS.length], key: keyFor(false), arm: 'production' },
    ]).flat();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < calls.length) {
          const call = calls[next++]!;
          const response = await platform.predict(model, JSON.stringify({ inputs: call.row }), { routingKey: call.key });
          expect(response.status).toBe(200);
          expect((response.body as { arm: string }).arm).toBe(call.arm);
        }
      }),
    );
  }

  /** Feeds each canary step's bake until the rollout ends; approves the promotion when it waits for a person. */
  async function feedSteps(rolloutId: string, perStep: number, timeoutMs: number): Promise<RolloutStatus> {
    const deadline = Date.now() + timeoutMs;
    const fed = new Set<string>();
    for (;;) {
      const status = await platform.rolloutStatus(model);
      const { rollout } = status;
      expect(rollout.rolloutId).toBe(rolloutId);
      if (rollout.state !== 'RUNNING' || Date.now() > deadline) return status;
      if (rollout.phase === 'promote' && !fed.has('approved')) {
        const version = (await platform.showModel(model)).versions.find((found) => found.version === rollout.version)!;
        if (version.status === 'PENDING_APPROVAL') {
          fed.add('approved');
          await platform.approve(model, rollout.version, 'e2e: the rollout passed every step');
        }
      }
      const step = `${rollout.phase}:${rollout.stepIndex}:${rollout.extensions}`;
      if (rollout.phase === 'canary' && !fed.has(step)) {
        fed.add(step);
        // The predict functions see the new weight within the routing staleness bound (2 s locally).
        await sleep(2500);
        await traffic(perStep, rollout.weight);
      }
      await sleep(500);
    }
  }

  const aliasOf = async (alias: string) => (await platform.showModel(model)).aliases.find((a) => a.alias === alias);

  beforeAll(async () => {
    platform = platformClient();
    const spec = { ...creditSpec(model, dataset, GATE), rollout: ROLLOUT };
    await platform.createModel(spec);
    const csv = goodCsv();
    await Promise.all([
      platform.registerDataset({ name: dataset, bytes: Buffer.from(csv), fileName: 'data.csv', owner: 'e2e' }),
      platform.registerDataset({ name: flippedDataset, bytes: Buffer.from(flipped(csv)), fileName: 'flipped.csv', owner: 'e2e' }),
    ]);
    v.weak = await train({ release: false, C: 1e-6 });
    v.production = await train({ release: true, C: 1 });
    // Versions trained from here on record a spec that asks for approval before production moves.
    await platform.createModel({ ...spec, approval: { requiredIn: ['local'] } });
    const rejectOne = async () => {
      const { runId, executionArn } = await tables.startExecution({ model, dataset: { name: dataset }, actor: 'e2e', release: true, params: { C: 0.5 } });
      const waiting = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000, stopAt: ['WaitForApproval'] });
      expect(waiting.status).toBe('RUNNING');
      const version = (await tables.tracking.getRun(runId)).modelVersion!;
      await platform.reject(model, version, 'e2e: not this one');
      return version;
    };
    [v.good, v.diverging, v.rejected] = await Promise.all([train({ release: false, C: 0.8 }), train({ release: false, C: 1, dataset: flippedDataset }), rejectOne()]);
  }, 300_000);

  it('rolls back a canary whose predictions diverge from production, on its own; the audit says why; production untouched', async () => {
    const started = await platform.startRollout(model, { version: v.diverging, steps: [0.5, 1], reason: 'e2e: diverging canary' });
    expect(started).toMatchObject({ status: 'RUNNING', version: v.diverging, production: v.production, steps: [0.5, 1], bake: BAKE });
    const status = await feedSteps(started.rolloutId, 50, 150_000);

    expect(status.rollout).toMatchObject({ state: 'ROLLED_BACK', phase: 'canary', lastCheck: { decision: 'rollback' } });
    const rolledBack = status.decisions.find((event) => event.action === 'rollout.rolled_back')!;
    expect(rolledBack.actor).toBe('system:rollout');
    expect(rolledBack.reason).toMatch(/predictionShift \S+ above \S+/);
    const { reportUri } = rolledBack.after as { reportUri: string };
    const report = JSON.parse(await tables.objects.getText(reportUri)) as { decision: string; signals: { name: string; ok: boolean }[]; arms: Record<string, { requests: number }> };
    expect(report.decision).toBe('rollback');
    expect(report.signals.find((signal) => signal.name === 'predictionShift')).toMatchObject({ ok: false });
    expect(report.arms.canary!.requests).toBeGreaterThanOrEqual(30);
    expect(status.decisions.map((event) => event.action)).toEqual(['rollout.started', 'rollout.stepped', 'rollout.rolled_back', 'alias.cleared']);
    expect(await aliasOf('canary')).toBeUndefined();
    expect(await aliasOf('production')).toMatchObject({ version: v.production });
  }, 200_000);

  it('stops a running rollout on a manual rollback: canary cleared, production stays', async () => {
    const started = await platform.startRollout(model, { version: v.good, steps: [0.5, 1], bake: '5m', reason: 'e2e: to be rolled back by hand' });
    const canary = await waitFor((status) => status.rollout.phase === 'canary' || status.rollout.state !== 'RUNNING', 90_000);
    expect(canary.rollout).toMatchObject({ state: 'RUNNING', phase: 'canary', weight: 0.5 });
    expect(await aliasOf('canary')).toMatchObject({ version: v.good, weight: 0.5 });

    const cli = await mlops('rollback', model, '--reason', 'e2e: manual rollback during a rollout');
    expect(cli).toMatchObject({ code: 0, json: { status: 'ROLLED_BACK', production: { version: v.production }, rollout: { rolloutId: started.rolloutId, state: 'ABORTED', cleared: ['canary'] } } });
    const stopped = await waitFor((status) => status.execution?.status !== 'RUNNING', 20_000);
    expect(stopped.execution?.status).toBe('ABORTED');
    expect(stopped.rollout.state).toBe('ABORTED');
    expect(stopped.decisions.slice(-2).map((event) => event.action)).toEqual(['rollout.aborted', 'alias.cleared']);
    expect(await aliasOf('canary')).toBeUndefined();
    expect(await aliasOf('production')).toMatchObject({ version: v.production });
  }, 120_000);

  it('promotes a good canary step by step, through the release path, after approval (the spec asks for it)', async () => {
    const cli = await mlops('rollout', 'start', model, String(v.good), '--steps', '0.3,0.6,1', '--bake', BAKE, '--reason', 'e2e: good canary');
    expect(cli).toMatchObject({ code: 0, json: { status: 'RUNNING', gate: 'PASSED', version: v.good, steps: [0.3, 0.6, 1] } });
    const status = await feedSteps(cli.json.rolloutId, 50, 200_000);

    expect(status.rollout).toMatchObject({ state: 'PROMOTED', stepIndex: 1 });
    expect(status.stepsDone).toBe(2);
    const actions = status.decisions.map((event) => event.action);
    expect(actions).toEqual(['rollout.started', 'rollout.stepped', 'rollout.stepped', 'rollout.stepped', 'rollout.promoted', 'alias.cleared']);
    const weights = status.decisions.filter((event) => event.action === 'rollout.stepped').map((event) => (event.after as { weight: number }).weight);
    expect(weights).toEqual([0.3, 0.6, 0.6]);
    expect(await aliasOf('production')).toMatchObject({ version: v.good });
    expect(await aliasOf('previous')).toMatchObject({ version: v.production });
    expect(await aliasOf('canary')).toBeUndefined();
    // The release path moved production after the approval: its Promote recorded the move, the approver as its actor.
    const audit = await platform.audit(model);
    expect(audit.filter((event) => event.version === v.good).map((event) => event.action)).toEqual(expect.arrayContaining(['approval.requested', 'approval.granted']));
    const moves = audit.filter((event) => event.action === 'alias.moved' && (event.after as { alias?: string }).alias === 'production');
    expect(moves.at(-1)).toMatchObject({ version: v.good, reason: expect.stringContaining('e2e: the rollout passed every step') });
  }, 260_000);

  it('refuses a rollout of a version already in production, a rejected one, or one that fails its gate against production, with codes', async () => {
    expect(await mlops('rollout', 'start', model, String(v.good))).toMatchObject({ code: 1, json: { error: { code: 'ALREADY_IN_ALIAS', field: 'version' } } });
    expect(await mlops('rollout', 'start', model, String(v.rejected))).toMatchObject({ code: 1, json: { error: { code: 'VERSION_REJECTED', field: 'version' } } });

    // The weak version never met a champion; against production its accuracy falls short: the rollout stops at its gate.
    const gated = await mlops('rollout', 'start', model, String(v.weak), '--steps', '0.5,1');
    expect(gated).toMatchObject({ code: 1, json: { error: { code: 'GATE_FAILED', field: 'version' } } });
    const status = await platform.rolloutStatus(model);
    expect(status.rollout).toMatchObject({ version: v.weak, state: 'FAILED', phase: 'gate' });
    expect(status.rollout.outcome).toMatch(/gate against production failed/);
    expect(status.decisions.map((event) => event.action)).toEqual(['rollout.started', 'rollout.failed']);
    expect(await aliasOf('canary')).toBeUndefined();
    expect(await aliasOf('production')).toMatchObject({ version: v.good });
    expect(await mlops('rollout', 'abort', model)).toMatchObject({ code: 1, json: { error: { code: 'ROLLOUT_NOT_RUNNING' } } });
  }, 150_000);
});
