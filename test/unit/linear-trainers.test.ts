import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from '../../lambdas/core/training/trainers/lbfgs.js';
import { fitLinear, predictLinear } from '../../lambdas/core/training/trainers/linear.js';
import { fitLogistic, predictProba, type LogisticModel } from '../../lambdas/core/training/trainers/logistic.js';
import { fromRows, rowOf, type Matrix } from '../../lambdas/core/training/trainers/matrix.js';
import { createRng } from '../../lambdas/core/random.js';

/** A standard-normal draw from a seeded uniform generator (Box-Muller). */
const normalFrom = (rng: () => number) => () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());

const mean = (values: ArrayLike<number>) => Array.from(values).reduce((s, v) => s + v, 0) / values.length;
const norm = (values: readonly number[]) => Math.sqrt(values.reduce((s, v) => s + v * v, 0));

/** n rows of d standard-normal features; binary labels drawn from a logistic model. */
function binaryData(n: number, coefficients: readonly number[], intercept: number, seed: number): { x: Matrix; y: Float64Array } {
  const rng = createRng(seed);
  const normal = normalFrom(rng);
  const rows: number[][] = [];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const row = coefficients.map(() => normal());
    const logit = row.reduce((s, v, j) => s + v * coefficients[j]!, intercept);
    rows.push(row);
    y[i] = rng() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  }
  return { x: fromRows(rows), y };
}

/** Three Gaussian blobs in the plane, `perClass` rows each, labels 0, 1, 2. */
function blobs(perClass: number, seed: number): { x: Matrix; y: Float64Array } {
  const normal = normalFrom(createRng(seed));
  const centers = [
    [0, 0],
    [4, 0],
    [0, 4],
  ];
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < perClass; i += 1) {
    centers.forEach(([cx, cy], k) => {
      rows.push([cx! + normal(), cy! + normal()]);
      labels.push(k);
    });
  }
  return { x: fromRows(rows), y: Float64Array.from(labels) };
}

/**
 * The gradient of the logistic objective (sum of log losses + ||coef||² / (2C)) at the model,
 * computed here from the model's own probabilities: one row per coefficient vector, the
 * intercept's component last.
 */
function objectiveGradient(model: LogisticModel, x: Matrix, y: Float64Array, C: number): number[][] {
  const vectors = model.coef.length;
  const gradient = model.coef.map((c) => [...c.map((v) => v / C), 0]);
  for (let i = 0; i < x.rows; i += 1) {
    const row = rowOf(x, i);
    const p = predictProba(model, row);
    for (let k = 0; k < vectors; k += 1) {
      // Binary: the single vector scores the positive class (index 1).
      const target = vectors === 1 ? 1 : k;
      const residual = p[target]! - (y[i] === target ? 1 : 0);
      const g = gradient[k]!;
      row.forEach((v, j) => (g[j]! += residual * v));
      g[row.length]! += residual;
    }
  }
  return gradient;
}

