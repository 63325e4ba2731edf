import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelArtifact } from '../../lambdas/core/training/artifact.js';
import { parseCsv, type ParsedCsv } from '../../lambdas/core/data/csv.js';
import { argmax } from '../../lambdas/core/evaluation/metrics.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { evaluateModel, splitRows, targetOf, trainModel } from '../../lambdas/core/training/train-model.js';
import { MAX_INSTANCES, predict, predictFeatures, validatePredictionRequest, type CheckedRequest, type Prediction } from '../../lambdas/core/serving/predict.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { creditSpec } from './helpers.js';

const ROW = { age: 40, income: 52000, debt_ratio: 0.3, credit_lines: 4, late_payments: 1 };

let spec: ModelSpec;
let csv: ParsedCsv;
let artifact: ModelArtifact;
/** The same model with income not imputed (impute "none"). */
let strictArtifact: ModelArtifact;
beforeAll(() => {
  // Labels spelled "yes"/"no", so the label a prediction carries must come from the artifact.
  const raw = parseCsv(makeCreditDataset(800, 21));
  const target = raw.header.indexOf('defaulted');
  csv = { header: raw.header, rows: raw.rows.map((row) => row.map((v, j) => (j === target ? (v === '1' ? 'yes' : 'no') : v))) };
  spec = creditSpec({ positiveLabel: 'yes', validation: {} });
  artifact = trainModel(csv, spec).artifact;
  const features = spec.features.map((f) => (f.name === 'income' && f.type === 'numeric' ? { ...f, impute: 'none' as const } : f));
  strictArtifact = trainModel(csv, { ...spec, features }).artifact;
});

/** A binary prediction: label, P(positive) and both probabilities. */
const binary = (prediction: Prediction) => {
  if (!('probability' in prediction)) throw new Error(`not a binary prediction: ${JSON.stringify(prediction)}`);
  return prediction;
};

const errorsOf = (result: CheckedRequest) => {
  if (result.ok) throw new Error('the request was accepted');
  return result.errors;
};

describe('validatePredictionRequest', () => {
  it('accepts one row under "inputs"', () => {
    expect(validatePredictionRequest(artifact, { inputs: ROW })).toEqual({ ok: true, rows: [ROW] });
  });

  it('accepts 1 to 1000 rows under "instances"', () => {
    expect(validatePredictionRequest(artifact, { instances: [ROW] })).toEqual({ ok: true, rows: [ROW] });
    const many = Array.from({ length: MAX_INSTANCES }, (_, i) => ({ ...ROW, age: 20 + (i % 50) }));
    const result = validatePredictionRequest(artifact, { instances: many });
    expect(result.ok && result.rows).toEqual(many);
  });

  it('rejects more than 1000 instances, and none', () => {
    const tooMany = Array.from({ length: MAX_INSTANCES + 1 }, () => ROW);
    expect(MAX_INSTANCES).toBe(1000);
    expect(errorsOf(validatePredictionRequest(artifact, { instances: tooMany }))).toEqual([{ field: 'instances', problem: expect.stringMatching(/1000/) }]);
    expect(errorsOf(validatePredictionRequest(artifact, { instances: [] }))[0]?.field).toBe('instances');
  });

  it.each([null, 'text', 42, [ROW], undefined])('rejects the non-object body %j', (body) => {
    expect(errorsOf(validatePredictionRequest(artifact, body))).toEqual([{ field: '(root)', problem: expect.stringMatching(/JSON object/) }]);
  });

  it('rejects a body with both keys or neither', () => {
    expect(errorsOf(validatePredictionRequest(artifact, { inputs: ROW, instances: [ROW] }))).toEqual([
      { field: '(root)', problem: expect.stringMatching(/exactly one of "inputs".*"instances"/) },
    ]);
    expect(errorsOf(validatePredictionRequest(artifact, {}))[0]?.field).toBe('(root)');
    expect(errorsOf(validatePredictionRequest(artifact, { rows: [ROW] }))[0]?.field).toBe('(root)');
  });

  it('names each missing feature as required', () => {
    const { age: _age, income: _income, ...partial } = ROW;
    expect(errorsOf(validatePredictionRequest(artifact, { inputs: partial }))).toEqual([
      { field: 'inputs.age', problem: 'required' },
      { field: 'inputs.income', problem: 'required' },
    ]);
    expect(errorsOf(validatePredictionRequest(artifact, { instances: [ROW, partial] }))).toEqual([
      { field: 'instances.1.age', problem: 'required' },
      { field: 'instances.1.income', problem: 'required' },
    ]);
  });

  it('rejects a value of the wrong type, naming the field and the type', () => {
    expect(errorsOf(validatePredictionRequest(artifact, { inputs: { ...ROW, age: '40' } }))).toEqual([
      { field: 'inputs.age', problem: 'expected a number, got string' },
    ]);
    expect(errorsOf(validatePredictionRequest(artifact, { inputs: { ...ROW, age: true } }))).toEqual([
      { field: 'inputs.age', problem: 'expected a number, got boolean' },
    ]);
  });

  it('accepts null for an imputed feature and rejects it for one with impute none', () => {
    expect(artifact.features.find((f) => f.name === 'income')).toMatchObject({ impute: 'median' });
    expect(validatePredictionRequest(artifact, { inputs: { ...ROW, income: null } })).toEqual({ ok: true, rows: [{ ...ROW, income: null }] });
    expect(errorsOf(validatePredictionRequest(strictArtifact, { inputs: { ...ROW, income: null } }))).toEqual([
      { field: 'inputs.income', problem: 'expected a number, got null' },
    ]);
    // Still required: null is a value, an absent key is not.
    const { income: _income, ...partial } = ROW;
    expect(errorsOf(validatePredictionRequest(artifact, { inputs: partial }))).toEqual([{ field: 'inputs.income', problem: 'required' }]);
  });

  it('rejects NaN and infinite values', () => {
    expect(errorsOf(validatePredictionRequest(artifact, { inputs: { ...ROW, age: Number.NaN } }))[0]).toEqual({ field: 'inputs.age', problem: 'expected a finite number' });
    expect(errorsOf(validatePredictionRequest(artifact, { instances: [{ ...ROW, debt_ratio: Number.POSITIVE_INFINITY }] }))[0]?.field).toBe('instances.0.debt_ratio');
  });

  it('rejects a feature the model does not have', () => {
    const errors = errorsOf(validatePredictionRequest(artifact, { inputs: { ...ROW, zip_code: 12345 } }));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.field).toBe('inputs');
    expect(errors[0]!.problem).toMatch(/zip_code.*not a feature of this model/);
  });

  it('rejects an unknown top-level key without calling it a feature', () => {
    const errors = errorsOf(validatePredictionRequest(artifact, { inputs: ROW, extra: 1 }));
    expect(errors.map((e) => e.field)).toEqual(['(root)']);
    expect(errors[0]!.problem).toMatch(/extra/);
    expect(errors[0]!.problem).not.toMatch(/feature/);
  });
});

