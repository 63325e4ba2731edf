import { z } from 'zod';
import { DATASET_FORMATS, type DatasetFormat } from '../data/formats.js';
import { ArtifactRefSchema, MODEL_NAME } from '../training/run.js';

/**
 * A batch scoring job (`mlops score`): the record the API starts the state machine with, the files
 * its steps hand each other under the job's work prefix, and the one rule that decides whether
 * bad rows fail it. Steps pass S3 keys, never rows, so the state stays far below 256 KB.
 */

/** Share of bad rows a job tolerates by default: above it the job fails (its output is still written). */
export const DEFAULT_MAX_ERROR_RATE = 0.01;
/** Rows per chunk by default: one ScoreChunk invocation scores one chunk. */
export const DEFAULT_CHUNK_ROWS = 5000;
export const MIN_CHUNK_ROWS = 10;
export const MAX_CHUNK_ROWS = 100_000;
/** Chunks a Distributed Map runs at once, by default. */
export const DEFAULT_MAX_CONCURRENCY = 10;

/** Every job's files live under this prefix of the reports bucket (work files, uploads, default outputs). */
export const BATCH_PREFIX = 'batch-jobs/';
/** Local input files are uploaded here on a presigned PUT. */
export const BATCH_UPLOADS_PREFIX = `${BATCH_PREFIX}uploads/`;

export const jobPrefix = (jobId: string) => `${BATCH_PREFIX}${jobId}/`;
export const planKey = (jobId: string) => `${jobPrefix(jobId)}work/plan.json`;
export const manifestKey = (jobId: string) => `${jobPrefix(jobId)}work/manifest.json`;
export const chunkKey = (jobId: string, index: number) => `${jobPrefix(jobId)}work/chunks/${String(index).padStart(6, '0')}.json`;
export const partKey = (jobId: string, index: number) => `${jobPrefix(jobId)}work/parts/${String(index).padStart(6, '0')}.json`;
export const resultKey = (jobId: string) => `${jobPrefix(jobId)}result.json`;
export const defaultOutputKey = (jobId: string, format: DatasetFormat) => `${jobPrefix(jobId)}output.${format}`;

/** The errors file sits next to the output: `out.csv` -> `out.errors.jsonl`. */
export function errorsUriFor(outputUri: string): string {
  return `${outputUri.replace(/\.[^./]+$/, '')}.errors.jsonl`;
}

/** A job id names the execution: letters, digits, - and _ up to 80 characters. */
export const JOB_ID = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a job id (letters, digits, - and _, at most 80)');
export const newJobId = (model: string, now: Date, suffix: string) => `${model.slice(0, 57)}-${now.toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${suffix}`;

const S3_URI = z.string().regex(/^s3:\/\/[^/]+\/.+$/, 'must be an s3://bucket/key URI');
const RATE = z.number().min(0).max(1);

/** The job as the API records it: the execution's input, and what `GET /batch-jobs/{jobId}` reports back. */
export const BatchJobSchema = z
  .object({
    jobId: JOB_ID,
    model: MODEL_NAME,
    /** The version scored, pinned at start: an alias that moves during the job changes nothing. */
    version: z.number().int().positive(),
    /** What the caller asked for (a number or an alias). */
    versionRef: z.union([z.number().int().positive(), z.string()]),
    artifact: ArtifactRefSchema,
    format: z.enum(DATASET_FORMATS),
    input: S3_URI,
    output: S3_URI,
    errors: S3_URI,
    /** The reports bucket: work files, the plan and the result live there. */
    bucket: z.string().min(1),
    maxErrorRate: RATE,
    chunkRows: z.number().int().min(MIN_CHUNK_ROWS).max(MAX_CHUNK_ROWS),
    actor: z.string(),
    requestedAt: z.string(),
  })
  .strict();
export type BatchJob = z.infer<typeof BatchJobSchema>;

