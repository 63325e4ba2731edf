import { z } from 'zod';
import { bootstrapWeights, percent, quantile, segmentSeed, short } from '../evaluation/champion-gate.js';
import { jensenShannon, psi, type Category, type DataKind } from '../monitoring/distance.js';
import {
  ChampionPolicySchema,
  DEFAULT_CHAMPION_METRICS,
  LOWER_IS_BETTER,
  isClassification,
  type ChampionTolerance,
  type RolloutPolicy,
  type Task,
} from '../training/model-spec.js';
import type { FeedbackRecord, PredictionLogRecord } from './records.js';

/**
 * RolloutCheck: after a bake, compares the new arm (canary or shadow) with production over the
 * bake window and decides the rollout's next move. Pure: the caller reads the window of the
 * prediction log and the feedback, waits out the log's buffer, and acts on the decision.
 *
 * - too few requests in either arm (or, for shadow, scored by both): `extend` the bake while
 *   `extensions < policy.maxBakeExtensions`, then `hold`. It never promotes on too little evidence,
 *   and it does not roll back on it either (the other signals are still reported, as evidence);
 * - otherwise any failing signal: `rollback`; all signals ok: `advance`.
 */

export const ROLLOUT_MODES = ['canary', 'shadow'] as const;
export type RolloutMode = (typeof ROLLOUT_MODES)[number];
export const ROLLOUT_DECISIONS = ['advance', 'rollback', 'extend', 'hold'] as const;
export type RolloutDecision = (typeof ROLLOUT_DECISIONS)[number];

/** Metrics the live comparison can compute from logged predictions and labels. */
export const LIVE_METRICS = ['accuracy', 'rmse', 'mae'] as const;
export type LiveMetric = (typeof LIVE_METRICS)[number];

/** One signal of the check; the result crosses into Step Functions and the S3 report, hence schemas. */
export const RolloutSignalSchema = z.object({
  /** `traffic`, `errorRate`, `latencyP99Ms`, `predictionShift`, `agreement` or `liveMetric.<metric>`. */
  name: z.string(),
  /** The measured value; null when there was nothing to measure. */
  value: z.number().nullable(),
  threshold: z.number(),
  ok: z.boolean(),
  /** A sentence with the value, the limit and the counts behind them. */
  detail: z.string(),
  /** Live metrics: the confidence interval of candidate - production, oriented so that positive is better. */
  interval: z.tuple([z.number(), z.number()]).optional(),
});
export type RolloutSignal = z.infer<typeof RolloutSignalSchema>;

export const RolloutCheckResultSchema = z.object({
  decision: z.enum(ROLLOUT_DECISIONS),
  signals: z.array(RolloutSignalSchema),
  /** One sentence naming the signal at fault and its value (or why all passed). */
  reason: z.string(),
});
export type RolloutCheckResult = z.infer<typeof RolloutCheckResultSchema>;

export interface LiveMetricOptions {
  /** Metrics and how much worse the candidate may be. @default DEFAULT_CHAMPION_METRICS for the task, restricted to LIVE_METRICS */
  readonly metrics?: Record<string, ChampionTolerance>;
  /** @default the champion gate's (0.95, 1000 resamples, seed 1) */
  readonly confidence?: number;
  readonly resamples?: number;
  readonly seed?: number;
}

export interface RolloutCheckInput {
  readonly policy: RolloutPolicy;
  readonly task: Task;
  readonly mode: RolloutMode;
  /** Production's records over the bake window. */
  readonly baseline: readonly PredictionLogRecord[];
  /** The canary's or the shadow's records over the same window. */
  readonly candidate: readonly PredictionLogRecord[];
  /** Labels that arrived for requests of the window (joined by requestId and row). */
  readonly labels?: readonly FeedbackRecord[];
  /** How many times this step's bake was already extended. */
  readonly extensions: number;
  readonly liveMetric?: LiveMetricOptions;
}

/** Default largest prediction shift per method: Evidently's drift threshold for Jensen-Shannon, the usual "significant" PSI. */
export const DEFAULT_MAX_PREDICTION_SHIFT = { jensenshannon: 0.1, psi: 0.2 } as const;

