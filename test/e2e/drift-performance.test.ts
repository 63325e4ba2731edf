import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { createRng } from '../../lambdas/core/random.js';
import { parseModelSpec } from '../../lambdas/core/training/model-spec.js';
import { mlops, platformClient, uniqueName } from './fixtures.js';

// Performance with delayed labels, inside the drift check (core/monitoring/performance.ts).
// A binary model with a short label delay (10s) is served 200 rows. A check right after reads
// `awaiting-labels` with CBPE's estimate (calibrated on the held-out sample Train stored beside the
// reference). Once the delay has passed, the labels are sent; the same window, checked again, is
// judged: the realized ROC AUC against the version's held-out one, no decay.

const LABEL_DELAY_MS = 10_000;

type Row = { age: number; debt_ratio: number; plan: string };

/** Seeded rows and their labels, drawn the same way for training and for traffic. */
function draw(count: number, seed: number): { rows: Row[]; labels: number[] } {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  const rows: Row[] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const row = { age: Math.round(Math.min(80, Math.max(18, 42 + 12 * normal()))), debt_ratio: Number((0.35 + 0.15 * normal()).toFixed(4)), plan: rng() < 0.5 ? 'basic' : 'pro' };
    const score = 6 * (row.debt_ratio - 0.35) - 0.02 * (row.age - 42) + (row.plan === 'pro' ? 0.5 : -0.5) + 0.8 * normal();
    rows.push(row);
    labels.push(score > 0 ? 1 : 0);
  }
  return { rows, labels };
}

describe('performance windows: awaiting labels with the CBPE estimate, then judged once the labels are in', () => {
  let platform: PlatformClient;
  const model = uniqueName('e2e-perf');
  const dataset = uniqueName('e2e-perf-data');
  const traffic = draw(200, 21);
  let from = '';
  let to = '';
  const requestIds: string[] = [];

  beforeAll(async () => {
    platform = platformClient();
    const spec = parseModelSpec({
      name: model,
      task: 'binary_classification',
      target: 'defaulted',
      positiveLabel: '1',
      features: [
        { name: 'age', type: 'numeric' },
        { name: 'debt_ratio', type: 'numeric' },
        { name: 'plan', type: 'categorical' },
      ],
      training: { algorithm: 'logistic_regression', seed: 7, testFraction: 0.25 },
      gate: { minRows: 50 },
      segments: ['plan'],
      minSegmentRows: 30,
      dataset,
      owner: 'e2e',
      monitoring: { referenceSampleSize: 300, minRows: 50, labelDelay: '10s', minLabelCoverage: 0.5 },
      // No automatic retraining: a triggered run could move production to a new version between the two checks.
      retraining: { triggers: [] },
    });
    const training = draw(800, 11);
    const csv = ['age,debt_ratio,plan,defaulted', ...training.rows.map((r, i) => `${r.age},${r.debt_ratio},${r.plan},${training.labels[i]}`)].join('\n') + '\n';
    await platform.createModel(spec);
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(csv), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await platform.startRun(model, { dataset: { name: dataset } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');

    from = new Date().toISOString();
    for (let start = 0; start < traffic.rows.length; start += 100) {
      const answer = await platform.predict(model, JSON.stringify({ instances: traffic.rows.slice(start, start + 100) }));
      expect(answer.status, answer.text).toBe(200);
      requestIds.push((answer.body as { requestId: string }).requestId);
    }
    to = new Date().toISOString();
  }, 300_000);

  it('reads awaiting labels with the estimate right after serving; labels sent after the delay make the window judged', async () => {
    const early = await mlops('drift', 'check', model, '--from', from, '--to', to);
    expect(early.code, JSON.stringify(early.json)).toBe(0);
    expect(early.json.check.performance).toMatchObject({ status: 'awaiting-labels', metric: 'rocAuc', value: null, decayed: null, labelled: 0, coverage: 0 });
    const estimate = early.json.check.performance.estimated as number;
    expect(estimate).toBeGreaterThan(0.5);
    expect(early.json.report.performance.estimated).toMatchObject({ method: 'cbpe', rows: 200, calibrationRows: 200 });
    expect(early.json.report.performance.realized).toBeNull();

    // The labels come after the delay (waiting for a time to pass, not for an outcome).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(to) + LABEL_DELAY_MS + 500 - Date.now())));
    const labels = traffic.labels.map((label, i) => ({ requestId: requestIds[Math.floor(i / 100)]!, row: i % 100, label }));
    for (let start = 0; start < labels.length; start += 100) {
      const sent = await platform.sendFeedback(model, labels.slice(start, start + 100));
      expect(sent.accepted, JSON.stringify(sent)).toBe(100);
    }

    const judged = await mlops('drift', 'check', model, '--from', from, '--to', to);
    expect(judged.code, JSON.stringify(judged.json)).toBe(0);
    const performance = judged.json.report.performance;
    expect(performance).toMatchObject({ status: 'judged', metric: 'rocAuc', decayed: false, labels: { logged: 200, labelled: 200, coverage: 1 } });
    expect(performance.value).toBeGreaterThan(0.7);
    expect(performance.interval[0]).toBeLessThanOrEqual(performance.value);
    expect(performance.realized.segments.map((s: { value: string }) => s.value)).toEqual(['basic', 'pro']);
    // The record carries the realized value; the estimate is not mixed in.
    expect(judged.json.check.performance).toMatchObject({ status: 'judged', decayed: false, value: performance.value, estimated: null, labelled: 200 });
    // The chart's history holds both checks: the estimate first, then the realized value.
    expect(performance.history.slice(-2).map((p: { status: string }) => p.status)).toEqual(['awaiting-labels', 'judged']);
  });
});
