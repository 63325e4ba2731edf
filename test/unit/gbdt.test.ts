import { describe, expect, it } from 'vitest';
import {
  fitGbdt,
  GBDT_DEFAULTS,
  predictOutput,
  predictRaw,
  type BoostingLoss,
  type GbdtModel,
  type GbdtParams,
  type Tree,
} from '../../lambdas/core/training/trainers/gbdt.js';
import { fromRows, rowOf, type Matrix } from '../../lambdas/core/training/trainers/matrix.js';
import { createRng } from '../../lambdas/core/random.js';

const params = (overrides: Partial<GbdtParams> = {}): GbdtParams => ({ ...GBDT_DEFAULTS, ...overrides });

function fit(x: Matrix, y: readonly number[], loss: BoostingLoss, overrides: Partial<GbdtParams> = {}, classes = loss === 'multiclass_logloss' ? 3 : 1) {
  return fitGbdt(x, Float64Array.from(y), loss, classes, params(overrides));
}

/** A standard-normal sampler driven by a seeded generator (Box-Muller). */
function normalFrom(rng: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
}

/** n rows per center, each a center plus unit-variance Gaussian noise; y is the center's index. */
function blobs(centers: readonly (readonly number[])[], perCenter: number, seed: number): { x: number[][]; y: number[] } {
  const normal = normalFrom(createRng(seed));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < perCenter; i += 1) {
    centers.forEach((center, label) => {
      x.push(center.map((c) => c + normal()));
      y.push(label);
    });
  }
  return { x, y };
}

const isLeaf = (tree: Tree, node: number) => tree.feature[node]! < 0;
const leafCount = (tree: Tree) => tree.feature.filter((f) => f < 0).length;

/** The leaf a row reaches, following the documented rule (value <= threshold goes left). */
function leafOf(tree: Tree, row: ArrayLike<number>): number {
  let node = 0;
  while (!isLeaf(tree, node)) node = row[tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  return node;
}

function depthOf(tree: Tree, node = 0): number {
  return isLeaf(tree, node) ? 0 : 1 + Math.max(depthOf(tree, tree.left[node]!), depthOf(tree, tree.right[node]!));
}

const allTrees = (model: GbdtModel) => model.trees.flat();

function meanSquaredError(model: GbdtModel, x: Matrix, y: readonly number[]): number {
  return y.reduce((sum, target, i) => sum + (predictRaw(model, rowOf(x, i))[0]! - target) ** 2, 0) / y.length;
}

const argmax = (values: readonly number[]) => values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);

function accuracy(model: GbdtModel, x: number[][], y: readonly number[]): number {
  const predicted = x.map((row) => {
    const output = predictOutput(model, row);
    return output.length === 1 ? (output[0]! > 0.5 ? 1 : 0) : argmax(output);
  });
  return predicted.filter((label, i) => label === y[i]).length / y.length;
}

// 100 evenly spaced points in [0, 1]; 50 at or below 0.5 and 50 above.
const STEP_X = Array.from({ length: 100 }, (_, i) => [i / 99]);
const STEP_Y = STEP_X.map(([v]) => (v! > 0.5 ? 1 : 0));

describe('fitGbdt: a known tiny fixture', () => {
  const x = fromRows([[0], [1], [2], [3]]);
  const y = [1, 1, 5, 5];
  const oneSplit = { maxIterations: 1, learningRate: 1, maxLeafNodes: 2, minSamplesLeaf: 1, l2Regularization: 0 };

  it('predicts the group means exactly: leaf values are the means minus the base score', () => {
    const { model } = fit(x, y, 'squared_error', oneSplit);
    expect(model.baseScore).toEqual([3]);
    expect(predictRaw(model, [0])).toEqual([1]);
    expect(predictRaw(model, [3])).toEqual([5]);
    expect(predictRaw(model, [1.5])).toEqual([1]); // a value equal to the threshold goes left
    expect(predictRaw(model, [1.5000000001])).toEqual([5]);
    const tree = model.trees[0]![0]!;
    expect(tree).toEqual({ feature: [0, -1, -1], threshold: [1.5, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, -2, 2] });
  });

  it('shrinks leaf values by G/(H + λ) with L2 and by the learning rate', () => {
    // Left leaf: G = 2 + 2 = 4, H = 2, so the value is -4 / (2 + 2) = -1 with λ = 2.
    expect(predictRaw(fit(x, y, 'squared_error', { ...oneSplit, l2Regularization: 2 }).model, [0])).toEqual([2]);
    // With learning rate 0.5 the leaf moves half way: 3 + 0.5 * -2 = 2.
    expect(predictRaw(fit(x, y, 'squared_error', { ...oneSplit, learningRate: 0.5 }).model, [0])).toEqual([2]);
  });

  it('breaks equal gains toward the lowest feature, then the lowest bin', () => {
    // Two identical columns; splitting after 0 or after 2 gains exactly the same on y = [0, 5, 5, 0].
    const twin = fromRows([[0, 0], [1, 1], [2, 2], [3, 3]]);
    const { model } = fit(twin, [0, 5, 5, 0], 'squared_error', oneSplit);
    expect(model.trees[0]![0]!.feature[0]).toBe(0);
    expect(model.trees[0]![0]!.threshold[0]).toBe(0.5);
  });

  it('bins few distinct values at the midpoints between them', () => {
    expect(fit(x, y, 'squared_error', oneSplit).model.binEdges).toEqual([[0.5, 1.5, 2.5]]);
  });
});

