import { z } from 'zod';
import { DatasetSchemaSchema } from './profile.js';
import { DATASET_FORMATS } from './table-readers.js';

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
  quarantined: z.boolean().default(false),
  quarantineReason: z.string().optional(),
});
export type DatasetVersion = z.infer<typeof DatasetVersionSchema>;

