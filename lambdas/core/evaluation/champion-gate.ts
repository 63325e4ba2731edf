import type { GateCheck } from './gate-check.js';
import { argmax } from './metrics.js';
import { COMPARABLE_METRICS, LOWER_IS_BETTER, type ChampionPolicy, type ChampionTolerance, type Task } from '../training/model-spec.js';

/**
 * The release gate's "no regression against production": the candidate and the current production
 * version (the champion) scored on the same held-out rows, compared metric by metric with a seeded
 * paired bootstrap, overall and per declared segment value.
 *
 * Check names: `champion.<metric>` overall and `champion.<metric>[<column>=<value>]` per segment
 * value, e.g. `champion.rocAuc[region=north]`; values past the 20 most frequent of a column are
 * judged together as `champion.<metric>[<column>=(other values)]`. The exact column and value are
 * also in each check's `segment` field.
 */
export interface PairedHeldOut {
  task: Task;
  /** Class index per row, or the true value (regression). */
  labels: readonly number[];
  /** Per row: class probabilities (classes in the same order as the labels' indices), or [value]. */
  candidate: readonly (readonly number[])[];
  /** Same shape, same rows, same class order. */
  champion: readonly (readonly number[])[];
  /** Per declared segment column: the row's value ('(missing)' for empty). */
  segments: Readonly<Record<string, readonly string[]>>;
}

/** Segment values judged one by one per column (the most frequent); the rest are judged together. */
export const MAX_SEGMENT_VALUES = 20;
export const OTHER_VALUES = '(other values)';
/** A metric undefined in more than this share of the resamples (e.g. a class too rare to be drawn) gives no verdict. */
const MAX_UNDEFINED_SHARE = 0.01;
/** Log loss clips probabilities as metrics.ts does. */
const EPSILON = 1e-15;

/** One model's per-row facts on one group of rows, precomputed once so that each resample is an O(rows) pass. */
interface ModelRows {
  /** Classification: the argmax class (lowest index on ties, as classificationReport). */
  readonly predicted: Int32Array;
  /** Classification: 1 where the argmax is the label, else 0 (a product, not a branch, in the hot loop). */
  readonly correct: Float64Array;
  /** Classification: -log p(label), clipped to [1e-15, 1 - 1e-15] and renormalised. */
  readonly logLoss: Float64Array;
  /** Binary: rows in ascending order of P(positive); per position, 1 for a positive row, and 1 where a run of tied scores ends. */
  readonly order: Int32Array;
  readonly positiveAt: Float64Array;
  readonly tieEnds: Uint8Array;
  /** Binary: whether any two rows share a score (else each row is its own run, and AUC takes a simpler loop). */
  readonly ties: boolean;
  /** Regression: true value - predicted value. */
  readonly residual: Float64Array;
}

/** One group's rows (all held-out rows, or one segment value's), local positions 0..m-1. */
interface GroupRows {
  readonly task: Task;
  readonly classes: number;
  readonly labels: Float64Array;
  readonly candidate: ModelRows;
  readonly champion: ModelRows;
}

type WeightedMetric = (group: GroupRows, model: ModelRows, w: Float64Array) => number;

function sumOf(w: Float64Array): number {
  let total = 0;
  for (let i = 0; i < w.length; i += 1) total += w[i]!;
  return total;
}

function weightedMean(values: Float64Array, w: Float64Array): number {
  let total = 0;
  let weight = 0;
  for (let i = 0; i < w.length; i += 1) {
    const wi = w[i]!;
    total += wi * values[i]!;
    weight += wi;
  }
  return total / weight;
}

/**
 * Precision, recall and F1 as classificationReport defines them, with row weights: binary of the
 * positive class (index 1); multiclass the macro average over the classes that have weight among
 * the labels or the predictions. An undefined ratio counts as 0 (scikit-learn's zero_division=0).
 */
