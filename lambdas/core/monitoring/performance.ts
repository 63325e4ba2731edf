import { z } from 'zod';
import { bootstrapWeights, metricIntervals, quantile, segmentSeed, weightedMetric, type MetricInterval } from '../evaluation/champion-gate.js';
import { segmentBy, pickRows } from '../evaluation/metrics.js';
import type { CheckWindow } from '../serving/rollout-evidence.js';
import { championMetrics, COMPARABLE_METRICS, durationMs, LOWER_IS_BETTER, type ModelSpec } from '../training/model-spec.js';
import { CBPE_METRICS, cbpeWindow, estimateAll, fitIsotonic } from './cbpe.js';
import { readLabelledWindow, type LabelledRow } from './labelled-window.js';
import type { HeldOutSample } from './reference.js';
import type { DriftCheckRecord } from '../../contract/drift.js';
import { classesOf } from '../evaluation/held-out.js';
import { loadModelFile, type ArtifactBytes } from '../serving/model-file.js';
import type { Arm } from '../serving/records.js';
import type { LogObjects } from '../serving/rollout-evidence.js';
import type { ModelVersion } from '../registry/records.js';

/**
 * The performance of a window of traffic once its labels arrive (feedback joined to the log by
 * request id and row: core/monitoring/labelled-window.ts), inside the drift check.
 *
 * When a window is judged:
 * - its labels are due: window end + `monitoring.labelDelay` <= now;
 * - enough of them came: labelled rows / logged rows >= `monitoring.minLabelCoverage`.
 * Before both, the window reads `awaiting-labels`. Due and covered but with fewer usable labelled
 * rows than `monitoring.minRows` (the same minimum a window needs for drift verdicts), it reads
 * `insufficient`. Otherwise `judged`.
 *
 * Judged: the gate's metrics (COMPARABLE_METRICS of the task, its definitions) on the labelled rows,
 * overall and per value of each `segments` column with at least `minSegmentRows` rows; the primary
 * metric (below) with the gate's seeded bootstrap interval (core/evaluation/champion-gate.ts
 * metricIntervals: `gate.champion.confidence`, `resamples`, `seed`, a segment's own seed as the gate
 * derives it), the others as values (one interval keeps a check within API Gateway's 29 s).
 *
 * Concept drift (`decayed`): the metric is the champion gate's primary one, the first of
 * `gate.champion.metrics` (default: rocAuc for binary, accuracy for multiclass, rmse for
 * regression), with the gate's tolerance for it (absolute, or relative to the baseline). The
 * baseline is the version's held-out value of that metric (the version record's metrics). The
 * window has decayed when the WHOLE interval lies beyond the tolerance on the worse side
 * (higher-is-better: upper end < baseline - tolerance): an alarm needs evidence of decay, where the
 * release gate needs evidence of no regression. Only judged windows can decay.
 *
 * Estimated (binary classifiers): CBPE (core/monitoring/cbpe.ts) on every logged output of the
 * window, calibrated on the version's held-out sample (stored with its reference). Estimates sit in
 * their own section, labelled as estimated, with an interval from the same bootstrap over the
 * window's rows (it reflects which rows came, not how their labels will fall). Versions without a
 * held-out sample get no estimate, and the report says so.
 *
 * Cost: bootstrap work is rows x resamples; above MAX_BOOTSTRAP_DRAWS the resamples are cut (never
 * below 100) and the report states the number used: the labelled rows' resamples serve the overall
 * interval and every segment's, the window's rows' the estimates'.
 */

export const PERFORMANCE_STATUSES = ['awaiting-labels', 'insufficient', 'judged'] as const;
export type PerformanceStatus = (typeof PERFORMANCE_STATUSES)[number];

/** rows x resamples above which the resamples are cut (a second or two of work per group of rows). */
export const MAX_BOOTSTRAP_DRAWS = 10_000_000;
const MIN_RESAMPLES = 100;

const Interval = z.tuple([z.number(), z.number()]).nullable();

const MetricValueSchema = z.object({
  metric: z.string(),
  /** null when undefined on the rows (JSON has no NaN). */
  value: z.number().nullable(),
  interval: Interval,
  /** Why there is no interval. */
  insufficient: z.string().optional(),
});
export type MetricValue = z.infer<typeof MetricValueSchema>;

