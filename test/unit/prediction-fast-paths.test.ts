import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelArtifact } from '../../lambdas/core/training/artifact.js';
import { predictLinear } from '../../lambdas/core/training/trainers/linear.js';
import { predictProba } from '../../lambdas/core/training/trainers/logistic.js';
import { predictOutput, predictRaw, predictRawRows, type GbdtModel, type Tree } from '../../lambdas/core/training/trainers/gbdt.js';
import { transformRow } from '../../lambdas/core/training/transforms.js';
import { trainModel } from '../../lambdas/core/training/train-model.js';
import { predict, predictFeatures, predictRows, toPrediction, validatePredictionRequest, type FeatureRow, type Prediction } from '../../lambdas/core/serving/predict.js';
import { mixedDataset, mixedSpec, TASK_ALGORITHMS } from './helpers.js';

// Serving scores with flattened trees, rows scored together and plain loops; the gate and the
// evaluation use the same functions. These tests hold them to the implementation they replaced,
// kept here as the reference: the same bits, not merely close numbers.

/** The tree walk as it was: parallel node arrays, one node at a time. */
function referenceTreeValue(tree: Tree, row: ArrayLike<number>): number {
  let node = 0;
  for (let steps = 0; steps <= tree.feature.length; steps += 1) {
    const feature = tree.feature[node];
    if (feature === undefined) break;
    if (feature < 0) return tree.value[node]!;
    node = row[feature]! > tree.threshold[node]! ? tree.right[node]! : tree.left[node]!;
  }
  throw new Error('malformed tree');
}

function referenceRaw(model: GbdtModel, row: ArrayLike<number>): number[] {
  const scores = model.baseScore.slice();
  for (const round of model.trees) for (let k = 0; k < scores.length; k += 1) scores[k] = scores[k]! + referenceTreeValue(round[k]!, row);
  return scores;
}

function referenceGbdtOutput(model: GbdtModel, row: ArrayLike<number>): number[] {
  const scores = referenceRaw(model, row);
  if (model.loss === 'squared_error') return scores;
  if (model.loss === 'binary_logloss') {
    const z = scores[0]!;
    return [z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))];
  }
  const max = scores.reduce((m, s) => Math.max(m, s), -Infinity);
  const exps = scores.map((s) => Math.exp(s - max));
  const total = exps.reduce((sum, e) => sum + e, 0);
  return exps.map((e) => e / total);
}

function referenceOutput(artifact: ModelArtifact, row: ArrayLike<number>): number[] {
  const { estimator } = artifact;
  if (estimator.kind === 'logistic') return predictProba(estimator.model, row);
  if (estimator.kind === 'linear') return [predictLinear(estimator.model, row)];
  const out = referenceGbdtOutput(estimator.model, row);
  return artifact.task === 'binary_classification' ? [1 - out[0]!, out[0]!] : out;
}

/** toPrediction as it was: forEach for the argmax, Object.fromEntries for the probabilities. */
function referencePrediction(task: ModelArtifact['task'], classes: readonly string[] | undefined, out: readonly number[]): Prediction {
  if (task === 'regression') return { value: out[0]! };
  let best = 0;
  out.forEach((p, k) => {
    if (p > out[best]!) best = k;
  });
  const probabilities = Object.fromEntries(classes!.map((label, k) => [label, out[k]!]));
  if (task === 'binary_classification') return { label: out[1]! > 0.5 ? classes![1]! : classes![0]!, probability: out[1]!, probabilities };
  return { label: classes![best]!, probabilities };
}

