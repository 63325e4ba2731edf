import { z } from 'zod';
import { ALIASES } from './keys.js';
import { ArtifactRefSchema, MODEL_NAME, TransferSourceSchema } from '../training/run.js';
import { DatasetRefSchema } from '../data/dataset-version.js';

/**
 * A version's release state. Its artifact, metrics, run and number never change; only this
 * moves: REGISTERED -> PENDING_APPROVAL -> APPROVED | REJECTED, and back to REGISTERED when an
 * approval request expires. A REJECTED version never serves.
 */
export const VERSION_STATUSES = ['REGISTERED', 'PENDING_APPROVAL', 'APPROVED', 'REJECTED'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const ApprovalSchema = z.object({
  state: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED']),
  /** The run (a training run or a promotion) whose release waits. */
  runId: z.string(),
  requestedAt: z.string(),
  requestedBy: z.string(),
  expiresAt: z.string(),
  decidedAt: z.string().optional(),
  decidedBy: z.string().optional(),
  reason: z.string().optional(),
});
export type Approval = z.infer<typeof ApprovalSchema>;

export const ModelVersionSchema = z.object({
  model: MODEL_NAME,
  version: z.number().int().positive(),
  runId: z.string(),
  artifact: ArtifactRefSchema,
  /** The reference sample of the training split with the model's outputs (drift checks); versions from before it fall back to their dataset. */
  reference: ArtifactRefSchema.optional(),
  dataset: DatasetRefSchema,
  metrics: z.record(z.string(), z.number()),
  gateReportUri: z.string(),
  gateSummary: z.string().optional(),
  /** The production version the gate compared this one with; null when there was none. */
  judgedAgainst: z.number().int().positive().nullable().optional(),
  codeVersion: z.string().optional(),
  /** A version promoted from another environment: where it came from. */
  promotedFrom: TransferSourceSchema.optional(),
  status: z.enum(VERSION_STATUSES),
  approval: ApprovalSchema.optional(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type ModelVersion = z.infer<typeof ModelVersionSchema>;

export const AliasSchema = z.object({
  model: MODEL_NAME,
  alias: z.enum(ALIASES),
  version: z.number().int().positive(),
  /** Share of traffic: 1 for production, the canary's split, 0 for a shadow or a candidate. */
  weight: z.number().min(0).max(1),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type Alias = z.infer<typeof AliasSchema>;

export const AUDIT_ACTIONS = [
  'model.created',
  'model.updated',
  'version.registered',
  'alias.moved',
  'alias.rolled_back',
  'approval.requested',
  'approval.granted',
  'approval.rejected',
  'approval.expired',
  // Rollouts (core/registry/rollout.ts): each decision, with the evidence's URI in `after`.
  'rollout.started',
  'rollout.stepped',
  'rollout.extended',
  'rollout.held',
  'rollout.promoted',
  'rollout.rolled_back',
  'rollout.aborted',
  'rollout.failed',
  /** canary and shadow taken away (a rollout ended, was aborted, or a manual rollback stopped it). */
  'alias.cleared',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AuditEventSchema = z.object({
  model: MODEL_NAME,
  eventId: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.enum(AUDIT_ACTIONS),
  reason: z.string(),
  /** The version the event is about, when there is one. */
  version: z.number().int().positive().optional(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** One line of a model's entry in `GET /models`. */
export const ModelSummarySchema = z.object({
  name: MODEL_NAME,
  task: z.string(),
  latestVersion: z.number().int().nonnegative(),
  aliases: z.partialRecord(z.enum(ALIASES), z.number().int().positive()),
  updatedAt: z.string(),
});
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

/** Where a version came from and where it went: `GET /models/{model}/versions/{version}/lineage`. */
export const VersionLineageSchema = z.object({
  model: MODEL_NAME,
  version: z.number().int().positive(),
  status: z.enum(VERSION_STATUSES),
  dataset: DatasetRefSchema.extend({ rowCount: z.number().int().nonnegative().optional(), arrivedAt: z.string().optional() }),
  /** The run that produced the version; null when its record is gone. */
  run: z.record(z.string(), z.unknown()).nullable(),
  artifact: ArtifactRefSchema,
  gateReportUri: z.string(),
  approval: ApprovalSchema.optional(),
  promotedFrom: TransferSourceSchema.optional(),
  /** Aliases that point at this version now. */
  aliases: z.array(z.object({ alias: z.string(), weight: z.number(), since: z.string(), by: z.string() })),
  /** Every alias move to or from this version, oldest first. */
  moves: z.array(
    z.object({
      at: z.string(),
      actor: z.string(),
      action: z.enum(AUDIT_ACTIONS),
      alias: z.string(),
      from: z.number().nullable(),
      to: z.number().nullable(),
      weight: z.number().nullable(),
      reason: z.string(),
    }),
  ),
});
export type VersionLineage = z.infer<typeof VersionLineageSchema>;

/** Which model versions were trained on a dataset version, and where they serve: `GET /datasets/{name}/versions/{version}/lineage`. */
export const DatasetLineageSchema = z.object({
  dataset: z.object({ name: z.string(), version: z.string() }),
  models: z.array(
    z.object({ model: z.string(), version: z.number().int().positive(), runId: z.string(), status: z.enum(VERSION_STATUSES), aliases: z.array(z.string()), createdAt: z.string() }),
  ),
});
export type DatasetLineage = z.infer<typeof DatasetLineageSchema>;
