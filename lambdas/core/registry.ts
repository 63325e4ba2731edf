import { z } from 'zod';
import { ALIASES } from './registry-keys.js';
import { ArtifactRefSchema, DatasetRefSchema, MODEL_NAME } from './run.js';

export const ModelVersionSchema = z.object({
  model: MODEL_NAME,
  version: z.number().int().positive(),
  runId: z.string(),
  artifact: ArtifactRefSchema,
  dataset: DatasetRefSchema,
  metrics: z.record(z.string(), z.number()),
  gateReportUri: z.string(),
  status: z.enum(['REGISTERED']),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type ModelVersion = z.infer<typeof ModelVersionSchema>;

export const AliasSchema = z.object({
  model: MODEL_NAME,
  alias: z.enum(ALIASES),
  version: z.number().int().positive(),
  weight: z.number().min(0).max(1),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export type Alias = z.infer<typeof AliasSchema>;

export const AuditEventSchema = z.object({
  model: MODEL_NAME,
  eventId: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.enum(['model.created', 'model.updated', 'version.registered', 'alias.moved']),
  reason: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;