function classScores(group: GroupRows, model: ModelRows, w: Float64Array): { precision: number; recall: number; f1: number } {
  const k = group.classes;
  const truePositives = new Float64Array(k);
  const predictedPositives = new Float64Array(k);
  const actualPositives = new Float64Array(k);
  const { labels } = group;
  const { predicted } = model;
  for (let i = 0; i < w.length; i += 1) {
    const wi = w[i]!;
    if (wi === 0) continue;
    const label = labels[i]!;
    const guess = predicted[i]!;
    predictedPositives[guess]! += wi;
    actualPositives[label]! += wi;
    if (guess === label) truePositives[guess]! += wi;
  }
  const scoresOf = (cls: number) => {
    const precision = predictedPositives[cls] === 0 ? 0 : truePositives[cls]! / predictedPositives[cls]!;
    const recall = actualPositives[cls] === 0 ? 0 : truePositives[cls]! / actualPositives[cls]!;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { precision, recall, f1 };
  };
  if (group.task === 'binary_classification') return scoresOf(1);
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  let seen = 0;
  for (let cls = 0; cls < k; cls += 1) {
    if (predictedPositives[cls] === 0 && actualPositives[cls] === 0) continue;
    const s = scoresOf(cls);
    precision += s.precision;
    recall += s.recall;
    f1 += s.f1;
    seen += 1;
  }
  return seen === 0 ? { precision: NaN, recall: NaN, f1: NaN } : { precision: precision / seen, recall: recall / seen, f1: f1 / seen };
}

/**
 * Weighted ROC AUC (binary): the weighted share of (positive, negative) pairs in which the positive
 * scores higher, a tie counting one half; one pass over the rows in score order. NaN with one class.
 */
function weightedRocAuc(_group: GroupRows, model: ModelRows, w: Float64Array): number {
  const { order, positiveAt, tieEnds } = model;
  let negativesBelow = 0;
  let positives = 0;
  let pairs = 0;
  if (!model.ties) {
    // Each row its own run: a positive row adds its weight x the negatives' weight below it.
    for (let k = 0; k < order.length; k += 1) {
      const wi = w[order[k]!]!;
      const wp = wi * positiveAt[k]!;
      pairs += wp * negativesBelow;
      negativesBelow += wi - wp;
      positives += wp;
    }
    if (positives === 0 || negativesBelow === 0) return NaN;
    return pairs / (positives * negativesBelow);
  }
  // The weight of positives and negatives in the current run of tied scores.
  let tiedPositive = 0;
  let tiedNegative = 0;
  for (let k = 0; k < order.length; k += 1) {
    const wi = w[order[k]!]!;
    const wp = wi * positiveAt[k]!;
    tiedPositive += wp;
    tiedNegative += wi - wp;
    if (tieEnds[k] === 1) {
      pairs += tiedPositive * (negativesBelow + tiedNegative / 2);
      negativesBelow += tiedNegative;
      positives += tiedPositive;
      tiedPositive = 0;
      tiedNegative = 0;
    }
  }
  if (positives === 0 || negativesBelow === 0) return NaN;
  return pairs / (positives * negativesBelow);
}

function squaredError(model: ModelRows, w: Float64Array): number {
  const { residual } = model;
  let squared = 0;
  for (let i = 0; i < w.length; i += 1) squared += w[i]! * residual[i]! * residual[i]!;
  return squared;
}

const WEIGHTED_METRICS: Record<string, WeightedMetric> = {
  accuracy: (_group, model, w) => weightedMean(model.correct, w),
  precision: (group, model, w) => classScores(group, model, w).precision,
  recall: (group, model, w) => classScores(group, model, w).recall,
  f1: (group, model, w) => classScores(group, model, w).f1,
  rocAuc: weightedRocAuc,
  logLoss: (_group, model, w) => weightedMean(model.logLoss, w),
  rmse: (_group, model, w) => Math.sqrt(squaredError(model, w) / sumOf(w)),
  mae: (_group, model, w) => {
    let absolute = 0;
    for (let i = 0; i < w.length; i += 1) absolute += w[i]! * Math.abs(model.residual[i]!);
    return absolute / sumOf(w);
  },
  r2: (group, model, w) => {
    const mean = weightedMean(group.labels, w);
    let total = 0;
    for (let i = 0; i < w.length; i += 1) total += w[i]! * (group.labels[i]! - mean) ** 2;
    return total === 0 ? NaN : 1 - squaredError(model, w) / total;
  },
};

