import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_FORMAT, serializeArtifact } from '../../lambdas/core/training/artifact.js';
import { sha256Hex } from '../../lambdas/core/sha256.js';
import { parseCsv, type ParsedCsv } from '../../lambdas/core/data/csv.js';
import type { Table } from '../../lambdas/core/data/table.js';
import { DataValidationError, InputValidationError } from '../../lambdas/core/errors.js';
import { evaluateGate } from '../../lambdas/core/evaluation/gate.js';
import { argmax, classificationReport, regressionReport } from '../../lambdas/core/evaluation/metrics.js';
import { METRICS_FOR_TASK, parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { splitRows, targetOf, trainModel } from '../../lambdas/core/training/train-model.js';
import { predict, predictFeatures, validatePredictionRequest, type FeatureRow, type Prediction } from '../../lambdas/core/serving/predict.js';
import { createRng, shuffledIndices } from '../../lambdas/core/random.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { creditSpec, mixedDataset, mixedSpec, parseArtifact, TASK_ALGORITHMS, thrownBy } from './helpers.js';
import { evaluateInMemory } from './fakes.js';

let csv: ParsedCsv;
let trained: ReturnType<typeof trainModel>;
beforeAll(() => {
  csv = parseCsv(makeCreditDataset(2000, 7));
  trained = trainModel(csv, creditSpec());
});

const parseError = (text: string) => thrownBy(() => parseArtifact(text), InputValidationError);

describe('trainModel', () => {
  it('is reproducible bit for bit: same data and spec, same artifact text and sha256', () => {
    const again = trainModel(parseCsv(makeCreditDataset(2000, 7)), creditSpec());
    expect(again.artifactText).toBe(trained.artifactText);
    expect(again.sha256).toBe(trained.sha256);
  });

  it('hashes exactly the artifact text', () => {
    expect(trained.sha256).toMatch(/^[a-f0-9]{64}$/);
    expect(trained.sha256).toBe(createHash('sha256').update(trained.artifactText, 'utf8').digest('hex'));
    expect(sha256Hex(trained.artifactText)).toBe(trained.sha256);
  });

  it('gives a different model for a different seed', () => {
    const spec = creditSpec();
    const other = trainModel(csv, { ...spec, training: { ...spec.training, seed: 43 } });
    expect(other.sha256).not.toBe(trained.sha256);
  });

  it('records the split, classes and training facts in the artifact', () => {
    const { artifact, split } = trained;
    expect(split).toEqual({ trainRows: 1500, testRows: 500 });
    expect(artifact.format).toBe(ARTIFACT_FORMAT);
    expect(ARTIFACT_FORMAT).toBe('serverless-mlops/model@2');
    expect(artifact.model).toBe('credit-default');
    expect(artifact.task).toBe('binary_classification');
    // Binary classes are [negative, positive].
    expect(artifact.classes).toEqual(['0', '1']);
    expect(artifact.features.map((f) => f.name)).toEqual(['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments']);
    expect(artifact.transforms.outputNames).toEqual(['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments']);
    const { estimator } = artifact;
    if (estimator.kind !== 'logistic') throw new Error(`expected a logistic estimator, got ${estimator.kind}`);
    expect(estimator.model.coef).toHaveLength(1);
    expect(estimator.model.coef[0]).toHaveLength(5);
    expect(estimator.model.intercept).toHaveLength(1);
    expect(artifact.training.algorithm).toBe('logistic_regression');
    expect(artifact.training.rows).toBe(1500);
    expect(artifact.training.seed).toBe(42);
    expect(artifact.training.params).toEqual({ C: 1, maxIterations: 500, tolerance: 1e-6 });
    expect(artifact.training.converged).toBe(true);
  });

  it('learns the directions the data was generated with', () => {
    const { estimator } = trained.artifact;
    if (estimator.kind !== 'logistic') throw new Error(`expected a logistic estimator, got ${estimator.kind}`);
    const w = Object.fromEntries(trained.artifact.transforms.outputNames.map((name, j) => [name, estimator.model.coef[0]![j]!]));
    expect(w.debt_ratio).toBeGreaterThan(0);
    expect(w.late_payments).toBeGreaterThan(0);
    expect(w.income).toBeLessThan(0);
    expect(w.age).toBeLessThan(0);
  });
});

describe('artifact serialization', () => {
  it('round-trips through parseArtifact', () => {
    const parsed = parseArtifact(serializeArtifact(trained.artifact));
    expect(parsed).toEqual(trained.artifact);
    expect(serializeArtifact(parsed)).toBe(trained.artifactText);
  });

  it('serializes with sorted keys, so key order does not change the hash', () => {
    const reordered = Object.fromEntries(Object.entries(trained.artifact).reverse()) as typeof trained.artifact;
    expect(serializeArtifact(reordered)).toBe(trained.artifactText);
  });

  it('rejects text that is not JSON', () => {
    const error = parseError('{"format": ');
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/not JSON/);
  });

  it('rejects coefficients that do not match the transformed features', () => {
    const { estimator } = trained.artifact;
    if (estimator.kind !== 'logistic') throw new Error(`expected a logistic estimator, got ${estimator.kind}`);
    const shorter = { ...trained.artifact, estimator: { kind: 'logistic', model: { ...estimator.model, coef: [estimator.model.coef[0]!.slice(1)] } } };
    expect(parseError(JSON.stringify(shorter)).message).toMatch(/estimator/);
    const names = trained.artifact.transforms.outputNames;
    const longer = { ...trained.artifact, transforms: { ...trained.artifact.transforms, outputNames: [...names, 'extra'] } };
    expect(parseError(JSON.stringify(longer)).message).toMatch(/transforms/);
  });

  it('rejects a wrong format, naming the field', () => {
    expect(parseError(JSON.stringify({ ...trained.artifact, format: 'other@1' })).message).toMatch(/format: /);
    expect(parseError(JSON.stringify({ ...trained.artifact, format: 'serverless-mlops/logistic-regression@1' })).message).toMatch(/format: /);
  });

  it('rejects a zero scale, naming the field', () => {
    const [first, ...rest] = trained.artifact.transforms.features;
    if (first?.type !== 'numeric') throw new Error('expected a numeric first feature');
    const zeroScale = { ...trained.artifact, transforms: { ...trained.artifact.transforms, features: [{ ...first, scale: 0 }, ...rest] } };
    expect(parseError(JSON.stringify(zeroScale)).message).toMatch(/transforms\.features\.0\.scale: /);
  });

  it('rejects a classification artifact without its classes, naming the field', () => {
    const { classes: _classes, ...withoutClasses } = trained.artifact;
    expect(parseError(JSON.stringify(withoutClasses)).message).toMatch(/classes: /);
  });
});