/** One point of the metric-over-time chart: a check of this model (the current one included). */
export const PerformancePointSchema = z.object({
  checkId: z.string(),
  version: z.number().int(),
  windowTo: z.string(),
  status: z.enum(PERFORMANCE_STATUSES),
  metric: z.string(),
  value: z.number().nullable(),
  interval: Interval,
  estimated: z.number().nullable(),
  estimatedInterval: Interval,
  baseline: z.number().nullable(),
});
export type PerformancePoint = z.infer<typeof PerformancePointSchema>;

/** The `performance` section of a drift check's JSON report. */
export const PerformanceReportSchema = z.object({
  status: z.enum(PERFORMANCE_STATUSES),
  /** Why the window has this status, in words. */
  reason: z.string(),
  /** The champion gate's primary metric, the one judged for decay. */
  metric: z.string(),
  /** The gate's tolerance for it, in the metric's units. */
  tolerance: z.number().nullable(),
  /** The version's held-out value of the metric. */
  baseline: z.number().nullable(),
  /** The realized metric and its interval (judged only). */
  value: z.number().nullable(),
  interval: Interval,
  /** Judged and the whole interval is beyond the tolerance on the worse side; null when not judged or not decidable. */
  decayed: z.boolean().nullable(),
  labels: z.object({
    /** Logged rows of the version and arm in the window. */
    logged: z.number().int().nonnegative(),
    /** Of those, rows with a label (first label per request row). */
    labelled: z.number().int().nonnegative(),
    /** Labelled rows the metrics cannot use (the arm failed, or an output or label of the wrong shape). */
    unusable: z.number().int().nonnegative(),
    coverage: z.number().min(0).max(1),
    minLabelCoverage: z.number(),
    labelDelay: z.string(),
    /** When the window's labels are due (window end + labelDelay). */
    dueAt: z.string(),
    /** Fewest usable labelled rows a judged window rests on (monitoring.minRows). */
    minRows: z.number().int(),
    duplicateLabels: z.number().int().nonnegative(),
  }),
  bootstrap: z.object({ confidence: z.number(), resamples: z.number().int(), seed: z.number().int() }),
  /** Realized metrics on the labelled rows, judged windows only. */
  realized: z
    .object({
      /** The primary metric first, with its interval; the gate's other metrics as values (interval null). */
      metrics: z.array(MetricValueSchema),
      /** Per segment value: the same. */
      segments: z.array(z.object({ column: z.string(), value: z.string(), rows: z.number().int(), metrics: z.array(MetricValueSchema) })),
      /** Segment columns with no per-value metrics, and why. */
      segmentsSkipped: z.array(z.object({ column: z.string(), reason: z.string() })),
    })
    .nullable(),
  /** CBPE's estimates (binary classifiers with a held-out sample): never realized values. */
  estimated: z
    .object({
      method: z.literal('cbpe'),
      /** Logged outputs the estimate is over. */
      rows: z.number().int().nonnegative(),
      /** Held-out rows the isotonic calibration was fitted on. */
      calibrationRows: z.number().int().nonnegative(),
      metrics: z.array(MetricValueSchema),
    })
    .nullable(),
  /** Why there is no estimate (not binary, no held-out sample, no outputs). */
  estimateUnavailable: z.string().nullable(),
  /** This model's recent checks on the same arm, oldest first, ending with this one: the chart's points. */
  history: z.array(PerformancePointSchema),
});
export type PerformanceReport = z.infer<typeof PerformanceReportSchema>;

/** A labelled row as the metrics take it. */
interface UsableRow {
  label: number;
  output: number[];
  segments: string[];
}

const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

const toValue = (result: MetricInterval): MetricValue => ({
  metric: result.metric,
  value: finiteOrNull(result.value),
  interval: result.interval ?? null,
  ...(result.insufficient !== undefined && { insufficient: result.insufficient }),
});

/** Resamples for `rows` rows: the policy's, cut so that rows x resamples stays within MAX_BOOTSTRAP_DRAWS. */
export const resamplesFor = (rows: number, resamples: number) => Math.max(MIN_RESAMPLES, Math.min(resamples, Math.floor(MAX_BOOTSTRAP_DRAWS / Math.max(1, rows))));

/**
 * Collects a window's evidence as the log is read: the labelled rows (label, output and segment
 * values only, never the whole input) and, for binary classifiers, P(positive) of every logged
 * output (8 bytes a row) for the CBPE estimate.
 */