describe('fitLinear', () => {
  // y = 2 + 3 x1 - x2, exactly, on spread-out non-collinear features.
  const exactRows = Array.from({ length: 20 }, (_, i) => [i * 0.5 - 3, 2 * Math.sin(i) + (i % 3)]);
  const exactY = Float64Array.from(exactRows, ([a, b]) => 2 + 3 * a! - b!);

  it('recovers intercept and coefficients of exact linear data with alpha 0', () => {
    const { model, report } = fitLinear(fromRows(exactRows), exactY, { alpha: 0 });
    expect(model.intercept).toBeCloseTo(2, 9);
    expect(model.coef[0]).toBeCloseTo(3, 9);
    expect(model.coef[1]).toBeCloseTo(-1, 9);
    expect(report.converged).toBe(true);
    expect(report.jitter).toBeUndefined();
    expect(report.finalLoss).toBeLessThan(1e-18);
    expect(predictLinear(model, [1, 1])).toBeCloseTo(4, 9);
  });

  it('matches the ridge closed form (Xc\'Xc + alpha I)^-1 Xc\'yc computed by hand, intercept from the means', () => {
    const rows = [
      [1, 2],
      [2, 1],
      [3, 5],
      [4, 3],
      [5, 7],
      [6, 4],
    ];
    const y = [3.1, 2.9, 7.2, 6.8, 11.5, 9.9];
    const alpha = 2.5;
    const mx1 = mean(rows.map((r) => r[0]!));
    const mx2 = mean(rows.map((r) => r[1]!));
    const my = mean(y);
    let s11 = 0;
    let s12 = 0;
    let s22 = 0;
    let s1y = 0;
    let s2y = 0;
    rows.forEach(([a, b], i) => {
      const c1 = a! - mx1;
      const c2 = b! - mx2;
      const cy = y[i]! - my;
      s11 += c1 * c1;
      s12 += c1 * c2;
      s22 += c2 * c2;
      s1y += c1 * cy;
      s2y += c2 * cy;
    });
    // Inverse of the 2 x 2 matrix [[s11 + alpha, s12], [s12, s22 + alpha]].
    const a11 = s11 + alpha;
    const a22 = s22 + alpha;
    const det = a11 * a22 - s12 * s12;
    const w1 = (a22 * s1y - s12 * s2y) / det;
    const w2 = (a11 * s2y - s12 * s1y) / det;
    const b = my - w1 * mx1 - w2 * mx2;

    const { model } = fitLinear(fromRows(rows), Float64Array.from(y), { alpha });
    expect(model.coef[0]).toBeCloseTo(w1, 12);
    expect(model.coef[1]).toBeCloseTo(w2, 12);
    expect(model.intercept).toBeCloseTo(b, 12);
    // The penalty really acted: OLS on the same data gives different coefficients.
    expect(Math.abs(fitLinear(fromRows(rows), Float64Array.from(y), { alpha: 0 }).model.coef[0]! - w1)).toBeGreaterThan(1e-3);
  });

  it('does not shrink the intercept: a huge alpha sends coef to 0 and the intercept to mean(y)', () => {
    // Features far from zero, so a penalized intercept would be pulled visibly away from mean(y).
    const rows = exactRows.map(([a, b]) => [a! + 100, b! - 50]);
    const { model } = fitLinear(fromRows(rows), exactY, { alpha: 1e12 });
    expect(Math.max(...model.coef.map(Math.abs))).toBeLessThan(1e-8);
    expect(model.intercept).toBeCloseTo(mean(exactY), 6);
  });

  it('adds a small jitter, and says so, when alpha 0 meets collinear columns', () => {
    const rows = exactRows.map(([a]) => [a!, 2 * a!]);
    const y = Float64Array.from(rows, ([a]) => 1 + a!);
    const { model, report } = fitLinear(fromRows(rows), y, { alpha: 0 });
    expect(report.jitter).toBeGreaterThan(0);
    expect(report.note).toMatch(/singular/);
    rows.forEach((row, i) => expect(predictLinear(model, row)).toBeCloseTo(y[i]!, 6));
    // Near the minimum-norm solution: coef ∝ (1, 2) with 1*c1 + 2*c2 = 1.
    expect(model.coef[0]).toBeCloseTo(0.2, 6);
    expect(model.coef[1]).toBeCloseTo(0.4, 6);
  });

  it('fits only the mean when every column is constant', () => {
    const { model, report } = fitLinear(fromRows([[3], [3], [3]]), Float64Array.from([1, 2, 6]), { alpha: 0 });
    expect(model).toEqual({ coef: [0], intercept: 3 });
    expect(report.note).toMatch(/constant/);
  });

  it('rejects mismatched sizes, a negative alpha and non-finite values', () => {
    const x = fromRows([[1], [2]]);
    expect(() => fitLinear(x, Float64Array.from([1]), { alpha: 0 })).toThrow(RangeError);
    expect(() => fitLinear(x, Float64Array.from([1, 2]), { alpha: -1 })).toThrow(RangeError);
    expect(() => fitLinear(fromRows([[1], [Number.NaN]]), Float64Array.from([1, 2]), { alpha: 0 })).toThrow(/non-finite/);
    expect(() => predictLinear({ coef: [1, 2], intercept: 0 }, [1])).toThrow(RangeError);
  });
});