describe('Evaluate on the held-out split', () => {
  it('scores the held-out rows of the demo dataset above the credit-default gate', async () => {
    const spec = creditSpec();
    const { metrics, predictionStd } = await evaluateInMemory(csv, spec, trained.artifactText);
    expect(metrics.rows).toBe(trained.split.testRows);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.75);
    expect(metrics.rocAuc).toBeGreaterThanOrEqual(0.8);
    expect(predictionStd).toBeGreaterThan(0.05);
    const gate = evaluateGate({ ...metrics, predictionStd: predictionStd! }, spec.gate, metrics.rows ?? 0);
    expect(gate.passed).toBe(true);
  });

  it('fails the gate when the labels are shuffled', async () => {
    const spec = creditSpec();
    const target = csv.header.indexOf('defaulted');
    const order = shuffledIndices(csv.rows.length, createRng(99));
    const shuffled: ParsedCsv = {
      header: csv.header,
      rows: csv.rows.map((row, i) => row.map((value, j) => (j === target ? csv.rows[order[i]!]![target]! : value))),
    };
    const model = trainModel(shuffled, spec);
    const { metrics, predictionStd } = await evaluateInMemory(shuffled, spec, model.artifactText);
    expect(metrics.rocAuc).toBeLessThan(0.65);
    const gate = evaluateGate({ ...metrics, predictionStd: predictionStd! }, spec.gate, metrics.rows ?? 0);
    expect(gate.passed).toBe(false);
    expect(gate.checks.find((c) => c.name === 'rocAuc')?.passed).toBe(false);
    expect(gate.summary).toMatch(/rocAuc 0\.\d+ < 0\.8/);
  });
});