describe('fitGbdt: squared_error', () => {
  it('puts a single split between the two groups of a step function', () => {
    const { model } = fit(fromRows(STEP_X), STEP_Y, 'squared_error', { maxIterations: 1, maxLeafNodes: 2 });
    const tree = model.trees[0]![0]!;
    expect(leafCount(tree)).toBe(2);
    expect(tree.feature[0]).toBe(0);
    expect(tree.threshold[0]).toBeGreaterThan(49 / 99);
    expect(tree.threshold[0]).toBeLessThan(50 / 99);
  });

  it('learns a step function almost exactly with enough iterations', () => {
    const x = fromRows(STEP_X);
    const { model, report } = fit(x, STEP_Y, 'squared_error', { maxIterations: 200 });
    STEP_X.forEach((row, i) => expect(Math.abs(predictRaw(model, row)[0]! - STEP_Y[i]!)).toBeLessThan(1e-6));
    expect(report).toMatchObject({ iterations: 200, converged: true });
    expect(report.finalLoss).toBeLessThan(1e-12);
  });

  describe('on y = 3 x1 - 2 x2 + noise', () => {
    const rng = createRng(11);
    const normal = normalFrom(rng);
    const rows = Array.from({ length: 2500 }, () => [rng() * 2 - 1, rng() * 2 - 1, rng() * 2 - 1]); // x3 is noise
    const targets = rows.map(([a, b]) => 3 * a! - 2 * b! + 0.1 * normal());
    const train = fromRows(rows.slice(0, 2000));
    const trainY = targets.slice(0, 2000);
    const testRows = rows.slice(2000);
    const testY = targets.slice(2000);

    it('reaches R² > 0.9 on held-out rows', () => {
      const { model } = fit(train, trainY, 'squared_error');
      const mean = testY.reduce((a, b) => a + b, 0) / testY.length;
      const residual = testRows.reduce((sum, row, i) => sum + (predictOutput(model, row)[0]! - testY[i]!) ** 2, 0);
      const total = testY.reduce((sum, v) => sum + (v - mean) ** 2, 0);
      expect(1 - residual / total).toBeGreaterThan(0.9);
    });

    it('lowers the training loss with every added iteration, and reports it', () => {
      const losses = [1, 2, 5, 20].map((maxIterations) => {
        const { model, report } = fit(train, trainY, 'squared_error', { maxIterations });
        const mse = meanSquaredError(model, train, trainY);
        expect(report.finalLoss).toBeCloseTo(mse, 12);
        return mse;
      });
      for (let i = 1; i < losses.length; i += 1) expect(losses[i]).toBeLessThan(losses[i - 1]!);
    });
  });
});

