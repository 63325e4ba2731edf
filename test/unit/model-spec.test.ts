import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../lambdas/core/errors.js';
import { championMetrics, ModelSpecSchema, parseModelSpec } from '../../lambdas/core/training/model-spec.js';
import { creditSpecJson, thrownBy } from './helpers.js';

const minimal = () => ({
  name: 'churn',
  task: 'binary_classification',
  target: 'churned',
  features: [{ name: 'tenure', type: 'numeric' }],
  training: { algorithm: 'logistic_regression' },
});

/** The InputValidationError parseModelSpec throws for `value`. */
const specError = (value: unknown) => thrownBy(() => parseModelSpec(value), InputValidationError);

/** The champion comparison a spec gets when it says nothing: 95% interval, 1,000 seeded resamples, warn on thin segments. */
const CHAMPION_DEFAULTS = { confidence: 0.95, resamples: 1000, seed: 1, minSegmentRows: 30, insufficientEvidence: 'warn' };

describe('parseModelSpec', () => {
  it('accepts the shipped credit-default spec and keeps its values', () => {
    const raw = creditSpecJson();
    const spec = parseModelSpec(raw);
    expect(spec.name).toBe('credit-default');
    expect(spec.features.map((f) => f.name)).toEqual(['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments']);
    const training = raw.training as { params: Record<string, unknown> };
    // Declared values kept; what the file leaves out takes its default (tolerance 1e-6, stratified split).
    expect(spec.training).toEqual({ ...training, params: { ...training.params, tolerance: 1e-6 }, stratify: true });
    expect(spec.gate).toEqual({ ...(raw.gate as object), metrics: {}, maxLatencyMsPerRow: 20, champion: CHAMPION_DEFAULTS });
    expect(spec.schedule).toBe('rate(7 days)');
    expect(spec.dataset).toBe('credit-applications');
  });

  it('fills in the defaults for everything optional', () => {
    const spec = parseModelSpec(minimal());
    expect(spec.positiveLabel).toBe('1');
    expect(spec.training).toEqual({
      algorithm: 'logistic_regression',
      params: { C: 1, maxIterations: 500, tolerance: 1e-6 },
      seed: 42,
      testFraction: 0.25,
      stratify: true,
    });
    expect(spec.gate).toEqual({ metrics: {}, minRows: 20, maxLatencyMsPerRow: 20, champion: CHAMPION_DEFAULTS });
    expect(championMetrics(spec)).toEqual({ rocAuc: { tolerance: 0.02 }, accuracy: { tolerance: 0.02 } });
    expect(spec.approval).toEqual({ requiredIn: [] });
    expect(spec.segments).toEqual([]);
    expect(spec.minSegmentRows).toBe(30);
    expect(spec.validation.maxMissingRate).toBe(0.05);
    expect(spec.schedule).toBeUndefined();
  });

  it('fills in the params it was not given, keeping those it was', () => {
    const spec = parseModelSpec({ ...minimal(), training: { algorithm: 'logistic_regression', params: { C: 0.3 } } });
    expect(spec.training.params).toEqual({ C: 0.3, maxIterations: 500, tolerance: 1e-6 });
  });

  it('rejects an unknown task, naming the field', () => {
    const error = specError({ ...minimal(), task: 'ranking' });
    expect(error.field).toBe('task');
    expect(error.message).toMatch(/task: /);
  });

  it('rejects an unknown algorithm, naming the field', () => {
    const error = specError({ ...minimal(), training: { algorithm: 'xgboost' } });
    expect(error.field).toBe('training.algorithm');
  });

  it('rejects an unknown key, naming the key', () => {
    expect(specError({ ...minimal(), lerningRate: 0.1 }).message).toMatch(/lerningRate/);
    const nested = specError({ ...minimal(), training: { algorithm: 'logistic_regression', params: { learning_rate: 0.1 } } });
    expect(nested.message).toMatch(/learning_rate/);
    expect(nested.field).toBe('training.params');
  });

  it.each([0, -0.1])('rejects C %s', (C) => {
    const error = specError({ ...minimal(), training: { algorithm: 'logistic_regression', params: { C } } });
    expect(error.field).toBe('training.params.C');
  });

  it.each([0, -0.1])('rejects a boosting learningRate %s', (learningRate) => {
    const error = specError({ ...minimal(), training: { algorithm: 'gradient_boosting', params: { learningRate } } });
    expect(error.field).toBe('training.params.learningRate');
  });

  it('rejects a feature declared twice', () => {
    const error = specError({ ...minimal(), features: [{ name: 'tenure', type: 'numeric' }, { name: 'plan', type: 'numeric' }, { name: 'tenure', type: 'numeric' }] });
    expect(error.field).toBe('features.2.name');
    expect(error.message).toMatch(/"tenure" is declared twice/);
  });

  it('rejects the target listed as a feature', () => {
    const error = specError({ ...minimal(), features: [{ name: 'tenure', type: 'numeric' }, { name: 'churned', type: 'numeric' }] });
    expect(error.field).toBe('features.1.name');
    expect(error.message).toMatch(/target cannot also be a feature/);
  });

  it('rejects a schedule without a dataset', () => {
    const error = specError({ ...minimal(), schedule: 'rate(1 day)' });
    expect(error.field).toBe('dataset');
    expect(parseModelSpec({ ...minimal(), schedule: 'rate(1 day)', dataset: 'churn-data' }).dataset).toBe('churn-data');
  });

  it.each(['rate(7 weeks)', 'every day', 'cron(0 3 * * ? *) ', 'rate(days)'])('rejects the schedule expression %j', (schedule) => {
    const error = specError({ ...minimal(), schedule, dataset: 'churn-data' });
    expect(error.field).toBe('schedule');
    expect(error.message).toMatch(/EventBridge expression/);
  });

  it.each(['rate(1 minute)', 'rate(12 hours)', 'cron(0 3 * * ? *)'])('accepts the schedule expression %j', (schedule) => {
    expect(ModelSpecSchema.safeParse({ ...minimal(), schedule, dataset: 'churn-data' }).success).toBe(true);
  });

  it('names every bad field at once', () => {
    const error = specError({ ...minimal(), task: 'ranking', training: { algorithm: 'svm' } });
    expect(error.message).toMatch(/task: /);
    expect(error.message).toMatch(/training\.algorithm: /);
  });
});

