import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { psi } from '../../lambdas/core/monitoring/distance.js';
import {
  benjaminiHochberg,
  checkDrift,
  defaultDriftMethod,
  DriftAccumulator,
  DriftReportSchema,
  EXACT_COUNTS_LIMIT,
  isDrift,
  monitoredFeatures,
  verdictsOf,
  WindowSummarySchema,
  type DriftReport,
  type MonitoredFeature,
  type PreviousVerdicts,
  type WindowSummary,
} from '../../lambdas/core/monitoring/drift.js';
import { Reservoir } from '../../lambdas/core/monitoring/reservoir.js';
import { ksTest } from '../../lambdas/core/monitoring/stat-tests.js';
import { MonitoringPolicySchema, parseModelSpec, type DriftMethod, type Task } from '../../lambdas/core/training/model-spec.js';
import type { PredictionLogRecord } from '../../lambdas/core/serving/records.js';

/** Evidently 0.7.23's default drift verdicts on seeded datasets (scripts/reference_drift.py). */
interface Verdict {
  method: DriftMethod;
  statistic: number;
  threshold: number;
  drifted: boolean;
  referenceRows: number;
  currentRows: number;
}
interface FixtureCase {
  name: string;
  types: Record<string, 'numeric' | 'categorical'>;
  reference: Record<string, (number | string | null)[]>;
  current: Record<string, (number | string | null)[]>;
  expected: { columns: Record<string, Verdict>; dataset: { columns: number; driftedColumns: number; share: number; drifted: boolean } };
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/drift.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };
const [small, large, edges] = fixture.cases as [FixtureCase, FixtureCase, FixtureCase];

/** 1e-9 relative; p-values below 1e-12 on a log scale; anything within 1e-15 passes (2 (1 - Φ) rounds there). */
function expectStatistic(actual: number | null, expected: number, what: string): void {
  expect(actual, what).not.toBeNull();
  const value = actual!;
  if (Math.abs(value - expected) <= 1e-15) return;
  if (expected < 1e-12) {
    expect(value, what).toBeGreaterThan(0);
    expect(Math.abs(Math.log(value) - Math.log(expected)), `${what}: ${value} vs ${expected}`).toBeLessThanOrEqual(1e-9 * Math.abs(Math.log(expected)));
    return;
  }
  expect(Math.abs(value - expected), `${what}: ${value} vs ${expected}`).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
}

const featuresOf = (c: FixtureCase): MonitoredFeature[] => Object.entries(c.types).map(([name, type]) => ({ name, type }));

function rowsOf(columns: Record<string, (number | string | null)[]>): Record<string, unknown>[] {
  const names = Object.keys(columns);
  return columns[names[0]!]!.map((_, i) => Object.fromEntries(names.map((name) => [name, columns[name]![i]])));
}

interface SideOptions {
  task?: Task;
  output?: (row: Record<string, unknown>) => unknown;
  sampleSize?: number;
  seed?: number;
  reference?: WindowSummary;
}
function summarise(c: FixtureCase, side: 'reference' | 'current', options: SideOptions = {}): WindowSummary {
  const accumulator = new DriftAccumulator({ features: featuresOf(c), task: options.task ?? 'regression', sampleSize: options.sampleSize, seed: options.seed, reference: options.reference });
  const rows = rowsOf(c[side]);
  // Partition by partition, as the Lambda streams the log.
  for (let start = 0; start < rows.length; start += 250) {
    const part = rows.slice(start, start + 250);
    accumulator.addRows(part, options.output ? part.map(options.output) : undefined);
  }
  return accumulator.summary();
}

const policy = (overrides: Record<string, unknown> = {}) => MonitoringPolicySchema.parse({ minRows: 100, ...overrides });

function check(c: FixtureCase, overrides: Record<string, unknown> = {}, previous?: PreviousVerdicts, side: SideOptions = {}): DriftReport {
  const reference = summarise(c, 'reference', side);
  return checkDrift({ policy: policy(overrides), task: side.task ?? 'regression', reference, current: summarise(c, 'current', { ...side, reference }), previous });
}

