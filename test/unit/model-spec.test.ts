import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../lambdas/core/errors.js';
import { ALGORITHMS_FOR_TASK, championMetrics, durationMs, inferFeatures, ModelSpecFileSchema, ModelSpecSchema, parseModelSpec, withParams } from '../../lambdas/core/training/model-spec.js';
import { TrainingRequestSchema } from '../../lambdas/core/training/run.js';
import { creditSpecJson, mixedSpec, thrownBy } from './helpers.js';

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
    // No written-out default: the gate must know whether the owner set a limit (an unset one only warns).
    expect(spec.validation.maxMissingRate).toBeUndefined();
    expect(spec.validation.maxMissingRateIncrease).toBe(0.05);
    expect(spec.schedule).toBeUndefined();
  });

  it('reads a spec stored before maxMissingRate lost its default, keeping the written-out 0.05 (which then blocks)', () => {
    const stored = { ...minimal(), validation: { severity: {}, maxMissingRate: 0.05, columns: {}, maxRows: 2_000_000, minClassFraction: 0.01 } };
    const spec = parseModelSpec(stored);
    expect(spec.validation).toEqual({ ...stored.validation, maxMissingRateIncrease: 0.05 });
    // Parsing again is stable: an unset limit stays unset.
    expect(parseModelSpec(parseModelSpec(minimal())).validation.maxMissingRate).toBeUndefined();
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

  it.each(['rate(7 weeks)', 'every day', 'cron(0 3 * * ? *) ', 'rate(days)', 'at(2026-02-30T04:05:00)'])('rejects the schedule expression %j', (schedule) => {
    const error = specError({ ...minimal(), schedule, dataset: 'churn-data' });
    expect(error.field).toBe('schedule');
    expect(error.message).toMatch(/EventBridge Scheduler expression|names no real moment/);
  });

  // The retraining schedule is a platform-managed Scheduler schedule, so a one-time at() works too.
  it.each(['rate(1 minute)', 'rate(12 hours)', 'cron(0 3 * * ? *)', 'at(2026-12-31T23:00:00)'])('accepts the schedule expression %j', (schedule) => {
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

// Algorithms per task, parameters, feature transforms and inference from a dataset's schema.
describe('a spec of any task', () => {
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
});

describe('the logging and rollout blocks', () => {
  it('defaults to logging every request in full and a three-step rollout baking 30 minutes', () => {
    const spec = parseModelSpec(minimal());
    expect(spec.logging).toEqual({ sampleRate: 1, drop: [], hash: [] });
    expect(spec.rollout.steps).toEqual([0.05, 0.25, 1]);
    expect(durationMs(spec.rollout.bake)).toBe(30 * 60_000);
    expect(spec.rollout.shadowFirst).toBeUndefined();
  });

  it('fails when a logged field is not a feature, or is both dropped and hashed', () => {
    expect(specError({ ...minimal(), logging: { drop: ['email'] } }).message).toMatch(/logging\.drop\.0: "email" is not a feature/);
    expect(specError({ ...minimal(), logging: { drop: ['tenure'], hash: ['tenure'] } }).message).toMatch(/logging\.hash: a field is either dropped or hashed/);
  });

  it('fails when the steps do not end at 1 or do not increase', () => {
    expect(specError({ ...minimal(), rollout: { steps: [0.1, 0.5] } }).message).toMatch(/rollout\.steps: the last step is the promotion/);
    expect(specError({ ...minimal(), rollout: { steps: [0.5, 0.2, 1] } }).message).toMatch(/rollout\.steps: steps must increase/);
  });

  it('reads durations in short and long forms, and names a bad one', () => {
    expect(['45s', '30m', '1h', '2d', '36 hours', '7 days', '1 minute'].map(durationMs)).toEqual([45_000, 1_800_000, 3_600_000, 172_800_000, 129_600_000, 604_800_000, 60_000]);
    expect(specError({ ...minimal(), rollout: { bake: 'soon' } }).message).toMatch(/rollout\.bake: must be a duration/);
  });
});

describe('the monitoring block', () => {
  it('defaults to a 24-hour window over a 10,000-row reference, judged from 100 rows, with no schedule', () => {
    const spec = parseModelSpec(minimal());
    expect(spec.monitoring).toEqual({ window: '24h', referenceSampleSize: 10_000, minRows: 100, consecutiveWindows: 1, fdr: 0.05, labelDelay: '24h', minLabelCoverage: 0.5, methods: {} });
  });

  it('fails when a threshold is out of range or a method names no feature', () => {
    expect(specError({ ...minimal(), monitoring: { methods: { tenure: { method: 'ks', threshold: 2 } } } }).message).toMatch(/monitoring\.methods\.tenure\.threshold: a p-value threshold lies between 0 and 1/);
    expect(specError({ ...minimal(), monitoring: { methods: { income: { method: 'psi' } } } }).message).toMatch(/monitoring\.methods\.income: "income" is neither a feature/);
    expect(specError({ ...minimal(), monitoring: { fdr: 1 } }).message).toMatch(/monitoring\.fdr/);
    expect(parseModelSpec({ ...minimal(), monitoring: { methods: { prediction: { method: 'psi', bins: 10 } } } }).monitoring.methods.prediction).toEqual({ method: 'psi', bins: 10 });
  });
});

describe('feature names', () => {
  it('fails when a feature is named after something every JavaScript object has', () => {
    for (const name of ['__proto__', 'constructor']) {
      expect(specError({ ...minimal(), features: [{ name, type: 'numeric' }] }).message).toMatch(/features\.0\.name: is a name JavaScript objects already carry/);
    }
  });
});
