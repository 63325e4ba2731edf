import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import type { TriggerDecision } from '../../lambdas/contract/retraining.js';
import { createRng } from '../../lambdas/core/random.js';
import { parseModelSpec, type ModelSpecInput } from '../../lambdas/core/training/model-spec.js';
import { platformClient, uniqueName } from './fixtures.js';

// The loop closed on the emulator, from a drift check to a gated version: DriftCheck finds drift and
// hands the model to the retraining guardrails (an asynchronous invoke), which build a dataset version
// from the logged inputs joined with their feedback labels and start one run with `trigger: drift`.
// A second check within the cooldown is suppressed and recorded. Beside it, a model with the default
// `retraining` block and no feedback at all: its drift is recorded as suppressed (no new data), no run.

const model = uniqueName('e2e-rtdrift');
const quiet = uniqueName('e2e-rtdrift-quiet');
const dataset = uniqueName('e2e-rtdrift-data');
const quietDataset = uniqueName('e2e-rtdrift-quiet-data');

type Row = { x: number; plan: string };

/** Rows like the training data; `shifted` moves x up by 6 and turns the plan mix around. */
function draw(count: number, seed: number, shifted = false): Row[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => ({ x: Number((rng() * 10 + (shifted ? 6 : 0)).toFixed(3)), plan: rng() < (shifted ? 0.9 : 0.3) ? 'pro' : 'basic' }));
}
const labelOf = (row: Row, noise: number) => (row.x + (row.plan === 'pro' ? 2 : 0) + noise * 3 > 7 ? 1 : 0);

function csv(count: number, seed: number): string {
  const rng = createRng(seed + 1000);
  return ['x,plan,label', ...draw(count, seed).map((row) => `${row.x},${row.plan},${labelOf(row, rng())}`)].join('\n') + '\n';
}