/** One item of the manifest the Distributed Map's ItemReader reads: a chunk file and where its part goes. */
export const ChunkRefSchema = z.object({ index: z.number().int().nonnegative(), chunkKey: z.string(), partKey: z.string(), rows: z.number().int().nonnegative() }).strict();
export type ChunkRef = z.infer<typeof ChunkRefSchema>;
export const ManifestSchema = z.array(ChunkRefSchema);

const CELL = z.union([z.string(), z.number(), z.null()]);
/** A row of the input, by its 1-based line (CSV, JSON Lines) or row (Parquet): its cells, or why it could not be read. */
export const ChunkRowSchema = z.union([
  z.object({ at: z.number().int().positive(), cells: z.array(CELL) }).strict(),
  z.object({ at: z.number().int().positive(), field: z.string(), problem: z.string() }).strict(),
]);
export type ChunkRow = z.infer<typeof ChunkRowSchema>;
export const ChunkFileSchema = z.object({ index: z.number().int().nonnegative(), rows: z.array(ChunkRowSchema) }).strict();
export type ChunkFile = z.infer<typeof ChunkFileSchema>;

/** What Prepare found: the input's columns, the prediction columns the output adds, and the chunks. */
export const PlanSchema = z
  .object({
    columns: z.array(z.string()),
    predictionColumns: z.array(z.string()),
    rows: z.number().int().nonnegative(),
    chunks: z.array(ChunkRefSchema),
  })
  .strict();
export type Plan = z.infer<typeof PlanSchema>;

/** One bad row: its 1-based line (row, for Parquet) in the input, the field at fault and the problem. */
export const BadRowSchema = z.object({ line: z.number().int().positive(), field: z.string(), problem: z.string() }).strict();
export type BadRow = z.infer<typeof BadRowSchema>;

/** A scored chunk: the prediction cells of each good row in input order, and the bad rows. */
export const PartFileSchema = z
  .object({
    index: z.number().int().nonnegative(),
    rows: z.array(z.object({ at: z.number().int().positive(), cells: z.array(CELL), predicted: z.array(CELL) }).strict()),
    bad: z.array(BadRowSchema),
  })
  .strict();
export type PartFile = z.infer<typeof PartFileSchema>;

export const BatchCountsSchema = z.object({ rows: z.number().int().nonnegative(), scored: z.number().int().nonnegative(), bad: z.number().int().nonnegative() }).strict();
export type BatchCounts = z.infer<typeof BatchCountsSchema>;

/** What Finish answers and stores as result.json, whether or not the job passed its error threshold. */
export const BatchResultSchema = z
  .object({
    status: z.enum(['SUCCEEDED', 'FAILED']),
    counts: BatchCountsSchema,
    errorRate: z.number(),
    output: S3_URI,
    errors: S3_URI,
    error: z.object({ code: z.string(), message: z.string() }).strict().optional(),
  })
  .strict();
export type BatchResult = z.infer<typeof BatchResultSchema>;

/** A step's refusal, which the state machine turns into a Fail state with this code and message. */
export interface StepRefusal {
  readonly status: 'REJECTED';
  readonly error: { readonly code: string; readonly message: string };
}

/** The events of the three steps (each validated at its edge). */
export const PrepareEventSchema = z.object({ job: BatchJobSchema }).strict();
export const ScoreChunkEventSchema = z.object({ job: BatchJobSchema, chunk: ChunkRefSchema }).strict();
export const FinishEventSchema = z.object({ job: BatchJobSchema }).strict();

/**
 * The threshold rule: a job fails when its bad rows are more than `maxErrorRate` of the rows read.
 * At the default 1%, 1 bad row in 100 passes and 2 fail; 0 allows none; an empty input passes.
 */
export function exceedsErrorRate(counts: Pick<BatchCounts, 'rows' | 'bad'>, maxErrorRate: number): boolean {
  if (counts.rows === 0) return false;
  return counts.bad > maxErrorRate * counts.rows;
}