export class PerformanceWindow {
  private readonly rows: UsableRow[] = [];
  private unusableRows = 0;
  private scores = new Float64Array(1024);
  private scored = 0;
  private readonly binary: boolean;

  constructor(
    private readonly spec: Pick<ModelSpec, 'task' | 'segments'>,
    /** The version's classes (its model file); required for classification. */
    private readonly classes: readonly string[] | undefined,
  ) {
    this.binary = spec.task === 'binary_classification' && classes?.length === 2;
  }

  /** The model's output as numbers (class probabilities in the version's class order, or [value]); undefined when not of that shape. */
  private outputOf(output: unknown): number[] | undefined {
    if (output === null || typeof output !== 'object') return undefined;
    const o = output as { value?: unknown; probabilities?: unknown };
    if (this.spec.task === 'regression') return typeof o.value === 'number' && Number.isFinite(o.value) ? [o.value] : undefined;
    const probabilities = o.probabilities as Record<string, unknown> | undefined;
    if (!this.classes || !probabilities || typeof probabilities !== 'object') return undefined;
    const values = this.classes.map((label) => (Object.hasOwn(probabilities, label) ? probabilities[label] : undefined));
    return values.every((p): p is number => typeof p === 'number' && Number.isFinite(p)) ? values : undefined;
  }

  private labelOf(label: string | number): number | undefined {
    if (this.spec.task === 'regression') return typeof label === 'number' && Number.isFinite(label) ? label : undefined;
    const index = this.classes?.indexOf(String(label)) ?? -1;
    return index < 0 ? undefined : index;
  }

  /** A logged output of the window (every row, labelled or not). */
  addOutput(output: unknown): void {
    if (!this.binary) return;
    const p = (output as { probability?: unknown } | null)?.probability;
    if (typeof p !== 'number' || !Number.isFinite(p)) return;
    if (this.scored === this.scores.length) {
      const grown = new Float64Array(this.scores.length * 2);
      grown.set(this.scores);
      this.scores = grown;
    }
    this.scores[this.scored++] = p;
  }

  /** A labelled row from the join. */
  addLabelled(row: Pick<LabelledRow, 'label' | 'output' | 'input'>): void {
    const output = this.outputOf(row.output);
    const label = this.labelOf(row.label);
    if (output === undefined || label === undefined) {
      this.unusableRows += 1;
      return;
    }
    const segments = this.spec.segments.map((column) => {
      const value = row.input[column];
      return value === null || value === undefined || value === '' ? '(missing)' : String(value);
    });
    this.rows.push({ label, output, segments });
  }

  get labelled(): number {
    return this.rows.length + this.unusableRows;
  }

  /** The window's verdict; `history` is the earlier points of the chart (oldest first), this check's point is appended. */
  judge(input: JudgeInput): PerformanceReport {
    return judgePerformance(input, {
      rows: this.rows,
      unusable: this.unusableRows,
      scores: this.binary ? this.scores.subarray(0, this.scored) : undefined,
      classes: this.classes,
    });
  }
}

export interface JudgeInput {
  spec: ModelSpec;
  window: CheckWindow;
  now: Date;
  /** Logged rows of the version and arm in the window (the join's `rows`). */
  logged: number;
  duplicateLabels: number;
  /** The version's held-out metrics (its record's `metrics`). */
  baseline: Readonly<Record<string, number>>;
  /** The version's held-out sample (its reference's `heldOut`), for the CBPE calibration. */
  heldOut: HeldOutSample | undefined;
  /** Columns of the log that cannot be segmented on, and why (dropped from the log, or not a logged feature). */
  unsegmentable: ReadonlyMap<string, string>;
  checkId: string;
  version: number;
  history: readonly PerformancePoint[];
}