// Every task and algorithm on mixed features (imputed, bucketed, categorical).
/** The cell of `column` in data row `row`. */
const cellOf = (table: Table, row: number, column: string) => table.rows[row]![table.header.indexOf(column)] ?? null;

/** A serving request built from a table row: numbers for numeric features, strings for categorical ones, null where blank. */
function requestOf(spec: ModelSpec, table: Table, row: number): FeatureRow {
  return Object.fromEntries(
    spec.features.map((feature) => {
      const cell = cellOf(table, row, feature.name);
      if (cell === null || String(cell).trim() === '') return [feature.name, null];
      return [feature.name, feature.type === 'numeric' ? Number(cell) : String(cell)];
    }),
  );
}

/** What predict gives, as the raw output vector predictFeatures gives (class probabilities in class order, or [value]). */
function outputOf(prediction: Prediction, classes: readonly string[] | undefined): number[] {
  if ('value' in prediction) return [prediction.value];
  return classes!.map((label) => prediction.probabilities[label]!);
}

/** Metrics computed the way Evaluate computes them, from outputs of the given rows. */
function reportOf(spec: ModelSpec, y: Float64Array, rows: readonly number[], outputs: readonly number[][]): Record<string, number> {
  if (spec.task === 'regression') return regressionReport(rows.map((r) => y[r]!), outputs.map((out) => out[0]!));
  return classificationReport(rows.map((r) => y[r]!), outputs);
}

const sorted = (values: Iterable<string>) => [...values].sort();

