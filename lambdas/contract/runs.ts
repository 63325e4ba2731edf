/**
 * The runs API's bodies and answers (routes in routes.ts, RUNS_ROUTES): the runs function parses
 * requests with these schemas and the client parses the answers with the same ones.
 */
import { z } from 'zod';
import { StoredGateReportSchema } from '../core/evaluation/gate-report.js';
import { DATASET_FORMATS } from '../core/data/formats.js';
import { DATASET_NAME, DATASET_VERSION } from '../core/data/dataset-version.js';
import { MODEL_NAME, RUN_STATUSES, RunRecordSchema, TransferSourceSchema } from '../core/training/run.js';

export { StartRunBodySchema, type StartRunBody } from '../core/training/start-run.js';

const SHA256 = z.string().regex(/^[a-f0-9]{64}$/, 'must be a sha256 hex digest');

/** `POST /models/{model}/runs` and `POST /models/{model}/transfers`: 202, the run started. */
export const StartRunAnswerSchema = z.object({
  status: z.literal('RUNNING'),
  runId: z.string(),
  executionArn: z.string(),
  dataset: z.object({ name: z.string(), version: z.string(), chosen: z.string() }),
});
export type StartRunAnswer = z.infer<typeof StartRunAnswerSchema>;

/** Largest ONNX file or artifact accepted on a presigned PUT: what a function can read to check it. */
export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

/** `POST /models/{model}/imports/uploads` and `.../transfers/uploads`: the file about to be uploaded. */
export const UploadRequestSchema = z.object({ sha256: SHA256, bytes: z.number().int().positive().max(MAX_UPLOAD_BYTES) }).strict();
/** 201: PUT the bytes to `url` before `expiresAt`, then name `uploadKey` in the request that uses them. */
export const UploadAnswerSchema = z.object({ uploadKey: z.string(), url: z.string().url(), expiresAt: z.string() });
export type UploadAnswer = z.infer<typeof UploadAnswerSchema>;

/** `GET /runs`: a model's runs, newest first, filtered by status and start time. */
export const RunListQuerySchema = z
  .object({
    model: MODEL_NAME,
    status: z.enum(RUN_STATUSES).optional(),
    /** Started at or after (ISO 8601). */
    since: z.iso.datetime({ offset: true }).optional(),
    /** Started before (ISO 8601). */
    until: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(20),
  })
  .strict()
  .refine((q) => q.since === undefined || q.until === undefined || new Date(q.since) < new Date(q.until), { message: 'since must be before until', path: ['until'] });
export type RunListQuery = z.input<typeof RunListQuerySchema>;
export const RunListAnswerSchema = z.object({ runs: z.array(RunRecordSchema) });

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;

/** `GET /runs/{runId}`: the record (null until StartRun wrote it) and the execution with the states it entered. */
export const RunDetailSchema = z.object({
  run: RunRecordSchema.nullable(),
  execution: z.object({
    executionArn: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    steps: z.array(z.string()),
    startedAt: z.string(),
    stoppedAt: z.string().optional(),
    error: z.string().optional(),
    cause: z.string().optional(),
  }),
});
export type RunDetail = z.infer<typeof RunDetailSchema>;

export const MAX_COMPARED_RUNS = 10;
export const CompareRequestSchema = z
  .object({ runIds: z.array(z.string().min(1).max(200)).min(2).max(MAX_COMPARED_RUNS) })
  .strict()
  .refine((r) => new Set(r.runIds).size === r.runIds.length, { message: 'each run once', path: ['runIds'] });

const Row2 = z.object({ name: z.string(), a: z.unknown(), b: z.unknown(), differs: z.boolean() });
/** Two runs: the shape `mlops runs compare --json` has always printed. */
export const PairComparisonSchema = z.object({
  runs: z.tuple([z.string(), z.string()]),
  lineage: z.array(Row2),
  parameters: z.array(Row2),
  metrics: z.array(Row2.extend({ delta: z.number().nullable() })),
});
const RowN = z.object({ name: z.string(), values: z.array(z.unknown()), differs: z.boolean() });
/** Three to ten runs: one value per run in each row; numeric metrics name the highest and lowest run. */
export const ManyComparisonSchema = z.object({
  runs: z.array(z.string()).min(3),
  lineage: z.array(RowN),
  parameters: z.array(RowN),
  metrics: z.array(RowN.extend({ highest: z.string().nullable(), lowest: z.string().nullable() })),
});
export const ComparisonSchema = z.union([PairComparisonSchema, ManyComparisonSchema]);

export const REPORT_KINDS = ['validation', 'gate'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

const ValidationCheckSchema = z.looseObject({ name: z.string(), severity: z.enum(['block', 'warn']), passed: z.boolean(), detail: z.string(), column: z.string().optional() });
/** A stored validation report (ValidateData, or `dataset validate`); gate reports are read with StoredGateReportSchema. */
export const ValidationReportFileSchema = z.looseObject({ passed: z.boolean(), summary: z.string(), rowCount: z.number(), checks: z.array(ValidationCheckSchema) });
/** `GET /runs/{runId}/reports/{kind}`. */
export const ReportAnswerSchema = z.object({ runId: z.string(), kind: z.enum(REPORT_KINDS), uri: z.string(), report: z.union([ValidationReportFileSchema, StoredGateReportSchema]) });

/** `GET /models/{model}/versions/{version}/artifact`: what another environment needs to take a version over. */
export const ArtifactAnswerSchema = z.object({
  model: MODEL_NAME,
  version: z.number().int().positive(),
  status: z.string(),
  runId: z.string(),
  codeVersion: z.string().optional(),
  gateReportUri: z.string().optional(),
  /** The model file's bytes, on a presigned GET. */
  artifact: z.object({ url: z.string().url(), sha256: SHA256, bytes: z.number().int().nonnegative(), kind: z.enum(['built-in', 'imported']) }),
  /** The spec the version's run trained with. */
  spec: z.record(z.string(), z.unknown()),
  /** The dataset version it was trained on, on a presigned GET (its id is its sha256). */
  dataset: z.object({ name: DATASET_NAME, version: DATASET_VERSION, url: z.string().url(), bytes: z.number().int().nonnegative(), format: z.enum(DATASET_FORMATS), owner: z.string() }),
  expiresAt: z.string(),
});
export type ArtifactAnswer = z.infer<typeof ArtifactAnswerSchema>;

/** `POST /models/{model}/transfers`: judge an artifact uploaded from another environment and register it here as a new version. */
export const TransferRequestSchema = z
  .object({
    uploadKey: z.string().min(1).max(1024),
    sha256: SHA256,
    source: TransferSourceSchema,
    reason: z.string().min(1).max(1000),
    /** Release to production after the gate (through approval where required); false registers a candidate. */
    release: z.boolean().default(true),
  })
  .strict();
export type TransferRequest = z.input<typeof TransferRequestSchema>;