function statusOf(input: JudgeInput, usable: number, labelled: number): { status: PerformanceStatus; reason: string; dueAt: string; coverage: number } {
  const { spec, window, now, logged } = input;
  const { labelDelay, minLabelCoverage, minRows } = spec.monitoring;
  const due = Date.parse(window.to) + durationMs(labelDelay);
  const dueAt = new Date(due).toISOString();
  const coverage = logged > 0 ? Math.min(1, labelled / logged) : 0;
  const percent = (x: number) => `${Number((x * 100).toFixed(1))}%`;
  if (due > now.getTime()) return { status: 'awaiting-labels', reason: `labels are due at ${dueAt} (window end + labelDelay ${labelDelay})`, dueAt, coverage };
  if (logged === 0) return { status: 'insufficient', reason: 'no logged rows in the window', dueAt, coverage };
  if (coverage < minLabelCoverage) {
    return { status: 'awaiting-labels', reason: `${labelled} of ${logged} logged rows labelled (${percent(coverage)}), below minLabelCoverage ${percent(minLabelCoverage)}`, dueAt, coverage };
  }
  if (usable < minRows) return { status: 'insufficient', reason: `${usable} usable labelled rows, fewer than monitoring.minRows ${minRows}`, dueAt, coverage };
  return { status: 'judged', reason: `${labelled} of ${logged} logged rows labelled (${percent(coverage)}), labels due at ${dueAt}`, dueAt, coverage };
}

function estimate(input: JudgeInput, scores: Float64Array | undefined, classes: readonly string[] | undefined): { estimated: PerformanceReport['estimated']; unavailable: string | null } {
  if (input.spec.task !== 'binary_classification') return { estimated: null, unavailable: `CBPE estimates binary classifiers; this model is ${input.spec.task}` };
  if (!input.heldOut) return { estimated: null, unavailable: 'the version has no held-out sample to calibrate on (trained before held-out samples were stored with the reference): no estimate' };
  if (!scores || scores.length === 0) return { estimated: null, unavailable: 'no logged outputs in the window to estimate on' };
  const positive = classes?.[1];
  const labels: number[] = [];
  const heldScores: number[] = [];
  input.heldOut.labels.forEach((label, i) => {
    const p = (input.heldOut!.outputs[i] as { probability?: unknown } | null)?.probability;
    if (typeof p === 'number' && Number.isFinite(p)) {
      labels.push(String(label) === positive ? 1 : 0);
      heldScores.push(p);
    }
  });
  if (heldScores.length === 0) return { estimated: null, unavailable: 'the held-out sample has no usable outputs: no estimate' };
  const window = cbpeWindow(fitIsotonic(heldScores, labels), scores);
  const policy = input.spec.gate.champion;
  const resamples = resamplesFor(window.rows, policy.resamples);
  const draws = CBPE_METRICS.map(() => new Float64Array(resamples));
  const valid = CBPE_METRICS.map(() => 0);
  for (const w of bootstrapWeights(policy.seed, window.rows, resamples)) {
    const values = estimateAll(window, w);
    CBPE_METRICS.forEach((metric, j) => {
      if (Number.isFinite(values[metric])) draws[j]![valid[j]!++] = values[metric];
    });
  }
  const alpha = (1 - policy.confidence) / 2;
  const point = estimateAll(window);
  const metrics = CBPE_METRICS.map((metric, j): MetricValue => {
    const value = point[metric];
    const count = valid[j]!;
    if (!Number.isFinite(value) || count < resamples * 0.99) {
      return { metric, value: finiteOrNull(value), interval: null, insufficient: `${metric} cannot be estimated in ${resamples - count} of ${resamples} resamples of these ${window.rows} rows` };
    }
    const sorted = draws[j]!.subarray(0, count).sort();
    return { metric, value, interval: [quantile(sorted, count, alpha), quantile(sorted, count, 1 - alpha)] };
  });
  return { estimated: { method: 'cbpe', rows: window.rows, calibrationRows: heldScores.length, metrics }, unavailable: null };
}