describe.each(TASK_ALGORITHMS)('%s with %s on mixed features', (task, algorithm) => {
  let table: Table;
  let spec: ModelSpec;
  let trained: ReturnType<typeof trainModel>;
  let evaluation: Awaited<ReturnType<typeof evaluateInMemory>>;
  let y: Float64Array;
  let test: number[];
  beforeAll(async () => {
    table = mixedDataset(task);
    spec = mixedSpec(task, algorithm);
    trained = trainModel(table, spec);
    evaluation = await evaluateInMemory(table, spec, trained.artifactText);
    y = targetOf(table, spec).y;
    test = splitRows(table, spec, y).test;
  });

  it('trains and evaluates, reporting exactly the metrics of the task plus rows', () => {
    expect(trained.artifact.task).toBe(task);
    expect(trained.artifact.training.algorithm).toBe(algorithm);
    expect(trained.split.trainRows + trained.split.testRows).toBe(table.rows.length);
    expect(sorted(Object.keys(evaluation.metrics))).toEqual(sorted([...METRICS_FOR_TASK[task], 'rows']));
    expect(evaluation.metrics.rows).toBe(trained.split.testRows);
    expect(evaluation.metrics.rows).toBe(test.length);
    expect(evaluation.predictionStd).toBeGreaterThan(0);
    // The model learned something: better than chance, or a positive R².
    if (task === 'regression') expect(evaluation.metrics.r2).toBeGreaterThan(0.3);
    else expect(evaluation.metrics.rocAuc).toBeGreaterThan(0.7);
    // The classes are the target's labels in sorted order, binary as [negative, positive].
    expect(trained.artifact.classes).toEqual(task === 'binary_classification' ? ['no', 'yes'] : task === 'multiclass_classification' ? ['high', 'low', 'mid'] : undefined);
  });

  it('reports segment metrics for values with at least minSegmentRows held-out rows, and none for smaller ones', () => {
    const counts = new Map<string, number>();
    for (const row of test) counts.set(String(cellOf(table, row, 'region')), (counts.get(String(cellOf(table, row, 'region'))) ?? 0) + 1);
    const big = [...counts].filter(([, n]) => n >= spec.minSegmentRows).map(([value]) => value);
    const small = [...counts].filter(([, n]) => n < spec.minSegmentRows).map(([value]) => value);
    // The data is built so both cases occur: north and south are large, island is small.
    expect(sorted(big)).toEqual(['north', 'south']);
    expect(small).toEqual(['island']);
    expect(counts.get('island')).toBeGreaterThan(0);

    const bySegment = evaluation.segments.region!;
    expect(Object.keys(evaluation.segments)).toEqual(['region']);
    expect(sorted(Object.keys(bySegment))).toEqual(sorted(big));
    expect(bySegment.island).toBeUndefined();
    for (const value of big) {
      const metrics = bySegment[value]!;
      expect(sorted(Object.keys(metrics))).toEqual(sorted([...METRICS_FOR_TASK[task], 'rows']));
      expect(metrics.rows).toBe(counts.get(value));
    }
  });

  it('serves exactly the predictions the evaluation scored, for every held-out row, also after a JSON round trip', () => {
    const { artifact } = trained;
    const revived = parseArtifact(serializeArtifact(artifact));
    expect(serializeArtifact(revived)).toBe(trained.artifactText);
    const outputs: number[][] = [];
    let nullIncome = 0;
    let nullPlan = 0;
    for (const row of test) {
      const request = requestOf(spec, table, row);
      if (request.income === null) nullIncome += 1;
      if (request.plan === null) nullPlan += 1;
      expect(validatePredictionRequest(artifact, { inputs: request })).toEqual({ ok: true, rows: [request] });

      const expected = predictFeatures(artifact, (name) => cellOf(table, row, name), `data row ${row + 1}`);
      const prediction = predict(artifact, request);
      const served = outputOf(prediction, artifact.classes);
      expect(served).toHaveLength(expected.length);
      served.forEach((value, k) => expect(value, `row ${row}, output ${k}`).toBe(expected[k]));
      if (task === 'regression') {
        expect(Object.keys(prediction)).toEqual(['value']);
      } else {
        // The label is the class the metrics' argmax picks.
        expect('label' in prediction && prediction.label).toBe(artifact.classes![argmax(expected)]);
        expect('probability' in prediction).toBe(task === 'binary_classification');
        if ('probability' in prediction) expect(prediction.probability).toBe(expected[1]);
      }
      expect(predict(revived, request)).toStrictEqual(prediction);
      outputs.push(served);
    }
    // The held-out rows include imputed values of both kinds, so those paths were served too.
    expect(nullIncome).toBeGreaterThan(0);
    expect(nullPlan).toBeGreaterThan(0);
    // Scoring the served predictions gives the evaluation's metrics, value for value.
    expect(reportOf(spec, y, test, outputs)).toEqual(evaluation.metrics);
  });

  it('is deterministic: the same artifact bytes twice, and another seed changes the split and the artifact', async () => {
    const again = trainModel(mixedDataset(task), mixedSpec(task, algorithm));
    expect(again.artifactText).toBe(trained.artifactText);
    expect(again.sha256).toBe(trained.sha256);
    expect(sha256Hex(again.artifactText)).toBe(trained.sha256);
    expect(await evaluateInMemory(table, spec, again.artifactText)).toEqual(evaluation);

    const reseeded = parseModelSpec({ ...spec, training: { ...spec.training, seed: 8 } });
    const otherTest = splitRows(table, reseeded, y).test;
    expect(otherTest).toHaveLength(test.length);
    expect(otherTest).not.toEqual(test);
    const other = trainModel(table, reseeded);
    expect(other.sha256).not.toBe(trained.sha256);
    expect(other.artifact.training.seed).toBe(8);
  });
});

