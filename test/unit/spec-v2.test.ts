import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../lambdas/core/errors.js';
import {
  ALGORITHMS_FOR_TASK,
  inferFeatures,
  ModelSpecFileSchema,
  parseModelSpec,
  withParams,
} from '../../lambdas/core/training/model-spec.js';
import { TrainingRequestSchema } from '../../lambdas/core/training/run.js';
import { mixedSpec, thrownBy } from './helpers.js';

const base = (task = 'binary_classification', training: Record<string, unknown> = { algorithm: 'logistic_regression' }, extra: Record<string, unknown> = {}) => ({
  name: 'churn',
  task,
  target: 'churned',
  features: [
    { name: 'tenure', type: 'numeric' },
    { name: 'plan', type: 'categorical' },
  ],
  training,
  ...extra,
});
const specError = (value: unknown) => thrownBy(() => parseModelSpec(value), InputValidationError);

describe('model spec v2: algorithms and tasks', () => {
  it('rejects an unknown algorithm, naming training.algorithm', () => {
    const error = specError(base('regression', { algorithm: 'xgboost' }));
    expect(error.field).toBe('training.algorithm');
    expect(error.message).toMatch(/training\.algorithm: /);
  });

  it.each([
    ['regression', 'logistic_regression', /logistic_regression does not fit task regression; use linear_regression or ridge or gradient_boosting/],
    ['binary_classification', 'ridge', /ridge does not fit task binary_classification; use logistic_regression or gradient_boosting/],
    ['multiclass_classification', 'linear_regression', /linear_regression does not fit task multiclass_classification/],
  ])('rejects %s with %s, naming training.algorithm', (task, algorithm, message) => {
    const error = specError(base(task, { algorithm }));
    expect(error.field).toBe('training.algorithm');
    expect(error.message).toMatch(message);
  });

  it('accepts every algorithm listed for its task', () => {
    for (const [task, algorithms] of Object.entries(ALGORITHMS_FOR_TASK)) {
      for (const algorithm of algorithms) expect(parseModelSpec(base(task, { algorithm })).training.algorithm).toBe(algorithm);
    }
  });

  it.each([
    ['logistic_regression', { C: 0 }, 'training.params.C'],
    ['logistic_regression', { C: -1 }, 'training.params.C'],
    ['logistic_regression', { maxIterations: 0 }, 'training.params.maxIterations'],
    ['logistic_regression', { maxIterations: 2.5 }, 'training.params.maxIterations'],
    ['logistic_regression', { tolerance: 0.5 }, 'training.params.tolerance'],
    ['gradient_boosting', { maxBins: 256 }, 'training.params.maxBins'],
    ['gradient_boosting', { maxLeafNodes: 1 }, 'training.params.maxLeafNodes'],
    ['gradient_boosting', { learningRate: 1.5 }, 'training.params.learningRate'],
  ])('rejects %s params %j, naming %s', (algorithm, params, field) => {
    expect(specError(base('binary_classification', { algorithm, params })).field).toBe(field);
  });

  it('rejects a ridge alpha below 0, and another algorithm\'s parameter', () => {
    expect(specError(base('regression', { algorithm: 'ridge', params: { alpha: -1 } })).field).toBe('training.params.alpha');
    const foreign = specError(base('regression', { algorithm: 'ridge', params: { C: 1 } }));
    expect(foreign.field).toBe('training.params');
    expect(foreign.message).toMatch(/"C"/);
    expect(specError(base('regression', { algorithm: 'linear_regression', params: { alpha: 1 } })).field).toBe('training.params');
  });

  it('fills each algorithm\'s defaults', () => {
    expect(parseModelSpec(base('regression', { algorithm: 'ridge' })).training.params).toEqual({ alpha: 1 });
    expect(parseModelSpec(base('regression', { algorithm: 'linear_regression' })).training.params).toEqual({});
    expect(parseModelSpec(base('regression', { algorithm: 'gradient_boosting' })).training.params).toEqual({
      learningRate: 0.1,
      maxIterations: 100,
      maxLeafNodes: 31,
      minSamplesLeaf: 20,
      l2Regularization: 0,
      maxBins: 255,
    });
  });

  it('rejects a time column that is also a feature or the target', () => {
    expect(specError(base('regression', { algorithm: 'ridge', timeColumn: 'tenure' })).field).toBe('training.timeColumn');
    expect(specError(base('regression', { algorithm: 'ridge', timeColumn: 'churned' })).field).toBe('training.timeColumn');
    expect(parseModelSpec(base('regression', { algorithm: 'ridge', timeColumn: 'signup_date' })).training.timeColumn).toBe('signup_date');
  });
});