function judgePerformance(input: JudgeInput, collected: { rows: UsableRow[]; unusable: number; scores: Float64Array | undefined; classes: readonly string[] | undefined }): PerformanceReport {
  const { spec } = input;
  const policy = spec.gate.champion;
  const [metric, limit] = Object.entries(championMetrics(spec))[0]!;
  const baseline = input.baseline[metric];
  const baselineValue = baseline !== undefined && Number.isFinite(baseline) ? baseline : null;
  const tolerance = baselineValue === null ? (limit.tolerance ?? null) : (limit.tolerance ?? (limit.relativeTolerance ?? 0) * Math.abs(baselineValue));
  const labelled = collected.rows.length + collected.unusable;
  const { status, reason, dueAt, coverage } = statusOf(input, collected.rows.length, labelled);

  let realized: PerformanceReport['realized'] = null;
  let value: number | null = null;
  let interval: [number, number] | null = null;
  let decayed: boolean | null = null;
  let why = reason;
  const resamples = resamplesFor(collected.rows.length, policy.resamples);
  if (status === 'judged') {
    const metrics = [metric, ...COMPARABLE_METRICS[spec.task].filter((name) => name !== metric)];
    const labels = collected.rows.map((row) => row.label);
    const outputs = collected.rows.map((row) => row.output);
    const bootstrap = { confidence: policy.confidence, resamples };
    // The primary metric with its interval; the others as values (the check answers within API Gateway's 29 s).
    const [primaryInterval] = metricIntervals(spec.task, [metric], labels, outputs, bootstrap, policy.seed);
    const overall = [toValue(primaryInterval!), ...metrics.slice(1).map((name): MetricValue => ({ metric: name, value: finiteOrNull(weightedMetric(spec.task, name, labels, outputs)), interval: null }))];
    const segments: NonNullable<PerformanceReport['realized']>['segments'] = [];
    const segmentsSkipped: NonNullable<PerformanceReport['realized']>['segmentsSkipped'] = [];
    spec.segments.forEach((column, c) => {
      const skipped = input.unsegmentable.get(column);
      if (skipped !== undefined) {
        segmentsSkipped.push({ column, reason: skipped });
        return;
      }
      const groups = segmentBy(collected.rows.map((row) => row.segments[c]!), spec.minSegmentRows);
      if (groups.size === 0) segmentsSkipped.push({ column, reason: `no value has minSegmentRows ${spec.minSegmentRows} labelled rows` });
      for (const [segment, rows] of groups) {
        const segmentLabels = pickRows(labels, rows);
        const segmentOutputs = pickRows(outputs, rows);
        // The primary metric with its interval (its own seed, as the gate seeds a segment); the others as values.
        // The overall resamples: the segments together cost no more than the overall interval.
        const [primary] = metricIntervals(spec.task, [metric], segmentLabels, segmentOutputs, bootstrap, segmentSeed(policy.seed, column, segment));
        const others = metrics.slice(1).map((name): MetricValue => ({ metric: name, value: finiteOrNull(weightedMetric(spec.task, name, segmentLabels, segmentOutputs)), interval: null }));
        segments.push({ column, value: segment, rows: rows.length, metrics: [toValue(primary!), ...others] });
      }
    });
    realized = { metrics: overall, segments, segmentsSkipped };
    const primary = overall[0]!;
    value = primary.value;
    interval = primary.interval;
    if (interval && baselineValue !== null && tolerance !== null) {
      decayed = LOWER_IS_BETTER.has(metric) ? interval[0] > baselineValue + tolerance : interval[1] < baselineValue - tolerance;
      const [lo, hi] = interval.map((x) => Number(x.toFixed(4)));
      why += `; ${metric} ${Number(value!.toFixed(4))} (${Number((policy.confidence * 100).toFixed(2))}% CI [${lo}, ${hi}]) against held-out ${Number(baselineValue.toFixed(4))} with tolerance ${Number(tolerance.toFixed(4))}: ${decayed ? 'DECAYED' : 'no decay shown'}`;
    } else {
      why += baselineValue === null ? `; the version has no held-out ${metric} to compare with` : `; ${primary.insufficient ?? `${metric} has no interval`}`;
    }
  }

  const { estimated, unavailable } = estimate(input, collected.scores, collected.classes);
  const estimatedPrimary = estimated?.metrics.find((m) => m.metric === metric);
  const point: PerformancePoint = {
    checkId: input.checkId,
    version: input.version,
    windowTo: input.window.to,
    status,
    metric,
    value,
    interval,
    estimated: estimatedPrimary?.value ?? null,
    estimatedInterval: estimatedPrimary?.interval ?? null,
    baseline: baselineValue,
  };
  return {
    status,
    reason: why,
    metric,
    tolerance,
    baseline: baselineValue,
    value,
    interval,
    decayed,
    labels: {
      logged: input.logged,
      labelled,
      unusable: collected.unusable,
      coverage,
      minLabelCoverage: spec.monitoring.minLabelCoverage,
      labelDelay: spec.monitoring.labelDelay,
      dueAt,
      minRows: spec.monitoring.minRows,
      duplicateLabels: input.duplicateLabels,
    },
    bootstrap: { confidence: policy.confidence, resamples, seed: policy.seed },
    realized,
    estimated,
    estimateUnavailable: estimated ? (estimatedPrimary ? null : `CBPE estimates ${CBPE_METRICS.join(', ')}, not ${metric}`) : unavailable,
    history: [...input.history, point],
  };
}