/** One scored row of one arm, keyed `requestId#row`. */
interface RowPrediction {
  readonly key: string;
  /** Classification: the predicted class. */
  readonly label?: string;
  /** Binary: P(positive); regression: the value. */
  readonly score?: number;
}

/** What the check needs of one arm's records. */
interface ArmWindow {
  readonly arm: string;
  readonly requests: number;
  readonly errors: number;
  /** Latency of the requests the arm answered (failed requests have no meaningful latency). */
  readonly latencies: number[];
  readonly rows: Map<string, RowPrediction>;
  /** Outputs that do not have the task's shape (counted, left out). */
  readonly unreadable: number;
}

const OUTPUT_SCHEMAS = {
  binary_classification: z.object({ label: z.string(), probability: z.number() }),
  multiclass_classification: z.object({ label: z.string() }),
  regression: z.object({ value: z.number() }),
} as const;

const rowKey = (requestId: string, row: number) => `${requestId}#${row}`;

function readOutput(task: Task, key: string, output: unknown): RowPrediction | undefined {
  const parsed = OUTPUT_SCHEMAS[task].safeParse(output);
  if (!parsed.success) return undefined;
  const data = parsed.data as { label?: string; probability?: number; value?: number };
  if (task === 'binary_classification') return { key, label: data.label!, score: data.probability! };
  if (task === 'multiclass_classification') return { key, label: data.label! };
  return Number.isFinite(data.value) ? { key, score: data.value! } : undefined;
}

/** One record per request id: Firehose delivers at least once, so a record may arrive twice. */
function oncePerRequest(records: readonly PredictionLogRecord[]): PredictionLogRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    if (seen.has(record.requestId)) return false;
    seen.add(record.requestId);
    return true;
  });
}

function armWindow(task: Task, arm: string, records: readonly PredictionLogRecord[]): ArmWindow {
  const rows = new Map<string, RowPrediction>();
  const latencies: number[] = [];
  let errors = 0;
  let unreadable = 0;
  const unique = oncePerRequest(records);
  for (const record of unique) {
    if (record.error) {
      errors += 1;
      continue;
    }
    latencies.push(record.latencyMs);
    record.outputs.forEach((output, row) => {
      const prediction = readOutput(task, rowKey(record.requestId, row), output);
      if (prediction) rows.set(prediction.key, prediction);
      else unreadable += 1;
    });
  }
  return { arm, requests: unique.length, errors, latencies, rows, unreadable };
}

/** Request ids both arms answered: the shadow's comparable traffic. */
function sharedRequests(a: readonly PredictionLogRecord[], b: readonly PredictionLogRecord[]): number {
  const answered = (records: readonly PredictionLogRecord[]) => new Set(records.filter((r) => !r.error).map((r) => r.requestId));
  const inA = answered(a);
  let shared = 0;
  for (const id of answered(b)) if (inA.has(id)) shared += 1;
  return shared;
}

const fmt = (value: number | null, threshold?: number) => (value === null ? 'n/a' : short(value, threshold));

function trafficSignal(input: RolloutCheckInput, baseline: ArmWindow, candidate: ArmWindow): RolloutSignal {
  const threshold = input.policy.minRequests;
  const counts: [string, number][] = [
    [baseline.arm, baseline.requests],
    [candidate.arm, candidate.requests],
  ];
  if (input.mode === 'shadow') counts.push(['both arms answered', sharedRequests(input.baseline, input.candidate)]);
  const [fewestWho, fewest] = counts.reduce((min, entry) => (entry[1] < min[1] ? entry : min));
  const ok = fewest >= threshold;
  const listed = counts.map(([who, n]) => `${who} ${n}`).join(', ');
  const detail = `requests in the window: ${listed}; ${ok ? 'each at least' : `${fewestWho} has fewer than`} minRequests ${threshold}`;
  return { name: 'traffic', value: fewest, threshold, ok, detail };
}