describe('splitRows', () => {
  const labelsTable = (labels: readonly string[], extra: (i: number) => string = (i) => String(i)): Table => ({
    header: ['x', 'target'],
    rows: labels.map((label, i) => [extra(i), label]),
  });
  const classSpec = (task: 'binary_classification' | 'multiclass_classification', training: Record<string, unknown> = {}) =>
    parseModelSpec({
      name: 'split-model',
      task,
      target: 'target',
      positiveLabel: 'yes',
      features: [{ name: 'x', type: 'numeric' }],
      training: { algorithm: 'logistic_regression', seed: 5, testFraction: 0.25, ...training },
    });
  const countIn = (rows: readonly number[], labels: readonly string[], label: string) => rows.filter((r) => labels[r] === label).length;

  it('stratified: each class sends round(share) of its rows to the test split (binary, 20% positive)', () => {
    const labels = Array.from({ length: 300 }, (_, i) => (i % 5 === 0 ? 'yes' : 'no'));
    const table = labelsTable(labels);
    const spec = classSpec('binary_classification');
    const split = splitRows(table, spec, targetOf(table, spec).y);
    expect(countIn(split.test, labels, 'yes')).toBe(15);
    expect(countIn(split.test, labels, 'no')).toBe(60);
    expect(split.test.length + split.train.length).toBe(300);
    expect(new Set([...split.test, ...split.train]).size).toBe(300);
  });

  it('stratified: keeps the shares of three classes', () => {
    const labels = Array.from({ length: 300 }, (_, i) => (i % 10 === 0 ? 'a' : i % 10 < 4 ? 'b' : 'c'));
    const table = labelsTable(labels);
    const spec = classSpec('multiclass_classification');
    const split = splitRows(table, spec, targetOf(table, spec).y);
    // 30, 90 and 180 rows: round(7.5), round(22.5), 45.
    expect([countIn(split.test, labels, 'a'), countIn(split.test, labels, 'b'), countIn(split.test, labels, 'c')]).toEqual([8, 23, 45]);
  });

  it('without stratify, classification uses the seeded shuffle', () => {
    const labels = Array.from({ length: 300 }, (_, i) => (i % 5 === 0 ? 'yes' : 'no'));
    const table = labelsTable(labels);
    const spec = classSpec('binary_classification', { stratify: false });
    const split = splitRows(table, spec, targetOf(table, spec).y);
    expect(split.test).toEqual(shuffledIndices(300, createRng(5)).slice(0, 75).sort((a, b) => a - b));
    expect(split.test).not.toEqual(splitRows(table, classSpec('binary_classification'), targetOf(table, spec).y).test);
  });

  it('regression uses the seeded shuffle, and another seed holds out other rows', () => {
    const table = mixedDataset('regression', 200);
    const spec = mixedSpec('regression', 'ridge');
    const { y } = targetOf(table, spec);
    const split = splitRows(table, spec, y);
    const expected = shuffledIndices(200, createRng(spec.training.seed)).slice(0, 50);
    expect(split.test).toEqual([...expected].sort((a, b) => a - b));
    expect(split.train).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => !expected.includes(i)));
    const other = splitRows(table, parseModelSpec({ ...spec, training: { ...spec.training, seed: 99 } }), y);
    expect(other.test).toHaveLength(50);
    expect(other.test).not.toEqual(split.test);
  });

  it('by a numeric time column: the latest rows are the test split, whatever the seed or stratify say', () => {
    // Times are a permutation of 0..99, so the test split is the rows with time >= 75.
    const times = shuffledIndices(100, createRng(3));
    const labels = Array.from({ length: 100 }, (_, i) => (i % 2 ? 'yes' : 'no'));
    const table: Table = { header: ['x', 't', 'target'], rows: labels.map((label, i) => [String(i), String(times[i]), label]) };
    const spec = classSpec('binary_classification', { timeColumn: 't' });
    const { y } = targetOf(table, spec);
    const split = splitRows(table, spec, y);
    const latest = times.flatMap((t, i) => (t >= 75 ? [i] : []));
    expect(split.test).toEqual(latest);
    expect(split.train).toEqual(times.flatMap((t, i) => (t < 75 ? [i] : [])));
    expect(splitRows(table, parseModelSpec({ ...spec, training: { ...spec.training, seed: 77 } }), y)).toEqual(split);
    // Number cells (as JSON Lines and Parquet give them) order the same way.
    const numeric: Table = { header: table.header, rows: table.rows.map((row, i) => [row[0]!, times[i]!, row[2]!]) };
    expect(splitRows(numeric, spec, y)).toEqual(split);
  });

  it('by an ISO date column: the latest dates are the test split', () => {
    const table = mixedDataset('binary_classification', 120);
    const spec = mixedSpec('binary_classification', 'logistic_regression');
    const timed = parseModelSpec({ ...spec, training: { ...spec.training, timeColumn: 'day' } });
    const split = splitRows(table, timed, targetOf(table, timed).y);
    const days = table.rows.map((row) => row[table.header.indexOf('day')]!);
    const cutoff = [...days].sort()[90]!;
    expect(split.test).toHaveLength(30);
    expect(split.test.every((row) => days[row]! >= cutoff)).toBe(true);
    expect(split.train.every((row) => days[row]! < cutoff)).toBe(true);
    // Full ISO timestamps too, compared as instants: with an offset, text order is not time order.
    const stamped: Table = {
      header: ['x', 'when', 'target'],
      rows: [
        ['1', '2024-02-01T00:00:00Z', 'yes'],
        ['2', '2024-01-31T23:59:59Z', 'no'],
        ['3', '2024-01-01T08:00:00+02:00', 'yes'],
        ['4', '2024-01-01T07:00:00Z', 'no'],
      ],
    };
    const whenSpec = classSpec('binary_classification', { timeColumn: 'when', testFraction: 0.5, stratify: false });
    // 08:00+02:00 is 06:00Z, earlier than 07:00Z: rows 0 and 1 are the latest.
    expect(splitRows(stamped, whenSpec, targetOf(stamped, whenSpec).y)).toEqual({ train: [2, 3], test: [0, 1] });
  });

  it('fails naming training.timeColumn when the dataset lacks the time column, and the column when a time is unusable', () => {
    const table = labelsTable(['yes', 'no', 'yes', 'no']);
    const spec = classSpec('binary_classification', { timeColumn: 'when' });
    expect(thrownBy(() => splitRows(table, spec, targetOf(table, spec).y), DataValidationError).field).toBe('training.timeColumn');
    const bad: Table = { header: ['x', 'when', 'target'], rows: [['1', '2024-01-01', 'yes'], ['2', 'yesterday', 'no']] };
    const error = thrownBy(() => splitRows(bad, spec, targetOf(bad, spec).y), DataValidationError);
    expect(error.field).toBe('when');
    expect(error.message).toMatch(/data row 2/);
  });
});

