import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { createRng } from '../../lambdas/core/random.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { mlops, platformClient, uniqueName } from './fixtures.js';

// Drift checks on the emulator (LOG_BUFFER_SECONDS is 0 locally: its Firehose writes at once).
// Two models, one per regime of Evidently's default method selection:
// - `small`: a reference of 500 rows (monitoring.referenceSampleSize), at most 1,000: KS for the numeric
//   features, chi-square for the three-valued `plan`, the two-proportion Z-test for the two-valued `channel`;
// - `large`: a reference of the whole training split (1,800 rows): Wasserstein and Jensen-Shannon.
// Each is served rows drawn like its training data, then a copy with some features shifted; a
// check over each window flags exactly the shifted features. A model with no production version
// is refused, and leaves no record.

const FEATURES = [
  { name: 'age', type: 'numeric' },
  { name: 'income', type: 'numeric' },
  { name: 'debt_ratio', type: 'numeric' },
  { name: 'plan', type: 'categorical' },
  { name: 'channel', type: 'categorical' },
] as const;

type Row = { age: number; income: number; debt_ratio: number; plan: string; channel: string };
type Shift = { debt?: number; income?: number; plan?: boolean };

/** Rows drawn from one seeded distribution; `shift` moves debt_ratio or income, or turns plan's mix around. */
function draw(count: number, seed: number, shift: Shift = {}): Row[] {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  return Array.from({ length: count }, () => {
    const planDraw = rng();
    const plan = shift.plan ? (planDraw < 0.15 ? 'basic' : planDraw < 0.35 ? 'plus' : 'pro') : planDraw < 0.45 ? 'basic' : planDraw < 0.8 ? 'plus' : 'pro';
    return {
      age: Math.round(Math.min(80, Math.max(18, 42 + 12 * normal()))),
      income: Math.round(Math.exp(10.8 + 0.4 * normal())) + (shift.income ?? 0),
      debt_ratio: Number((0.35 + 0.15 * normal() + (shift.debt ?? 0)).toFixed(4)),
      plan,
      channel: rng() < 0.6 ? 'web' : 'branch',
    };
  });
}

/** A training CSV: the rows and a label driven by them. */
function trainingCsv(count: number, seed: number): string {
  const rng = createRng(seed + 1000);
  const lines = draw(count, seed).map((row) => {
    const score = 5 * (row.debt_ratio - 0.35) - 1.2 * (Math.log(row.income) - 10.8) + (row.plan === 'pro' ? 0.8 : 0) + 0.5 * (rng() - 0.5);
    return `${row.age},${row.income},${row.debt_ratio},${row.plan},${row.channel},${score > 0 ? 1 : 0}`;
  });
  return ['age,income,debt_ratio,plan,channel,defaulted', ...lines].join('\n') + '\n';
}

function spec(name: string, dataset: string, referenceSampleSize?: number): ModelSpec {
  return parseModelSpec({
    name,
    task: 'binary_classification',
    target: 'defaulted',
    positiveLabel: '1',
    features: FEATURES,
    training: { algorithm: 'logistic_regression', seed: 7, testFraction: 0.25 },
    gate: { minRows: 50 },
    dataset,
    owner: 'e2e',
    ...(referenceSampleSize ? { monitoring: { referenceSampleSize } } : {}),
  });
}

