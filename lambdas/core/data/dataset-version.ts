import { z } from 'zod';
import { DatasetSchemaSchema } from './profile.js';
import { DATASET_FORMATS } from './formats.js';

/** Dataset versions: immutable, named by the sha256 of their bytes. */

export const DATASET_NAME = z
  .string()
  .regex(/^[a-z][a-z0-9-]{2,62}$/, 'must be 3-63 lowercase letters, digits or hyphens, starting with a letter');
/** A dataset version id is the sha256 of its bytes. */
export const DATASET_VERSION = z.string().regex(/^[a-f0-9]{64}$/, 'must be a sha256 hex digest');

export const DatasetRefSchema = z.object({
  name: DATASET_NAME,
  version: DATASET_VERSION,
  uri: z.string().startsWith('s3://'),
});
export type DatasetRef = z.infer<typeof DatasetRefSchema>;

/** One model's validation gate blocked this version: the other models' gates still judge it for themselves. */
export const QuarantineEntrySchema = z.object({
  model: z.string(),
  /** The gate that blocked it. */
  gate: z.literal('data-validation'),
  reason: z.string(),
  reportUri: z.string().optional(),
  runId: z.string().optional(),
  at: z.string(),
});
export type QuarantineEntry = z.infer<typeof QuarantineEntrySchema>;

/**
 * Where a dataset version built from the prediction log came from (`mlops dataset from-logs`,
 * core/data/dataset-from-logs.ts): the model, the window and arm read, what was joined, and the
 * dataset version whose rows it extends (none for `--logs-only` or a model never in production).
 */
export const LogWindowLineageSchema = z.object({
  source: z.literal('prediction-log'),
  model: z.string(),
  window: z.object({ from: z.string(), to: z.string() }),
  arm: z.enum(['production', 'canary', 'shadow']),
  /** The model versions whose logged rows were read. */
  versions: z.array(z.number().int().positive()),
  /** Distinct logged requests with at least one labelled row. */
  requests: z.number().int().nonnegative(),
  loggedRows: z.number().int().nonnegative(),
  labelledRows: z.number().int().nonnegative(),
  /** Logged rows without a label by the time of the build: left out. */
  unlabelledRows: z.number().int().nonnegative(),
  /** Labels beyond a row's first (the first one is used). */
  duplicateLabels: z.number().int().nonnegative(),
  base: z.object({ name: z.string(), version: z.string(), rows: z.number().int().nonnegative() }).nullable(),
  builtAt: z.string(),
  actor: z.string(),
});
export type LogWindowLineage = z.infer<typeof LogWindowLineageSchema>;

/** A dataset version as recorded in the tracking table. */
export const DatasetVersionSchema = DatasetRefSchema.extend({
  format: z.enum(DATASET_FORMATS),
  bytes: z.number().int().nonnegative(),
  rowCount: z.number().int().nonnegative(),
  schema: DatasetSchemaSchema,
  /** The profile (JSON in S3): the reference drift checks compare against. */
  profileUri: z.string().startsWith('s3://'),
  owner: z.string(),
  source: z.string(),
  arrivedAt: z.string(),
  /** True once any model's gate blocked it (records from before per-model quarantine have only this and the reason). */
  quarantined: z.boolean().default(false),
  /** The newest block's reason. */
  quarantineReason: z.string().optional(),
  /** Per model: whose gate blocked it, why, and the report. */
  quarantinedFor: z.array(QuarantineEntrySchema).default([]),
  /** Set for a version built from the prediction log: the window it came from. */
  lineage: LogWindowLineageSchema.optional(),
});
export type DatasetVersion = z.infer<typeof DatasetVersionSchema>;

/** A dataset in the catalog: its newest version and how many it has. */
export const DatasetSummarySchema = z.object({
  name: z.string(),
  latestVersion: z.string(),
  latestArrivedAt: z.string(),
  versionCount: z.number().int().nonnegative(),
});
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;