/** The check record's summary of a performance report (contract/drift.ts DriftCheckRecord.performance). */
export function performanceSummary(report: PerformanceReport): NonNullable<DriftCheckRecord['performance']> {
  const estimatedPrimary = report.estimated?.metrics.find((m) => m.metric === report.metric);
  // The estimate is recorded only while labels are awaited: a judged window has its realized value instead.
  const estimated = report.status === 'judged' ? null : (estimatedPrimary?.value ?? null);
  return {
    status: report.status,
    decayed: report.decayed,
    metric: report.metric,
    value: report.value,
    baseline: report.baseline,
    estimated,
    labelled: report.labels.labelled,
    coverage: report.labels.coverage,
    interval: report.interval,
    estimatedInterval: report.status === 'judged' ? null : (estimatedPrimary?.interval ?? null),
  };
}

/** A recorded check's point on the chart (checks from before performance windows have none). */
export function historyPoint(check: Pick<DriftCheckRecord, 'checkId' | 'version' | 'window' | 'performance'>): PerformancePoint | undefined {
  const p = check.performance;
  if (!p) return undefined;
  return {
    checkId: check.checkId,
    version: check.version,
    windowTo: check.window.to,
    status: p.status,
    metric: p.metric,
    value: p.value,
    interval: p.interval ?? null,
    estimated: p.estimated,
    estimatedInterval: p.estimatedInterval ?? null,
    baseline: p.baseline,
  };
}

/** Points of the metric-over-time chart: this model's latest checks on the arm. */
export const HISTORY_CHECKS = 30;

/** The evidence collector for a version's window: its classes come from its model file (sha256 checked). */
export async function performanceWindowFor(stores: { artifacts: ArtifactBytes }, spec: ModelSpec, version: Pick<ModelVersion, 'artifact'>): Promise<PerformanceWindow> {
  const classes = spec.task === 'regression' ? undefined : classesOf(await loadModelFile(stores.artifacts, version.artifact));
  return new PerformanceWindow(spec, classes);
}

/** Segment columns the prediction log cannot be grouped by, and why. */
export function unsegmentable(spec: Pick<ModelSpec, 'segments' | 'features' | 'logging'>): Map<string, string> {
  const features = new Set(spec.features.map((feature) => feature.name));
  const out = new Map<string, string>();
  for (const column of spec.segments) {
    if (!features.has(column)) out.set(column, 'not a feature of the model, so the prediction log does not carry it');
    else if (spec.logging.drop.includes(column)) out.set(column, 'dropped from the prediction log (logging.drop)');
    else if (spec.logging.hash.includes(column)) out.set(column, 'hashed in the prediction log (logging.hash)');
  }
  return out;
}

/**
 * The performance section of a drift check: the window's labelled rows (the join, reading labels
 * that arrived up to `now`), the window's outputs already fed to `collected` while the drift check
 * streamed the log, and this model's recent checks on the arm for the chart.
 */
export async function windowPerformance(
  stores: { logs: LogObjects; checks: { list(model: string, limit: number): Promise<DriftCheckRecord[]> } },
  collected: PerformanceWindow,
  input: { model: string; spec: ModelSpec; version: Pick<ModelVersion, 'version' | 'metrics'>; arm: Arm; window: CheckWindow; now: Date; heldOut: HeldOutSample | undefined; checkId: string },
): Promise<PerformanceReport> {
  const read = await readLabelledWindow(stores.logs, input.model, { version: input.version.version, arm: input.arm }, input.window, input.now, (row) => collected.addLabelled(row));
  const history = (await stores.checks.list(input.model, HISTORY_CHECKS))
    .filter((check) => check.arm === input.arm)
    .map(historyPoint)
    .filter((point): point is PerformancePoint => point !== undefined)
    .reverse();
  return collected.judge({
    spec: input.spec,
    window: input.window,
    now: input.now,
    logged: read.rows,
    duplicateLabels: read.duplicateLabels,
    baseline: input.version.metrics,
    heldOut: input.heldOut,
    unsegmentable: unsegmentable(input.spec),
    checkId: input.checkId,
    version: input.version.version,
    history,
  });
}
