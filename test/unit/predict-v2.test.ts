import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelArtifact } from '../../lambdas/core/training/artifact.js';
import type { Table } from '../../lambdas/core/data/table.js';
import { parseModelSpec } from '../../lambdas/core/training/model-spec.js';
import { trainModel } from '../../lambdas/core/training/train-model.js';
import { predict, validatePredictionRequest, type CheckedRequest } from '../../lambdas/core/serving/predict.js';
import { mixedDataset, mixedSpec } from './helpers.js';

/** A row mixedSpec's features accept: age (not imputed), income (imputed), debt (bucketed), plan (categorical). */
const ROW = { age: 40, income: 52000, debt: 0.3, plan: 'pro' };

let artifact: ModelArtifact;
beforeAll(() => {
  artifact = trainModel(mixedDataset('binary_classification'), mixedSpec('binary_classification', 'logistic_regression')).artifact;
});

const errorsOf = (result: CheckedRequest) => {
  if (result.ok) throw new Error('the request was accepted');
  return result.errors;
};
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
