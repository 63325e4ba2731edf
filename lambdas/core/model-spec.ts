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
    if (spec.schedule && !spec.dataset) ctx.addIssue({ code: 'custom', path: ['dataset'], message: 'a scheduled model must name the dataset it retrains on' });
  });
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const parseModelSpec = (value: unknown): ModelSpec => parseOrThrow(ModelSpecSchema, value, 'model spec');