function errorRateSignal(input: RolloutCheckInput, baseline: ArmWindow, candidate: ArmWindow): RolloutSignal {
  const threshold = input.policy.maxErrorRate;
  const rate = (arm: ArmWindow) => (arm.requests === 0 ? null : arm.errors / arm.requests);
  const value = rate(candidate);
  const ok = value !== null && value <= threshold;
  const detail =
    value === null
      ? `the ${candidate.arm} had no requests`
      : `${candidate.errors} of ${candidate.requests} ${candidate.arm} requests failed (${fmt(value, threshold)}, maxErrorRate ${fmt(threshold)}); production ${fmt(rate(baseline))}`;
  return { name: 'errorRate', value, threshold, ok, detail };
}

/** The 0.99 quantile, interpolated between closest ranks as numpy's default (the gate's quantile). */
function p99(latencies: readonly number[]): number | null {
  if (latencies.length === 0) return null;
  const sorted = Float64Array.from(latencies).sort();
  return quantile(sorted, sorted.length, 0.99);
}

function latencySignal(input: RolloutCheckInput, baseline: ArmWindow, candidate: ArmWindow): RolloutSignal {
  const threshold = input.policy.maxLatencyP99Ms;
  const value = p99(candidate.latencies);
  const ok = value !== null && value <= threshold;
  const detail =
    value === null
      ? `the ${candidate.arm} answered no request to time`
      : `${candidate.arm} p99 ${fmt(value, threshold)} ms over ${candidate.latencies.length} answered requests (maxLatencyP99Ms ${fmt(threshold)}); production p99 ${fmt(p99(baseline.latencies))} ms`;
  return { name: 'latencyP99Ms', value, threshold, ok, detail };
}

/** What the prediction distributions are made of: P(positive) scores, class labels or values. */
function predictionValues(task: Task, arm: ArmWindow): { kind: DataKind; values: Category[] } {
  const rows = [...arm.rows.values()];
  if (task === 'multiclass_classification') return { kind: 'categorical', values: rows.map((r) => r.label!) };
  return { kind: 'numeric', values: rows.map((r) => r.score!) };
}

function predictionShiftSignal(input: RolloutCheckInput, baseline: ArmWindow, candidate: ArmWindow): RolloutSignal {
  const method = input.policy.shiftMethod;
  const threshold = input.policy.maxPredictionShift ?? DEFAULT_MAX_PREDICTION_SHIFT[method];
  const reference = predictionValues(input.task, baseline);
  const current = predictionValues(input.task, candidate);
  const what = input.task === 'binary_classification' ? 'P(positive) scores' : input.task === 'regression' ? 'predicted values' : 'class shares';
  const name = 'predictionShift';
  if (reference.values.length === 0 || current.values.length === 0) {
    return { name, value: null, threshold, ok: false, detail: `no ${what} to compare: production ${reference.values.length} rows, ${candidate.arm} ${current.values.length}` };
  }
  const distance = method === 'psi' ? psi : jensenShannon;
  const value = distance(reference.values, current.values, reference.kind);
  const ok = value <= threshold;
  const label = method === 'psi' ? 'PSI' : 'Jensen-Shannon distance';
  const unreadable = baseline.unreadable + candidate.unreadable;
  const skipped = unreadable > 0 ? `; ${unreadable} logged outputs without the task's shape left out` : '';
  const detail = `${label} between the ${what} of production (${reference.values.length} rows) and the ${candidate.arm} (${current.values.length} rows): ${fmt(value, threshold)} (maxPredictionShift ${fmt(threshold)})${skipped}`;
  return { name, value, threshold, ok, detail };
}

function agrees(task: Task, production: RowPrediction, shadow: RowPrediction, maxRelativeError: number): boolean {
  if (isClassification(task)) return production.label === shadow.label;
  return Math.abs(shadow.score! - production.score!) <= maxRelativeError * Math.abs(production.score!);
}

