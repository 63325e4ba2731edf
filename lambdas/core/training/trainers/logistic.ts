import { minimizeLbfgs } from './lbfgs.js';
import type { FitReport, Matrix } from './matrix.js';

/**
 * L2-regularized logistic regression with scikit-learn's LogisticRegression(C) objective:
 *
 *   sum over rows of the log loss + (1 / (2C)) * ||coef||²     (the intercept is not penalized)
 *
 * Two classes use one coefficient vector and the sigmoid; more use K vectors and the softmax
 * (the full multinomial loss). The objective is minimized by L-BFGS from all zeros.
 *
 * The optimizer works in preconditioned coordinates: each feature centered on its mean and
 * divided by a scale s_j, with the penalty rewritten so the objective is exactly the same
 * function of (coef, intercept). This changes only how fast L-BFGS gets there, not where it
 * ends up, and makes the fit insensitive to features with large offsets or scales.
 */

export interface LogisticModel {
  classes: number;
  /** 1 x d for two classes (the positive class, index 1), K x d for K > 2. */
  coef: number[][];
  /** Length 1 for two classes, K for K > 2 (then centered to sum to 0). */
  intercept: number[];
}

export interface LogisticParams {
  /** Inverse regularization strength, > 0. */
  readonly C: number;
  readonly maxIterations: number;
  /** L-BFGS gradient tolerance, relative to the gradient at the zero start (see minimizeLbfgs). */
  readonly tolerance: number;
}

/** log(1 + e^z) without overflow or loss of precision. */
const softplus = (z: number): number => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

/** 1 / (1 + e^-z) without overflow. */
const sigmoid = (z: number): number => {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
};

function validate(x: Matrix, y: Float64Array, classes: number, params: LogisticParams): void {
  if (x.rows === 0) throw new RangeError('cannot fit on zero rows');
  if (y.length !== x.rows) throw new RangeError(`x has ${x.rows} rows but y has ${y.length} values`);
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError(`classes must be an integer >= 2, got ${classes}`);
  if (!(params.C > 0) || !Number.isFinite(params.C)) throw new RangeError(`C must be a finite number > 0, got ${params.C}`);
  for (let i = 0; i < y.length; i += 1) {
    const label = y[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw new RangeError(`y[${i}] is ${label}, not a class index in 0..${classes - 1}`);
  }
  for (let i = 0; i < x.data.length; i += 1) {
    if (!Number.isFinite(x.data[i]!)) throw new RangeError(`x has a non-finite value at row ${Math.floor(i / x.cols)}, column ${i % x.cols}`);
  }
}

/**
 * Column means, and per-column scales s_j with s_j² = var_j + c / (C n): the square root of the
 * diagonal of the objective's Hessian at the start (per-row curvature 1/c), relative to the
 * intercept's. Always positive, also for constant columns.
 */
function preconditioner(x: Matrix, C: number, curvature: number): { mean: Float64Array; scale: Float64Array } {
  const { rows: n, cols: d, data } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i += 1) for (let j = 0; j < d; j += 1) mean[j]! += data[i * d + j]!;
  for (let j = 0; j < d; j += 1) mean[j]! /= n;
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < d; j += 1) {
      const c = data[i * d + j]! - mean[j]!;
      scale[j]! += c * c;
    }
  }
  for (let j = 0; j < d; j += 1) scale[j] = Math.sqrt(scale[j]! / n + 1 / (curvature * C * n));
  return { mean, scale };
}

/**
 * Fits the model. `y` holds class indices 0..classes-1. Throws a RangeError on bad sizes,
 * labels, C, or non-finite features.
 */
