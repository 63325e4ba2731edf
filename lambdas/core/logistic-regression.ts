import type { LogisticRegressionParams } from './model-spec.js';

export interface Standardization {
  readonly mean: number[];
  readonly std: number[];
}

export interface LogisticModel {
  readonly standardization: Standardization;
  /** Coefficients on standardized features. */
  readonly weights: number[];
  readonly bias: number;
}

export interface FitReport {
  readonly iterations: number;
  readonly converged: boolean;
  readonly finalLoss: number;
}

/** Column means and (population) standard deviations; a constant column gets std 1 so it scales to 0. */
export function fitStandardization(x: readonly number[][]): Standardization {
  const columns = x[0]?.length ?? 0;
  const mean = new Array<number>(columns).fill(0);
  const std = new Array<number>(columns).fill(0);
  for (const row of x) row.forEach((value, j) => (mean[j]! += value));
  for (let j = 0; j < columns; j += 1) mean[j]! /= x.length;
  for (const row of x) row.forEach((value, j) => (std[j]! += (value - mean[j]!) ** 2));
  for (let j = 0; j < columns; j += 1) {
    const s = Math.sqrt(std[j]! / x.length);
    std[j] = s > 1e-12 ? s : 1;
  }
  return { mean, std };
}

export const standardize = (row: readonly number[], { mean, std }: Standardization) => row.map((value, j) => (value - mean[j]!) / std[j]!);

export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** P(positive) for one raw feature row: the one function both evaluation and serving call. */
export function predictProbability(model: LogisticModel, row: readonly number[]): number {
  const z = standardize(row, model.standardization).reduce((sum, value, j) => sum + value * model.weights[j]!, model.bias);
  return sigmoid(z);
}

/**
 * Fits L2-regularised logistic regression by full-batch gradient descent on standardized
 * features. Full batches and a fixed start (all zeros) make the result depend only on the data
 * and the parameters, so the same inputs give the same bytes. Each iteration computes the loss
 * and the gradient in one pass over the rows, and stops once the loss improves by less than
 * `tolerance`.
 */
export function fitLogisticRegression(x: readonly number[][], y: readonly number[], params: LogisticRegressionParams): { model: LogisticModel; report: FitReport } {
  if (x.length === 0) throw new Error('cannot fit on zero rows');
  const standardization = fitStandardization(x);
  const n = x.length;
  const d = standardization.mean.length;
  // Row-major standardized features in one typed array: cache-friendly and allocation-free in the loop.
  const z = new Float64Array(n * d);
  x.forEach((row, i) => standardize(row, standardization).forEach((value, j) => (z[i * d + j] = value)));
  const weights = new Float64Array(d);
  const gradient = new Float64Array(d);
  let bias = 0;
  let previous = Number.POSITIVE_INFINITY;
  let loss = Number.POSITIVE_INFINITY;
  let iterations = 0;
  let converged = false;

  for (;;) {
    gradient.fill(0);
    let biasGradient = 0;
    let dataLoss = 0;
    for (let i = 0; i < n; i += 1) {
      const offset = i * d;
      let score = bias;
      for (let j = 0; j < d; j += 1) score += z[offset + j]! * weights[j]!;
      const p = sigmoid(score);
      const label = y[i]!;
      dataLoss -= label * Math.log(Math.max(p, 1e-15)) + (1 - label) * Math.log(Math.max(1 - p, 1e-15));
      const error = p - label;
      for (let j = 0; j < d; j += 1) gradient[j]! += error * z[offset + j]!;
      biasGradient += error;
    }
    let penalty = 0;
    for (let j = 0; j < d; j += 1) penalty += weights[j]! * weights[j]!;
    loss = dataLoss / n + (params.l2 / 2) * penalty;
    if (Math.abs(previous - loss) < params.tolerance) {
      converged = true;
      break;
    }
    if (iterations === params.maxIterations) break;
    for (let j = 0; j < d; j += 1) weights[j]! -= params.learningRate * (gradient[j]! / n + params.l2 * weights[j]!);
    bias -= params.learningRate * (biasGradient / n);
    previous = loss;
    iterations += 1;
  }
  return { model: { standardization, weights: Array.from(weights), bias }, report: { iterations, converged, finalLoss: loss } };
}