function agreementSignal(input: RolloutCheckInput, baseline: ArmWindow, candidate: ArmWindow): RolloutSignal {
  const threshold = input.policy.minAgreement;
  let compared = 0;
  let agreeing = 0;
  for (const [key, shadow] of candidate.rows) {
    const production = baseline.rows.get(key);
    if (!production) continue;
    compared += 1;
    if (agrees(input.task, production, shadow, input.policy.maxRelativeError)) agreeing += 1;
  }
  const value = compared === 0 ? null : agreeing / compared;
  const ok = value !== null && value >= threshold;
  const how = isClassification(input.task) ? 'the same class' : `within ${fmt(input.policy.maxRelativeError)} of production's value (maxRelativeError)`;
  const detail = value === null ? 'no row was scored by both arms' : `the shadow gave ${how} on ${agreeing} of ${compared} rows (${fmt(value, threshold)}, minAgreement ${fmt(threshold)})`;
  return { name: 'agreement', value, threshold, ok, detail };
}

/** Per-row facts a live metric averages: 1/0 for a correct class, the absolute or squared error. */
function rowLoss(metric: LiveMetric, prediction: RowPrediction, label: string | number): number | undefined {
  if (metric === 'accuracy') return prediction.label === String(label) ? 1 : 0;
  const truth = typeof label === 'number' ? label : Number(label);
  if (!Number.isFinite(truth)) return undefined;
  const residual = truth - prediction.score!;
  return metric === 'mae' ? Math.abs(residual) : residual * residual;
}

/** The metric from the per-row facts, each row weighted (a bootstrap's counts, or 1). */
function metricOfLosses(metric: LiveMetric, losses: Float64Array, weights?: Float64Array): number {
  let total = 0;
  let weight = 0;
  for (let i = 0; i < losses.length; i += 1) {
    const w = weights ? weights[i]! : 1;
    total += w * losses[i]!;
    weight += w;
  }
  const mean = total / weight;
  return metric === 'rmse' ? Math.sqrt(mean) : mean;
}

/** candidate - production, oriented so that positive means the candidate is better. */
const orient = (metric: string, candidate: number, production: number) => (LOWER_IS_BETTER.has(metric) ? production - candidate : candidate - production) + 0;

export interface MetricInterval {
  readonly baseline: number;
  readonly candidate: number;
  /** Oriented: positive means the candidate is better. */
  readonly difference: number;
  readonly interval: [number, number];
}

export interface BootstrapSettings {
  readonly confidence: number;
  readonly resamples: number;
  readonly seed: number;
}

function percentileInterval(differences: Float64Array, confidence: number): [number, number] {
  const sorted = differences.sort();
  const alpha = (1 - confidence) / 2;
  return [quantile(sorted, sorted.length, alpha), quantile(sorted, sorted.length, 1 - alpha)];
}

/**
 * The intervals take per-row losses (rowLoss: 1/0 for a correct class, the absolute or squared
 * error), one array per arm.
 *
 * Paired: the two arms scored the same rows (shadow), so each resample draws rows once and weighs
 * both arms' losses with the same counts; what the rows have in common cancels out of the
 * difference. Uses the champion gate's resampling (bootstrapWeights, seeded).
 */
export function pairedMetricInterval(metric: LiveMetric, baseline: Float64Array, candidate: Float64Array, settings: BootstrapSettings): MetricInterval {
  if (baseline.length !== candidate.length) throw new Error(`a paired interval needs the same rows: ${baseline.length} and ${candidate.length}`);
  const differences = new Float64Array(settings.resamples);
  let b = 0;
  for (const w of bootstrapWeights(settings.seed, baseline.length, settings.resamples)) {
    differences[b++] = orient(metric, metricOfLosses(metric, candidate, w), metricOfLosses(metric, baseline, w));
  }
  return withPointEstimates(metric, baseline, candidate, percentileInterval(differences, settings.confidence));
}

/**
 * Unpaired: the arms saw different requests (canary), so each arm is resampled on its own, with a
 * seed of its own, and the difference of the two resampled metrics makes the distribution.
 */
export function unpairedMetricInterval(metric: LiveMetric, baseline: Float64Array, candidate: Float64Array, settings: BootstrapSettings): MetricInterval {
  const differences = new Float64Array(settings.resamples);
  const baselineDraws = bootstrapWeights(segmentSeed(settings.seed, 'arm', 'production'), baseline.length, settings.resamples);
  const candidateDraws = bootstrapWeights(segmentSeed(settings.seed, 'arm', 'candidate'), candidate.length, settings.resamples);
  for (let b = 0; b < settings.resamples; b += 1) {
    const wb = baselineDraws.next().value as Float64Array;
    const wc = candidateDraws.next().value as Float64Array;
    differences[b] = orient(metric, metricOfLosses(metric, candidate, wc), metricOfLosses(metric, baseline, wb));
  }
  return withPointEstimates(metric, baseline, candidate, percentileInterval(differences, settings.confidence));
}