describe('minimizeLbfgs', () => {
  it('minimizes the Rosenbrock function to within 1e-6 of (1, 1)', () => {
    const rosenbrock = (w: Float64Array, grad: Float64Array) => {
      const a = w[0]!;
      const b = w[1]!;
      grad[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      grad[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    };
    const result = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { maxIterations: 1000, tolerance: 1e-12 });
    expect(result.converged).toBe(true);
    expect(Math.abs(result.w[0]! - 1)).toBeLessThan(1e-6);
    expect(Math.abs(result.w[1]! - 1)).toBeLessThan(1e-6);
    expect(result.value).toBeLessThan(1e-12);
  });

  it('minimizes a convex quadratic to its exact solution A^-1 b', () => {
    // f = ½ w'Aw - b'w with A = M'M + I symmetric positive definite; the minimizer solves A w = b.
    const m = [
      [2, 1, 0, 0.5],
      [0, 3, 1, 0],
      [1, 0, 1, 2],
      [0.5, 0, 0, 1],
    ];
    const d = 4;
    const a = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => m.reduce((s, row) => s + row[i]! * row[j]!, i === j ? 1 : 0)));
    const b = [1, -2, 3, 0.5];
    const quadratic = (w: Float64Array, grad: Float64Array) => {
      let value = 0;
      for (let i = 0; i < d; i += 1) {
        let aw = 0;
        for (let j = 0; j < d; j += 1) aw += a[i]![j]! * w[j]!;
        grad[i] = aw - b[i]!;
        value += 0.5 * w[i]! * aw - b[i]! * w[i]!;
      }
      return value;
    };
    const result = minimizeLbfgs(quadratic, new Float64Array(d), { maxIterations: 100, tolerance: 1e-12 });
    expect(result.converged).toBe(true);
    // A w must reproduce b.
    for (let i = 0; i < d; i += 1) {
      const aw = a[i]!.reduce((s, v, j) => s + v * result.w[j]!, 0);
      expect(aw).toBeCloseTo(b[i]!, 10);
    }
  });

  it('keeps converging once f differences are lost in rounding (a huge constant offset)', () => {
    // f = 1e8 + ½ Σ a_i (w_i - c_i)², curvatures a_i from 1 to 1e4: long before the gradient test
    // passes, steps change f by less than its rounding error (~1e-8), and only the gradient can
    // still tell a good step from a bad one. A plain Armijo test stalls here near 1e-4 from c.
    const d = 40;
    const a = Array.from({ length: d }, (_, i) => 10 ** ((4 * i) / (d - 1)));
    const c = Array.from({ length: d }, (_, i) => Math.sin(i + 1));
    const offsetQuadratic = (w: Float64Array, grad: Float64Array) => {
      let value = 1e8;
      for (let i = 0; i < d; i += 1) {
        const r = w[i]! - c[i]!;
        grad[i] = a[i]! * r;
        value += 0.5 * a[i]! * r * r;
      }
      return value;
    };
    const result = minimizeLbfgs(offsetQuadratic, new Float64Array(d), { maxIterations: 3000, tolerance: 1e-12 });
    expect(result.converged).toBe(true);
    result.w.forEach((v, i) => expect(Math.abs(v - c[i]!)).toBeLessThan(1e-8));
  });

  it('reaches the same minimum with a memory of 1 and 3 pairs (the history ring wraps)', () => {
    for (const memory of [1, 3]) {
      const result = minimizeLbfgs(
        (w, grad) => {
          grad[0] = -2 * (1 - w[0]!) - 400 * w[0]! * (w[1]! - w[0]! ** 2);
          grad[1] = 200 * (w[1]! - w[0]! ** 2);
          return (1 - w[0]!) ** 2 + 100 * (w[1]! - w[0]! ** 2) ** 2;
        },
        Float64Array.from([-1.2, 1]),
        { maxIterations: 2000, tolerance: 1e-12, memory },
      );
      expect(result.converged).toBe(true);
      expect(Math.abs(result.w[0]! - 1)).toBeLessThan(1e-6);
      expect(Math.abs(result.w[1]! - 1)).toBeLessThan(1e-6);
    }
  });

  it('stops at maxIterations without claiming convergence, and leaves w0 alone', () => {
    const w0 = Float64Array.from([-1.2, 1]);
    const result = minimizeLbfgs(
      (w, grad) => {
        grad[0] = -2 * (1 - w[0]!) - 400 * w[0]! * (w[1]! - w[0]! ** 2);
        grad[1] = 200 * (w[1]! - w[0]! ** 2);
        return (1 - w[0]!) ** 2 + 100 * (w[1]! - w[0]! ** 2) ** 2;
      },
      w0,
      { maxIterations: 3, tolerance: 1e-12 },
    );
    expect(result.iterations).toBe(3);
    expect(result.converged).toBe(false);
    expect(Array.from(w0)).toEqual([-1.2, 1]);
  });
});