describe('drift checks: the window of the prediction log against the version reference sample', () => {
  let platform: PlatformClient;
  const small = { model: uniqueName('e2e-drift-small'), dataset: uniqueName('e2e-drift-small-data') };
  const large = { model: uniqueName('e2e-drift-large'), dataset: uniqueName('e2e-drift-large-data') };
  const bare = uniqueName('e2e-drift-bare');
  let small1 = '';
  let small2 = '';
  let large1 = '';
  let large2 = '';
  let beforeTraffic = '';

  /** Sends rows as signed predict calls of up to 1,000 instances, four at a time; every call answers 200. */
  async function serve(model: string, rows: Row[]): Promise<void> {
    const batches: Row[][] = [];
    for (let at = 0; at < rows.length; at += 500) batches.push(rows.slice(at, at + 500));
    for (let at = 0; at < batches.length; at += 4) {
      const answers = await Promise.all(batches.slice(at, at + 4).map((instances) => platform.predict(model, JSON.stringify({ instances }))));
      for (const answer of answers) expect(answer.status, answer.text).toBe(200);
    }
  }

  async function train(model: string, dataset: string, csv: string, specOf: ModelSpec): Promise<void> {
    await platform.createModel(specOf);
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(csv), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await platform.startRun(model, { dataset: { name: dataset } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');
    expect(outcome.run?.reference?.uri).toMatch(new RegExp(`/models/${model}/runs/${runId}/reference\\.json$`));
  }

  const stamp = () => new Date().toISOString();
  const pause = () => new Promise((resolve) => setTimeout(resolve, 1100));

  beforeAll(async () => {
    platform = platformClient();
    await Promise.all([
      train(small.model, small.dataset, trainingCsv(800, 11), spec(small.model, small.dataset, 500)),
      train(large.model, large.dataset, trainingCsv(2400, 13), spec(large.model, large.dataset)),
      platform.createModel(spec(bare, small.dataset)),
    ]);
    beforeTraffic = stamp();
    await pause();
    small1 = stamp();
    large1 = small1;
    await Promise.all([serve(small.model, draw(600, 21)), serve(large.model, draw(2000, 23))]);
    await pause();
    small2 = stamp();
    large2 = small2;
    await pause();
    await Promise.all([serve(small.model, draw(600, 31, { debt: 0.25, plan: true })), serve(large.model, draw(2000, 33, { income: 30_000, plan: true }))]);
    await pause();
  }, 420_000);

  const drifted = (json: any) => (json.report.features as { column: string; drifted: boolean | null }[]).filter((f) => f.drifted).map((f) => f.column).sort();
  const methods = (json: any) => Object.fromEntries((json.report.features as { column: string; method: string }[]).map((f) => [f.column, f.method]));

  it('at most 1,000 reference rows: KS, chi-square and Z; flags exactly the shifted features, with Benjamini-Hochberg beside', async () => {
    const same = await mlops('drift', 'check', small.model, '--from', small1, '--to', small2);
    expect(same.code, JSON.stringify(same.json)).toBe(0);
    expect(methods(same.json)).toEqual({ age: 'ks', income: 'ks', debt_ratio: 'ks', plan: 'chisquare', channel: 'z' });
    expect(same.json.check).toMatchObject({ status: 'no_drift', rows: 600, referenceRows: 500, referenceSource: 'training-split', arm: 'production', version: 1 });
    expect(drifted(same.json)).toEqual([]);

    const shifted = await mlops('drift', 'check', small.model, '--window', '1h');
    expect(shifted.code, JSON.stringify(shifted.json)).toBe(0);
    // The 1h window holds both phases: 1,200 rows; the shift is half of them and still flags exactly debt_ratio and plan.
    expect(shifted.json.check.rows).toBe(1200);
    expect(drifted(shifted.json)).toEqual(['debt_ratio', 'plan']);
    expect(shifted.json.report.dataset.bh).toMatchObject({ tests: 5, rejected: 2 });

    const shown = await mlops('drift', 'show', small.model, '--list');
    expect(shown.json.checks.map((c: { checkId: string }) => c.checkId)).toEqual([shifted.json.check.checkId, same.json.check.checkId]);
    const latest = await mlops('drift', 'show', small.model);
    expect(latest.json.check).toEqual(shifted.json.check);

    // The latest check's HTML report: Vega-Lite charts, the libraries inlined, no external script.
    const out = join(await mkdtemp(join(tmpdir(), 'e2e-drift-')), 'report.html');
    const report = await mlops('drift', 'report', small.model, '--out', out);
    expect(report.code, JSON.stringify(report.json)).toBe(0);
    expect(report.json).toMatchObject({ checkId: shifted.json.check.checkId, htmlReportUri: shifted.json.check.htmlReportUri, file: out });
    const html = await readFile(out, 'utf8');
    const charts = JSON.parse(/id="drift-charts">([^]*?)<\/script>/.exec(html)![1]!) as { spec: { $schema: string } }[];
    // A chart per feature, the prediction, and the performance over time.
    expect([charts.length, charts.every((c) => c.spec.$schema.includes('vega-lite'))]).toEqual([FEATURES.length + 2, true]);
    const libraries = await Promise.all(['vega/build/vega.min.js', 'vega-lite/build/vega-lite.min.js', 'vega-embed/build/vega-embed.min.js'].map((file) => readFile(join('node_modules', file), 'utf8')));
    expect([...libraries.map((library) => html.includes(library)), /<script[^>]*\bsrc=/i.test(html)]).toEqual([true, true, true, false]);
  });

  it('above 1,000 reference rows: Wasserstein and Jensen-Shannon; flags exactly the shifted features', async () => {
    const same = await mlops('drift', 'check', large.model, '--from', large1, '--to', large2);
    expect(same.code, JSON.stringify(same.json)).toBe(0);
    expect(methods(same.json)).toEqual({ age: 'wasserstein', income: 'wasserstein', debt_ratio: 'wasserstein', plan: 'jensenshannon', channel: 'jensenshannon' });
    expect(same.json.check.referenceRows).toBe(1800);
    expect(drifted(same.json)).toEqual([]);

    const shifted = await mlops('drift', 'check', large.model, '--from', large2, '--to', stamp());
    expect(shifted.code, JSON.stringify(shifted.json)).toBe(0);
    expect(shifted.json.check.rows).toBe(2000);
    expect(drifted(shifted.json)).toEqual(['income', 'plan']);
    expect(shifted.json.check.datasetDrift).toBe(false);
  });

  it('refuses a check with no production version, no traffic in the window, or a window in the future, and records nothing', async () => {
    const none = await mlops('drift', 'check', bare, '--window', '1h');
    expect([none.code, none.json.error.code]).toEqual([1, 'NO_PRODUCTION_VERSION']);
    expect((await mlops('drift', 'show', bare, '--list')).json.checks).toEqual([]);

    const before = (await mlops('drift', 'show', small.model, '--list')).json.checks.length;
    const quiet = await mlops('drift', 'check', small.model, '--from', new Date(Date.parse(beforeTraffic) - 60_000).toISOString(), '--to', beforeTraffic);
    expect(quiet.json.error.code).toBe('NO_LOGS_IN_WINDOW');
    const future = await mlops('drift', 'check', small.model, '--from', stamp(), '--to', new Date(Date.now() + 3_600_000).toISOString());
    expect(future.json.error).toMatchObject({ code: 'WINDOW_IN_FUTURE', field: 'to' });
    const inverted = await mlops('drift', 'check', small.model, '--from', small2, '--to', small1);
    expect(inverted.json.error.code).toBe('WINDOW_INVERTED');
    expect((await mlops('drift', 'show', small.model, '--list')).json.checks).toHaveLength(before);
  });
});