export function fitLogistic(x: Matrix, y: Float64Array, classes: number, params: LogisticParams): { model: LogisticModel; report: FitReport } {
  validate(x, y, classes, params);
  const { rows: n, cols: d, data } = x;
  const { C } = params;
  const inverseC = 1 / C;
  // Vectors of coefficients: 1 for the sigmoid, K for the softmax.
  const vectors = classes === 2 ? 1 : classes;
  // Per-row curvature of the loss at the zero start: p(1-p) with p = 1/K (1/4 for the sigmoid).
  const curvature = classes === 2 ? 0.25 : (1 / classes) * (1 - 1 / classes);
  const { mean, scale } = preconditioner(x, C, curvature);

  // Parameter layout, in preconditioned coordinates: vectors * d coefficients v (row-major), then
  // `vectors` intercepts b'. Mapping: coef_kj = v_kj / s_j, intercept_k = b'_k - sum_j coef_kj mean_j.
  const coef = new Float64Array(vectors * d);
  const intercept = new Float64Array(vectors);
  const coefGrad = new Float64Array(vectors * d);
  const interceptGrad = new Float64Array(vectors);
  const scores = new Float64Array(vectors);

  /** Reads coef and intercept (original coordinates) out of the parameter vector. */
  const unpack = (w: Float64Array) => {
    for (let k = 0; k < vectors; k += 1) {
      let shift = 0;
      for (let j = 0; j < d; j += 1) {
        const c = w[k * d + j]! / scale[j]!;
        coef[k * d + j] = c;
        shift += c * mean[j]!;
      }
      intercept[k] = w[vectors * d + k]! - shift;
    }
  };

  /** Writes the gradient in preconditioned coordinates from the one in original coordinates. */
  const packGradient = (grad: Float64Array) => {
    for (let k = 0; k < vectors; k += 1) {
      const gb = interceptGrad[k]!;
      for (let j = 0; j < d; j += 1) grad[k * d + j] = (coefGrad[k * d + j]! - mean[j]! * gb) / scale[j]!;
      grad[vectors * d + k] = gb;
    }
  };

  const penalty = (): number => {
    let sum = 0;
    for (let i = 0; i < coef.length; i += 1) sum += coef[i]! * coef[i]!;
    return 0.5 * inverseC * sum;
  };

  const binaryObjective = (w: Float64Array, grad: Float64Array): number => {
    unpack(w);
    coefGrad.fill(0);
    let gb = 0;
    let loss = 0;
    const b = intercept[0]!;
    for (let i = 0; i < n; i += 1) {
      const offset = i * d;
      let z = b;
      for (let j = 0; j < d; j += 1) z += coef[j]! * data[offset + j]!;
      const positive = y[i] === 1;
      // -log p(y | z): softplus(-z) for the positive class, softplus(z) for the negative one.
      loss += positive ? softplus(-z) : softplus(z);
      const residual = sigmoid(z) - (positive ? 1 : 0);
      gb += residual;
      for (let j = 0; j < d; j += 1) coefGrad[j]! += residual * data[offset + j]!;
    }
    for (let j = 0; j < d; j += 1) coefGrad[j]! += inverseC * coef[j]!;
    interceptGrad[0] = gb;
    packGradient(grad);
    return loss + penalty();
  };

  const multinomialObjective = (w: Float64Array, grad: Float64Array): number => {
    unpack(w);
    coefGrad.fill(0);
    interceptGrad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i += 1) {
      const offset = i * d;
      let top = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < vectors; k += 1) {
        let z = intercept[k]!;
        const row = k * d;
        for (let j = 0; j < d; j += 1) z += coef[row + j]! * data[offset + j]!;
        scores[k] = z;
        if (z > top) top = z;
      }
      const label = y[i]!;
      const labelScore = scores[label]!;
      let total = 0;
      for (let k = 0; k < vectors; k += 1) {
        const e = Math.exp(scores[k]! - top);
        scores[k] = e;
        total += e;
      }
      // -log softmax_label = logsumexp(z) - z_label, with the max taken out of the sum.
      loss += top + Math.log(total) - labelScore;
      for (let k = 0; k < vectors; k += 1) {
        const residual = scores[k]! / total - (k === label ? 1 : 0);
        interceptGrad[k]! += residual;
        const row = k * d;
        for (let j = 0; j < d; j += 1) coefGrad[row + j]! += residual * data[offset + j]!;
      }
    }
    for (let i = 0; i < coef.length; i += 1) coefGrad[i]! += inverseC * coef[i]!;
    packGradient(grad);
    return loss + penalty();
  };

  const result = minimizeLbfgs(classes === 2 ? binaryObjective : multinomialObjective, new Float64Array(vectors * (d + 1)), {
    maxIterations: params.maxIterations,
    tolerance: params.tolerance,
  });
  unpack(result.w);
  if (vectors > 1) {
    // Adding a constant to every intercept leaves the probabilities unchanged; zero-sum is the
    // canonical choice (the optimizer keeps it up to rounding anyway, starting from zeros).
    let average = 0;
    for (let k = 0; k < vectors; k += 1) average += intercept[k]!;
    average /= vectors;
    for (let k = 0; k < vectors; k += 1) intercept[k]! -= average;
  }
  const model: LogisticModel = {
    classes,
    coef: Array.from({ length: vectors }, (_, k) => Array.from(coef.subarray(k * d, (k + 1) * d))),
    intercept: Array.from(intercept),
  };
  return { model, report: { iterations: result.iterations, converged: result.converged, finalLoss: result.value } };
}

/** The K class probabilities for one feature row ([P0, P1] for two classes); they sum to 1. */
export function predictProba(model: LogisticModel, row: ArrayLike<number>): number[] {
  const d = model.coef[0]?.length ?? 0;
  if (row.length !== d) throw new RangeError(`the model takes ${d} features, the row has ${row.length}`);
  const score = (k: number): number => {
    const c = model.coef[k]!;
    let z = model.intercept[k]!;
    for (let j = 0; j < d; j += 1) z += c[j]! * row[j]!;
    return z;
  };
  if (model.classes === 2) {
    const z = score(0);
    return [sigmoid(-z), sigmoid(z)];
  }
  const scores = model.coef.map((_, k) => score(k));
  const top = Math.max(...scores);
  const exps = scores.map((z) => Math.exp(z - top));
  const total = exps.reduce((sum, e) => sum + e, 0);
  return exps.map((e) => e / total);
}
