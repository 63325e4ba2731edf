import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { beforeEach, describe, expect, it } from 'vitest';
import { DriftCheckRecordSchema } from '../../lambdas/contract/drift.js';
import type { Table } from '../../lambdas/core/data/table.js';
import { bootstrapWeights, metricIntervals, quantile, weightedMetric } from '../../lambdas/core/evaluation/champion-gate.js';
import { scoreOnHeldOut } from '../../lambdas/core/evaluation/evaluate.js';
import { runDriftCheck, type DriftCheckStores } from '../../lambdas/core/monitoring/drift-check.js';
import { cbpeWindow, estimateAll, fitIsotonic } from '../../lambdas/core/monitoring/cbpe.js';
import { PerformanceReportSchema, PerformanceWindow, resamplesFor, type JudgeInput } from '../../lambdas/core/monitoring/performance.js';
import { loadReference } from '../../lambdas/core/monitoring/reference.js';
import { loadModelFile } from '../../lambdas/core/serving/model-file.js';
import { predictRows, type FeatureRow } from '../../lambdas/core/serving/predict.js';
import { logPrefix, type FeedbackRecord, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { splitRows, targetOf } from '../../lambdas/core/training/train-model.js';
import { trainRun } from '../../lambdas/core/training/train-run.js';
import { formatDriftCheck, formatDriftCheckList } from '../../lib/client/render/drift.js';
import { driftReportHtml, performanceChartSpec } from '../../lambdas/core/monitoring/drift-html.js';
import { MemoryChecks, MemoryObjects, MemoryRegistry, MemoryRuns, modelVersion, runContext } from './fakes.js';
import { mixedDataset, mixedSpec, parseArtifact } from './helpers.js';
import { ALICE } from './handlers/api-event.js';
import { MemoryLogs } from './rollout-fakes.js';

const spec: ModelSpec = mixedSpec('binary_classification', 'logistic_regression', {
  segments: ['plan', 'region'],
  minSegmentRows: 40,
  monitoring: { referenceSampleSize: 150, minRows: 50, labelDelay: '1h', minLabelCoverage: 0.5 },
});
const table = mixedDataset('binary_classification', 600, 11);

/** The window's traffic: rows like the training data, with their true labels. */
const traffic = mixedDataset('binary_classification', 300, 41);
const at = (name: string) => traffic.header.indexOf(name);
const trafficRows: FeatureRow[] = traffic.rows.map((row) => ({
  age: Number(row[at('age')]),
  income: row[at('income')] === '' ? null : Number(row[at('income')]),
  debt: Number(row[at('debt')]),
  plan: row[at('plan')] === '' ? null : row[at('plan')]!,
}));
const truth = traffic.rows.map((row) => row[at('target')]!);

const SERVED_AT = '2026-12-06T02:30:00.000Z';
const WINDOW = { from: '2026-12-06T02:00:00Z', to: '2026-12-06T03:00:00Z' };

describe('the performance of a window in the drift check', () => {
  let objects: MemoryObjects;
  let registry: MemoryRegistry;
  let checks: MemoryChecks;
  let logs: MemoryLogs;
  let stores: DriftCheckStores;
  let baseline: Record<string, number>;

  beforeEach(async () => {
    objects = new MemoryObjects();
    registry = new MemoryRegistry();
    checks = new MemoryChecks();
    logs = new MemoryLogs();
    await registry.putModel(spec, ALICE);
    const run = runContext(spec);
    const trained = await trainRun(
      { datasets: { loadTable: async () => table }, onnx: () => { throw new Error('no import'); }, models: { put: (key, text) => objects.put('models', key, text) }, runs: new MemoryRuns() },
      { run, spec },
    );
    // The version's held-out metrics, as Evaluate records them.
    baseline = (await scoreOnHeldOut(table as Table, spec, await loadModelFile(objects, trained.artifact))).metrics;
    registry.addVersion(modelVersion(spec, 1, trained.artifact, { dataset: run.dataset, reference: trained.reference, metrics: baseline }));
    registry.pointAlias(spec.name, 'production', 1);
    stores = {
      registry,
      artifacts: objects,
      datasets: { sampleRows: async () => { throw new Error('not used'); } },
      onnx: () => { throw new Error('no import'); },
      logs,
      reports: objects.reports(),
      checks,
    };
    // Serve the traffic in requests of 50 rows.
    const artifact = parseArtifact(new TextDecoder().decode(await objects.getBytes(trained.artifact.uri)));
    const records: PredictionLogRecord[] = [];
    for (let start = 0; start < trafficRows.length; start += 50) {
      const inputs = trafficRows.slice(start, start + 50);
      records.push({ requestId: `req-${start}`, at: SERVED_AT, model: spec.name, version: 1, arm: 'production', inputs, outputs: predictRows(artifact, inputs), latencyMs: 1 });
    }
    logs.put(`${logPrefix('predictions', spec.name, 1, '2026-12-06')}p1`, records, new Date(SERVED_AT));
  });

  /** Labels for the first `count` rows (inverted: the wrong class), arriving at `arrived`. */
  function sendLabels(count: number, arrived: string, inverted = false) {
    const labels: FeedbackRecord[] = truth.slice(0, count).map((label, i) => ({
      requestId: `req-${Math.floor(i / 50) * 50}`,
      row: i % 50,
      model: spec.name,
      version: 1,
      arm: 'production',
      label: inverted ? (label === 'yes' ? 'no' : 'yes') : label,
      at: arrived,
      actor: ALICE,
    }));
    logs.put(`${logPrefix('feedback', spec.name, 1, arrived.slice(0, 10))}f-${arrived}`, labels, new Date(arrived));
  }

  const check = (now: string, suffix = 'abc123') => runDriftCheck(stores, { bufferSeconds: 0 }, { model: spec.name, request: WINDOW, actor: ALICE, now: new Date(now), suffix });

  it('stores a seeded sample of the held-out split with its labels and serving outputs beside the reference', async () => {
    const version = await registry.getVersion(spec.name, 1);
    const reference = await loadReference(objects, version.reference!);
    const { y } = targetOf(table as Table, spec);
    const split = splitRows(table as Table, spec, y);
    expect(reference.heldOut).toBeDefined();
    expect(reference.heldOut!.population).toBe(split.test.length);
    expect(reference.heldOut!.labels).toHaveLength(150);
    expect(new Set(reference.heldOut!.labels)).toEqual(new Set(['yes', 'no']));
    expect(reference.heldOut!.outputs[0]).toMatchObject({ label: expect.any(String), probability: expect.any(Number) });
  });

  it('reads awaiting labels with the CBPE estimate right after serving, shown apart from realized metrics', async () => {
    const { check: record, report } = await check('2026-12-06T03:10:00.000Z');
    const performance = PerformanceReportSchema.parse(report.performance);
    expect(performance).toMatchObject({ status: 'awaiting-labels', metric: 'rocAuc', value: null, decayed: null, realized: null });
    expect(performance.reason).toContain('labels are due at 2026-12-06T04:00:00.000Z');
    expect(performance.estimated).toMatchObject({ method: 'cbpe', rows: 300, calibrationRows: 150 });
    // The estimate is CBPE's on the logged P(positive), calibrated on the stored held-out sample.
    const reference = await loadReference(objects, (await registry.getVersion(spec.name, 1)).reference!);
    const calibration = fitIsotonic(reference.heldOut!.outputs.map((o) => (o as { probability: number }).probability), reference.heldOut!.labels.map((l) => (l === 'yes' ? 1 : 0)));
    const artifact = parseArtifact(new TextDecoder().decode(await objects.getBytes((await registry.getVersion(spec.name, 1)).artifact.uri)));
    const scores = predictRows(artifact, trafficRows).map((p) => (p as { probability: number }).probability);
    const expected = estimateAll(cbpeWindow(calibration, scores));
    const rocAuc = performance.estimated!.metrics.find((m) => m.metric === 'rocAuc')!;
    expect(rocAuc.value).toBeCloseTo(expected.rocAuc, 12);
    expect(rocAuc.interval![0]).toBeLessThan(rocAuc.value!);
    expect(rocAuc.interval![1]).toBeGreaterThan(rocAuc.value!);
    expect(DriftCheckRecordSchema.parse(record).performance).toMatchObject({ status: 'awaiting-labels', value: null, estimated: rocAuc.value, labelled: 0, coverage: 0 });
    const text = formatDriftCheck({ check: record, report });
    expect(text).toContain('performance: AWAITING LABELS (labels are due at 2026-12-06T04:00:00.000Z');
    expect(text).toMatch(/\n {4}estimated \(CBPE\) accuracy \S+ \[\S+, \S+\], f1 \S+ \[\S+, \S+\], rocAuc \S+ \[\S+, \S+\]: estimates from 300 logged outputs, not realized values\n/);
    expect(text).not.toContain('realized (');
    expect(formatDriftCheckList({ model: spec.name, checks: [record] }).split('\n')[1]).toMatch(/awaiting labels \(est\. rocAuc 0\.\d+\)$/);
  });

  it('is still awaiting labels past the delay while coverage is below minLabelCoverage, and judged once enough arrive', async () => {
    sendLabels(100, '2026-12-06T03:30:00.000Z');
    const early = PerformanceReportSchema.parse((await check('2026-12-06T04:30:00.000Z', 'aaaaa1')).report.performance);
    expect(early.status).toBe('awaiting-labels');
    expect(early.reason).toMatch(/100 of 300 logged rows labelled \(33\.3%\), below minLabelCoverage 50%/);

    sendLabels(300, '2026-12-06T04:40:00.000Z');
    const { check: record, report } = await check('2026-12-06T05:00:00.000Z', 'aaaaa2');
    const judged = PerformanceReportSchema.parse(report.performance);
    expect(judged).toMatchObject({ status: 'judged', metric: 'rocAuc', decayed: false, baseline: baseline.rocAuc, tolerance: 0.02 });
    // First label per row wins: the first 100 rows were labelled twice.
    expect(judged.labels).toMatchObject({ logged: 300, labelled: 300, unusable: 0, coverage: 1, duplicateLabels: 100 });
    // The realized metric is the gate's metric on the labelled rows, with the gate's bootstrap interval.
    const artifact = parseArtifact(new TextDecoder().decode(await objects.getBytes((await registry.getVersion(spec.name, 1)).artifact.uri)));
    const outputs = predictRows(artifact, trafficRows).map((p) => [(p as { probabilities: Record<string, number> }).probabilities.no!, (p as { probabilities: Record<string, number> }).probabilities.yes!]);
    const labels = truth.map((label) => (label === 'yes' ? 1 : 0));
    expect(judged.value).toBe(weightedMetric('binary_classification', 'rocAuc', labels, outputs));
    const [gate] = metricIntervals('binary_classification', ['rocAuc'], labels, outputs, spec.gate.champion, spec.gate.champion.seed);
    expect(judged.interval).toEqual(gate!.interval);
    expect(judged.realized!.metrics.map((m) => m.metric)).toEqual(['rocAuc', 'accuracy', 'precision', 'recall', 'f1', 'logLoss']);
    // Per segment: plan values with at least minSegmentRows labelled rows; region is not in the log.
    expect(judged.realized!.segments.map((s) => [s.column, s.value])).toEqual([['plan', 'basic'], ['plan', 'plus'], ['plan', 'pro']]);
    expect(judged.realized!.segments.every((s) => s.rows >= 40)).toBe(true);
    expect(judged.realized!.segmentsSkipped).toEqual([{ column: 'region', reason: 'not a feature of the model, so the prediction log does not carry it' }]);
    // The record carries the realized value, never the estimate, for a judged window.
    expect(record.performance).toMatchObject({ status: 'judged', decayed: false, value: judged.value, estimated: null, labelled: 300, coverage: 1 });
    // The chart's history: the earlier check of the model, then this one.
    expect(judged.history.map((p) => [p.checkId.slice(-6), p.status])).toEqual([['aaaaa1', 'awaiting-labels'], ['aaaaa2', 'judged']]);
  });

  it('has decayed when the whole interval of the live metric lies below held-out minus the tolerance', async () => {
    sendLabels(300, '2026-12-06T03:30:00.000Z', true);
    const { check: record, report } = await check('2026-12-06T05:00:00.000Z');
    const judged = PerformanceReportSchema.parse(report.performance);
    expect(judged.status).toBe('judged');
    expect(judged.interval![1]).toBeLessThan(judged.baseline! - judged.tolerance!);
    expect(judged.decayed).toBe(true);
    expect(record.performance?.decayed).toBe(true);
    expect(judged.reason).toContain('DECAYED');
  });

  it('reads insufficient when the labels are due and cover the window but are fewer than monitoring.minRows', async () => {
    const strict = parseModelSpec({ ...JSON.parse(JSON.stringify(spec)), monitoring: { ...spec.monitoring, minRows: 400 } });
    await registry.putModel(strict, ALICE);
    sendLabels(300, '2026-12-06T03:30:00.000Z');
    const performance = PerformanceReportSchema.parse((await check('2026-12-06T05:00:00.000Z')).report.performance);
    expect(performance).toMatchObject({ status: 'insufficient', value: null, decayed: null, realized: null });
    expect(performance.reason).toBe('300 usable labelled rows, fewer than monitoring.minRows 400');
  });

  it('draws the live or estimated metric over time with intervals in the HTML report', async () => {
    await check('2026-12-06T03:10:00.000Z', 'bbbbb1');
    sendLabels(300, '2026-12-06T03:30:00.000Z');
    const { report } = await check('2026-12-06T05:00:00.000Z', 'bbbbb2');
    const performance = PerformanceReportSchema.parse(report.performance);
    type Layer = { mark?: { type: string }; data: { values: { kind?: string; lower?: number | null; line?: string }[] }; layer?: { mark: { type: string } }[] };
    const chart = performanceChartSpec(performance) as { layer: Layer[] };
    const [points, ...rules] = chart.layer;
    expect(points!.data.values.map((v) => v.kind)).toEqual(['estimated', 'realized']);
    expect(points!.data.values.every((v) => v.lower !== null)).toBe(true);
    expect(points!.layer!.map((l) => l.mark.type)).toEqual(['rule', 'point']);
    expect(rules.map((l) => [l.mark!.type, l.data.values[0]!.line])).toEqual([['rule', 'held-out'], ['rule', 'decay beyond']]);
    // Vega-Lite compiles it and Vega draws a point per check and a rule per interval, baseline and decay line.
    const view = new View(parse(compile(chart as unknown as TopLevelSpec).spec), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    expect(svg.match(/aria-roledescription="point"/g)).toHaveLength(2);
    // Three rule layers: the intervals, the held-out baseline, the decay line.
    expect(svg.match(/class="mark-rule role-mark/g)).toHaveLength(3);
    const html = driftReportHtml(report as Parameters<typeof driftReportHtml>[0], '/* libraries */');
    expect(html).toContain('<h2>Performance</h2>');
    expect(html).toContain('"id":"chart-performance"');
  });
});

describe('performance windows without a held-out sample, or not binary', () => {
  const base = (over: Partial<JudgeInput> = {}): JudgeInput => ({
    spec,
    window: { from: '2026-12-01T00:00:00.000Z', to: '2026-12-01T01:00:00.000Z' },
    now: new Date('2026-12-01T01:10:00.000Z'),
    logged: 10,
    duplicateLabels: 0,
    baseline: { rocAuc: 0.8 },
    heldOut: undefined,
    unsegmentable: new Map(),
    checkId: '20261201T011000000Z-abcdef',
    version: 3,
    history: [],
    ...over,
  });

  it('says why there is no estimate for a version stored before held-out samples', () => {
    const window = new PerformanceWindow(spec, ['no', 'yes']);
    window.addOutput({ label: 'yes', probability: 0.7, probabilities: { no: 0.3, yes: 0.7 } });
    const report = window.judge(base());
    expect(report.estimated).toBeNull();
    expect(report.estimateUnavailable).toMatch(/no held-out sample to calibrate on/);
  });

  it('gives regression no estimate, and counts labelled rows whose arm failed as unusable', () => {
    const regression = mixedSpec('regression', 'linear_regression', { monitoring: { minRows: 1, labelDelay: '1m' } });
    const window = new PerformanceWindow(regression, undefined);
    window.addLabelled({ label: 41.5, output: { value: 40 }, input: {} });
    window.addLabelled({ label: 20, output: undefined, input: {} });
    const report = window.judge(base({ spec: regression, logged: 2, baseline: { rmse: 1 } }));
    expect(report).toMatchObject({ status: 'judged', metric: 'rmse', value: 1.5, estimated: null, labels: { labelled: 2, unusable: 1 } });
    expect(report.estimateUnavailable).toMatch(/binary classifiers; this model is regression/);
    // rmse is lower-is-better with a 5% relative tolerance: 1.5 is beyond 1.05. One row's bootstrap interval is the
    // point itself: monitoring.minRows (here 1) is what keeps so small a window from being judged.
    expect(report.tolerance).toBeCloseTo(0.05, 12);
    expect(report.interval).toEqual([1.5, 1.5]);
    expect(report.decayed).toBe(true);
  });

  it("metricIntervals is the gate's bootstrap on one model: its weighted metric over bootstrapWeights, type-7 percentiles", () => {
    const labels = [0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0];
    const outputs = labels.map((label, i) => {
      const p = Math.min(0.95, Math.max(0.05, (label ? 0.65 : 0.35) + ((i * 37) % 11) / 30 - 0.17));
      return [1 - p, p];
    });
    const policy = { confidence: 0.9, resamples: 200 };
    const [auc, accuracy] = metricIntervals('binary_classification', ['rocAuc', 'accuracy'], labels, outputs, policy, 5);
    const byHand = (metric: string) => {
      const draws: number[] = [];
      for (const w of bootstrapWeights(5, labels.length, policy.resamples)) {
        const value = weightedMetric('binary_classification', metric, labels, outputs, [...w]);
        if (Number.isFinite(value)) draws.push(value);
      }
      const sorted = Float64Array.from(draws).sort();
      return [quantile(sorted, sorted.length, 0.05), quantile(sorted, sorted.length, 0.95)];
    };
    expect(accuracy).toMatchObject({ metric: 'accuracy', value: weightedMetric('binary_classification', 'accuracy', labels, outputs), interval: byHand('accuracy') });
    expect(auc!.value).toBe(weightedMetric('binary_classification', 'rocAuc', labels, outputs));
    expect(auc!.interval).toEqual(byHand('rocAuc'));
  });

  it('cuts the bootstrap resamples on very large windows, never below 100', () => {
    expect(resamplesFor(1000, 1000)).toBe(1000);
    expect(resamplesFor(40_000, 1000)).toBe(250);
    expect(resamplesFor(10_000_000, 1000)).toBe(100);
  });
});