/** Why a metric may be undefined on a group of rows, for the check's detail. */
const UNDEFINED_WHEN: Record<string, string> = {
  rocAuc: 'it needs both classes among the rows',
  r2: 'it needs true values that are not all equal',
};

const EMPTY_INT = new Int32Array(0);
const EMPTY_FLOAT = new Float64Array(0);
const EMPTY_BYTES = new Uint8Array(0);

function modelRows(task: Task, labels: Float64Array, outputs: readonly (readonly number[])[]): ModelRows {
  const m = outputs.length;
  if (task === 'regression') {
    const residual = new Float64Array(m);
    for (let i = 0; i < m; i += 1) residual[i] = labels[i]! - outputs[i]![0]!;
    return { predicted: EMPTY_INT, correct: EMPTY_FLOAT, logLoss: EMPTY_FLOAT, order: EMPTY_INT, positiveAt: EMPTY_FLOAT, tieEnds: EMPTY_BYTES, ties: false, residual };
  }
  const predicted = new Int32Array(m);
  const correct = new Float64Array(m);
  const logLoss = new Float64Array(m);
  for (let i = 0; i < m; i += 1) {
    const row = outputs[i]!;
    predicted[i] = argmax(row);
    correct[i] = predicted[i] === labels[i] ? 1 : 0;
    let total = 0;
    for (const p of row) total += Math.min(Math.max(p, EPSILON), 1 - EPSILON);
    logLoss[i] = -Math.log(Math.min(Math.max(row[labels[i]!]!, EPSILON), 1 - EPSILON) / total);
  }
  if (task !== 'binary_classification') return { predicted, correct, logLoss, order: EMPTY_INT, positiveAt: EMPTY_FLOAT, tieEnds: EMPTY_BYTES, ties: false, residual: EMPTY_FLOAT };
  const score = Float64Array.from(outputs, (row) => row[1]!);
  const order = Int32Array.from({ length: m }, (_, i) => i).sort((a, b) => score[a]! - score[b]! || a - b);
  const positiveAt = Float64Array.from(order, (i) => (labels[i] === 1 ? 1 : 0));
  const tieEnds = Uint8Array.from(order, (i, k) => (k === m - 1 || score[order[k + 1]!] !== score[i] ? 1 : 0));
  return { predicted, correct, logLoss, order, positiveAt, tieEnds, ties: tieEnds.includes(0), residual: EMPTY_FLOAT };
}

/** Checks the paired outputs' shapes; returns K (1 for regression). Malformed input is a programming error and throws. */
function validate(input: PairedHeldOut): number {
  const n = input.labels.length;
  if (input.candidate.length !== n || input.champion.length !== n) {
    throw new Error(`paired held-out outputs do not line up: ${n} labels, ${input.candidate.length} candidate and ${input.champion.length} champion outputs`);
  }
  const width = input.task === 'regression' ? 1 : input.task === 'binary_classification' ? 2 : (input.candidate[0]?.length ?? 0);
  if (input.task === 'multiclass_classification' && n > 0 && width < 2) throw new Error(`multiclass outputs need at least 2 classes, got ${width}`);
  for (let i = 0; i < n; i += 1) {
    const label = input.labels[i]!;
    if (input.task === 'regression' ? !Number.isFinite(label) : !Number.isInteger(label) || label < 0 || label >= width) {
      throw new Error(`row ${i} has label ${label}, not ${input.task === 'regression' ? 'a finite number' : `a class index 0..${width - 1}`}`);
    }
    for (const [who, outputs] of [['candidate', input.candidate], ['champion', input.champion]] as const) {
      if (outputs[i]!.length !== width) throw new Error(`row ${i}: the ${who} has ${outputs[i]!.length} outputs, expected ${width}`);
    }
  }
  for (const [column, values] of Object.entries(input.segments)) {
    if (values.length !== n) throw new Error(`segment column "${column}" has ${values.length} values for ${n} rows`);
  }
  return width;
}

