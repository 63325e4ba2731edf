/**
 * Confidence-based performance estimation (CBPE, as NannyML 0.13.1 does it for binary classifiers):
 * while a window's labels are awaited, its accuracy, F1 and ROC AUC are estimated from the model's
 * probabilities, once those are calibrated on labelled data the model did not learn from (the
 * version's held-out split, stored with its reference sample).
 *
 * - Calibration: isotonic regression of the label on P(positive), fitted on the held-out outputs,
 *   exactly as scikit-learn's IsotonicRegression(out_of_bounds="clip", increasing=True), NannyML's
 *   default calibrator. NannyML first checks whether calibration lowers a cross-validated expected
 *   calibration error (a numpy-seeded StratifiedShuffleSplit) and skips it otherwise; this module
 *   always calibrates (isotonic calibration of already calibrated scores changes them little).
 * - The predicted class is P(positive) > 0.5 on the UNcalibrated score, as serving answers
 *   (core/serving/predict.ts toPrediction); c is the calibrated probability of the positive class.
 *   accuracy = (sum over predicted positives of c + sum over predicted negatives of 1 - c) / n;
 *   F1 = TP / (TP + (FP + FN) / 2) with TP = sum c, FP = sum 1 - c over predicted positives and
 *   FN = sum c over predicted negatives (0 when the denominator is 0);
 *   ROC AUC: rows in descending order of the uncalibrated score, expected true and false positive
 *   counts as running sums of c and 1 - c (rounded to 5 decimals as NannyML does), the trapezoid
 *   area under their normalised curve. Tied scores are one step (NannyML's order within a tie is
 *   numpy's unstable argsort; scikit-learn's roc_curve groups ties the same way as here).
 * Pure; tests compare with test/fixtures/cbpe.json (scripts/reference_cbpe.py).
 *
 * Row weights: every estimate takes optional weights (bootstrap counts from the gate's
 * bootstrapWeights, per position of the prepared window), so its interval is resampled the way the
 * gate resamples metrics.
 */

/** A fitted isotonic calibration: P(positive) -> calibrated probability. */
export interface IsotonicCalibration {
  /** Increasing thresholds (the distinct held-out scores that remain after pooling). */
  readonly x: Float64Array;
  readonly y: Float64Array;
}

/** numpy's float64 resolution: scikit-learn's _make_unique merges scores closer than this. */
const RESOLUTION = 1e-15;

/**
 * Fits scikit-learn's IsotonicRegression (increasing, clipped) of `labels` (0/1) on `scores`: sort by
 * score then label, merge equal scores (their labels' mean, weighted by count), pool adjacent
 * violators, keep the points whose fitted value differs from a neighbour's.
 */
export function fitIsotonic(scores: readonly number[], labels: readonly number[]): IsotonicCalibration {
  if (scores.length !== labels.length) throw new Error(`${scores.length} scores but ${labels.length} labels`);
  if (scores.length === 0) throw new Error('no rows to calibrate on');
  const order = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]! || labels[a]! - labels[b]!);
  // Unique scores with their mean label and weight.
  const xs: number[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  let groupX = scores[order[0]!]!;
  let sum = 0;
  let weight = 0;
  for (const i of order) {
    const x = scores[i]!;
    if (x - groupX >= RESOLUTION) {
      xs.push(groupX);
      ys.push(sum / weight);
      ws.push(weight);
      groupX = x;
      sum = 0;
      weight = 0;
    }
    sum += labels[i]!;
    weight += 1;
  }
  xs.push(groupX);
  ys.push(sum / weight);
  ws.push(weight);

  // Pool adjacent violators: blocks of (mean, weight, count).
  const means: number[] = [];
  const weights: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < ys.length; i += 1) {
    let mean = ys[i]!;
    let w = ws[i]!;
    let count = 1;
    while (means.length > 0 && means[means.length - 1]! >= mean) {
      const pw = weights.pop()!;
      const pm = means.pop()!;
      mean = (pm * pw + mean * w) / (pw + w);
      w += pw;
      count += counts.pop()!;
    }
    means.push(mean);
    weights.push(w);
    counts.push(count);
  }
  const fitted: number[] = [];
  means.forEach((mean, b) => {
    for (let k = 0; k < counts[b]!; k += 1) fitted.push(mean);
  });
  // Drop interior points whose value equals both neighbours' (does not change the interpolation).
  const keptX: number[] = [];
  const keptY: number[] = [];
  for (let i = 0; i < xs.length; i += 1) {
    const interior = i > 0 && i < xs.length - 1;
    if (!interior || fitted[i] !== fitted[i - 1] || fitted[i] !== fitted[i + 1]) {
      keptX.push(xs[i]!);
      keptY.push(fitted[i]!);
    }
  }
  return { x: Float64Array.from(keptX), y: Float64Array.from(keptY) };
}