describe('release gate and approval in the spec', () => {
  const minimalSpec = () => ({ ...creditSpecJson(), gate: {} });

  it('takes its own champion comparisons and refuses metrics the comparison cannot resample', () => {
    const spec = parseModelSpec({ ...minimalSpec(), gate: { champion: { metrics: { f1: { tolerance: 0.05 } }, insufficientEvidence: 'block' } } });
    expect(championMetrics(spec)).toEqual({ f1: { tolerance: 0.05 } });
    expect(spec.gate.champion.insufficientEvidence).toBe('block');
    const error = thrownBy(() => parseModelSpec({ ...minimalSpec(), gate: { champion: { metrics: { calibrationError: { tolerance: 0.1 } } } } }), InputValidationError);
    expect(error.field).toBe('gate.champion.metrics.calibrationError');
  });

  it('wants exactly one kind of tolerance per compared metric', () => {
    const both = thrownBy(() => parseModelSpec({ ...minimalSpec(), gate: { champion: { metrics: { accuracy: { tolerance: 0.1, relativeTolerance: 0.1 } } } } }), InputValidationError);
    expect(both.message).toMatch(/tolerance or relativeTolerance/);
    expect(() => parseModelSpec({ ...minimalSpec(), gate: { champion: { metrics: { accuracy: {} } } } })).toThrow(InputValidationError);
  });

  it('names environments that need approval and refuses unknown ones', () => {
    expect(parseModelSpec({ ...minimalSpec(), approval: { requiredIn: ['staging', 'prod'] } }).approval.requiredIn).toEqual(['staging', 'prod']);
    expect(thrownBy(() => parseModelSpec({ ...minimalSpec(), approval: { requiredIn: ['qa'] } }), InputValidationError).field).toBe('approval.requiredIn.0');
  });
});
