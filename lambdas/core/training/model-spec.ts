import { z } from 'zod';
import { InputValidationError, parseOrThrow } from '../errors.js';
import { ENVIRONMENT_NAMES } from '../environments.js';
import { DATASET_NAME } from '../data/dataset-version.js';
import { MODEL_NAME } from './run.js';
import { GBDT_DEFAULTS } from './trainers/gbdt.js';
import { FeatureSchema } from './transforms.js';

const COLUMN_NAME = z.string().min(1).max(128);

export { FeatureSchema, type Feature } from './transforms.js';


export const TASKS = ['binary_classification', 'multiclass_classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];
export const isClassification = (task: Task) => task !== 'regression';

/** Parameters per built-in algorithm; names and defaults follow scikit-learn's estimators of the same kind. */
export const LogisticRegressionParamsSchema = z
  .object({
    /** Inverse L2 strength, as scikit-learn's C: the penalty is ||coef||² / (2C). */
    C: z.number().positive().max(1e6).default(1),
    maxIterations: z.number().int().min(1).max(10_000).default(500),
    tolerance: z.number().positive().max(0.1).default(1e-6),
  })
  .strict();
export const LinearRegressionParamsSchema = z.object({}).strict();
export const RidgeParamsSchema = z.object({ alpha: z.number().min(0).max(1e6).default(1) }).strict();
export const GradientBoostingParamsSchema = z
  .object({
    learningRate: z.number().positive().max(1).default(GBDT_DEFAULTS.learningRate),
    maxIterations: z.number().int().min(1).max(2000).default(GBDT_DEFAULTS.maxIterations),
    maxLeafNodes: z.number().int().min(2).max(1024).default(GBDT_DEFAULTS.maxLeafNodes),
    maxDepth: z.number().int().min(1).max(64).optional(),
    minSamplesLeaf: z.number().int().min(1).max(100_000).default(GBDT_DEFAULTS.minSamplesLeaf),
    l2Regularization: z.number().min(0).max(1e6).default(GBDT_DEFAULTS.l2Regularization),
    maxBins: z.number().int().min(2).max(255).default(GBDT_DEFAULTS.maxBins),
  })
  .strict();
export type LogisticRegressionParams = z.infer<typeof LogisticRegressionParamsSchema>;
export type RidgeParams = z.infer<typeof RidgeParamsSchema>;
export type GradientBoostingParams = z.infer<typeof GradientBoostingParamsSchema>;

export const ALGORITHM_PARAMS = {
  logistic_regression: LogisticRegressionParamsSchema,
  linear_regression: LinearRegressionParamsSchema,
  ridge: RidgeParamsSchema,
  gradient_boosting: GradientBoostingParamsSchema,
} as const;
export type Algorithm = keyof typeof ALGORITHM_PARAMS;
export const ALGORITHMS = Object.keys(ALGORITHM_PARAMS) as Algorithm[];
/** Which algorithms fit which task. */
export const ALGORITHMS_FOR_TASK: Record<Task, readonly Algorithm[]> = {
  binary_classification: ['logistic_regression', 'gradient_boosting'],
  multiclass_classification: ['logistic_regression', 'gradient_boosting'],
  regression: ['linear_regression', 'ridge', 'gradient_boosting'],
};

const SPLIT_FIELDS = {
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
  testFraction: z.number().gt(0).max(0.5).default(0.25),
  /** Classification only: each class sends the same share of its rows to the test split. @default true */
  stratify: z.boolean().default(true),
  /** Split by time instead: the latest rows by this column (numbers or ISO dates) are the test split. */
  timeColumn: COLUMN_NAME.optional(),
};
export const TrainingSchema = z.discriminatedUnion('algorithm', [
  z.object({ algorithm: z.literal('logistic_regression'), params: LogisticRegressionParamsSchema.default(LogisticRegressionParamsSchema.parse({})), ...SPLIT_FIELDS }).strict(),
  z.object({ algorithm: z.literal('linear_regression'), params: LinearRegressionParamsSchema.default({}), ...SPLIT_FIELDS }).strict(),
  z.object({ algorithm: z.literal('ridge'), params: RidgeParamsSchema.default(RidgeParamsSchema.parse({})), ...SPLIT_FIELDS }).strict(),
  z.object({ algorithm: z.literal('gradient_boosting'), params: GradientBoostingParamsSchema.default(GradientBoostingParamsSchema.parse({})), ...SPLIT_FIELDS }).strict(),
]);
export type Training = z.infer<typeof TrainingSchema>;

/** A threshold on one metric of the held-out split. */
const MetricThresholdSchema = z
  .object({ min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((t) => t.min !== undefined || t.max !== undefined, { message: 'give min, max or both' });

/**
 * How much worse than the champion a candidate may be on one metric: in the metric's units
 * (`tolerance`) or as a fraction of the champion's value (`relativeTolerance`).
 */
export const ChampionToleranceSchema = z
  .object({ tolerance: z.number().min(0).optional(), relativeTolerance: z.number().min(0).max(1).optional() })
  .strict()
  .refine((t) => (t.tolerance === undefined) !== (t.relativeTolerance === undefined), { message: 'give tolerance or relativeTolerance, not both' });
export type ChampionTolerance = z.infer<typeof ChampionToleranceSchema>;

/** Metrics compared with the champion when the spec names none. */
export const DEFAULT_CHAMPION_METRICS: Record<Task, Record<string, ChampionTolerance>> = {
  binary_classification: { rocAuc: { tolerance: 0.02 }, accuracy: { tolerance: 0.02 } },
  multiclass_classification: { accuracy: { tolerance: 0.02 } },
  regression: { rmse: { relativeTolerance: 0.05 } },
};

/**
 * "No regression against production", judged by a seeded paired bootstrap over the held-out
 * rows: the candidate passes a metric when the worst end of the confidence interval for
 * (candidate - champion, oriented so that positive is better) is within the tolerance.
 */
export const ChampionPolicySchema = z
  .object({
    /** @default DEFAULT_CHAMPION_METRICS for the task */
    metrics: z.record(z.string().min(1).max(64), ChampionToleranceSchema).optional(),
    /** Two-sided confidence level of the interval. */
    confidence: z.number().min(0.5).max(0.999).default(0.95),
    resamples: z.number().int().min(100).max(20_000).default(1000),
    /** Seeds the resampling, so the same inputs always give the same verdict. */
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    /** A segment value with fewer held-out rows than this is "insufficient evidence". */
    minSegmentRows: z.number().int().min(1).default(30),
    /** What an insufficient-evidence segment does to the verdict: `warn` passes and says so, `block` fails. */
    insufficientEvidence: z.enum(['warn', 'block']).default('warn'),
  })
  .strict();
export type ChampionPolicy = z.infer<typeof ChampionPolicySchema>;

export const GatePolicySchema = z
  .object({
    minAccuracy: z.number().min(0).max(1).optional(),
    minRocAuc: z.number().min(0).max(1).optional(),
    /** Any metric the task reports, e.g. { rmse: { max: 4.5 }, f1: { min: 0.7 } }. */
    metrics: z.record(z.string().min(1).max(64), MetricThresholdSchema).default({}),
    /** The fewest held-out rows a verdict may rest on. */
    minRows: z.number().int().min(1).default(20),
    /** Scoring time per held-out row, in milliseconds, that the candidate must stay within. */
    maxLatencyMsPerRow: z.number().positive().max(60_000).default(20),
    champion: ChampionPolicySchema.default(ChampionPolicySchema.parse({})),
  })
  .strict();
export type GatePolicy = z.infer<typeof GatePolicySchema>;

/** Metrics the champion comparison can resample (calibration error bins do not resample meaningfully). */
export const COMPARABLE_METRICS: Record<Task, readonly string[]> = {
  binary_classification: ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'logLoss'],
  multiclass_classification: ['accuracy', 'precision', 'recall', 'f1', 'logLoss'],
  regression: ['rmse', 'mae', 'r2'],
};

/** Which direction is better for each metric. */
export const LOWER_IS_BETTER: ReadonlySet<string> = new Set(['logLoss', 'calibrationError', 'rmse', 'mae']);

/** The champion comparisons a spec asks for: its own, or the task's defaults. */
export const championMetrics = (spec: { task: Task; gate: GatePolicy }): Record<string, ChampionTolerance> =>
  spec.gate.champion.metrics ?? DEFAULT_CHAMPION_METRICS[spec.task];

/** Who must approve a new production version: named environments always need a person, on top of each environment's own policy. */
export const ApprovalPolicySchema = z
  .object({ requiredIn: z.array(z.enum(ENVIRONMENT_NAMES)).default([]) })
  .strict();
export type ApprovalPolicy = z.infer<typeof ApprovalPolicySchema>;

/** The data validation gate's checks, in report order; each has a severity set by the spec. */
export const DATA_CHECKS = [
  'required_columns',
  'extra_columns',
  'column_types',
  'missing_values',
  'missing_rate_increase',
  'value_ranges',
  'categories',
  'duplicate_rows',
  'row_count',
  'freshness',
  'missing_labels',
  'target_classes',
  'class_balance',
] as const;
export type DataCheckName = (typeof DATA_CHECKS)[number];
export const SEVERITIES = ['block', 'warn', 'off'] as const;
export type CheckSeverity = (typeof SEVERITIES)[number];

/** What a failed check does when the spec does not say: structure and labels block, the rest warns. */
export const DEFAULT_SEVERITIES: Record<DataCheckName, CheckSeverity> = {
  required_columns: 'block',
  extra_columns: 'warn',
  column_types: 'block',
  // An imputed feature over the default limit warns; a limit the spec sets, and impute "none", block (core/data/validation.ts).
  missing_values: 'warn',
  missing_rate_increase: 'block',
  value_ranges: 'block',
  categories: 'block',
  duplicate_rows: 'warn',
  row_count: 'block',
  freshness: 'warn',
  missing_labels: 'block',
  target_classes: 'block',
  class_balance: 'warn',
};

/** "36 hours", "7 days", or short: "30m", "1h", "45s", "2d". */
const DURATION_PATTERN = /^(\d+) ?(s|m|h|d|seconds?|minutes?|hours?|days?)$/;
export const DURATION = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration such as "36 hours", "7 days", "30m" or "45s"');
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export function durationMs(text: string): number {
  const [, amount, unit] = DURATION_PATTERN.exec(text.trim()) ?? [];
  if (amount === undefined || unit === undefined) throw new InputValidationError(`"${text}" is not a duration such as "30m", "1h" or "7 days"`, { field: 'duration' });
  return Number(amount) * UNIT_MS[unit[0]!]!;
}

const ColumnExpectationSchema = z
  .object({
    min: z.number().optional(),
    max: z.number().optional(),
    categories: z.array(z.string().min(1)).min(1).max(10_000).optional(),
    /** Share of missing values allowed in this column (overrides maxMissingRate). */
    maxMissingRate: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((column) => column.min === undefined || column.max === undefined || column.min <= column.max, { message: 'max is below min', path: ['max'] });

/** The missing-value limit of an imputed feature when the spec sets none: exceeding it warns. */
export const DEFAULT_MAX_MISSING_RATE = 0.05;
/** validation.maxMissingRateIncrease when the spec does not say. */
export const DEFAULT_MAX_MISSING_RATE_INCREASE = 0.05;

/** The data validation gate's policy for a model. */
export const ValidationPolicySchema = z
  .object({
    /** Severity per check: block stops the pipeline, warn reports, off skips. Unlisted checks keep their defaults. */
    severity: z.partialRecord(z.enum(DATA_CHECKS), z.enum(SEVERITIES)).default({}),
    /**
     * Share of missing values allowed in each feature that is imputed; set, it blocks. Unset, imputed
     * features are held to DEFAULT_MAX_MISSING_RATE as a warning only. No zod default, so the parsed
     * spec still says whether the owner set it. A numeric feature with impute "none" allows none.
     */
    maxMissingRate: z.number().min(0).max(1).optional(),
    /**
     * Largest rise of a column's missing rate over the reference (the dataset the production
     * version, else the newest version, was trained on) before missing_rate_increase fails: it fails
     * when the one-sided 95% lower bound of the rise exceeds this (core/data/missing-rate.ts). @default 0.05
     */
    maxMissingRateIncrease: z.number().min(0).max(1).default(DEFAULT_MAX_MISSING_RATE_INCREASE),
    /** Ranges, categories and missing-value limits per column (features or any other column). */
    columns: z.record(COLUMN_NAME, ColumnExpectationSchema).default({}),
    /** Fewest rows: @default enough for gate.minRows held-out rows at the test fraction */
    minRows: z.number().int().min(1).optional(),
    /** Most rows the Train step accepts. @default 2,000,000 */
    maxRows: z.number().int().min(1).default(2_000_000),
    /** Oldest a dataset may be when the run starts. @default the schedule's rate, when it is a rate */
    maxAge: DURATION.optional(),
    /** Smallest share of rows a class may have. @default 0.01 */
    minClassFraction: z.number().min(0).max(0.5).default(0.01),
  })
  .strict();
export type ValidationPolicy = z.infer<typeof ValidationPolicySchema>;

/**
 * What the prediction log keeps of each request (lambdas/core/serving/records.ts). Sampling
 * happens per request; a sampled-out request is still answered and still known to feedback.
 */
export const PredictionLoggingSchema = z
  .object({
    /** Share of requests logged (each arm alike). @default 1 */
    sampleRate: z.number().min(0).max(1).default(1),
    /** Input fields left out of the log (PII). */
    drop: z.array(COLUMN_NAME).max(500).default([]),
    /** Input fields logged as the hex SHA-256 of their value, so they still group and join but cannot be read. */
    hash: z.array(COLUMN_NAME).max(500).default([]),
  })
  .strict()
  .refine((logging) => !logging.drop.some((field) => logging.hash.includes(field)), { message: 'a field is either dropped or hashed, not both', path: ['hash'] });
export type PredictionLogging = z.infer<typeof PredictionLoggingSchema>;

/**
 * How `mlops rollout start` moves a version to production: shadow (optional), then canary at
 * each step, baking each one and checking the arms (lambdas/core/serving/rollout-check.ts).
 */
export const RolloutPolicySchema = z
  .object({
    /** Canary weights in order; the last one is 1, which is the promotion. */
    steps: z.array(z.number().gt(0).max(1)).min(1).max(20).default([0.05, 0.25, 1]),
    /** How long each step serves before it is checked. */
    bake: DURATION.default('30m'),
    /** A shadow phase first, of this length; none when omitted. */
    shadowFirst: DURATION.optional(),
    /** Share of requests the shadow also scores. @default 1 */
    shadowSample: z.number().gt(0).max(1).default(1),
    /** Fewest requests per arm a check rests on; fewer extends the bake. */
    minRequests: z.number().int().min(1).default(200),
    /** How many times too little traffic may extend a bake before the rollout holds (it never promotes on too little evidence). */
    maxBakeExtensions: z.number().int().min(0).max(100).default(3),
    /** Highest error rate the new arm may show. */
    maxErrorRate: z.number().min(0).max(1).default(0.01),
    /** Highest p99 latency of the new arm, in milliseconds. */
    maxLatencyP99Ms: z.number().positive().max(60_000).default(1000),
    /** Largest distance between the arms' prediction distributions. @default 0.1 (Jensen-Shannon), 0.2 (PSI) */
    maxPredictionShift: z.number().positive().optional(),
    /** How the distance between prediction distributions is measured: on scores (binary P(positive), regression values) or class shares. */
    shiftMethod: z.enum(['jensenshannon', 'psi']).default('jensenshannon'),
    /** Shadow only: smallest share of requests on which the shadow agrees with production (same class; regression: within maxRelativeError). */
    minAgreement: z.number().min(0).max(1).default(0.9),
    /** Regression agreement: a shadow value within this share of production's value agrees. */
    maxRelativeError: z.number().positive().max(10).default(0.1),
    /** Fewest labelled requests per arm before the live metric counts. */
    minLabels: z.number().int().min(1).default(100),
  })
  .strict()
  .refine((rollout) => rollout.steps.at(-1) === 1, { message: 'the last step is the promotion: its weight is 1', path: ['steps'] })
  .refine((rollout) => rollout.steps.every((step, i) => i === 0 || step > rollout.steps[i - 1]!), { message: 'steps must increase', path: ['steps'] });
export type RolloutPolicy = z.infer<typeof RolloutPolicySchema>;

/** The drift tests a feature may be judged with (Evidently 0.7.x names; lambdas/core/monitoring/). */
export const DRIFT_METHODS = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/** A method and threshold chosen for one column instead of Evidently's default selection. */
export const DriftMethodChoiceSchema = z
  .object({
    method: z.enum(DRIFT_METHODS),
    /** p-value below which (ks, chisquare, z), or distance above which (the others), the column drifted. @default 0.05 for p-values, 0.1 for distances (PSI: 0.1) */
    threshold: z.number().positive().optional(),
    /** Bins for jensenshannon and psi on numeric columns; used as asked. @default Evidently's binning */
    bins: z.number().int().min(2).max(1000).optional(),
  })
  .strict()
  .refine((choice) => choice.threshold === undefined || !['ks', 'chisquare', 'z'].includes(choice.method) || choice.threshold < 1, {
    message: 'a p-value threshold lies between 0 and 1',
    path: ['threshold'],
  });
export type DriftMethodChoice = z.infer<typeof DriftMethodChoiceSchema>;

/** A UTC yyyy-mm-ddThh:mm:ss that exists (no 30 February, no hour 24). */
const isMoment = (text: string) => {
  const time = Date.parse(`${text}Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 19) === text;
};

/**
 * An EventBridge Scheduler expression, for both of a model's schedules (core/monitoring/model-schedules.ts):
 * rate(...), cron(...) in UTC, or at(yyyy-mm-ddThh:mm:ss) in UTC for once at that moment.
 */
const SCHEDULER_EXPRESSION = z
  .string()
  .regex(
    /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/,
    'must be an EventBridge Scheduler expression such as "rate(1 day)", "cron(0 3 * * ? *)" or "at(2026-12-31T23:00:00)"',
  )
  .refine((expression) => !expression.startsWith('at(') || isMoment(expression.slice(3, -1)), 'at(...) names no real moment');

/** How the model's traffic is checked against its reference (lambdas/core/monitoring/drift.ts). */
export const MonitoringPolicySchema = z
  .object({
    /**
     * When the drift check runs by itself (an EventBridge Scheduler schedule the platform keeps in step with the
     * spec); none when omitted (it still runs on demand). rate(...), cron(...) in UTC, or at(yyyy-mm-ddThh:mm:ss)
     * in UTC for one check at that moment.
     */
    schedule: SCHEDULER_EXPRESSION.optional(),
    /** The window of traffic a check reads, ending when it runs. */
    window: DURATION.default('24h'),
    /** Rows of the training split kept with each version as its reference (a seeded reservoir). */
    referenceSampleSize: z.number().int().min(100).max(100_000).default(10_000),
    /** Fewest rows a window needs; fewer reads `insufficient`, never passed. */
    minRows: z.number().int().min(1).default(100),
    /** Drift counts only when it persists this many windows in a row. */
    consecutiveWindows: z.number().int().min(1).max(30).default(1),
    /** False discovery rate for Benjamini-Hochberg across the p-value tests, reported beside Evidently's verdicts. */
    fdr: z.number().gt(0).lt(1).default(0.05),
    /** How long labels take to arrive: a window is judged on performance only after this. */
    labelDelay: DURATION.default('24h'),
    /** Share of a window's requests that need a label before its performance is judged. */
    minLabelCoverage: z.number().gt(0).max(1).default(0.5),
    /** Per column (features, or `prediction` for the model's output): a method and threshold instead of the default selection. */
    methods: z.record(COLUMN_NAME, DriftMethodChoiceSchema).default({}),
  })
  .strict();
export type MonitoringPolicy = z.infer<typeof MonitoringPolicySchema>;

/** What may start a retraining run by itself; a manual `train` is always allowed and exempt from cooldown and budget. */
export const RETRAINING_TRIGGERS = ['schedule', 'drift', 'performance'] as const;
export type RetrainingTrigger = (typeof RETRAINING_TRIGGERS)[number];

/**
 * The guardrails every automatic retraining trigger passes before a run starts
 * (lambdas/core/monitoring/retraining.ts): cooldown, one run at a time, a budget, enough new labels.
 */
export const RetrainingPolicySchema = z
  .object({
    /** Least time between the start of one automatic run and the next. */
    cooldown: DURATION.default('24h'),
    /** Most automatic runs per rolling day and week. */
    budget: z
      .object({ perDay: z.number().int().min(0).max(100).default(2), perWeek: z.number().int().min(0).max(500).default(5) })
      .strict()
      .default({ perDay: 2, perWeek: 5 })
      .refine((budget) => budget.perDay <= budget.perWeek, { message: 'perDay is above perWeek', path: ['perDay'] }),
    /**
     * Fewest new labelled rows since the last training before an automatic run starts: for drift and performance
     * triggers, the labelled rows of the prediction log (feedback joined); for a schedule, the rows of the new dataset
     * version (every registered training row carries its label).
     */
    minNewLabels: z.number().int().min(0).max(10_000_000).default(100),
    /** Which automatic triggers may start a run; the others are recorded as suppressed. */
    triggers: z.array(z.enum(RETRAINING_TRIGGERS)).max(3).default(['schedule', 'drift', 'performance']),
  })
  .strict();
export type RetrainingPolicy = z.infer<typeof RetrainingPolicySchema>;

/** A model as its owner declares it (JSON or YAML). */
const ModelSpecObject = z
  .object({
    name: MODEL_NAME,
    task: z.enum(TASKS),
    target: COLUMN_NAME,
    /** Binary classification: the target value counted as the positive class. */
    positiveLabel: z.string().min(1).default('1'),
    features: z.array(FeatureSchema).min(1).max(500),
    training: TrainingSchema,
    /** Columns whose values the metrics are also reported for (each value with enough rows). */
    segments: z.array(COLUMN_NAME).max(5).default([]),
    /** Segment values with fewer held-out rows than this are left out of the segment metrics. */
    minSegmentRows: z.number().int().min(1).default(30),
    gate: GatePolicySchema.default(GatePolicySchema.parse({})),
    validation: ValidationPolicySchema.default(ValidationPolicySchema.parse({})),
    approval: ApprovalPolicySchema.default(ApprovalPolicySchema.parse({})),
    /**
     * When a retraining trigger fires by itself (a platform-managed EventBridge Scheduler schedule, kept in step with
     * the spec): through the guardrails (`retraining`), on the newest version of `dataset` that arrived since the last
     * training. rate(...), cron(...) in UTC, or at(yyyy-mm-ddThh:mm:ss) in UTC once.
     */
    schedule: SCHEDULER_EXPRESSION.optional(),
    dataset: DATASET_NAME.optional(),
    owner: z.string().min(1).max(200).optional(),
    logging: PredictionLoggingSchema.default(PredictionLoggingSchema.parse({})),
    rollout: RolloutPolicySchema.default(RolloutPolicySchema.parse({})),
    monitoring: MonitoringPolicySchema.default(MonitoringPolicySchema.parse({})),
    retraining: RetrainingPolicySchema.default(RetrainingPolicySchema.parse({})),
  })
  .strict();

function checkSpec(spec: z.infer<typeof ModelSpecObject>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  spec.features.forEach((feature, index) => {
    if (seen.has(feature.name)) ctx.addIssue({ code: 'custom', path: ['features', index, 'name'], message: `feature "${feature.name}" is declared twice` });
    if (feature.name === spec.target) ctx.addIssue({ code: 'custom', path: ['features', index, 'name'], message: 'the target cannot also be a feature' });
    seen.add(feature.name);
  });
  if (!ALGORITHMS_FOR_TASK[spec.task].includes(spec.training.algorithm)) {
    ctx.addIssue({
      code: 'custom',
      path: ['training', 'algorithm'],
      message: `${spec.training.algorithm} does not fit task ${spec.task}; use ${ALGORITHMS_FOR_TASK[spec.task].join(' or ')}`,
    });
  }
  if (spec.training.timeColumn !== undefined && (seen.has(spec.training.timeColumn) || spec.training.timeColumn === spec.target)) {
    ctx.addIssue({ code: 'custom', path: ['training', 'timeColumn'], message: 'the time column cannot be a feature or the target' });
  }
  const categories = spec.validation.columns[spec.target]?.categories;
  if (spec.task === 'binary_classification' && categories && !categories.includes(spec.positiveLabel)) {
    ctx.addIssue({ code: 'custom', path: ['validation', 'columns', spec.target, 'categories'], message: `the positive label "${spec.positiveLabel}" is not among the target's categories` });
  }
  const metrics = METRICS_FOR_TASK[spec.task];
  for (const name of Object.keys(spec.gate.metrics)) {
    if (!metrics.includes(name)) ctx.addIssue({ code: 'custom', path: ['gate', 'metrics', name], message: `${spec.task} reports ${metrics.join(', ')}; not ${name}` });
  }
  const comparable = COMPARABLE_METRICS[spec.task];
  for (const name of Object.keys(spec.gate.champion.metrics ?? {})) {
    if (!comparable.includes(name)) {
      ctx.addIssue({ code: 'custom', path: ['gate', 'champion', 'metrics', name], message: `the champion comparison for ${spec.task} can use ${comparable.join(', ')}; not ${name}` });
    }
  }
  if (spec.task === 'regression' && (spec.gate.minAccuracy !== undefined || spec.gate.minRocAuc !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['gate'], message: 'minAccuracy and minRocAuc apply to classification; use gate.metrics for regression' });
  }
  for (const [kind, fields] of [['drop', spec.logging.drop], ['hash', spec.logging.hash]] as const) {
    fields.forEach((field, index) => {
      if (!seen.has(field)) ctx.addIssue({ code: 'custom', path: ['logging', kind, index], message: `"${field}" is not a feature of this model` });
    });
  }
  for (const column of Object.keys(spec.monitoring.methods)) {
    if (column !== 'prediction' && !seen.has(column)) ctx.addIssue({ code: 'custom', path: ['monitoring', 'methods', column], message: `"${column}" is neither a feature of this model nor "prediction"` });
  }
  if (spec.schedule && !spec.dataset) ctx.addIssue({ code: 'custom', path: ['dataset'], message: 'a scheduled model must name the dataset it retrains on' });
}

/** Metrics each task reports on the held-out split (and per segment). */
export const METRICS_FOR_TASK: Record<Task, readonly string[]> = {
  binary_classification: ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'logLoss', 'calibrationError'],
  multiclass_classification: ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'logLoss', 'calibrationError'],
  regression: ['rmse', 'mae', 'r2'],
};

export const ModelSpecSchema = ModelSpecObject.superRefine(checkSpec);
export type ModelSpec = z.infer<typeof ModelSpecSchema>;
export type ModelSpecInput = z.input<typeof ModelSpecSchema>;

export const parseModelSpec = (value: unknown): ModelSpec => parseOrThrow(ModelSpecSchema, value, 'model spec');

/**
 * A spec as a file may declare it: `features` may be left out when `dataset` is given; they are
 * then taken from the dataset's schema (numeric columns as numeric features, text as categorical),
 * leaving out the target, the time column and `excludeColumns`.
 */
export const ModelSpecFileSchema = ModelSpecObject.extend({
  features: z.array(FeatureSchema).min(1).max(500).optional(),
  excludeColumns: z.array(COLUMN_NAME).default([]),
}).strict();

export function inferFeatures(columns: readonly { name: string; type: 'numeric' | 'string' }[], exclude: readonly string[]): unknown[] {
  return columns.filter((column) => !exclude.includes(column.name)).map((column) => ({ name: column.name, type: column.type === 'numeric' ? 'numeric' : 'categorical' }));
}

/** Applies `--param key=value` overrides to a spec, validated like the spec itself (an unknown parameter names itself). */
export function withParams(spec: ModelSpec, params: Readonly<Record<string, unknown>>): ModelSpec {
  if (Object.keys(params).length === 0) return spec;
  return parseModelSpec({ ...spec, training: { ...spec.training, params: { ...spec.training.params, ...params } } });
}