const feature = (report: DriftReport, column: string) => report.features.find((f) => f.column === column)!;

describe("Evidently 0.7.23's default method selection, statistics and verdicts", () => {
  for (const c of fixture.cases) {
    describe(c.name, () => {
      const report = check(c);

      it.each(Object.entries(c.expected.columns))('%s', (column, expected) => {
        const ours = feature(report, column);
        expect(ours.method).toBe(expected.method);
        expect(ours.methodSource).toBe('default');
        expect(ours.threshold).toBe(expected.threshold);
        expectStatistic(ours.statistic, expected.statistic, column);
        expect(ours.drifted).toBe(expected.drifted);
        expect(ours.referenceRows).toBe(expected.referenceRows);
        expect(ours.currentRows).toBe(expected.currentRows);
        expect(ours.sampled).toBeUndefined();
        expect(ours.effectSize).not.toBeNull();
      });

      it('dataset drift: the share of drifted columns against 0.5', () => {
        expect(report.dataset.columns).toBe(c.expected.dataset.columns);
        expect(report.dataset.driftedColumns).toBe(c.expected.dataset.driftedColumns);
        expect(report.dataset.share).toBeCloseTo(c.expected.dataset.share, 15);
        expect(report.dataset.drifted).toBe(c.expected.dataset.drifted);
        expect(report.status).toBe(c.expected.dataset.drifted ? 'drift' : 'no_drift');
      });

      it('the report is JSON the schema reads back', () => {
        expect(DriftReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
      });
    });
  }

  it('the regime switch counts the reference after NaN is dropped, and u over both sides', () => {
    expect(defaultDriftMethod('numeric', 1000, 6)).toBe('ks');
    expect(defaultDriftMethod('numeric', 1001, 6)).toBe('wasserstein');
    expect(defaultDriftMethod('numeric', 1000, 5)).toBe('chisquare');
    expect(defaultDriftMethod('numeric', 1000, 2)).toBe('z');
    expect(defaultDriftMethod('categorical', 50, 3)).toBe('chisquare');
    expect(defaultDriftMethod('categorical', 5000, 2)).toBe('jensenshannon');
    expect(defaultDriftMethod('numeric', 5000, 5)).toBe('jensenshannon');
    // Evidently's comparisons at the threshold itself: ks <=, chi-square and Z <, distances >=.
    expect([isDrift('ks', 0.05, 0.05), isDrift('chisquare', 0.05, 0.05), isDrift('z', 0.05, 0.05), isDrift('wasserstein', 0.1, 0.1), isDrift('psi', 0.1, 0.1)]).toEqual([true, false, false, true, true]);
    // 1,005 rows, 10 of them NaN: 995 -> KS; the full column next to it -> Wasserstein.
    expect(edges.expected.columns.after_nan!.method).toBe('ks');
    expect(edges.expected.columns.full!.method).toBe('wasserstein');
  });
});

describe('prediction drift: the outputs against the reference outputs, same selection', () => {
  it('binary: P(positive) as a numeric column', () => {
    const output = (row: Record<string, unknown>) => ({ label: Number(row.score) > 0.5 ? '1' : '0', probability: row.score });
    const report = check(small, {}, undefined, { task: 'binary_classification', output });
    const expected = small.expected.columns.score!;
    expect(report.prediction).toMatchObject({ column: 'prediction', type: 'numeric', method: expected.method, drifted: expected.drifted });
    expectStatistic(report.prediction!.statistic, expected.statistic, 'prediction');
  });

  it('multiclass: the predicted class as a categorical column', () => {
    const report = check(large, {}, undefined, { task: 'multiclass_classification', output: (row) => ({ label: row.color }) });
    const expected = large.expected.columns.color!;
    expect(report.prediction).toMatchObject({ type: 'categorical', method: expected.method, drifted: expected.drifted });
    expectStatistic(report.prediction!.statistic, expected.statistic, 'prediction');
  });

  it('regression: the value; methods.prediction overrides the selection; prediction stays out of the dataset share', () => {
    const output = (row: Record<string, unknown>) => ({ value: row.x_shifted });
    const report = check(large, { methods: { prediction: { method: 'ks', threshold: 0.01 } } }, undefined, { output });
    expect(report.prediction).toMatchObject({ method: 'ks', methodSource: 'override', threshold: 0.01, drifted: true });
    expect(report.dataset.columns).toBe(Object.keys(large.types).length);
  });

  it('outputs without the task shape are counted, not compared', () => {
    const accumulator = new DriftAccumulator({ features: [{ name: 'x', type: 'numeric' }], task: 'binary_classification' });
    accumulator.addRows([{ x: 1 }, { x: 2 }], [{ label: '1', probability: 0.7 }, { label: '1' }]);
    const summary = accumulator.summary();
    expect(summary.unreadableOutputs).toBe(1);
    expect(summary.prediction).toMatchObject({ values: 1, sample: [0.7] });
  });
});

describe('beside the verdicts', () => {
  it('Benjamini-Hochberg step-up at the stated rate', () => {
    // Sorted 0.001, 0.008, 0.039, 0.041, 0.6 at q = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05 -> the largest passing rank is 2.
    expect([...benjaminiHochberg([0.041, 0.001, 0.6, 0.008, 0.039], 0.05)].sort()).toEqual([1, 3]);
    // Step-up: a p above its own line is still rejected when a later one passes.
    expect([...benjaminiHochberg([0.02, 0.03, 0.035], 0.05)].sort()).toEqual([0, 1, 2]);
    expect(benjaminiHochberg([], 0.05).size).toBe(0);
  });

  it('BH runs across the p-value tests of a check, beside Evidently', () => {
    const report = check(small);
    const tested = report.features.filter((f) => f.pValue !== undefined);
    expect(tested).toHaveLength(8);
    expect(report.dataset.bh).toEqual({ fdr: 0.05, tests: 8, rejected: 6 });
    expect(tested.filter((f) => f.bhRejected).map((f) => f.column).sort()).toEqual(['age', 'churned_before', 'plan', 'region', 'rooms', 'score']);
    // A stricter rate keeps Evidently's verdicts and rejects fewer.
    const strict = check(small, { fdr: 0.001 });
    expect(feature(strict, 'score').bhRejected).toBe(false);
    expect(feature(strict, 'score').drifted).toBe(true);
    // Distances carry no p-value and are not part of the family.
    expect(check(large).dataset.bh.tests).toBe(0);
  });

  it('every verdict carries its effect size and sample sizes', () => {
    const report = check(small);
    expect(feature(report, 'age').effectSize).toEqual({ measure: 'ks_d', value: feature(report, 'age').testStatistic });
    expect(feature(report, 'plan').effectSize!.measure).toBe('cramers_v');
    expect(feature(report, 'plan').testStatistic).toBeNull(); // infinite: a category only the window has
    expect(feature(report, 'churned_before').effectSize!.measure).toBe('proportion_difference');
    const yes = (values: (string | number | null)[]) => values.filter((v) => v === 'yes').length / values.length;
    expect(feature(report, 'churned_before').effectSize!.value).toBeCloseTo(Math.abs(yes(small.current.churned_before!) - yes(small.reference.churned_before!)), 12);
    expect(feature(report, 'age')).toMatchObject({ referenceRows: 575, currentRows: 460 });
  });

  it('a window below minRows is insufficient: no verdicts, never a pass', () => {
    const report = check(small, { minRows: 501 });
    expect(report.status).toBe('insufficient');
    expect(report.insufficient).toMatchObject({ window: true, rows: 500, minRows: 501 });
    expect(report.features.every((f) => f.drifted === null && f.statistic === null && f.insufficient?.includes('fewer than monitoring.minRows'))).toBe(true);
    expect(report.dataset.drifted).toBeNull();
    expect(check(small, { minRows: 500 }).status).toBe('drift');
  });

  it('a column without values in the window is insufficient, the others judged', () => {
    const c: FixtureCase = { ...small, current: { ...small.current, age: small.current.age!.map(() => null) } };
    const report = check(c);
    expect(feature(report, 'age')).toMatchObject({ drifted: null, insufficient: 'the window has no values for it' });
    expect(report.dataset.columns).toBe(7);
    expect(report.dataQuality.features.find((f) => f.column === 'age')!.missingRate.current).toBe(1);
  });

  it('consecutiveWindows: drift counts only when it persists', () => {
    const once = check(small, { consecutiveWindows: 2 });
    expect(feature(once, 'age')).toMatchObject({ drifted: true, persistent: false });
    expect(once.status).toBe('no_drift');
    const previous: PreviousVerdicts = { features: { age: [true], rooms: [false], plan: [true, null], income: [true] }, dataset: [true] };
    const twice = check(small, { consecutiveWindows: 2 }, previous);
    expect(feature(twice, 'age').persistent).toBe(true);
    expect(feature(twice, 'rooms').persistent).toBe(false);
    expect(feature(twice, 'plan').persistent).toBe(true); // an insufficient window in between is skipped
    expect(feature(twice, 'income').persistent).toBe(false); // not drifted now
    expect(twice.dataset.persistent).toBe(true);
    expect(twice.status).toBe('drift');
    // verdictsOf reads stored reports back as `previous`.
    expect(verdictsOf([once]).features!.age).toEqual([true]);
    expect(feature(check(small, { consecutiveWindows: 2 }, verdictsOf([once])), 'age').persistent).toBe(true);
  });
});

describe('overrides from monitoring.methods', () => {
  it('PSI with the bin count asked actually used, and its threshold', () => {
    const report = check(large, { methods: { x_shifted: { method: 'psi', bins: 7 }, x_same: { method: 'wasserstein', threshold: 0.01 } } });
    const x = feature(report, 'x_shifted');
    expect(x).toMatchObject({ method: 'psi', methodSource: 'override', bins: 7, threshold: 0.1 });
    const values = (side: (number | string | null)[]) => side.filter((v): v is number => typeof v === 'number');
    expect(x.statistic).toBeCloseTo(psi(values(large.reference.x_shifted!), values(large.current.x_shifted!), 'numeric', { bins: 7 }), 12);
    expect(x.statistic).not.toBeCloseTo(psi(values(large.reference.x_shifted!), values(large.current.x_shifted!), 'numeric', { bins: 12 }), 6);
    expect(feature(report, 'x_same')).toMatchObject({ method: 'wasserstein', threshold: 0.01, drifted: true });
    // The other columns keep Evidently's default.
    expect(feature(report, 'color').methodSource).toBe('default');
  });

  it('a method that does not fit the column is reported, not thrown', () => {
    const report = check(small, { methods: { plan: { method: 'ks' } } });
    expect(feature(report, 'plan')).toMatchObject({ method: 'ks', drifted: null, insufficient: 'ks applies to numeric columns' });
  });
});

describe('data quality in the window', () => {
  const count = (values: (number | string | null)[], test: (v: number | string) => boolean) => values.filter((v) => v !== null && test(v)).length;

  it('missing-rate change, new categories and values out of the training range, exact while streaming', () => {
    const report = check(small);
    const quality = (column: string) => report.dataQuality.features.find((f) => f.column === column)!;
    expect(quality('region').missingRate).toMatchObject({ reference: 30 / 600, current: 0, change: -30 / 600, tolerance: 0.05, rose: false });
    expect(quality('age').missingRate.change).toBeCloseTo(40 / 500 - 25 / 600, 15);
    expect(quality('plan').newCategories).toEqual({ rows: count(small.current.plan!, (v) => v === 'enterprise'), values: ['enterprise'], exact: true });
    const ages = small.reference.age!.filter((v): v is number => v !== null);
    const [min, max] = [Math.min(...ages), Math.max(...ages)];
    const below = count(small.current.age!, (v) => (v as number) < min);
    const above = count(small.current.age!, (v) => (v as number) > max);
    expect(above).toBeGreaterThan(0);
    expect(quality('age').outOfRange).toMatchObject({ rows: below + above, below, above, min, max, exact: true });
  });

  it('without the reference while streaming: the same figures from the exact counts', () => {
    const reference = summarise(small, 'reference');
    const current = summarise(small, 'current');
    expect(current.columns[0]!.againstReference).toBeUndefined();
    const report = checkDrift({ policy: policy(), task: 'regression', reference, current });
    const streamed = check(small);
    expect(report.dataQuality.features.map((f) => [f.newCategories?.rows, f.outOfRange?.rows])).toEqual(streamed.dataQuality.features.map((f) => [f.newCategories?.rows, f.outOfRange?.rows]));
  });

  it('schema violations: a row missing a feature or with a wrong type, counted with examples', () => {
    const features: MonitoredFeature[] = [
      { name: 'x', type: 'numeric' },
      { name: 'c', type: 'categorical' },
    ];
    const accumulator = new DriftAccumulator({ features, task: 'regression' });
    accumulator.addRows([{ x: 1, c: 'a' }, { x: '2', c: 'a' }, { c: 7 }, { x: null, c: true }, 'not a row', { x: 3, c: null }]);
    const summary = accumulator.summary();
    expect(summary.schemaViolations.rows).toBe(4);
    expect(summary.schemaViolations.examples.map((e) => e.column)).toEqual(['x', 'x', 'c', '(row)']);
    const [x, c] = summary.columns as [WindowSummary['columns'][number], WindowSummary['columns'][number]];
    expect(x).toMatchObject({ rows: 6, missing: 3, absent: 2, wrongType: 1, values: 2, wrongTypeExamples: ['"2"'] });
    // A number sent for a categorical feature is read as its string, as serving and the transforms do.
    expect(c).toMatchObject({ missing: 2, absent: 1, wrongType: 1, values: 3, counts: [['a', 2], ['7', 1]] });
  });

  it('addRecords reads the log: inputs per row, outputs when the arm answered', () => {
    const record = (requestId: string, inputs: Record<string, unknown>[], outputs: unknown[], error?: { code: string; message: string }): PredictionLogRecord => ({
      requestId,
      at: '2026-12-06T00:00:00Z',
      model: 'm',
      version: 1,
      arm: 'production',
      inputs,
      outputs,
      latencyMs: 3,
      ...(error && { error }),
    });
    const accumulator = new DriftAccumulator({ features: [{ name: 'x', type: 'numeric' }], task: 'regression' });
    accumulator.addRecords([record('a', [{ x: 1 }, { x: 2 }], [{ value: 10 }, { value: 20 }]), record('b', [{ x: 3 }], [], { code: 'E', message: 'failed' })]);
    expect(accumulator.rows).toBe(3);
    expect(accumulator.summary().prediction).toMatchObject({ rows: 2, values: 2 });
  });

  it('monitoredFeatures leaves out dropped and hashed fields', () => {
    const spec = parseModelSpec({
      name: 'house-prices',
      task: 'regression',
      target: 'y',
      features: [
        { name: 'a', type: 'numeric' },
        { name: 'b', type: 'categorical' },
        { name: 'c', type: 'categorical' },
      ],
      training: { algorithm: 'linear_regression' },
      logging: { drop: ['b'], hash: ['c'] },
    });
    expect(monitoredFeatures(spec)).toEqual({
      features: [{ name: 'a', type: 'numeric' }],
      skipped: [
        { column: 'b', reason: 'dropped from the prediction log (logging.drop)' },
        { column: 'c', reason: 'hashed in the prediction log (logging.hash)' },
      ],
    });
  });
});

describe('bounded memory: seeded reservoirs', () => {
  it('a reservoir keeps at most its capacity, the same sample for the same seed, another for another', () => {
    const fill = (seed: number) => {
      const reservoir = new Reservoir<number>(1000, seed);
      for (let i = 0; i < 50_000; i += 1) reservoir.add(i);
      return reservoir;
    };
    const a = fill(7);
    expect(a.values()).toHaveLength(1000);
    expect(a.seen).toBe(50_000);
    expect(fill(7).values()).toEqual(a.values());
    expect(fill(8).values()).not.toEqual(a.values());
    // Uniform: the sample's mean is near the stream's (sd of the mean ~ 14,434 / sqrt(1000) = 456).
    const mean = a.values().reduce((s, v) => s + v, 0) / 1000;
    expect(Math.abs(mean - 24_999.5)).toBeLessThan(2000);
  });

  it('a window larger than the sample: statistics on the sample, sizes in the report, counts still exact', () => {
    const reference = summarise(large, 'reference', { sampleSize: 500 });
    const current = summarise(large, 'current', { sampleSize: 500, reference });
    expect(WindowSummarySchema.parse(current).columns.every((c) => c.sample.length <= 500)).toBe(true);
    const report = checkDrift({ policy: policy(), task: 'regression', reference, current });
    expect(feature(report, 'x_shifted')).toMatchObject({ method: 'wasserstein', sampled: { reference: 500, current: 500 }, referenceRows: 3000, currentRows: 2000, drifted: true });
    // Counts-based tests stay exact: the Jensen-Shannon over categories equals Evidently's on all rows.
    expect(feature(report, 'tier').sampled).toBeUndefined();
    expectStatistic(feature(report, 'tier').statistic, large.expected.columns.tier!.statistic, 'tier');
    expect(report.sampleSize).toBe(500);
    // Deterministic: the same rows in the same order and the same seed, the same report.
    expect(checkDrift({ policy: policy(), task: 'regression', reference: summarise(large, 'reference', { sampleSize: 500 }), current: summarise(large, 'current', { sampleSize: 500, reference }) })).toEqual(report);
    expect(summarise(large, 'current', { sampleSize: 500, seed: 2 }).columns[0]!.sample).not.toEqual(current.columns[0]!.sample);
  });

  it('KS on a sampled window runs on exactly the two reservoirs, and says so', () => {
    const reference = summarise(small, 'reference', { sampleSize: 200 });
    const current = summarise(small, 'current', { sampleSize: 200, reference });
    const report = checkDrift({ policy: policy(), task: 'regression', reference, current });
    const age = feature(report, 'age');
    const [r, c] = [reference.columns[0]!.sample as number[], current.columns[0]!.sample as number[]];
    expect(age).toMatchObject({ method: 'ks', sampled: { reference: 200, current: 200 }, referenceRows: 575, currentRows: 460 });
    expect(age.pValue).toBe(ksTest(r, c).pValue);
  });

  it('partition boundaries do not change a summary: counts merge exactly, the reservoir sees one stream', () => {
    const rows = rowsOf(large.current);
    const fed = (size: number) => {
      const accumulator = new DriftAccumulator({ features: featuresOf(large), task: 'regression', sampleSize: 300 });
      for (let start = 0; start < rows.length; start += size) accumulator.addRows(rows.slice(start, start + size));
      return accumulator.summary();
    };
    expect(fed(7)).toEqual(fed(1000));
  });

  it('value counts stop at the limit; the sample size cannot pass the exact KS limit', () => {
    const accumulator = new DriftAccumulator({ features: [{ name: 'x', type: 'numeric' }], task: 'regression', sampleSize: 100 });
    for (let i = 0; i <= EXACT_COUNTS_LIMIT; i += 1) accumulator.addRow({ x: i / 7 });
    expect(accumulator.summary().columns[0]).toMatchObject({ counts: null, values: EXACT_COUNTS_LIMIT + 1, min: 0, max: EXACT_COUNTS_LIMIT / 7 });
    expect(accumulator.summary().columns[0]!.sample).toHaveLength(100);
    expect(() => new DriftAccumulator({ features: [], task: 'regression', sampleSize: 10_001 })).toThrow(/10000/);
  });
});
