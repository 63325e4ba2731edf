/**
 * The batch scoring API's bodies and answers (routes in routes.ts, BATCH_ROUTES): the batch-api
 * function parses requests with these schemas and the client parses the answers with the same ones.
 */
import { z } from 'zod';
import { BatchCountsSchema, BatchJobSchema, MAX_CHUNK_ROWS, MIN_CHUNK_ROWS } from '../core/batch/job.js';
import { DATASET_FORMATS } from '../core/data/formats.js';
import { ALIASES } from '../core/registry/keys.js';

const SHA256 = z.string().regex(/^[a-f0-9]{64}$/, 'must be a sha256 hex digest');

/** Largest local input accepted on one presigned PUT (S3's limit for a single PUT). */
export const MAX_BATCH_UPLOAD_BYTES = 5 * 1024 ** 3;

/** `POST /models/{model}/batch-jobs/uploads`: the local file about to be uploaded. */
export const BatchUploadRequestSchema = z
  .object({ sha256: SHA256, bytes: z.number().int().positive().max(MAX_BATCH_UPLOAD_BYTES), format: z.enum(DATASET_FORMATS) })
  .strict();
export type BatchUploadRequest = z.infer<typeof BatchUploadRequestSchema>;

/** 201: PUT the bytes to `url` before `expiresAt`, then name `uploadKey` as the job's input. */
export const BatchUploadAnswerSchema = z.object({ uploadKey: z.string(), url: z.string().url(), expiresAt: z.string() });
export type BatchUploadAnswer = z.infer<typeof BatchUploadAnswerSchema>;

/** `POST /models/{model}/batch-jobs`: what to score with which version, and where the output goes. */
export const StartBatchJobRequestSchema = z
  .object({
    /** A version number or an alias; @default production */
    version: z.union([z.number().int().positive(), z.enum(ALIASES)]).optional(),
    input: z.union([z.object({ uploadKey: z.string().min(1) }).strict(), z.object({ uri: z.string().min(1) }).strict()]),
    /** @default the input's extension (.csv, .jsonl/.ndjson, .parquet/.pq) */
    format: z.string().optional(),
    /** An s3:// URI under the reports bucket's batch-jobs/ prefix; @default batch-jobs/<jobId>/output.<format> */
    output: z.string().min(1).optional(),
    /** Share of bad rows above which the job fails; @default 0.01 */
    maxErrorRate: z.number().min(0).max(1).optional(),
    /** Rows per chunk; @default 5000 */
    chunkRows: z.number().int().min(MIN_CHUNK_ROWS).max(MAX_CHUNK_ROWS).optional(),
  })
  .strict();
export type StartBatchJobRequest = z.infer<typeof StartBatchJobRequestSchema>;

export const BATCH_JOB_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;

/** `GET /batch-jobs/{jobId}` (and the start's 202): the job record, where it is, and how it ended. */
export const BatchJobAnswerSchema = z.object({
  jobId: z.string(),
  status: z.enum(BATCH_JOB_STATUSES),
  /** The state the job is in or ended in: Prepare, ScoreChunks, Finish. */
  step: z.string().optional(),
  job: BatchJobSchema,
  startedAt: z.string(),
  stoppedAt: z.string().optional(),
  counts: BatchCountsSchema.optional(),
  errorRate: z.number().optional(),
  /** Presigned GETs of the output and the errors file, once Finish wrote them. */
  downloads: z.object({ output: z.string().url(), errors: z.string().url(), expiresAt: z.string() }).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type BatchJobAnswer = z.infer<typeof BatchJobAnswerSchema>;