describe('fitLogistic: binary', () => {
  const { x, y } = binaryData(200, [2.5, -1.5, 0.8], 0.3, 7);
  const tight = { maxIterations: 1000, tolerance: 1e-10 };

  it('stops where the objective is stationary (each coefficient and the intercept)', () => {
    const C = 1;
    const { model, report } = fitLogistic(x, y, 2, { C, ...tight });
    expect(report.converged).toBe(true);
    expect(model.coef).toHaveLength(1);
    expect(model.intercept).toHaveLength(1);
    for (const g of objectiveGradient(model, x, y, C)[0]!) expect(Math.abs(g)).toBeLessThan(1e-5);
    // And it really is the minimum of a nontrivial problem: the coefficients are far from 0.
    expect(norm(model.coef[0]!)).toBeGreaterThan(1);
  });

  it('shrinks the coefficients as C decreases', () => {
    const norms = [100, 1, 0.1, 0.01].map((C) => norm(fitLogistic(x, y, 2, { C, ...tight }).model.coef[0]!));
    for (let k = 1; k < norms.length; k += 1) expect(norms[k]!).toBeLessThan(norms[k - 1]!);
  });

  it('matches a brute-force Newton fit on a one-feature fixture to 1e-6', () => {
    // Mostly increasing in x, with two rows against the trend so the classes overlap.
    const xs = Array.from({ length: 20 }, (_, i) => i + 1);
    const ys = xs.map((v, i) => (v > 10 ? 1 : 0) ^ (i === 8 || i === 12 ? 1 : 0));
    const C = 0.5;
    // Newton's method on (b, w) for sum log loss + w² / (2C), with its exact 2 x 2 Hessian.
    let b = 0;
    let w = 0;
    for (let step = 0; step < 100; step += 1) {
      let gb = 0;
      let gw = w / C;
      let hbb = 0;
      let hbw = 0;
      let hww = 1 / C;
      xs.forEach((v, i) => {
        const p = 1 / (1 + Math.exp(-(b + w * v)));
        const r = p - ys[i]!;
        const curvature = p * (1 - p);
        gb += r;
        gw += r * v;
        hbb += curvature;
        hbw += curvature * v;
        hww += curvature * v * v;
      });
      const det = hbb * hww - hbw * hbw;
      b -= (hww * gb - hbw * gw) / det;
      w -= (hbb * gw - hbw * gb) / det;
    }
    const { model } = fitLogistic(fromRows(xs.map((v) => [v])), Float64Array.from(ys), 2, { C, maxIterations: 1000, tolerance: 1e-10 });
    expect(Math.abs(model.intercept[0]! - b)).toBeLessThan(1e-6);
    expect(Math.abs(model.coef[0]![0]! - w)).toBeLessThan(1e-6);
    // The fixture is not degenerate.
    expect(w).toBeGreaterThan(0.2);
    expect(b).toBeLessThan(-2);
  });

  it('gives the same coefficients when a feature is offset far from 0 (only the intercept moves)', () => {
    const C = 1;
    const base = fitLogistic(x, y, 2, { C, ...tight }).model;
    // Shifting a column by a constant leaves the optimal coefficients unchanged (the intercept is
    // not penalized and absorbs the shift); the fit must find them despite the large offset.
    const shifted = { ...x, data: x.data.map((v, i) => (i % x.cols === 0 ? v + 5000 : v)) };
    const moved = fitLogistic(shifted, y, 2, { C, ...tight }).model;
    moved.coef[0]!.forEach((c, j) => expect(c).toBeCloseTo(base.coef[0]![j]!, 5));
    expect(moved.intercept[0]! + 5000 * moved.coef[0]![0]!).toBeCloseTo(base.intercept[0]!, 4);
  });

  it('returns [P0, P1] summing to 1, with P1 the sigmoid of the score, stable at extreme scores', () => {
    const model: LogisticModel = { classes: 2, coef: [[1]], intercept: [0] };
    const [p0, p1] = predictProba(model, [Math.log(3)]);
    expect(p1).toBeCloseTo(0.75, 14);
    expect(p0! + p1!).toBeCloseTo(1, 15);
    expect(predictProba(model, [1000])).toEqual([0, 1]);
    expect(predictProba(model, [-1000])).toEqual([1, 0]);
  });
});

