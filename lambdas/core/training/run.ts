import { z } from 'zod';
import { DATASET_NAME, DATASET_VERSION, DatasetRefSchema } from '../data/dataset-version.js';


export const MODEL_NAME = z
  .string()
  .regex(/^[a-z][a-z0-9-]{2,62}$/, 'must be 3-63 lowercase letters, digits or hyphens, starting with a letter');
export const TRIGGERS = ['manual', 'schedule', 'drift', 'performance', 'reproduce', 'import', 'promote'] as const;
export const RUN_MODES = ['train', 'reproduce', 'import', 'promote', 'transfer'] as const;

/** What a promotion to production carries through the release path (mode `promote`). */
export const PromotionSchema = z
  .object({
    version: z.number().int().positive(),
    reason: z.string().min(1).max(1000),
    /** Where the caller saw production when it asked; the move conflicts if production was elsewhere. */
    expectedVersion: z.number().int().positive().nullable().optional(),
  })
  .strict();
export type Promotion = z.infer<typeof PromotionSchema>;

/** Where a version promoted from another environment came from: recorded on the new version as its lineage. */
export const TransferSourceSchema = z
  .object({
    environment: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
    model: z.string().min(1).max(63),
    version: z.number().int().positive(),
    runId: z.string().min(1).max(200),
    dataset: z.object({ name: z.string(), version: z.string() }).strict(),
    codeVersion: z.string().max(200).optional(),
    gateReportUri: z.string().max(2000).optional(),
  })
  .strict();
export type TransferSource = z.infer<typeof TransferSourceSchema>;

/** A `--param` value: numbers, booleans and strings. */
export const ParamValueSchema = z.union([z.number(), z.boolean(), z.string().max(200)]);

/** What started an automatic run (core/monitoring/retraining.ts): recorded on the run, the evidence behind `trigger`. */
export const TriggeredBySchema = z
  .object({ triggerId: z.string().min(1).max(100), checkId: z.string().max(100).optional(), reportUri: z.string().max(2000).optional() })
  .strict();
export type TriggeredBy = z.infer<typeof TriggeredBySchema>;

/** What starts a training run: the execution input of the training pipeline. */
export const TrainingRequestSchema = z
  .object({
    model: MODEL_NAME,
    dataset: z.object({ name: DATASET_NAME, version: DATASET_VERSION.optional() }).strict(),
    trigger: z.enum(TRIGGERS).default('manual'),
    actor: z.string().min(1).max(200).default('unknown'),
    /** Overrides of the algorithm's parameters for this run only (`mlops train --param`). */
    params: z.record(z.string().min(1).max(64), ParamValueSchema).default({}),
    /**
     * `train` (the default); `reproduce` re-runs a recorded run from its lineage and stops after
     * Evaluate, registering nothing; `import` takes an ONNX model trained elsewhere through the same
     * validation, evaluation and gate instead of training one.
     */
    mode: z.enum(RUN_MODES).default('train'),
    /** The run being reproduced; its recorded spec is used instead of the model's current one. */
    reproduces: z.string().min(1).max(200).optional(),
    /** The ONNX file an import brings (uploaded to the models bucket). */
    onnx: z.object({ uri: z.string().startsWith('s3://'), sha256: z.string().regex(/^[a-f0-9]{64}$/) }).strict().optional(),
    /**
     * After Register, release the new version to production (through approval where required);
     * false registers it as `candidate` only, to promote later.
     */
    release: z.boolean().default(true),
    /** A registered version going to production through the gate and approval (mode `promote`). */
    promotion: PromotionSchema.optional(),
    /**
     * A version of another environment (mode `transfer`): its artifact, already copied into this
     * environment's models bucket, is judged here and registered as a new version with its origin.
     */
    transfer: z
      .object({
        artifact: z.object({ uri: z.string().startsWith('s3://'), sha256: z.string().regex(/^[a-f0-9]{64}$/) }).strict(),
        source: TransferSourceSchema,
        reason: z.string().min(1).max(1000),
      })
      .strict()
      .optional(),
    /** An automatic run: the guardrail decision that started it and, for drift and performance, the check and its report. */
    triggeredBy: TriggeredBySchema.optional(),
  })
  .strict()
  .refine((r) => (r.mode === 'reproduce') === (r.reproduces !== undefined), { message: 'mode "reproduce" goes with the run it reproduces', path: ['reproduces'] })
  .refine((r) => (r.mode === 'import') === (r.onnx !== undefined), { message: 'mode "import" goes with the ONNX file it imports', path: ['onnx'] })
  .refine((r) => (r.mode === 'promote') === (r.promotion !== undefined), { message: 'mode "promote" goes with the version it promotes', path: ['promotion'] })
  .refine((r) => (r.mode === 'transfer') === (r.transfer !== undefined), { message: 'mode "transfer" goes with the artifact and origin it brings', path: ['transfer'] });