function nonFiniteCount(outputs: readonly (readonly number[])[]): number {
  let count = 0;
  for (const row of outputs) for (const value of row) if (!Number.isFinite(value)) count += 1;
  return count;
}

function groupRows(input: PairedHeldOut, classes: number, rows: readonly number[] | null): GroupRows {
  const pick = <T>(values: readonly T[]): readonly T[] => (rows === null ? values : rows.map((row) => values[row]!));
  const labels = Float64Array.from(pick(input.labels));
  return {
    task: input.task,
    classes,
    labels,
    candidate: modelRows(input.task, labels, pick(input.candidate)),
    champion: modelRows(input.task, labels, pick(input.champion)),
  };
}

/**
 * One metric on class-index labels and outputs (probabilities, or [value] for regression), each row
 * weighted (default 1): with unit weights it agrees with classificationReport / regressionReport.
 * Exposed for tests and for anyone who needs the gate's exact definition of a metric.
 */
export function weightedMetric(task: Task, metric: string, labels: readonly number[], outputs: readonly (readonly number[])[], weights?: readonly number[]): number {
  const fn = metricFunction(task, metric);
  const classes = validate({ task, labels, candidate: outputs, champion: outputs, segments: {} });
  const group = groupRows({ task, labels, candidate: outputs, champion: outputs, segments: {} }, classes, null);
  const w = weights ? Float64Array.from(weights) : new Float64Array(labels.length).fill(1);
  if (w.length !== labels.length) throw new Error(`${w.length} weights for ${labels.length} rows`);
  return fn(group, group.candidate, w);
}

export interface MetricInterval {
  readonly metric: string;
  /** The metric on all the rows; NaN when undefined on them. */
  readonly value: number;
  /** The two-sided percentile interval over the resamples; absent when `insufficient`. */
  readonly interval?: [number, number];
  /** Why there is no interval (the metric is undefined on the rows or in too many resamples). */
  readonly insufficient?: string;
}

/**
 * One model's metrics on some rows with the gate's seeded bootstrap (the same resamples, metric
 * definitions, percentile interval and undefined-resample rule as the paired comparison, but one
 * model, so nothing is paired): per metric, the value on the rows and the two-sided
 * `policy.confidence` interval over `policy.resamples` resamples. The performance of a monitoring
 * window (core/monitoring/performance.ts) is judged with it.
 */
export function metricIntervals(task: Task, metrics: readonly string[], labels: readonly number[], outputs: readonly (readonly number[])[], policy: Pick<ChampionPolicy, 'confidence' | 'resamples'>, seed: number): MetricInterval[] {
  const fns = metrics.map((metric) => metricFunction(task, metric));
  const classes = validate({ task, labels, candidate: outputs, champion: outputs, segments: {} });
  const m = labels.length;
  const y = Float64Array.from(labels);
  const rows = modelRows(task, y, outputs);
  const group: GroupRows = { task, classes, labels: y, candidate: rows, champion: rows };
  const values = fns.map((fn) => (m === 0 ? NaN : fn(group, rows, new Float64Array(m).fill(1))));
  const defined = values.map((value) => Number.isFinite(value));
  const draws = fns.map(() => new Float64Array(policy.resamples));
  const valid = fns.map(() => 0);
  if (m > 0 && defined.some(Boolean)) {
    for (const w of bootstrapWeights(seed, m, policy.resamples)) {
      fns.forEach((fn, j) => {
        if (!defined[j]) return;
        const value = fn(group, rows, w);
        if (Number.isFinite(value)) draws[j]![valid[j]!++] = value;
      });
    }
  }
  const alpha = (1 - policy.confidence) / 2;
  return metrics.map((metric, j) => {
    const value = values[j]!;
    if (!defined[j]) return { metric, value, insufficient: `${metric} is undefined on these ${m} rows: ${m === 0 ? 'there are no rows' : (UNDEFINED_WHEN[metric] ?? 'it cannot be computed on them')}` };
    const count = valid[j]!;
    const undefinedCount = policy.resamples - count;
    if (undefinedCount > MAX_UNDEFINED_SHARE * policy.resamples) {
      return { metric, value, insufficient: `${metric} is undefined in ${undefinedCount} of ${policy.resamples} resamples of these ${m} rows${UNDEFINED_WHEN[metric] ? ` (${UNDEFINED_WHEN[metric]})` : ''}` };
    }
    const sorted = draws[j]!.subarray(0, count).sort();
    return { metric, value, interval: [quantile(sorted, count, alpha), quantile(sorted, count, 1 - alpha)] };
  });
}