describe('predict', () => {
  it('gives exactly the probabilities the evaluation computed, for every held-out row', () => {
    const { y } = targetOf(csv, spec);
    const { test } = splitRows(csv, spec, y);
    const names = artifact.features.map((f) => f.name);
    const column = new Map(csv.header.map((name, j) => [name, j]));
    const labels = new Set<string>();
    let correct = 0;
    for (const i of test) {
      const cells = csv.rows[i]!;
      // Build the request row with keys in reverse order: predict must go by name, not position.
      const row = Object.fromEntries(names.map((name) => [name, Number(cells[column.get(name)!])]).reverse());
      expect(validatePredictionRequest(artifact, { inputs: row }).ok).toBe(true);
      const prediction = binary(predict(artifact, row));
      const expected = predictFeatures(artifact, (name) => cells[column.get(name)!], `data row ${i + 1}`);
      expect(prediction.probability).toBe(expected[1]);
      expect(prediction.probabilities).toEqual({ no: expected[0], yes: expected[1] });
      expect(prediction.label).toBe(argmax(expected) === 1 ? 'yes' : 'no');
      labels.add(prediction.label);
      if ((prediction.label === 'yes' ? 1 : 0) === y[i]) correct += 1;
    }
    expect([...labels].sort()).toEqual(['no', 'yes']);
    // Serving's labels agree with the evaluation's accuracy on the same rows.
    const { metrics } = evaluateModel(csv, spec, artifact);
    expect(metrics.rows).toBe(test.length);
    expect(correct / test.length).toBe(metrics.accuracy);
  });

  it('labels with the artifact classes on both sides of 0.5', () => {
    expect(artifact.classes).toEqual(['no', 'yes']);
    const named = { ...artifact, classes: ['repaid', 'default'] };
    const risky = binary(predict(named, { ...ROW, debt_ratio: 1.4, late_payments: 10, income: 9000 }));
    const safe = binary(predict(named, { ...ROW, debt_ratio: 0, late_payments: 0, income: 200000 }));
    expect(risky.probability).toBeGreaterThan(0.5);
    expect(risky.label).toBe('default');
    expect(risky.probabilities.default).toBe(risky.probability);
    expect(risky.probabilities.repaid! + risky.probability).toBeCloseTo(1, 12);
    expect(safe.probability).toBeLessThan(0.5);
    expect(safe.label).toBe('repaid');
  });
});
