import { beforeAll, describe, expect, it } from 'vitest';
import { serializeArtifact, type ModelArtifact } from '../../lambdas/core/training/artifact.js';
import { parseCsv, type ParsedCsv } from '../../lambdas/core/data/csv.js';
import type { Table } from '../../lambdas/core/data/table.js';
import { argmax } from '../../lambdas/core/evaluation/metrics.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { splitRows, targetOf, trainModel } from '../../lambdas/core/training/train-model.js';
import { MAX_INSTANCES, predict, predictFeatures, validatePredictionRequest, type CheckedRequest, type Prediction } from '../../lambdas/core/serving/predict.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { evaluateInMemory } from './fakes.js';
import { creditSpec, mixedDataset, mixedSpec } from './helpers.js';

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
  it('gives exactly the probabilities the evaluation computed, for every held-out row', async () => {
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
    const { metrics } = await evaluateInMemory(csv, spec, serializeArtifact(artifact));
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

// Mixed features: imputed, bucketed and categorical inputs, on the mixed dataset.
describe('a model with mixed features', () => {
  /** A row mixedSpec's features accept: age (not imputed), income (imputed), debt (bucketed), plan (categorical). */
  const ROW = { age: 40, income: 52000, debt: 0.3, plan: 'pro' };

  let artifact: ModelArtifact;
  beforeAll(() => {
    artifact = trainModel(mixedDataset('binary_classification'), mixedSpec('binary_classification', 'logistic_regression')).artifact;
  });

  const accepted = (body: unknown) => validatePredictionRequest(artifact, body);

  describe('validatePredictionRequest with v2 features', () => {
    it('accepts a categorical value as a string or a number', () => {
      expect(accepted({ inputs: ROW })).toEqual({ ok: true, rows: [ROW] });
      expect(accepted({ inputs: { ...ROW, plan: 3 } })).toEqual({ ok: true, rows: [{ ...ROW, plan: 3 }] });
    });

    it('rejects a categorical value that is neither, naming the field', () => {
      expect(errorsOf(accepted({ inputs: { ...ROW, plan: true } }))).toEqual([{ field: 'inputs.plan', problem: 'expected a string, got boolean' }]);
      expect(errorsOf(accepted({ instances: [ROW, { ...ROW, plan: ['pro'] }] }))).toEqual([{ field: 'instances.1.plan', problem: 'expected a string, got array' }]);
    });

    it('rejects a string for a numeric feature, naming the field', () => {
      expect(errorsOf(accepted({ inputs: { ...ROW, income: '52000' } }))).toEqual([{ field: 'inputs.income', problem: 'expected a number, got string' }]);
      expect(errorsOf(accepted({ instances: [{ ...ROW, debt: 'high' }] }))).toEqual([{ field: 'instances.0.debt', problem: 'expected a number, got string' }]);
    });

    it('accepts null for an imputed feature (numeric or categorical) and rejects it for impute none', () => {
      expect(artifact.features.find((f) => f.name === 'age')).toMatchObject({ impute: 'none' });
      expect(accepted({ inputs: { ...ROW, income: null, plan: null } })).toEqual({ ok: true, rows: [{ ...ROW, income: null, plan: null }] });
      expect(errorsOf(accepted({ inputs: { ...ROW, age: null } }))).toEqual([{ field: 'inputs.age', problem: 'expected a number, got null' }]);
    });

    it('rejects a field that is not a feature, naming it', () => {
      const errors = errorsOf(accepted({ inputs: { ...ROW, region: 'north' } }));
      expect(errors).toHaveLength(1);
      expect(errors[0]!.field).toBe('inputs');
      expect(errors[0]!.problem).toMatch(/region.*not a feature of this model/);
      expect(errorsOf(accepted({ instances: [ROW, { ...ROW, zip: 1 }] }))[0]).toEqual({ field: 'instances.1', problem: expect.stringMatching(/zip.*not a feature of this model/) });
    });
  });

  describe('predict with v2 features', () => {
    it('imputes a null numeric value with the fitted fill, and a null category as the missing category', () => {
      const income = artifact.transforms.features.find((f) => f.name === 'income');
      if (income?.type !== 'numeric' || income.fill === null) throw new Error('expected an imputed numeric income');
      expect(predict(artifact, { ...ROW, income: null })).toStrictEqual(predict(artifact, { ...ROW, income: income.fill }));
      expect(predict(artifact, { ...ROW, income: null })).not.toStrictEqual(predict(artifact, ROW));
      // Training data had blank plans, so "missing" is a category of its own, unlike an unseen one.
      expect(predict(artifact, { ...ROW, plan: null })).not.toStrictEqual(predict(artifact, { ...ROW, plan: 'never-seen' }));
    });

    it('reads a number sent for a categorical feature as its text', () => {
      const table: Table = {
        header: ['grade', 'x', 'label'],
        rows: Array.from({ length: 90 }, (_, i) => [String((i % 3) + 1), String(i % 7), (i % 3) + 1 === 3 || i % 5 === 0 ? 'yes' : 'no']),
      };
      const spec = parseModelSpec({
        name: 'grades',
        task: 'binary_classification',
        target: 'label',
        positiveLabel: 'yes',
        features: [{ name: 'grade', type: 'categorical' }, { name: 'x', type: 'numeric' }],
        training: { algorithm: 'logistic_regression' },
      });
      const model = trainModel(table, spec).artifact;
      expect(predict(model, { grade: 3, x: 1 })).toStrictEqual(predict(model, { grade: '3', x: 1 }));
      expect(predict(model, { grade: 1, x: 1 })).toStrictEqual(predict(model, { grade: '1', x: 1 }));
      // A known grade is not the unknown column.
      expect(predict(model, { grade: 3, x: 1 })).not.toStrictEqual(predict(model, { grade: 'other', x: 1 }));
    });

    it('gives each task its shape: binary label and P(positive), multiclass label and probabilities, regression a value', () => {
      const binary = predict(artifact, ROW);
      expect(Object.keys(binary).sort()).toEqual(['label', 'probabilities', 'probability']);
      expect(Object.keys('probabilities' in binary ? binary.probabilities : {})).toEqual(['no', 'yes']);

      const multi = trainModel(mixedDataset('multiclass_classification'), mixedSpec('multiclass_classification', 'gradient_boosting')).artifact;
      const multiPrediction = predict(multi, ROW);
      expect(Object.keys(multiPrediction).sort()).toEqual(['label', 'probabilities']);
      if (!('probabilities' in multiPrediction)) throw new Error('expected probabilities');
      expect(Object.keys(multiPrediction.probabilities)).toEqual(['high', 'low', 'mid']);
      expect(Object.values(multiPrediction.probabilities).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);

      const regression = trainModel(mixedDataset('regression'), mixedSpec('regression', 'ridge')).artifact;
      const value = predict(regression, ROW);
      expect(Object.keys(value)).toEqual(['value']);
      expect('value' in value && Number.isFinite(value.value)).toBe(true);
    });
  });
});