function metricFunction(task: Task, metric: string): WeightedMetric {
  const fn = WEIGHTED_METRICS[metric];
  if (!COMPARABLE_METRICS[task].includes(metric) || !fn) {
    throw new Error(`the champion comparison for ${task} can use ${COMPARABLE_METRICS[task].join(', ')}; not ${metric}`);
  }
  return fn;
}

/**
 * The bootstrap resamples of `rows` rows as multinomial counts: per resample, `rows` draws with
 * replacement, row floor(u * rows) for each uniform u, counted per row (the same array is refilled
 * and yielded each time). The uniforms are exactly createRng(seed)'s sequence: its mulberry32 is
 * inlined here with the state kept as an int32, which is a third of the cost of calling
 * createRng's closure (V8 boxes the uint32 state it stores on every call) and this loop runs
 * rows x resamples times per segment. A unit test holds the two sequences together.
 */
export function* bootstrapWeights(seed: number, rows: number, resamples: number): Generator<Float64Array, void, undefined> {
  const w = new Float64Array(rows);
  let state = seed | 0;
  for (let b = 0; b < resamples; b += 1) {
    w.fill(0);
    for (let draw = 0; draw < rows; draw += 1) {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      w[Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * rows)]! += 1;
    }
    yield w;
  }
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser: a stable 32-bit hash of a string. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A segment value's own seed: from the policy's seed and the column and value only, so evaluation order does not matter. */
export const segmentSeed = (seed: number, column: string, value: string): number => hash32(`${seed}\u0000${column}\u0000${value}`);

/**
 * The q-quantile of the first `count` sorted values, by linear interpolation between the closest
 * ranks (Hyndman & Fan type 7, the default of numpy.quantile and R's quantile).
 */
export function quantile(sorted: Float64Array, count: number, q: number): number {
  const h = (count - 1) * q;
  const below = Math.floor(h);
  const above = Math.min(below + 1, count - 1);
  return sorted[below]! + (h - below) * (sorted[above]! - sorted[below]!);
}

interface MetricVerdict {
  readonly metric: string;
  readonly rows: number;
  readonly candidate: number;
  readonly champion: number;
  /** Oriented so that positive means the candidate is better. */
  readonly difference: number;
  readonly tolerance: number;
  readonly interval?: [number, number];
  /** Set when there is no verdict. */
  readonly insufficient?: string;
}

/** Orients candidate - champion so that positive is better; `+ 0` turns -0 into 0. */
const orient = (metric: string, candidate: number, champion: number) => (LOWER_IS_BETTER.has(metric) ? champion - candidate : candidate - champion) + 0;

const toleranceOf = (limit: ChampionTolerance, champion: number) => limit.tolerance ?? (limit.relativeTolerance ?? 0) * Math.abs(champion);

/**
 * The paired bootstrap on one group of rows, one verdict per metric; the same resamples serve every
 * metric. With `tooFew` set, only the point estimates are computed and every verdict is insufficient.
 */