describe('the evaluation gate on regression metrics', () => {
  let metrics: Record<string, number>;
  beforeAll(async () => {
    const table = mixedDataset('regression');
    const spec = mixedSpec('regression', 'linear_regression');
    metrics = (await evaluateInMemory(table, spec, trainModel(table, spec).artifactText)).metrics;
  });
  const gateFor = (bounds: { min?: number; max?: number }) => mixedSpec('regression', 'linear_regression', { gate: { minRows: 20, metrics: { rmse: bounds } } }).gate;

  it('passes at and under rmse max X, and fails just above it, naming rmse', () => {
    const rmse = metrics.rmse!;
    expect(evaluateGate(metrics, gateFor({ max: rmse }), metrics.rows!).passed).toBe(true);
    expect(evaluateGate(metrics, gateFor({ max: rmse * 1.01 }), metrics.rows!).passed).toBe(true);
    const failed = evaluateGate(metrics, gateFor({ max: rmse * 0.99 }), metrics.rows!);
    expect(failed.passed).toBe(false);
    expect(failed.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['rmse']);
    expect(failed.checks.find((c) => c.name === 'rmse')).toMatchObject({ passed: false, threshold: `<= ${rmse * 0.99}`, value: rmse });
    expect(failed.summary).toMatch(/^gate failed: rmse \d+(\.\d+)? > /);
  });

  it('checks min and max of one metric, each as its own check', () => {
    const at = (rmse: number) => evaluateGate({ ...metrics, rmse }, gateFor({ min: 1, max: 2 }), 100);
    const inside = at(1.5);
    expect(inside.passed).toBe(true);
    expect(inside.checks.filter((c) => c.name === 'rmse').map((c) => c.threshold)).toEqual(['>= 1', '<= 2']);
    expect(at(1).passed).toBe(true);
    expect(at(2).passed).toBe(true);
    const low = at(0.5);
    expect(low.passed).toBe(false);
    expect(low.summary).toBe('gate failed: rmse 0.5 < 1');
    const high = at(2.5);
    expect(high.passed).toBe(false);
    expect(high.summary).toBe('gate failed: rmse 2.5 > 2');
  });

  it('fails a threshold on a metric that was not measured', () => {
    const { r2: _r2, ...withoutR2 } = metrics;
    const spec = mixedSpec('regression', 'linear_regression', { gate: { minRows: 20, metrics: { r2: { min: 0.1 } } } });
    const report = evaluateGate(withoutR2, spec.gate, 100);
    expect(report.passed).toBe(false);
    expect(report.summary).toMatch(/r2 was not measured/);
  });
});
