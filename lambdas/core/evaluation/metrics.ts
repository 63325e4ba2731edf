const EPSILON = 1e-15;

/**
 * ROC AUC as the probability that a random positive scores above a random negative
 * (Mann-Whitney U, ties counted as one half). Undefined with a single class: then NaN.
 */
export function rocAuc(labels: readonly number[], scores: readonly number[]): number {
  const order = scores.map((score, index) => ({ score, label: labels[index]! })).sort((a, b) => a.score - b.score);
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]!.score === order[i]!.score) j += 1;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k += 1) {
      if (order[k]!.label === 1) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}


/** Class-index labels and one probability row per label (n x K), as the multiclass trainers produce them. */
export interface MulticlassInput {
  /** Class index 0..K-1. */
  readonly labels: readonly number[];
  /** n rows of K class probabilities. */
  readonly probabilities: readonly (readonly number[])[];
}

/**
 * What classificationReport returns: a plain record of numbers (stored as is in runs and compared
 * by the gate by name) whose known keys are typed, so `report.accuracy` is a number.
 */
export type ClassificationReport = Record<string, number> & {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  logLoss: number;
  calibrationError: number;
  rows: number;
};

/** What regressionReport returns; see ClassificationReport. */
export type RegressionReport = Record<string, number> & { rmse: number; mae: number; r2: number; rows: number };

/** Equal-width confidence bins for the expected calibration error. */
const CALIBRATION_BINS = 10;

/** The class with the highest probability; the lowest index wins a tie. */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < values.length; k += 1) if (values[k]! > values[best]!) best = k;
  return best;
}

/** Checks labels against an n x K probability table and returns K. */
function classesOf(labels: readonly number[], probabilities: readonly (readonly number[])[]): number {
  if (labels.length !== probabilities.length) throw new Error(`${labels.length} labels but ${probabilities.length} predictions`);
  if (labels.length === 0) throw new Error('no rows to score');
  const classes = probabilities[0]!.length;
  if (classes < 2) throw new Error(`probabilities need at least 2 classes, got ${classes}`);
  labels.forEach((label, i) => {
    const row = probabilities[i]!;
    if (row.length !== classes) throw new Error(`row ${i} has ${row.length} probabilities, expected ${classes}`);
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw new Error(`row ${i} has label ${label}, not a class index 0..${classes - 1}`);
    for (const p of row) if (!(p >= 0) || !Number.isFinite(p)) throw new Error(`row ${i} has probability ${p}, not a finite value >= 0`);
  });
  return classes;
}

