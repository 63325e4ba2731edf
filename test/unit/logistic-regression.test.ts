import { describe, expect, it } from 'vitest';
import {
  fitLogisticRegression,
  fitStandardization,
  predictProbability,
  sigmoid,
  standardize,
} from '../../lambdas/core/logistic-regression.js';
import { LogisticRegressionParamsSchema } from '../../lambdas/core/model-spec.js';
import { createRng } from '../../lambdas/core/random.js';

const params = (overrides: Record<string, number> = {}) => LogisticRegressionParamsSchema.parse({ learningRate: 0.5, maxIterations: 2000, l2: 0, tolerance: 1e-9, ...overrides });

/** n rows of three standard-normal features; y drawn from a logistic model with the given coefficients. */
function syntheticData(n: number, coefficients: readonly number[], intercept: number, seed: number) {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const row = coefficients.map(() => normal());
    const logit = row.reduce((s, v, j) => s + v * coefficients[j]!, intercept);
    x.push(row);
    y.push(rng() < 1 / (1 + Math.exp(-logit)) ? 1 : 0);
  }
  return { x, y };
}

// Mostly increasing in x, with two rows against the trend so the classes overlap.
const SMALL_X = Array.from({ length: 20 }, (_, i) => [i + 1]);
const SMALL_Y = SMALL_X.map(([v]) => (v! > 10 ? 1 : 0)).map((label, i) => (i === 8 || i === 12 ? 1 - label : label));

describe('fitStandardization', () => {
  it('computes column means and population standard deviations', () => {
    const s = fitStandardization([
      [0, 10, 7],
      [4, 20, 7],
    ]);
    expect(s.mean).toEqual([2, 15, 7]);
    expect(s.std).toEqual([2, 5, 1]); // the constant column gets std 1
  });

  it('scales a constant column to 0 and others to mean 0, std 1', () => {
    const x = [
      [1, 3],
      [2, 3],
      [3, 3],
      [6, 3],
    ];
    const s = fitStandardization(x);
    const z = x.map((row) => standardize(row, s));
    expect(z.map((row) => row[1])).toEqual([0, 0, 0, 0]);
    const column = z.map((row) => row[0]!);
    expect(column.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    expect(column.reduce((a, b) => a + b * b, 0) / column.length).toBeCloseTo(1, 12);
  });
});

describe('sigmoid', () => {
  it('is 1/2 at 0, symmetric, and finite at the extremes', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2) + sigmoid(-2)).toBeCloseTo(1, 15);
    expect(sigmoid(2)).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });
});

describe('fitLogisticRegression', () => {
  it('orders fitted probabilities with the feature on a small overlapping fixture', () => {
    const { model, report } = fitLogisticRegression(SMALL_X, SMALL_Y, params());
    expect(model.weights[0]).toBeGreaterThan(0);
    const p = SMALL_X.map((row) => predictProbability(model, row));
    for (let i = 1; i < p.length; i += 1) expect(p[i]).toBeGreaterThan(p[i - 1]!);
    expect(p[0]).toBeLessThan(0.2);
    expect(p[19]).toBeGreaterThan(0.8);
    expect(Number.isFinite(report.finalLoss)).toBe(true);
  });

  it('recovers the signs and rough size of known coefficients', () => {
    const truth = [2, -1, 0];
    const { x, y } = syntheticData(6000, truth, 0.5, 11);
    const { model } = fitLogisticRegression(x, y, params({ maxIterations: 5000, tolerance: 1e-12 }));
    // Features are standard normal, so standardized weights estimate the true coefficients.
    expect(model.weights[0]).toBeGreaterThan(1.6);
    expect(model.weights[0]).toBeLessThan(2.4);
    expect(model.weights[1]).toBeLessThan(-0.75);
    expect(model.weights[1]).toBeGreaterThan(-1.25);
    expect(Math.abs(model.weights[2]!)).toBeLessThan(0.15);
    expect(model.bias).toBeGreaterThan(0.3);
    expect(model.bias).toBeLessThan(0.7);
  });

  it('gives bit-identical models for identical inputs', () => {
    const { x, y } = syntheticData(500, [1, -1, 0.5], 0, 3);
    const a = fitLogisticRegression(x, y, params());
    const b = fitLogisticRegression(x, y, params());
    expect(b).toEqual(a);
    a.model.weights.forEach((w, j) => expect(Object.is(w, b.model.weights[j])).toBe(true));
    expect(Object.is(a.model.bias, b.model.bias)).toBe(true);
  });

  it('shrinks weights under L2', () => {
    const { x, y } = syntheticData(1000, [2, -1, 0.5], 0, 5);
    const norm = (w: number[]) => Math.hypot(...w);
    const free = fitLogisticRegression(x, y, params({ l2: 0 })).model.weights;
    const shrunk = fitLogisticRegression(x, y, params({ l2: 1 })).model.weights;
    expect(norm(shrunk)).toBeLessThan(0.7 * norm(free));
    shrunk.forEach((w, j) => expect(Math.sign(w)).toBe(Math.sign(free[j]!)));
  });

  it('stops early once the loss improves by less than the tolerance', () => {
    const { x, y } = syntheticData(500, [1, -1, 0.5], 0, 8);
    const loose = fitLogisticRegression(x, y, params({ tolerance: 1e-4, maxIterations: 5000 }));
    expect(loose.report.converged).toBe(true);
    expect(loose.report.iterations).toBeLessThan(5000);
    const tight = fitLogisticRegression(x, y, params({ tolerance: 1e-12, maxIterations: 5000 }));
    expect(tight.report.iterations).toBeGreaterThan(loose.report.iterations);
    expect(tight.report.finalLoss).toBeLessThanOrEqual(loose.report.finalLoss);
  });

  it('reports not converged when it runs out of iterations', () => {
    const { x, y } = syntheticData(500, [1, -1, 0.5], 0, 8);
    const { report } = fitLogisticRegression(x, y, params({ tolerance: 1e-12, maxIterations: 3 }));
    expect(report).toMatchObject({ converged: false, iterations: 3 });
  });

  it('refuses zero rows', () => {
    expect(() => fitLogisticRegression([], [], params())).toThrow(/zero rows/);
  });
});