const spec = (name: string, data: string, retraining?: ModelSpecInput['retraining']) =>
  parseModelSpec({
    name,
    task: 'binary_classification',
    target: 'label',
    features: [{ name: 'x', type: 'numeric' }, { name: 'plan', type: 'categorical' }],
    training: { algorithm: 'logistic_regression', seed: 3, testFraction: 0.25 },
    // A lenient champion comparison: the point is that the run faces the gate, not its verdict.
    gate: { minRows: 20, champion: { metrics: { accuracy: { tolerance: 0.5 } } } },
    dataset: data,
    owner: 'team-e2e@example.com',
    ...(retraining ? { retraining } : {}),
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('retraining from a drift check: drift -> guardrails -> dataset from the log -> one gated run', () => {
  let platform: PlatformClient;
  /** Request ids of the served batches, with the rows each held. */
  const served: { requestId: string; rows: Row[] }[] = [];

  async function train(name: string, data: string, seed: number): Promise<void> {
    await platform.registerDataset({ name: data, bytes: Buffer.from(csv(300, seed)), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await platform.startRun(name, { dataset: { name: data } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');
  }

  async function serve(name: string, rows: Row[]): Promise<{ requestId: string; rows: Row[] }[]> {
    const batches: Row[][] = [];
    for (let at = 0; at < rows.length; at += 50) batches.push(rows.slice(at, at + 50));
    return Promise.all(
      batches.map(async (instances) => {
        const answer = await platform.predict(name, JSON.stringify({ instances }));
        expect(answer.status, answer.text).toBe(200);
        return { requestId: (answer.body as { requestId: string }).requestId, rows: instances };
      }),
    );
  }

  /** The model's trigger history once it holds `count` decisions (the hand-over is asynchronous), newest first. */
  async function triggersOnce(name: string, count: number): Promise<TriggerDecision[]> {
    const deadline = Date.now() + 60_000;
    let triggers = (await platform.listTriggers(name)).triggers;
    while (triggers.length < count && Date.now() < deadline) {
      await sleep(1000);
      triggers = (await platform.listTriggers(name)).triggers;
    }
    return triggers;
  }

  beforeAll(async () => {
    platform = platformClient();
    await Promise.all([
      platform.createModel(spec(model, dataset, { cooldown: '1h', budget: { perDay: 3, perWeek: 5 }, minNewLabels: 20, triggers: ['drift'] })),
      // The default retraining block: triggers include drift, minNewLabels 100, cooldown 24h.
      platform.createModel(spec(quiet, quietDataset)),
    ]);
    await Promise.all([train(model, dataset, 5), train(quiet, quietDataset, 7)]);
    const [mine] = await Promise.all([serve(model, [...draw(100, 21), ...draw(100, 22, true)]), serve(quiet, [...draw(100, 31), ...draw(100, 32, true)])]);
    served.push(...mine);
    // Labels for every served row of `model` (the quiet model gets none).
    const rng = createRng(99);
    const labels = served.flatMap(({ requestId, rows }) => rows.map((row, index) => ({ requestId, row: index, label: String(labelOf(row, rng())) })));
    const answer = await platform.sendFeedback(model, labels);
    expect(answer.counts.accepted, JSON.stringify(answer)).toBe(200);
  }, 360_000);

  it('a check that finds drift starts exactly one run with trigger drift, on a dataset built from the log, through the gates', async () => {
    const { check } = await platform.runDriftCheck(model, { window: '1h' });
    expect(check).toMatchObject({ status: 'drift', rows: 200, version: 1 });

    const [decision, ...others] = await triggersOnce(model, 1);
    expect(others).toEqual([]);
    expect(decision).toMatchObject({
      trigger: 'drift',
      actor: 'system:drift',
      outcome: 'started',
      check: { checkId: check.checkId, reportUri: check.reportUri },
      dataset: { name: dataset },
      evidence: { newData: { source: 'prediction-log' }, newLabels: { count: 200, min: 20 } },
    });
    const version = await platform.getDatasetVersion(dataset, decision!.dataset!.version);
    expect(version.lineage).toMatchObject({ source: 'prediction-log', model, labelledRows: 200, loggedRows: 200, base: { name: dataset, rows: 300 } });
    expect(version.rowCount).toBe(500);

    const outcome = await platform.waitForRun(decision!.runId!, decision!.executionArn!, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');
    expect(outcome.steps).toEqual(expect.arrayContaining(['StartRun', 'ValidateData', 'Train', 'Evaluate', 'Gate', 'Register']));
    expect(outcome.run).toMatchObject({
      trigger: 'drift',
      actor: 'system:drift',
      mode: 'train',
      dataset: { name: dataset, version: version.version },
      triggeredBy: { triggerId: decision!.triggerId, checkId: check.checkId, reportUri: check.reportUri },
      gatePassed: true,
      modelVersion: 2,
    });
  }, 360_000);

  it('a second drift check right after is suppressed by the cooldown, and recorded linking that check', async () => {
    // The local environment promotes a gated version at once: the check judges version 2's traffic, so serve it some.
    expect((await platform.listModels()).find((m) => m.name === model)).toMatchObject({ latestVersion: 2, aliases: { production: 2 } });
    await serve(model, draw(200, 23, true));
    const { check } = await platform.runDriftCheck(model, { window: '1h' });
    expect(check).toMatchObject({ status: 'drift', version: 2 });
    const triggers = await triggersOnce(model, 2);
    expect(triggers).toHaveLength(2);
    expect(triggers[0]).toMatchObject({ trigger: 'drift', outcome: 'suppressed', reason: 'cooldown', check: { checkId: check.checkId }, evidence: { cooldown: { period: '1h' } } });
    expect((await platform.listRuns({ model })).filter((run) => run.trigger === 'drift')).toHaveLength(1);
  }, 120_000);

  it('with the default retraining block and no feedback, drift is recorded as suppressed (no new data) and no run starts', async () => {
    const { check } = await platform.runDriftCheck(quiet, { window: '1h' });
    expect(check).toMatchObject({ status: 'drift', rows: 200 });
    const triggers = await triggersOnce(quiet, 1);
    expect(triggers).toHaveLength(1);
    expect(triggers[0]).toMatchObject({ trigger: 'drift', outcome: 'suppressed', reason: 'no-new-data', check: { checkId: check.checkId } });
    expect(triggers[0]!.evidence.newData?.detail).toMatch(/NO_LABELLED_ROWS/);
    // Give a wrongly started run time to show: none does, and production stays on version 1.
    await sleep(10_000);
    expect((await platform.listRuns({ model: quiet })).map((run) => run.trigger)).toEqual(['manual']);
    const summary = (await platform.listModels()).find((m) => m.name === quiet);
    expect(summary).toMatchObject({ latestVersion: 1, aliases: { production: 1 } });
  }, 120_000);
});