describe('fitLogistic: multinomial', () => {
  const { x, y } = blobs(60, 11);
  const C = 1;

  it('separates three blobs, with probabilities summing to 1', () => {
    const { model, report } = fitLogistic(x, y, 3, { C, maxIterations: 1000, tolerance: 1e-10 });
    expect(report.converged).toBe(true);
    expect(model.coef).toHaveLength(3);
    expect(model.intercept).toHaveLength(3);
    let correct = 0;
    for (let i = 0; i < x.rows; i += 1) {
      const p = predictProba(model, rowOf(x, i));
      expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      if (p.indexOf(Math.max(...p)) === y[i]) correct += 1;
    }
    expect(correct / x.rows).toBeGreaterThan(0.95);
  });

  it('stops where the full multinomial objective is stationary, with zero-sum intercepts', () => {
    const { model } = fitLogistic(x, y, 3, { C, maxIterations: 1000, tolerance: 1e-10 });
    for (const g of objectiveGradient(model, x, y, C).flat()) expect(Math.abs(g)).toBeLessThan(1e-5);
    expect(Math.abs(model.intercept.reduce((s, v) => s + v, 0))).toBeLessThan(1e-12);
    // The penalty forces the class coefficients of each feature to sum to 0 at the optimum.
    for (let j = 0; j < 2; j += 1) expect(Math.abs(model.coef.reduce((s, c) => s + c[j]!, 0))).toBeLessThan(1e-6);
  });

  it('softmax stays finite for huge scores', () => {
    const model: LogisticModel = { classes: 3, coef: [[1000], [0], [-1000]], intercept: [0, 0, 0] };
    expect(predictProba(model, [5])).toEqual([1, 0, 0]);
  });
});

describe('fitLogistic: determinism and input checks', () => {
  it('gives identical JSON for two fits of the same input', () => {
    const { x, y } = blobs(40, 3);
    const params = { C: 0.7, maxIterations: 500, tolerance: 1e-6 };
    expect(JSON.stringify(fitLogistic(x, y, 3, params))).toBe(JSON.stringify(fitLogistic(x, y, 3, params)));
    const binary = binaryData(100, [1, -1], 0, 5);
    expect(JSON.stringify(fitLogistic(binary.x, binary.y, 2, params))).toBe(JSON.stringify(fitLogistic(binary.x, binary.y, 2, params)));
    expect(JSON.stringify(fitLinear(binary.x, binary.y, { alpha: 0.5 }))).toBe(JSON.stringify(fitLinear(binary.x, binary.y, { alpha: 0.5 })));
  });

  it('rejects labels outside 0..K-1, a non-positive C, too few classes and mismatched rows', () => {
    const x = fromRows([[1], [2], [3]]);
    const params = { C: 1, maxIterations: 10, tolerance: 1e-6 };
    expect(() => fitLogistic(x, Float64Array.from([0, 1, 2]), 2, params)).toThrow(/class index/);
    expect(() => fitLogistic(x, Float64Array.from([0, 1, 0.5]), 2, params)).toThrow(/class index/);
    expect(() => fitLogistic(x, Float64Array.from([0, 1, 1]), 2, { ...params, C: 0 })).toThrow(RangeError);
    expect(() => fitLogistic(x, Float64Array.from([0, 0, 0]), 1, params)).toThrow(RangeError);
    expect(() => fitLogistic(x, Float64Array.from([0, 1]), 2, params)).toThrow(RangeError);
    expect(() => predictProba({ classes: 2, coef: [[1, 2]], intercept: [0] }, [1])).toThrow(RangeError);
  });
});
