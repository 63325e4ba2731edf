import { z } from 'zod';
import { parseOrThrow } from './errors.js';
import { DATASET_NAME, MODEL_NAME } from './run.js';

const COLUMN_NAME = z.string().min(1).max(128);

export const FeatureSchema = z.object({ name: COLUMN_NAME, type: z.literal('numeric') }).strict();
export type Feature = z.infer<typeof FeatureSchema>;

export const LogisticRegressionParamsSchema = z
  .object({
    learningRate: z.number().positive().max(10).default(0.1),
    maxIterations: z.number().int().min(1).max(100_000).default(500),
    l2: z.number().min(0).max(100).default(0.001),
    tolerance: z.number().positive().max(1).default(1e-7),
  })
  .strict();
export type LogisticRegressionParams = z.infer<typeof LogisticRegressionParamsSchema>;

export const GatePolicySchema = z
  .object({
    minAccuracy: z.number().min(0).max(1).optional(),
    minRocAuc: z.number().min(0).max(1).optional(),
    /** The fewest held-out rows a verdict may rest on. */
    minRows: z.number().int().min(1).default(20),
  })
  .strict();
export type GatePolicy = z.infer<typeof GatePolicySchema>;

/** The data validation gate's checks, in report order; each has a severity set by the spec. */
export const DATA_CHECKS = [
  'required_columns',
  'extra_columns',
  'column_types',
  'missing_values',
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
  missing_values: 'block',
  value_ranges: 'block',
  categories: 'block',
  duplicate_rows: 'warn',
  row_count: 'block',
  freshness: 'warn',
  missing_labels: 'block',
  target_classes: 'block',
  class_balance: 'warn',
};

/** "36 hours", "7 days": how old a dataset may be when a run uses it. */
const DURATION = z
  .string()
  .regex(/^\d+ (minute|minutes|hour|hours|day|days)$/, 'must be a duration such as "36 hours" or "7 days"');
export function durationMs(text: string): number {
  const [amount, unit] = text.split(' ') as [string, string];
  const ms = unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(amount) * ms;
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

/** The data validation gate's policy for a model. */
export const ValidationPolicySchema = z
  .object({
    /** Severity per check: block stops the pipeline, warn reports, off skips. Unlisted checks keep their defaults. */
    severity: z.partialRecord(z.enum(DATA_CHECKS), z.enum(SEVERITIES)).default({}),
    /** Share of missing values allowed in each feature. @default 0: the built-in trainer does not impute */
    maxMissingRate: z.number().min(0).max(1).default(0),
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

/** EventBridge schedule expressions: rate(...) or cron(...). */
const SCHEDULE = z
  .string()
  .regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))$/, 'must be an EventBridge expression such as "rate(7 days)" or "cron(0 3 * * ? *)"');

/** A model as its owner declares it (JSON or YAML). */
export const ModelSpecSchema = z
  .object({
    name: MODEL_NAME,
    task: z.enum(['binary_classification']),
    target: COLUMN_NAME,
    /** The target value counted as the positive class; the other value is negative. */
    positiveLabel: z.string().min(1).default('1'),
    features: z.array(FeatureSchema).min(1).max(500),
    training: z
      .object({
        algorithm: z.literal('logistic_regression'),
        params: LogisticRegressionParamsSchema.default(LogisticRegressionParamsSchema.parse({})),
        seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
        testFraction: z.number().gt(0).max(0.5).default(0.25),
      })
      .strict(),
    gate: GatePolicySchema.default(GatePolicySchema.parse({})),
    validation: ValidationPolicySchema.default(ValidationPolicySchema.parse({})),
    /** When the schedule fires, the model is retrained on the latest version of this dataset. */
    schedule: SCHEDULE.optional(),
    dataset: DATASET_NAME.optional(),
    owner: z.string().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.features.forEach((feature, index) => {
      if (seen.has(feature.name)) ctx.addIssue({ code: 'custom', path: ['features', index, 'name'], message: `feature "${feature.name}" is declared twice` });
      if (feature.name === spec.target) ctx.addIssue({ code: 'custom', path: ['features', index, 'name'], message: 'the target cannot also be a feature' });
      seen.add(feature.name);
    });
    if (spec.validation.columns[spec.target]?.categories && !spec.validation.columns[spec.target]!.categories!.includes(spec.positiveLabel)) {
      ctx.addIssue({ code: 'custom', path: ['validation', 'columns', spec.target, 'categories'], message: `the positive label "${spec.positiveLabel}" is not among the target's categories` });
    }
    if (spec.schedule && !spec.dataset) ctx.addIssue({ code: 'custom', path: ['dataset'], message: 'a scheduled model must name the dataset it retrains on' });
  });
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const parseModelSpec = (value: unknown): ModelSpec => parseOrThrow(ModelSpecSchema, value, 'model spec');