function withPointEstimates(metric: LiveMetric, baseline: Float64Array, candidate: Float64Array, interval: [number, number]): MetricInterval {
  const baselineValue = metricOfLosses(metric, baseline);
  const candidateValue = metricOfLosses(metric, candidate);
  return { baseline: baselineValue, candidate: candidateValue, difference: orient(metric, candidateValue, baselineValue), interval };
}

/** The live metrics to judge: the caller's, or the gate's defaults for the task, keeping those a log can give. */
function liveMetricsOf(task: Task, metrics?: Record<string, ChampionTolerance>): [LiveMetric, ChampionTolerance][] {
  const usable = (entries: [string, ChampionTolerance][]) =>
    entries.filter((entry): entry is [LiveMetric, ChampionTolerance] => (LIVE_METRICS as readonly string[]).includes(entry[0]) && (entry[0] === 'accuracy') === isClassification(task));
  const chosen = usable(Object.entries(metrics ?? {}));
  return chosen.length > 0 ? chosen : usable(Object.entries(DEFAULT_CHAMPION_METRICS[task]));
}

/** Labels by row key; the first label of a row counts (feedback dedupes them already). */
function labelsByRow(labels: readonly FeedbackRecord[]): Map<string, string | number> {
  const byRow = new Map<string, string | number>();
  for (const label of labels) {
    const key = rowKey(label.requestId, label.row);
    if (!byRow.has(key)) byRow.set(key, label.label);
  }
  return byRow;
}

/** Per-row losses of the labelled rows of one arm, or (paired) of the rows both arms scored. */
function labelledLosses(metric: LiveMetric, labels: Map<string, string | number>, arms: readonly ArmWindow[]): Float64Array[] {
  const [first, ...others] = arms;
  const columns: number[][] = arms.map(() => []);
  for (const [key, prediction] of first!.rows) {
    const label = labels.get(key);
    if (label === undefined) continue;
    const predictions = [prediction, ...others.map((arm) => arm.rows.get(key))];
    if (predictions.some((p) => p === undefined)) continue;
    const losses = predictions.map((p) => rowLoss(metric, p!, label));
    if (losses.some((loss) => loss === undefined)) continue;
    losses.forEach((loss, i) => columns[i]!.push(loss!));
  }
  return columns.map((column) => Float64Array.from(column));
}