describe('model spec v2: gate', () => {
  it('rejects a gate metric the task does not report, naming it', () => {
    const error = specError(base('binary_classification', { algorithm: 'logistic_regression' }, { gate: { metrics: { rmse: { max: 1 } } } }));
    expect(error.field).toBe('gate.metrics.rmse');
    expect(error.message).toMatch(/binary_classification reports accuracy, .*; not rmse/);
    expect(specError(base('regression', { algorithm: 'ridge' }, { gate: { metrics: { accuracy: { min: 0.5 } } } })).field).toBe('gate.metrics.accuracy');
  });

  it('rejects minAccuracy or minRocAuc for regression, naming gate', () => {
    expect(specError(base('regression', { algorithm: 'ridge' }, { gate: { minAccuracy: 0.5 } })).field).toBe('gate');
    expect(specError(base('regression', { algorithm: 'ridge' }, { gate: { minRocAuc: 0.5 } })).field).toBe('gate');
  });

  it('needs min or max in a metric threshold', () => {
    expect(specError(base('regression', { algorithm: 'ridge' }, { gate: { metrics: { rmse: {} } } })).field).toBe('gate.metrics.rmse');
    const spec = parseModelSpec(base('regression', { algorithm: 'ridge' }, { gate: { metrics: { rmse: { max: 4.5 }, r2: { min: 0.2, max: 0.99 } } } }));
    expect(spec.gate.metrics).toEqual({ rmse: { max: 4.5 }, r2: { min: 0.2, max: 0.99 } });
  });
});

describe('withParams', () => {
  const spec = parseModelSpec(base());

  it('applies overrides, keeping the other parameters and the original spec', () => {
    const changed = withParams(spec, { C: 0.5, maxIterations: 50 });
    expect(changed.training.params).toEqual({ C: 0.5, maxIterations: 50, tolerance: 1e-6 });
    expect(spec.training.params).toEqual({ C: 1, maxIterations: 500, tolerance: 1e-6 });
    expect(withParams(spec, {})).toBe(spec);
  });

  it('rejects an unknown parameter, naming training.params and the parameter', () => {
    const error = thrownBy(() => withParams(spec, { learningRate: 0.1 }), InputValidationError);
    expect(error.field).toBe('training.params');
    expect(error.message).toMatch(/learningRate/);
  });

  it('rejects a value out of range or of the wrong type, naming the parameter', () => {
    expect(thrownBy(() => withParams(spec, { C: 0 }), InputValidationError).field).toBe('training.params.C');
    expect(thrownBy(() => withParams(spec, { maxIterations: '20' }), InputValidationError).field).toBe('training.params.maxIterations');
    const boosted = mixedSpec('regression', 'gradient_boosting');
    expect(withParams(boosted, { maxDepth: 3 }).training.params).toMatchObject({ maxDepth: 3, maxIterations: 20, minSamplesLeaf: 5 });
    expect(thrownBy(() => withParams(boosted, { maxDepth: 0 }), InputValidationError).field).toBe('training.params.maxDepth');
  });
});

describe('spec files: inferFeatures and ModelSpecFileSchema', () => {
  it('takes numeric columns as numeric features and text as categorical, leaving out the excluded ones', () => {
    const columns = [
      { name: 'age', type: 'numeric' as const },
      { name: 'plan', type: 'string' as const },
      { name: 'signup', type: 'string' as const },
      { name: 'churned', type: 'string' as const },
    ];
    const features = inferFeatures(columns, ['churned', 'signup']);
    expect(features).toEqual([
      { name: 'age', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
    ]);
    const spec = parseModelSpec({ ...base(), features });
    expect(spec.features).toEqual([
      { name: 'age', type: 'numeric', impute: 'median', scale: 'standard' },
      { name: 'plan', type: 'categorical', maxCategories: 50, minFrequency: 1, impute: 'missing_category' },
    ]);
  });

  it('lets a spec file leave out the features and exclude columns; the spec itself still needs features', () => {
    const { features: _features, ...withoutFeatures } = base();
    const file = ModelSpecFileSchema.parse({ ...withoutFeatures, dataset: 'churn-data', excludeColumns: ['customer_id'] });
    expect(file.features).toBeUndefined();
    expect(file.excludeColumns).toEqual(['customer_id']);
    expect(ModelSpecFileSchema.parse({ ...withoutFeatures }).excludeColumns).toEqual([]);
    expect(specError(withoutFeatures).field).toBe('features');
  });
});

describe('training request v2', () => {
  const request = { model: 'credit', dataset: { name: 'loans' } };
  const paths = (value: unknown) => TrainingRequestSchema.safeParse(value).error?.issues.map((i) => i.path.join('.'));

  it('rejects mode reproduce without the run it reproduces, and reproduces without mode reproduce', () => {
    expect(paths({ ...request, mode: 'reproduce' })).toEqual(['reproduces']);
    expect(paths({ ...request, reproduces: 'run-1' })).toEqual(['reproduces']);
    expect(TrainingRequestSchema.parse({ ...request, mode: 'reproduce', reproduces: 'run-1', trigger: 'reproduce' })).toMatchObject({ mode: 'reproduce', reproduces: 'run-1' });
  });

  it('takes parameter overrides as numbers, booleans or short text', () => {
    expect(TrainingRequestSchema.parse({ ...request, params: { C: 0.5, verbose: true, note: 'x' } }).params).toEqual({ C: 0.5, verbose: true, note: 'x' });
    expect(paths({ ...request, params: { C: { value: 1 } } })).toEqual(['params.C']);
    // An empty key is reported at that key: params plus an empty segment.
    expect(paths({ ...request, params: { '': 1 } })).toEqual(['params.']);
    expect(paths({ ...request, mode: 'replay' })).toEqual(['mode']);
  });
});