describe('fitGbdt: classification', () => {
  it('separates two Gaussian blobs (binary_logloss) with probabilities in (0, 1)', () => {
    const train = blobs([[-2, -2], [2, 2]], 300, 21);
    const test = blobs([[-2, -2], [2, 2]], 100, 22);
    const { model } = fitGbdt(fromRows(train.x), Float64Array.from(train.y), 'binary_logloss', 2, GBDT_DEFAULTS);
    expect(model.classes).toBe(1);
    expect(model.baseScore).toHaveLength(1);
    expect(model.baseScore[0]).toBeCloseTo(0, 12); // balanced classes: log-odds 0
    expect(accuracy(model, test.x, test.y)).toBeGreaterThan(0.95);
    for (const row of test.x) {
      const [p] = predictOutput(model, row);
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(1);
      expect(p).toBeCloseTo(1 / (1 + Math.exp(-predictRaw(model, row)[0]!)), 14);
    }
  });

  it('separates three blobs (multiclass_logloss) with probabilities summing to 1', () => {
    const centers = [[0, 4], [-4, -2], [4, -2]];
    const train = blobs(centers, 200, 31);
    const test = blobs(centers, 100, 32);
    const { model, report } = fitGbdt(fromRows(train.x), Float64Array.from(train.y), 'multiclass_logloss', 3, GBDT_DEFAULTS);
    expect(model.classes).toBe(3);
    expect(model.trees).toHaveLength(GBDT_DEFAULTS.maxIterations);
    for (const round of model.trees) expect(round).toHaveLength(3); // one tree per class per iteration
    expect(report.finalLoss).toBeLessThan(Math.log(3));
    expect(accuracy(model, test.x, test.y)).toBeGreaterThan(0.95);
    for (const row of test.x) {
      const probabilities = predictOutput(model, row);
      expect(probabilities).toHaveLength(3);
      expect(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
    }
  });

  it('starts multiclass scores at the log class priors', () => {
    const x = fromRows([[0], [1], [2], [3]]);
    const { model } = fitGbdt(x, Float64Array.from([0, 0, 1, 2]), 'multiclass_logloss', 3, params({ maxIterations: 1 }));
    expect(model.baseScore).toEqual([Math.log(0.5), Math.log(0.25), Math.log(0.25)]);
  });
});

describe('fitGbdt: tree shape limits', () => {
  const rng = createRng(5);
  const normal = normalFrom(rng);
  const rows = Array.from({ length: 600 }, () => [rng(), rng(), normal()]);
  const x = fromRows(rows);
  const y = rows.map(([a, b, c]) => Math.sin(6 * a!) + b! * b! + 0.3 * c!);

  it('never leaves fewer than minSamplesLeaf training rows in a leaf', () => {
    for (const minSamplesLeaf of [1, 7, 50]) {
      const { model } = fit(x, y, 'squared_error', { minSamplesLeaf, maxIterations: 10, maxLeafNodes: 64 });
      for (const tree of allTrees(model)) {
        const counts = new Map<number, number>();
        rows.forEach((row) => counts.set(leafOf(tree, row), (counts.get(leafOf(tree, row)) ?? 0) + 1));
        expect(counts.size).toBe(leafCount(tree)); // every leaf is reached by some training row
        expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(minSamplesLeaf);
      }
      if (minSamplesLeaf === 1) expect(Math.max(...allTrees(model).map(leafCount))).toBe(64);
    }
  });

  it('grows at most maxLeafNodes leaves per tree, and exactly that many when there is signal', () => {
    for (const maxLeafNodes of [2, 3, 8, 31]) {
      const { model } = fit(x, y, 'squared_error', { maxLeafNodes, maxIterations: 10, minSamplesLeaf: 5 });
      const counts = allTrees(model).map(leafCount);
      expect(Math.max(...counts)).toBe(maxLeafNodes);
      for (const tree of allTrees(model)) expect(tree.feature).toHaveLength(2 * leafCount(tree) - 1);
    }
  });

  it('respects maxDepth', () => {
    const { model } = fit(x, y, 'squared_error', { maxDepth: 2, maxLeafNodes: 31, maxIterations: 10, minSamplesLeaf: 1 });
    expect(Math.max(...allTrees(model).map((tree) => depthOf(tree)))).toBe(2);
    expect(Math.max(...allTrees(model).map(leafCount))).toBe(4);
  });

  it('grows a single leaf when no split can keep minSamplesLeaf rows on both sides', () => {
    const { model } = fit(fromRows([[0], [1], [2]]), [0, 1, 2], 'squared_error', { minSamplesLeaf: 2, maxIterations: 3 });
    for (const tree of allTrees(model)) expect(tree).toEqual({ feature: [-1], threshold: [0], left: [-1], right: [-1], value: [0] });
    expect(predictRaw(model, [10])).toEqual([1]);
  });
});

describe('fitGbdt: binning', () => {
  it('keeps at most maxBins - 1 ascending edges, each between training values', () => {
    const rng = createRng(9);
    const values = Array.from({ length: 1000 }, () => rng());
    const x = fromRows(values.map((v) => [v]));
    const { model } = fit(x, values, 'squared_error', { maxBins: 16, maxIterations: 1 });
    const edges = model.binEdges[0]!;
    expect(edges).toHaveLength(15); // 1000 distinct values: one edge per 1/16 quantile
    for (let i = 1; i < edges.length; i += 1) expect(edges[i]).toBeGreaterThan(edges[i - 1]!);
    const sorted = [...values].sort((a, b) => a - b);
    for (const edge of edges) {
      const below = sorted.filter((v) => v <= edge);
      const above = sorted.filter((v) => v > edge);
      expect(edge).toBe((below.at(-1)! + above[0]!) / 2); // midway between adjacent distinct values
      expect(below.length / values.length).toBeGreaterThan(0); // and roughly at a 1/16 quantile
      expect(Math.abs(below.length / values.length - Math.round((below.length / values.length) * 16) / 16)).toBeLessThan(0.01);
    }
  });

  it('gives a constant feature no edges and never splits on it', () => {
    const x = fromRows(STEP_X.map(([v]) => [7, v!]));
    const { model } = fit(x, STEP_Y, 'squared_error', { maxIterations: 3 });
    expect(model.binEdges[0]).toEqual([]);
    for (const tree of allTrees(model)) expect(tree.feature).not.toContain(0);
  });

  it('sends NaN left without crashing, in training and in prediction', () => {
    const x = fromRows([[Number.NaN], [0], [1], [2], [3]]);
    const { model } = fit(x, [2, 2, 2, 7, 7], 'squared_error', { maxIterations: 1, learningRate: 1, maxLeafNodes: 2, minSamplesLeaf: 1 });
    expect(model.binEdges).toEqual([[0.5, 1.5, 2.5]]);
    expect(model.trees[0]![0]!.threshold[0]).toBe(1.5);
    expect(predictRaw(model, [Number.NaN])).toEqual([2]);
    expect(predictRaw(model, [3])).toEqual([7]);
  });
});

describe('fitGbdt: reproducibility and serialization', () => {
  const train = blobs([[0, 0, 0], [1.5, 0, 1], [0, 1.5, -1]], 150, 41);
  const x = fromRows(train.x);

  it('gives JSON-identical models when fitted twice', () => {
    for (const loss of ['squared_error', 'binary_logloss', 'multiclass_logloss'] as const) {
      const y = loss === 'binary_logloss' ? train.y.map((label) => (label === 0 ? 0 : 1)) : train.y;
      const first = fit(x, y, loss, { maxIterations: 20 });
      const second = fit(x, y, loss, { maxIterations: 20 });
      expect(JSON.stringify(second.model)).toBe(JSON.stringify(first.model));
      expect(second.report).toEqual(first.report);
    }
  });

  it('predicts identically after a JSON round trip', () => {
    for (const loss of ['squared_error', 'binary_logloss', 'multiclass_logloss'] as const) {
      const y = loss === 'binary_logloss' ? train.y.map((label) => (label === 0 ? 0 : 1)) : train.y;
      const { model } = fit(x, y, loss, { maxIterations: 20 });
      const copy = JSON.parse(JSON.stringify(model)) as GbdtModel;
      for (const row of train.x) {
        const original = predictOutput(model, row);
        const restored = predictOutput(copy, row);
        original.forEach((v, k) => expect(restored[k]).toBe(v));
      }
    }
  });

  it('predicts training rows with the same raw scores training reached', () => {
    const { model, report } = fit(x, train.y, 'multiclass_logloss', { maxIterations: 10 });
    const crossEntropy =
      train.x.reduce((sum, row, i) => {
        const scores = predictRaw(model, row);
        const max = Math.max(...scores);
        return sum + max + Math.log(scores.reduce((s, v) => s + Math.exp(v - max), 0)) - scores[train.y[i]!]!;
      }, 0) / train.x.length;
    expect(report.finalLoss).toBeCloseTo(crossEntropy, 12);
  });
});

describe('fitGbdt: input checks', () => {
  const x = fromRows([[0], [1], [2], [3]]);

  it('rejects targets the loss cannot take', () => {
    expect(() => fit(x, [0, 1, 2, 1], 'binary_logloss')).toThrow(/not 0 or 1/);
    expect(() => fit(x, [0, 1, 3, 1], 'multiclass_logloss')).toThrow(/not an integer in 0..2/);
    expect(() => fit(x, [0, 1, 0.5, 1], 'multiclass_logloss')).toThrow(/not an integer/);
    expect(() => fit(x, [0, 1, Number.NaN, 1], 'squared_error')).toThrow(/not a finite number/);
    expect(() => fit(x, [0, 1, 1], 'squared_error')).toThrow(/4 rows but 3 targets/);
  });

  it('rejects parameters out of range', () => {
    expect(() => fit(x, [0, 1, 2, 3], 'squared_error', { maxLeafNodes: 1 })).toThrow(/maxLeafNodes/);
    expect(() => fit(x, [0, 1, 2, 3], 'squared_error', { maxBins: 1 })).toThrow(/maxBins/);
    expect(() => fit(x, [0, 1, 2, 3], 'squared_error', { learningRate: 0 })).toThrow(/learningRate/);
    expect(() => fit(x, [0, 1, 2, 3], 'squared_error', { minSamplesLeaf: 0 })).toThrow(/minSamplesLeaf/);
    expect(() => fit(x, [0, 1, 2, 3], 'squared_error', { maxDepth: 0 })).toThrow(/maxDepth/);
    expect(() => fit(x, [0, 1, 2, 1], 'multiclass_logloss', {}, 1)).toThrow(/class count/);
  });

  it('rejects a row of the wrong width at prediction', () => {
    const { model } = fit(x, [0, 1, 2, 3], 'squared_error', { maxIterations: 1 });
    expect(() => predictRaw(model, [1, 2])).toThrow(/takes 1 features, got 2/);
  });
});
