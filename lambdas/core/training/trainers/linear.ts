import type { FitReport, Matrix } from './matrix.js';

/**
 * Ordinary least squares (alpha 0) and ridge regression with an unpenalized intercept:
 * minimizes ||y - X coef - intercept||² + alpha ||coef||², the objective of scikit-learn's Ridge
 * (and LinearRegression at alpha 0). Centering X and y removes the intercept from the problem;
 * the coefficients then solve (Xc'Xc + alpha I) coef = Xc'yc by a Cholesky factorization, and
 * intercept = mean(y) - mean(X)·coef.
 */

export interface LinearModel {
  coef: number[];
  intercept: number;
}

export interface LinearFitReport extends FitReport {
  /**
   * Present only when Xc'Xc + alpha I was singular (or numerically so): the amount added to its
   * diagonal (1e-10 * trace / d) so it could be factored. The coefficients are then a slightly
   * regularized solution, close to the minimum-norm least-squares one.
   */
  readonly jitter?: number;
  /** Present only when the plain solve was not possible: a sentence saying what was done instead. */
  readonly note?: string;
}

/**
 * At alpha 0 a pivot this small relative to its diagonal entry means the column is a linear
 * combination of the earlier ones to within rounding (a condition number beyond ~1e12).
 */
const RELATIVE_PIVOT_FLOOR = 1e-12;

/**
 * Factors the symmetric d x d matrix `a` (row-major, lower triangle read) in place into L with
 * a = L L', L in the lower triangle. Returns false when a pivot is not positive, or (when
 * `relativeFloor` > 0) is below relativeFloor times its original diagonal entry.
 */
function choleskyInPlace(a: Float64Array, d: number, relativeFloor: number): boolean {
  for (let j = 0; j < d; j += 1) {
    const diagonal = a[j * d + j]!;
    let pivot = diagonal;
    for (let k = 0; k < j; k += 1) pivot -= a[j * d + k]! * a[j * d + k]!;
    if (!(pivot > 0) || pivot <= relativeFloor * diagonal) return false;
    const root = Math.sqrt(pivot);
    a[j * d + j] = root;
    for (let i = j + 1; i < d; i += 1) {
      let sum = a[i * d + j]!;
      for (let k = 0; k < j; k += 1) sum -= a[i * d + k]! * a[j * d + k]!;
      a[i * d + j] = sum / root;
    }
  }
  return true;
}

/** Solves L L' x = b for x, given the factor from choleskyInPlace; b is overwritten with x. */
function choleskySolveInPlace(l: Float64Array, d: number, b: Float64Array): void {
  for (let i = 0; i < d; i += 1) {
    let sum = b[i]!;
    for (let k = 0; k < i; k += 1) sum -= l[i * d + k]! * b[k]!;
    b[i] = sum / l[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i -= 1) {
    let sum = b[i]!;
    for (let k = i + 1; k < d; k += 1) sum -= l[k * d + i]! * b[k]!;
    b[i] = sum / l[i * d + i]!;
  }
}

/** Fits OLS / ridge. Throws a RangeError on mismatched sizes, zero rows, a bad alpha or non-finite values. */
export function fitLinear(x: Matrix, y: Float64Array, params: { alpha: number }): { model: LinearModel; report: LinearFitReport } {
  const { rows: n, cols: d, data } = x;
  const { alpha } = params;
  if (n === 0) throw new RangeError('cannot fit on zero rows');
  if (y.length !== n) throw new RangeError(`x has ${n} rows but y has ${y.length} values`);
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw new RangeError(`alpha must be a finite number >= 0, got ${alpha}`);

  const meanX = new Float64Array(d);
  let meanY = 0;
  for (let i = 0; i < n; i += 1) {
    const offset = i * d;
    for (let j = 0; j < d; j += 1) meanX[j]! += data[offset + j]!;
    meanY += y[i]!;
  }
  for (let j = 0; j < d; j += 1) meanX[j]! /= n;
  meanY /= n;
  if (!Number.isFinite(meanY)) throw new RangeError('y has a non-finite value');
  for (let j = 0; j < d; j += 1) if (!Number.isFinite(meanX[j]!)) throw new RangeError(`column ${j} of x has a non-finite value`);

  // Gram matrix (lower triangle) and moment vector of the centered data, in one pass over the rows.
  const gram = new Float64Array(d * d);
  const moment = new Float64Array(d);
  const centered = new Float64Array(d);
  for (let i = 0; i < n; i += 1) {
    const offset = i * d;
    const yc = y[i]! - meanY;
    for (let j = 0; j < d; j += 1) centered[j] = data[offset + j]! - meanX[j]!;
    for (let j = 0; j < d; j += 1) {
      const cj = centered[j]!;
      moment[j]! += cj * yc;
      const row = j * d;
      for (let k = 0; k <= j; k += 1) gram[row + k]! += cj * centered[k]!;
    }
  }

  let trace = 0;
  for (let j = 0; j < d; j += 1) trace += gram[j * d + j]!;
  const system = Float64Array.from(gram);
  for (let j = 0; j < d; j += 1) system[j * d + j]! += alpha;

  let jitter = 0;
  let note: string | undefined;
  const coef = Float64Array.from(moment);
  if (d > 0 && !choleskyInPlace(system, d, alpha === 0 ? RELATIVE_PIVOT_FLOOR : 0)) {
    if (trace > 0) {
      jitter = (1e-10 * trace) / d;
      system.set(gram);
      for (let j = 0; j < d; j += 1) system[j * d + j]! += alpha + jitter;
      if (!choleskyInPlace(system, d, 0)) throw new RangeError('the normal equations could not be factored even with jitter');
      choleskySolveInPlace(system, d, coef);
      note = `the normal equations were singular (collinear or constant columns); added ${jitter} to the diagonal to solve them`;
    } else {
      // Every column is constant: nothing to fit but the mean.
      coef.fill(0);
      note = 'every feature column is constant: the coefficients are 0 and the intercept is the mean of y';
    }
  } else if (d > 0) {
    choleskySolveInPlace(system, d, coef);
  }

  let intercept = meanY;
  for (let j = 0; j < d; j += 1) intercept -= meanX[j]! * coef[j]!;

  // The objective at the solution: squared residuals plus the penalty.
  let loss = 0;
  for (let i = 0; i < n; i += 1) {
    const offset = i * d;
    let prediction = intercept;
    for (let j = 0; j < d; j += 1) prediction += coef[j]! * data[offset + j]!;
    const residual = y[i]! - prediction;
    loss += residual * residual;
  }
  let penalty = 0;
  for (let j = 0; j < d; j += 1) penalty += coef[j]! * coef[j]!;
  loss += alpha * penalty;

  const report: LinearFitReport = {
    iterations: 1,
    converged: true,
    finalLoss: loss,
    ...(jitter > 0 ? { jitter } : {}),
    ...(note === undefined ? {} : { note }),
  };
  return { model: { coef: Array.from(coef), intercept }, report };
}

/** intercept + coef · row. Throws a RangeError when the row's length is not the model's. */
export function predictLinear(model: LinearModel, row: ArrayLike<number>): number {
  const { coef } = model;
  if (row.length !== coef.length) throw new RangeError(`the model takes ${coef.length} features, the row has ${row.length}`);
  let sum = model.intercept;
  for (let j = 0; j < coef.length; j += 1) sum += coef[j]! * row[j]!;
  return sum;
}
