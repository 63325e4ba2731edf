/**
 * The registry API's answers, as zod schemas: the registry function types what it answers with
 * them, and the client (lib/client/platform-client.ts) parses every answer with the same schema.
 * Object schemas strip keys they do not know, so an answer may grow fields (additions only).
 */
import { z } from 'zod';
import { StoredGateReportSchema } from '../core/evaluation/gate-report.js';
import {
  AliasSchema,
  AuditEventSchema,
  DatasetLineageSchema,
  ModelSummarySchema,
  ModelVersionSchema,
  VersionLineageSchema,
} from '../core/registry/records.js';
import { ROLLOUT_STATES, RolloutRecordSchema } from '../core/registry/rollout.js';
import { ModelSpecSchema } from '../core/training/model-spec.js';
import { MODEL_NAME } from '../core/training/run.js';

export { DatasetLineageSchema, ModelSummarySchema, VersionLineageSchema };

/** `GET /models`. */
export const ModelListAnswerSchema = z.object({ models: z.array(ModelSummarySchema) });

/** `GET /models/{model}`: the spec, the aliases (in ALIASES order) and the versions (oldest first). */
export const ModelDetailSchema = z.object({
  name: MODEL_NAME,
  spec: ModelSpecSchema,
  latestVersion: z.number().int().nonnegative(),
  createdAt: z.string(),
  updatedAt: z.string(),
  aliases: z.array(AliasSchema),
  versions: z.array(ModelVersionSchema),
});
export type ModelDetail = z.infer<typeof ModelDetailSchema>;

/** `PUT /models/{model}`: 201 when created, 200 when the spec was replaced. */
export const PutModelAnswerSchema = z.object({ model: MODEL_NAME, created: z.boolean(), spec: ModelSpecSchema });
export type PutModelAnswer = z.infer<typeof PutModelAnswerSchema>;

/** `POST /models/{model}/aliases/{alias}`: production starts the release path (202); any other alias moves at once (200). */
export const PromoteAnswerSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('RUNNING'),
    runId: z.string(),
    executionArn: z.string(),
    version: z.number().int().positive(),
    expectedVersion: z.number().int().positive().nullable().optional(),
  }),
  z.object({ status: z.literal('MOVED'), alias: AliasSchema, before: AliasSchema.nullable() }),
]);
export type PromoteAnswer = z.infer<typeof PromoteAnswerSchema>;

/**
 * `POST /models/{model}/rollback`. During a rollout, production never moved: the rollback stops the
 * rollout and clears canary and shadow (`rollout`), and production stays (`production` = `before`).
 */
export const RollbackAnswerSchema = z.object({
  status: z.literal('ROLLED_BACK'),
  production: AliasSchema,
  before: AliasSchema,
  rollout: z.object({ rolloutId: z.string(), version: z.number().int().positive(), state: z.enum(ROLLOUT_STATES), cleared: z.array(z.string()) }).optional(),
});
export type RollbackAnswer = z.infer<typeof RollbackAnswerSchema>;

/** `POST /models/{model}/versions/{version}/approve` and `.../reject`. */
export const DecisionAnswerSchema = z.object({
  status: z.enum(['APPROVED', 'REJECTED']),
  version: ModelVersionSchema,
  /** What became of the waiting release (core/registry/approval.ts): resumed, stopped, or it no longer waited. */
  release: z.enum(['resumed', 'stopped', 'not-waiting']).optional(),
});
export type DecisionAnswer = z.infer<typeof DecisionAnswerSchema>;

/** `GET /models/{model}/audit`: oldest first. */
export const AuditAnswerSchema = z.object({ events: z.array(AuditEventSchema) });

/** `GET /models/{model}/versions/{version}/gate-report`: the gate report stored when the version's run was judged. */
export const GateReportAnswerSchema = z.object({
  model: MODEL_NAME,
  version: z.number().int().positive(),
  runId: z.string(),
  uri: z.string(),
  report: StoredGateReportSchema,
});
export type GateReportAnswer = z.infer<typeof GateReportAnswerSchema>;

/** `POST /models/{model}/rollouts` (202): the rollout runs; its first step is the gate against production (run `gateRunId`). */
export const RolloutStartAnswerSchema = z.object({
  status: z.literal('RUNNING'),
  rolloutId: z.string(),
  executionArn: z.string(),
  version: z.number().int().positive(),
  production: z.number().int().positive(),
  gateRunId: z.string(),
  steps: z.array(z.number()),
  bake: z.string(),
  shadowFirst: z.string().nullable(),
});
export type RolloutStartAnswer = z.infer<typeof RolloutStartAnswerSchema>;

/** `GET /models/{model}/rollout`: the rollout (running, or the last one), its execution, and its decisions (audit events, oldest first). */
export const RolloutStatusSchema = z.object({
  rollout: RolloutRecordSchema,
  /** The state machine's execution as Step Functions reports it; null when it cannot be read. */
  execution: z.object({ status: z.string(), error: z.string().optional(), cause: z.string().optional() }).nullable(),
  /** Canary steps whose bake passed its check. */
  stepsDone: z.number().int().min(0),
  decisions: z.array(AuditEventSchema),
});
export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;

/** `POST /models/{model}/rollout/abort`. */
export const RolloutAbortAnswerSchema = z.object({ status: z.literal('ABORTED'), rollout: RolloutRecordSchema, cleared: z.array(z.string()) });
export type RolloutAbortAnswer = z.infer<typeof RolloutAbortAnswerSchema>;