function liveMetricSignals(input: RolloutCheckInput, baseline: ArmWindow, candidate: ArmWindow): RolloutSignal[] {
  const defaults = ChampionPolicySchema.parse({});
  const settings: BootstrapSettings = {
    confidence: input.liveMetric?.confidence ?? defaults.confidence,
    resamples: input.liveMetric?.resamples ?? defaults.resamples,
    seed: input.liveMetric?.seed ?? defaults.seed,
  };
  const labels = labelsByRow(input.labels ?? []);
  const paired = input.mode === 'shadow';
  return liveMetricsOf(input.task, input.liveMetric?.metrics).map(([metric, limit]) => {
    const name = `liveMetric.${metric}`;
    const [baselineLosses, candidateLosses] = paired
      ? labelledLosses(metric, labels, [baseline, candidate])
      : [labelledLosses(metric, labels, [baseline])[0]!, labelledLosses(metric, labels, [candidate])[0]!];
    const fewest = Math.min(baselineLosses!.length, candidateLosses!.length);
    if (fewest < input.policy.minLabels) {
      // Labels come late: the metric waits for them and does not block the rollout meanwhile.
      const counts = paired ? `${fewest} labelled rows scored by both arms` : `production ${baselineLosses!.length}, ${candidate.arm} ${candidateLosses!.length} labelled rows`;
      const tolerance = limit.tolerance !== undefined ? fmt(limit.tolerance) : `${fmt(limit.relativeTolerance ?? 0)} x production's ${metric}`;
      const detail = `awaiting labels: ${counts}, fewer than minLabels ${input.policy.minLabels}; then judged with the tolerance ${tolerance}`;
      return { name, value: null, threshold: -(limit.tolerance ?? limit.relativeTolerance ?? 0), ok: true, detail };
    }
    const result = (paired ? pairedMetricInterval : unpairedMetricInterval)(metric, baselineLosses!, candidateLosses!, settings);
    const tolerance = limit.tolerance ?? (limit.relativeTolerance ?? 0) * Math.abs(result.baseline);
    const threshold = -tolerance;
    const [low, high] = result.interval;
    const ok = low >= threshold;
    const detail =
      `${metric} ${candidate.arm} ${fmt(result.candidate)} vs production ${fmt(result.baseline)} on ` +
      `${paired ? `${fewest} rows both scored (paired` : `${candidateLosses!.length} and ${baselineLosses!.length} labelled rows (unpaired`} bootstrap), ` +
      `${percent(settings.confidence)} CI of the difference (positive = ${candidate.arm} better) [${fmt(low, threshold)}, ${fmt(high)}], ` +
      `${ok ? 'within' : 'below'} the tolerance ${fmt(threshold)}`;
    return { name, value: low, threshold, ok, detail, interval: result.interval };
  });
}

/** Signals that must reach their threshold (the others must stay at or below theirs). */
const AT_LEAST = (name: string) => name === 'traffic' || name === 'agreement' || name.startsWith('liveMetric.');

/** "errorRate 0.03 above 0.01": the signal, its value and the limit it crossed. */
function againstLimit(signal: RolloutSignal): string {
  if (signal.value === null) return `${signal.name} could not be measured`;
  return `${signal.name} ${fmt(signal.value, signal.threshold)} ${AT_LEAST(signal.name) ? 'below' : 'above'} ${fmt(signal.threshold)}`;
}

function tooLittleTraffic(input: RolloutCheckInput, traffic: RolloutSignal, signals: RolloutSignal[]): RolloutCheckResult {
  const { maxBakeExtensions } = input.policy;
  if (input.extensions < maxBakeExtensions) {
    const reason = `Too little traffic (traffic ${fmt(traffic.value)}: ${traffic.detail}): extending the bake (extension ${input.extensions + 1} of ${maxBakeExtensions}).`;
    return { decision: 'extend', signals, reason };
  }
  const reason = `Too little traffic (traffic ${fmt(traffic.value)}: ${traffic.detail}) after ${maxBakeExtensions} bake extensions (maxBakeExtensions): holding, since a rollout never promotes on too little evidence.`;
  return { decision: 'hold', signals, reason };
}

/** Compares the new arm with production over the bake window and decides: see the module comment. */
export function checkRollout(input: RolloutCheckInput): RolloutCheckResult {
  const candidateArm = input.mode === 'shadow' ? 'shadow' : 'canary';
  const baseline = armWindow(input.task, 'production', input.baseline);
  const candidate = armWindow(input.task, candidateArm, input.candidate);
  const traffic = trafficSignal(input, baseline, candidate);
  const signals: RolloutSignal[] = [
    traffic,
    errorRateSignal(input, baseline, candidate),
    latencySignal(input, baseline, candidate),
    predictionShiftSignal(input, baseline, candidate),
    ...(input.mode === 'shadow' ? [agreementSignal(input, baseline, candidate)] : []),
    ...liveMetricSignals(input, baseline, candidate),
  ];
  if (!traffic.ok) return tooLittleTraffic(input, traffic, signals);
  const [first, ...others] = signals.filter((signal) => !signal.ok);
  if (first) {
    const also = others.length > 0 ? `; also ${others.map(againstLimit).join(', ')}` : '';
    return { decision: 'rollback', signals, reason: `Rolling back: ${againstLimit(first)} (${first.detail})${also}.` };
  }
  const summary = signals.map((signal) => `${signal.name} ${fmt(signal.value, signal.threshold)}`).join(', ');
  return { decision: 'advance', signals, reason: `All signals within their limits: ${summary}.` };
}