function judgeGroup(group: GroupRows, metrics: readonly [string, ChampionTolerance][], policy: ChampionPolicy, seed: number, tooFew?: string): MetricVerdict[] {
  const m = group.labels.length;
  const ones = new Float64Array(m).fill(1);
  const points = metrics.map(([metric, limit]) => {
    const fn = WEIGHTED_METRICS[metric]!;
    const candidate = fn(group, group.candidate, ones);
    const champion = fn(group, group.champion, ones);
    return { metric, fn, candidate, champion, difference: orient(metric, candidate, champion), tolerance: toleranceOf(limit, champion) };
  });
  if (tooFew !== undefined) return points.map(({ fn: _fn, ...point }) => ({ ...point, rows: m, insufficient: tooFew }));
  const defined = points.filter((p) => Number.isFinite(p.candidate) && Number.isFinite(p.champion));
  const diffs = defined.map(() => new Float64Array(policy.resamples));
  const valid = defined.map(() => 0);
  if (defined.length > 0) {
    // The same counts weigh both models: that is what makes the comparison paired.
    for (const w of bootstrapWeights(seed, m, policy.resamples)) {
      defined.forEach((p, j) => {
        const c = p.fn(group, group.candidate, w);
        const h = p.fn(group, group.champion, w);
        if (Number.isFinite(c) && Number.isFinite(h)) diffs[j]![valid[j]!++] = orient(p.metric, c, h);
      });
    }
  }
  const alpha = (1 - policy.confidence) / 2;
  return points.map(({ metric, candidate, champion, difference, tolerance }) => {
    const base = { metric, rows: m, candidate, champion, difference, tolerance };
    const j = defined.findIndex((p) => p.metric === metric);
    if (j < 0) {
      const who = [Number.isFinite(candidate) ? '' : 'candidate', Number.isFinite(champion) ? '' : 'production'].filter(Boolean).join(' and ');
      const why = m === 0 ? 'there are no rows' : (UNDEFINED_WHEN[metric] ?? 'it cannot be computed on them');
      return { ...base, insufficient: `${metric} is undefined for the ${who} on these ${m} rows: ${why}` };
    }
    const count = valid[j]!;
    const undefinedCount = policy.resamples - count;
    if (undefinedCount > MAX_UNDEFINED_SHARE * policy.resamples) {
      const why = UNDEFINED_WHEN[metric] ? ` (${UNDEFINED_WHEN[metric]})` : '';
      return { ...base, insufficient: `${metric} is undefined in ${undefinedCount} of ${policy.resamples} resamples of these ${m} rows${why}` };
    }
    const sorted = diffs[j]!.subarray(0, count).sort();
    return { ...base, interval: [quantile(sorted, count, alpha), quantile(sorted, count, 1 - alpha)] };
  });
}

/** Up to 4 decimals, or in full where rounding would misstate how the value compares with `threshold` (below, equal, above). */
export function short(value: number, threshold?: number): string {
  const rounded = String(Number(value.toFixed(4)));
  return threshold !== undefined && Math.sign(Number(rounded) - threshold) !== Math.sign(value - threshold) ? String(value) : rounded;
}

/** A confidence level as a percentage: 0.95 as "95%". */
export const percent = (confidence: number) => `${Number((confidence * 100).toFixed(4))}%`;

function toCheck(verdict: MetricVerdict, policy: ChampionPolicy, segment?: { column: string; value: string }): GateCheck {
  const { metric, rows, candidate, champion, difference, tolerance, interval } = verdict;
  const name = segment ? `champion.${metric}[${segment.column}=${segment.value}]` : `champion.${metric}`;
  const level = percent(policy.confidence);
  const threshold = `lower end of the ${level} CI of the difference (positive = candidate better) >= ${Number.isFinite(tolerance) ? short(-tolerance) : '-tolerance'}`;
  const points = {
    metric,
    ...(segment ? { segment } : {}),
    ...(Number.isFinite(tolerance) ? { tolerance } : {}),
    ...(Number.isFinite(candidate) ? { candidate } : {}),
    ...(Number.isFinite(champion) ? { champion } : {}),
    rows,
  };
  if (verdict.insufficient !== undefined || !interval) {
    const passed = policy.insufficientEvidence === 'warn';
    const detail = `insufficient evidence${policy.insufficientEvidence === 'block' ? ' (blocks)' : ''}: ${verdict.insufficient}`;
    return { name, passed, status: 'insufficient', value: null, threshold, detail, ...points };
  }
  const passed = interval[0] >= -tolerance;
  const [lo, hi] = [short(interval[0], -tolerance), short(interval[1])];
  const detail =
    `candidate ${short(candidate)} vs production ${short(champion)}, difference ${short(difference)}, ` +
    `${level} CI [${lo}, ${hi}] ${passed ? 'within' : 'below'} ${short(-tolerance)}`;
  return { name, passed, status: passed ? 'pass' : 'fail', value: difference, threshold, detail, ...points, interval };
}