/** Precision, recall and F1 of one class; 0 when undefined (nothing predicted or present), as scikit-learn's zero_division=0. */
function classScores(labels: readonly number[], predicted: readonly number[], cls: number): { precision: number; recall: number; f1: number } {
  let truePositives = 0;
  let predictedPositives = 0;
  let actualPositives = 0;
  labels.forEach((label, i) => {
    const hit = predicted[i] === cls;
    if (hit) predictedPositives += 1;
    if (label === cls) {
      actualPositives += 1;
      if (hit) truePositives += 1;
    }
  });
  const precision = predictedPositives === 0 ? 0 : truePositives / predictedPositives;
  const recall = actualPositives === 0 ? 0 : truePositives / actualPositives;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/**
 * Expected calibration error on the top-label confidence: rows binned by their highest probability
 * into 10 equal-width bins (lo, hi] (the first bin also takes 0), then the sum over bins of
 * (rows in bin / rows) * |accuracy in bin - mean confidence in bin|.
 */
export function expectedCalibrationError(labels: readonly number[], probabilities: readonly (readonly number[])[]): number {
  classesOf(labels, probabilities);
  const count = new Array<number>(CALIBRATION_BINS).fill(0);
  const correct = new Array<number>(CALIBRATION_BINS).fill(0);
  const confidence = new Array<number>(CALIBRATION_BINS).fill(0);
  labels.forEach((label, i) => {
    const row = probabilities[i]!;
    const top = argmax(row);
    const p = row[top]!;
    // Compare with the edges b/10 themselves, so 0.3 falls in (0.2, 0.3] and not past it by rounding.
    let bin = 0;
    while (bin < CALIBRATION_BINS - 1 && p > (bin + 1) / CALIBRATION_BINS) bin += 1;
    count[bin]! += 1;
    confidence[bin]! += p;
    if (top === label) correct[bin]! += 1;
  });
  let error = 0;
  for (let b = 0; b < CALIBRATION_BINS; b += 1) {
    const n = count[b]!;
    if (n > 0) error += (n / labels.length) * Math.abs(correct[b]! / n - confidence[b]! / n);
  }
  return error;
}

/**
 * Accuracy, precision, recall, F1, ROC AUC, log loss, calibration error and rows for class-index
 * labels and n x K probabilities. The predicted class is the argmax (lowest index on ties).
 * Binary (K = 2): precision, recall, F1 and ROC AUC are of `positiveClass` (default 1).
 * Multiclass: precision, recall and F1 are macro averages over the classes present in the labels
 * or the predictions; ROC AUC is the macro one-vs-rest average over all K classes, NaN when any
 * class is absent from the labels (scikit-learn refuses that case too). Log loss clips each
 * probability to [1e-15, 1 - 1e-15] and renormalises the row.
 */
export function classificationReport(labels: readonly number[], probabilities: readonly (readonly number[])[], positiveClass = 1): ClassificationReport {
  const classes = classesOf(labels, probabilities);
  if (classes === 2 && positiveClass !== 0 && positiveClass !== 1) throw new Error(`positiveClass ${positiveClass} is not 0 or 1`);
  const rows = labels.length;
  const predicted = probabilities.map(argmax);

  let correct = 0;
  let logLoss = 0;
  labels.forEach((label, i) => {
    if (predicted[i] === label) correct += 1;
    const clipped = probabilities[i]!.map((p) => Math.min(Math.max(p, EPSILON), 1 - EPSILON));
    const total = clipped.reduce((sum, p) => sum + p, 0);
    logLoss -= Math.log(clipped[label]! / total);
  });

  let scores: { precision: number; recall: number; f1: number };
  let auc: number;
  if (classes === 2) {
    scores = classScores(labels, predicted, positiveClass);
    auc = rocAuc(
      labels.map((label) => (label === positiveClass ? 1 : 0)),
      probabilities.map((row) => row[positiveClass]!),
    );
  } else {
    const seen = [...new Set([...labels, ...predicted])].sort((a, b) => a - b);
    const perClass = seen.map((cls) => classScores(labels, predicted, cls));
    const average = (key: 'precision' | 'recall' | 'f1') => perClass.reduce((sum, s) => sum + s[key], 0) / perClass.length;
    scores = { precision: average('precision'), recall: average('recall'), f1: average('f1') };
    const present = new Set(labels);
    let sum = 0;
    for (let cls = 0; cls < classes && present.size === classes; cls += 1) {
      sum += rocAuc(
        labels.map((label) => (label === cls ? 1 : 0)),
        probabilities.map((row) => row[cls]!),
      );
    }
    auc = present.size === classes ? sum / classes : Number.NaN;
  }

  return {
    accuracy: correct / rows,
    precision: scores.precision,
    recall: scores.recall,
    f1: scores.f1,
    rocAuc: auc,
    logLoss: logLoss / rows,
    calibrationError: expectedCalibrationError(labels, probabilities),
    rows,
  };
}

/** RMSE, MAE and R² (1 - SS_res / SS_tot; NaN when the actual values are all equal) and rows. */
export function regressionReport(actual: readonly number[], predicted: readonly number[]): RegressionReport {
  if (actual.length !== predicted.length) throw new Error(`${actual.length} actual values but ${predicted.length} predictions`);
  const rows = actual.length;
  if (rows === 0) throw new Error('no rows to score');
  actual.forEach((a, i) => {
    if (!Number.isFinite(a) || !Number.isFinite(predicted[i]!)) throw new Error(`row ${i} is not finite: actual ${a}, predicted ${predicted[i]}`);
  });
  const meanActual = actual.reduce((sum, a) => sum + a, 0) / rows;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  actual.forEach((a, i) => {
    const residual = a - predicted[i]!;
    squared += residual * residual;
    absolute += Math.abs(residual);
    total += (a - meanActual) ** 2;
  });
  return { rmse: Math.sqrt(squared / rows), mae: absolute / rows, r2: total === 0 ? Number.NaN : 1 - squared / total, rows };
}

/**
 * Row indices grouped by segment value, for per-segment reports. Values with fewer than `minRows`
 * rows are dropped (too few to judge); the map iterates in value order (code units, stable).
 */
export function segmentBy(values: readonly string[], minRows: number): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  values.forEach((value, i) => {
    const group = groups.get(value);
    if (group) group.push(i);
    else groups.set(value, [i]);
  });
  const kept = [...groups].filter(([, rows]) => rows.length >= minRows).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(kept);
}

/** The elements of `values` at `rows`, in that order: slices labels or predictions to a segment. */
export function pickRows<T>(values: readonly T[], rows: readonly number[]): T[] {
  return rows.map((row) => {
    if (row < 0 || row >= values.length) throw new RangeError(`row ${row} is out of range (${values.length} values)`);
    return values[row]!;
  });
}

export interface SegmentReport<T> {
  readonly segment: string;
  readonly rows: number;
  readonly report: T;
}

/**
 * One report per segment value with at least `minRows` rows, in value order. `report` receives
 * the segment's row indices; slice the inputs with pickRows, e.g.
 * `segmentReports(region, 30, (rows) => classificationReport(pickRows(labels, rows), pickRows(probabilities, rows)))`.
 */
export function segmentReports<T>(segments: readonly string[], minRows: number, report: (rows: readonly number[]) => T): SegmentReport<T>[] {
  return [...segmentBy(segments, minRows)].map(([segment, rows]) => ({ segment, rows: rows.length, report: report(rows) }));
}
