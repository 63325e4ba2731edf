import { z } from 'zod';
import { DeclaredSchemaSchema } from './profile.js';
import { MODEL_NAME } from '../training/run.js';
import { DATASET_FORMATS } from './formats.js';
import { DATASET_NAME, DATASET_VERSION, LogWindowLineageSchema } from '../data/dataset-version.js';

/**
 * Bodies of the datasets HTTP API (docs/CLI.md documents them), and the request the
 * registration state machine runs. Registration takes three calls, so the API never carries
 * the bytes: ask for upload URLs, PUT the parts straight to S3, then register the upload.
 */

/** Parts the client uploads in parallel; S3 allows 10,000 parts of 5 MiB to 5 GiB each. */
export const UPLOAD_PART_BYTES = 64 * 1024 * 1024;

const COLUMN_NAME = z.string().min(1).max(128);
const SHA256 = DATASET_VERSION;

export const UploadRequestSchema = z
  .object({
    sha256: SHA256,
    bytes: z.number().int().nonnegative(),
    format: z.enum(DATASET_FORMATS),
  })
  .strict();
export type UploadRequest = z.infer<typeof UploadRequestSchema>;

export const RegisterRequestSchema = z
  .object({
    uploadId: z.string().min(1).max(1024),
    uploadKey: z.string().min(1).max(1024),
    parts: z.array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1) }).strict()).min(1).max(10_000),
    sha256: SHA256,
    bytes: z.number().int().positive(),
    format: z.enum(DATASET_FORMATS),
    schema: DeclaredSchemaSchema.optional(),
    target: COLUMN_NAME.optional(),
    owner: z.string().min(1).max(200).optional(),
    source: z.string().min(1).max(1024).optional(),
  })
  .strict();
export type RegisterRequest = z.input<typeof RegisterRequestSchema>;

export const ValidateRequestSchema = z.object({ model: MODEL_NAME }).strict();

/** What the registration state machine's RegisterDataset step receives. */
export const RegistrationJobSchema = z
  .object({
    name: DATASET_NAME,
    uploadUri: z.string().startsWith('s3://'),
    sha256: SHA256,
    bytes: z.number().int().positive(),
    format: z.enum(DATASET_FORMATS),
    schema: DeclaredSchemaSchema.optional(),
    target: COLUMN_NAME.optional(),
    owner: z.string().min(1),
    source: z.string().min(1),
    /** A version built from the prediction log: recorded on it as is. */
    lineage: LogWindowLineageSchema.optional(),
  })
  .strict();
export type RegistrationJob = z.infer<typeof RegistrationJobSchema>;

/** Where uploads wait until registration reads them; a lifecycle rule clears what is left behind. */
export const UPLOADS_PREFIX = 'uploads/';
export const uploadKeyPrefix = (name: string) => `${UPLOADS_PREFIX}${name}/`;
export const datasetKey = (name: string, sha256: string, format: string) => `datasets/${name}/${sha256}.${format}`;
export const profileKey = (name: string, sha256: string) => `profiles/${name}/${sha256}.json`;