/** Row positions per segment value, the 20 most frequent in value order then the rest together. */
function segmentGroups(values: readonly string[]): { value: string; rows: number[] }[] {
  const groups = new Map<string, number[]>();
  values.forEach((value, i) => {
    const rows = groups.get(value);
    if (rows) rows.push(i);
    else groups.set(value, [i]);
  });
  const byValue = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const ranked = [...groups].sort(([a, ra], [b, rb]) => rb.length - ra.length || byValue(a, b));
  const judged = ranked.slice(0, MAX_SEGMENT_VALUES).sort(([a], [b]) => byValue(a, b)).map(([value, rows]) => ({ value, rows }));
  const rest = ranked.slice(MAX_SEGMENT_VALUES).flatMap(([, rows]) => rows).sort((a, b) => a - b);
  return rest.length > 0 ? [...judged, { value: OTHER_VALUES, rows: rest }] : judged;
}

/**
 * Compares the candidate with the champion on the same held-out rows: per metric, a seeded paired
 * bootstrap of d = candidate - champion (oriented so positive is better), drawing the rows with
 * replacement `policy.resamples` times and scoring both models on the same draw. The check passes
 * when the lower end of the two-sided `policy.confidence` percentile interval of d is at least
 * -tolerance, the tolerance being absolute or `relativeTolerance` x |the champion's metric on the
 * group's rows|. Then the same per declared segment column and value, resampling within the
 * segment with a seed of its own. A segment with fewer than `policy.minSegmentRows` rows, or where
 * a metric is undefined, is 'insufficient': it passes under insufficientEvidence 'warn' and fails
 * under 'block'. Non-finite outputs give no comparison at all (the release gate's
 * predictions_finite judges them). Checks come overall first, then per column and value, each in
 * the metrics' order; the report is the same, byte for byte, for the same input.
 */
export function compareWithChampion(input: PairedHeldOut, metrics: Record<string, ChampionTolerance>, policy: ChampionPolicy): GateCheck[] {
  const entries = Object.entries(metrics);
  for (const [metric] of entries) metricFunction(input.task, metric);
  const classes = validate(input);
  const n = input.labels.length;

  const broken = (
    [
      ['candidate', nonFiniteCount(input.candidate)],
      ['production version', nonFiniteCount(input.champion)],
    ] as const
  )
    .filter(([, count]) => count > 0)
    .map(([who, count]) => `the ${who} has ${count} non-finite outputs`);
  if (broken.length > 0) {
    const reason = `${broken.join(' and ')}; no comparison is possible`;
    return entries.map(([metric, limit]) => toCheck({ metric, rows: n, candidate: NaN, champion: NaN, difference: NaN, tolerance: limit.tolerance ?? NaN, insufficient: reason }, policy));
  }

  const checks = judgeGroup(groupRows(input, classes, null), entries, policy, policy.seed).map((verdict) => toCheck(verdict, policy));
  for (const [column, values] of Object.entries(input.segments)) {
    for (const { value, rows } of segmentGroups(values)) {
      const segment = { column, value };
      const tooFew = rows.length < policy.minSegmentRows ? `${rows.length} rows, fewer than the ${policy.minSegmentRows} a segment needs (minSegmentRows)` : undefined;
      const verdicts = judgeGroup(groupRows(input, classes, rows), entries, policy, segmentSeed(policy.seed, column, value), tooFew);
      for (const verdict of verdicts) checks.push(toCheck(verdict, policy, segment));
    }
  }
  return checks;
}