/** The calibrated probability of one score: clipped to the fitted range, then linear between thresholds (scipy's interp1d). */
export function calibrate(calibration: IsotonicCalibration, score: number): number {
  const { x, y } = calibration;
  const n = x.length;
  if (n === 1) return y[0]!;
  const t = Math.min(Math.max(score, x[0]!), x[n - 1]!);
  // searchsorted(x, t, side='left'), clipped to [1, n-1].
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  const index = Math.min(Math.max(lo, 1), n - 1);
  const slope = (y[index]! - y[index - 1]!) / (x[index]! - x[index - 1]!);
  return slope * (t - x[index - 1]!) + y[index - 1]!;
}

/** The metrics CBPE estimates. */
export const CBPE_METRICS = ['accuracy', 'f1', 'rocAuc'] as const;
export type CbpeMetric = (typeof CBPE_METRICS)[number];

/**
 * A window prepared once for its estimates, its rows in descending order of the uncalibrated score
 * (row identity does not matter to CBPE, so every pass reads the arrays in order): the predicted
 * class, the calibrated probability, and where each run of tied scores ends. Weights given to the
 * estimates are per position in this order.
 */
export interface CbpeWindow {
  readonly rows: number;
  readonly predicted: Uint8Array;
  readonly calibrated: Float64Array;
  readonly runEnds: Uint8Array;
}

/** Calibrates a window's scores (P(positive), uncalibrated) and orders them for the ROC AUC estimate. */
export function cbpeWindow(calibration: IsotonicCalibration, scores: ArrayLike<number>): CbpeWindow {
  const n = scores.length;
  // Ascending numeric sort of a copy, read backwards: the highest score first.
  const ascending = Float64Array.from(scores).sort();
  const predicted = new Uint8Array(n);
  const calibrated = new Float64Array(n);
  const runEnds = new Uint8Array(n);
  for (let k = 0; k < n; k += 1) {
    const score = ascending[n - 1 - k]!;
    predicted[k] = score > 0.5 ? 1 : 0;
    calibrated[k] = calibrate(calibration, score);
    runEnds[k] = k === n - 1 || ascending[n - 2 - k] !== score ? 1 : 0;
  }
  return { rows: n, predicted, calibrated, runEnds };
}

const round5 = (value: number) => Math.round(value * 1e5) / 1e5;

/**
 * Every CBPE metric of a prepared window in two passes; `weights` (per row, e.g. bootstrap counts)
 * default to 1. NaN where a metric is undefined (an empty window; ROC AUC with no expected positive
 * or negative).
 */
export function estimateAll(window: CbpeWindow, weights?: Float64Array): Record<CbpeMetric, number> {
  const { rows, predicted, calibrated, runEnds } = window;
  // Unit weights unless given: one typed array, so the loops below stay monomorphic.
  const w = weights ?? new Float64Array(rows).fill(1);
  let total = 0;
  let correct = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let k = 0; k < rows; k += 1) {
    const wk = w[k]!;
    const c = calibrated[k]!;
    total += wk;
    if (predicted[k] === 1) {
      tp += wk * c;
      fp += wk * (1 - c);
      correct += wk * c;
    } else {
      fn += wk * c;
      correct += wk * (1 - c);
    }
  }
  const denominator = tp + 0.5 * (fp + fn);
  // ROC AUC: the expected ROC curve, one point per run of tied scores, from the highest score down;
  // the trapezoids are summed on the unnormalised counts, then divided by both totals. The point
  // estimate rounds the running sums to 5 decimals as NannyML does; a resample (weights given) does
  // not (the rounding moves a value by about 1e-5 / rows and only costs time there).
  const round = weights === undefined;
  let tps = 0;
  let fps = 0;
  let lastT = 0;
  let lastF = 0;
  let area = 0;
  for (let k = 0; k < rows; k += 1) {
    const wk = w[k]!;
    const c = calibrated[k]!;
    tps += wk * c;
    fps += wk * (1 - c);
    if (runEnds[k] === 1) {
      const t = round ? round5(tps) : tps;
      const f = round ? round5(fps) : fps;
      area += (f - lastF) * (t + lastT);
      lastT = t;
      lastF = f;
    }
  }
  return {
    accuracy: total === 0 ? Number.NaN : correct / total,
    f1: total === 0 ? Number.NaN : denominator !== 0 ? tp / denominator : 0,
    rocAuc: lastT > 0 && lastF > 0 ? area / 2 / (lastT * lastF) : Number.NaN,
  };
}

/** One estimate on a prepared window (see estimateAll). */
export function estimateMetric(window: CbpeWindow, metric: CbpeMetric, weights?: Float64Array): number {
  return estimateAll(window, weights)[metric];
}