/** Equal to the bit (Object.is on every number, so -0 is not 0) and in the same key order. */
function expectSameBits(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number') {
    if (!Object.is(actual, expected)) throw new Error(`${where}: ${String(actual)} is not ${expected}`);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    expect(actual, where).toBe(expected);
    return;
  }
  expect(Object.keys(actual as object), where).toEqual(Object.keys(expected));
  for (const [key, value] of Object.entries(expected)) expectSameBits((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
}

/** Request rows from the table's feature columns, as a caller sends them: numbers, strings, null for a blank. */
function requestRows(table: { header: string[]; rows: string[][] }, count: number): FeatureRow[] {
  const column = (name: string) => table.header.indexOf(name);
  return table.rows.slice(0, count).map((cells) => ({
    age: Number(cells[column('age')]),
    income: cells[column('income')] === '' ? null : Number(cells[column('income')]),
    debt: Number(cells[column('debt')]),
    plan: cells[column('plan')] === '' ? null : cells[column('plan')]!,
  }));
}

describe('serving predictions against the implementation they replaced', () => {
  const trained: { name: string; artifact: ModelArtifact }[] = [];
  let rows: FeatureRow[] = [];
  beforeAll(() => {
    for (const [task, algorithm] of TASK_ALGORITHMS) {
      const table = mixedDataset(task, 400, 5);
      trained.push({ name: `${task} ${algorithm}`, artifact: trainModel(table, mixedSpec(task, algorithm)).artifact });
      // 203 rows: not a multiple of four, so the rows scored four at a time and the rest alone both run.
      if (rows.length === 0) rows = requestRows(table, 203);
    }
  });

  it('covers logistic (binary and multiclass), linear and boosted models', () => {
    expect(trained.map((t) => t.artifact.estimator.kind).sort()).toEqual(['gbdt', 'gbdt', 'gbdt', 'linear', 'linear', 'logistic', 'logistic']);
    expect(rows.some((row) => row.income === null) && rows.some((row) => row.plan === null)).toBe(true);
  });

  it('predict, predictRows and predictFeatures give the previous outputs bit for bit', () => {
    for (const { name, artifact } of trained) {
      const checked = validatePredictionRequest(artifact, { instances: rows });
      if (!checked.ok) throw new Error(`${name}: ${JSON.stringify(checked.errors)}`);
      const expected = checked.rows.map((row) => {
        const out = referenceOutput(artifact, transformRow(artifact.transforms, (feature) => row[feature] ?? null));
        return { out, prediction: referencePrediction(artifact.task, artifact.classes, out) };
      });
      expectSameBits(predictRows(artifact, checked.rows), expected.map((e) => e.prediction), `${name} predictRows`);
      checked.rows.forEach((row, i) => {
        expectSameBits(predict(artifact, row), expected[i]!.prediction, `${name} predict row ${i}`);
        expectSameBits(predictFeatures(artifact, (feature) => row[feature] ?? null), expected[i]!.out, `${name} predictFeatures row ${i}`);
      });
    }
  });

  it('scores a boosted model row by row and all rows together with the old raw scores, NaN and a value on a threshold going left', () => {
    const boosted = trained.filter((t) => t.artifact.estimator.kind === 'gbdt');
    expect(boosted.map((t) => t.artifact.task).sort()).toEqual(['binary_classification', 'multiclass_classification', 'regression']);
    for (const { name, artifact } of boosted) {
      const model = (artifact.estimator as { model: GbdtModel }).model;
      const features = rows.map((row) => transformRow(artifact.transforms, (feature) => row[feature] ?? null));
      features.push(features[0]!.map((v, j) => (j === 0 ? Number.NaN : v)));
      // Values exactly on a split's threshold, which go left: training values never fall there.
      model.trees.slice(0, 8).forEach((round, r) =>
        round[0]!.feature.forEach((f, node) => {
          if (f >= 0) features.push(features[(r * 7 + node) % rows.length]!.map((v, j) => (j === f ? round[0]!.threshold[node]! : v)));
        }),
      );
      const expected = features.map((row) => referenceRaw(model, row));
      expectSameBits(predictRawRows(model, features), expected, `${name} predictRawRows`);
      features.forEach((row, i) => {
        expectSameBits(predictRaw(model, row), expected[i], `${name} predictRaw row ${i}`);
        expectSameBits(predictOutput(model, row), referenceGbdtOutput(model, row), `${name} predictOutput row ${i}`);
      });
      for (const count of [0, 1, 3, 4, 5]) expectSameBits(predictRawRows(model, features.slice(0, count)), expected.slice(0, count), `${name} ${count} rows`);
    }
  });

  it('builds the probabilities in class order, a class named "__proto__" included', () => {
    for (const classes of [['no', 'yes'], ['2', '10', 'a'], ['__proto__', 'b', 'c']]) {
      const out = classes.map((_, k) => (k + 1) / 10);
      const task = classes.length === 2 ? 'binary_classification' : 'multiclass_classification';
      const prediction = toPrediction(task, classes, out);
      expectSameBits(prediction, referencePrediction(task, classes, out), classes.join(','));
      expect(JSON.stringify(prediction)).toBe(JSON.stringify(referencePrediction(task, classes, out)));
    }
  });
});

describe('boosted trees that are not as fitGbdt builds them', () => {
  // Node 3 sends rows to node 2, listed before it (an artifact edited by hand): walked as stored.
  const backwards: Tree = { feature: [0, -1, -1, 0, -1], threshold: [1.5, 0, 0, 0.5, 0], left: [3, -1, -1, 2, -1], right: [1, -1, -1, 4, -1], value: [0, 2, -3, 0, -1] };
  const modelOf = (tree: Tree): GbdtModel => ({ loss: 'squared_error', classes: 1, baseScore: [3], binEdges: [[1.5]], trees: [[tree]], learningRate: 1 });

  it('are walked as stored, with the same answers', () => {
    expect([[0], [1], [2]].map((row) => predictRaw(modelOf(backwards), row))).toEqual([[0], [2], [5]]);
    expect(predictRawRows(modelOf(backwards), [[0], [1], [2], [0], [1]])).toEqual([[0], [2], [5], [0], [2]]);
    const forwards: Tree = { feature: [0, -1, -1], threshold: [1.5, 0, 0], left: [1, -1, -1], right: [2, -1, -1], value: [0, -2, 2] };
    const rows = [[0], [1.5], [2], [Number.NaN], [7]];
    expectSameBits(predictRawRows(modelOf(forwards), rows), rows.map((row) => referenceRaw(modelOf(forwards), row)), 'forwards');
    const cyclic: Tree = { feature: [0, 0], threshold: [1.5, 1.5], left: [1, 0], right: [1, 0], value: [0, 0] };
    expect(() => predictRawRows(modelOf(cyclic), [[0]])).toThrow(/malformed tree/);
    expect(() => predictRaw(modelOf(cyclic), [0])).toThrow(/malformed tree/);
  });

  it('still refuse a row of the wrong width', () => {
    expect(() => predictRawRows(modelOf(backwards), [[0], [1, 2]])).toThrow(/takes 1 features, got 2/);
  });
});