export type TrainingRequest = z.input<typeof TrainingRequestSchema>;

export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const ArtifactRefSchema = z.object({ uri: z.string().startsWith('s3://'), sha256: z.string().regex(/^[a-f0-9]{64}$/) });
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;

/** A run in the tracking table (experiment tracking). */
export const RunRecordSchema = z.object({
  runId: z.string(),
  model: MODEL_NAME,
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(TRIGGERS),
  actor: z.string(),
  dataset: DatasetRefSchema,
  specHash: z.string(),
  codeVersion: z.string(),
  algorithm: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  /** The effective spec the run trained with (parameter overrides applied): what `reproduce` re-runs. */
  spec: z.record(z.string(), z.unknown()).optional(),
  mode: z.enum(RUN_MODES).default('train'),
  reproduces: z.string().optional(),
  /** An import's ONNX file. */
  onnx: z.object({ uri: z.string(), sha256: z.string() }).optional(),
  seed: z.number().int(),
  executionArn: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  validationReportUri: z.string().optional(),
  validationSummary: z.string().optional(),
  artifact: ArtifactRefSchema.optional(),
  /** The reference sample Train stored beside the artifact (core/monitoring/reference.ts). */
  reference: ArtifactRefSchema.optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  /** Metrics per declared segment column and value, on the held-out split. */
  segmentMetrics: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.number()))).optional(),
  gateReportUri: z.string().optional(),
  gatePassed: z.boolean().optional(),
  gateSummary: z.string().optional(),
  modelVersion: z.number().int().positive().optional(),
  /** A promotion's version and reason. */
  promotion: PromotionSchema.optional(),
  /** A transfer's origin: the environment, version and run it was copied from. */
  transferredFrom: TransferSourceSchema.optional(),
  /** An automatic run's guardrail decision, and the drift check (with its report) that fired it. */
  triggeredBy: TriggeredBySchema.optional(),
  failure: z.object({ step: z.string(), error: z.string(), reason: z.string() }).optional(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** The failure a failed execution hands to RecordFailure. */
export const FailureSchema = z.object({ step: z.string(), error: z.string(), cause: z.string().nullish() });

/**
 * Turns a Step Functions Cause into a sentence for people: Lambda errors arrive as JSON
 * `{ errorType, errorMessage, trace }`; keep the message, drop the trace.
 */
export function failureReason(cause: string | null | undefined, error: string): string {
  if (!cause) return error;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string' && parsed.errorMessage) return parsed.errorMessage;
  } catch {
    // A plain-text cause (for example a gate summary) is already the reason.
  }
  return cause.length > 2000 ? `${cause.slice(0, 2000)}...` : cause;
}

/** What StartRun hands to every later step (kept small: pointers, not data). */
export const RunContextSchema = z.object({
  runId: z.string().min(1),
  mode: z.enum(RUN_MODES).default('train'),
  onnx: z.object({ uri: z.string(), sha256: z.string() }).optional(),
  /** A promotion's version, reason and expected production version. */
  promotion: PromotionSchema.optional(),
  /** A transfer's origin and reason. */
  transfer: z.object({ source: TransferSourceSchema, reason: z.string() }).optional(),
  /** For a promotion or a transfer: the existing artifact Evaluate scores in place of a trained one. */
  artifact: ArtifactRefSchema.optional(),
  model: MODEL_NAME,
  spec: z.unknown(),
  dataset: DatasetRefSchema,
  trigger: z.enum(TRIGGERS),
  actor: z.string(),
  release: z.boolean().default(true),
});
export type RunContext = z.infer<typeof RunContextSchema>;

/** The state every step after StartRun receives; each step reads what it needs. */
export const StepStateSchema = z.object({ run: RunContextSchema });

/** A run id, also its execution name (at most 80 characters): the model (cut to 57), the UTC time, and a random suffix. */
export function newRunId(model: string, now: Date, suffix: string): string {
  return `${model.slice(0, 57)}-${now.toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${suffix}`;
}
