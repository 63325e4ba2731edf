import { z } from 'zod';
import { MODEL_NAME } from '../training/run.js';

/**
 * What serving writes for later: the prediction log (one record per scored request and arm),
 * the feedback (one record per label), and the request index (which request ids serving issued).
 * The log and the feedback go to S3 through Firehose, partitioned
 * `<kind>/model=<m>/version=<v>/date=<yyyy-mm-dd>/` (kind `predictions` or `feedback`), as JSON
 * Lines; the monitoring check joins them by `requestId` (and `row`).
 */

/** production answers; canary answers its weight of the traffic; shadow scores and is never returned. */
export const ARMS = ['production', 'canary', 'shadow'] as const;
export type Arm = (typeof ARMS)[number];

export const PredictionLogRecordSchema = z.object({
  requestId: z.string().min(1),
  /** ISO time the request arrived. */
  at: z.string(),
  model: MODEL_NAME,
  version: z.number().int().positive(),
  arm: z.enum(ARMS),
  /** Hex SHA-256 of the caller's routing key; absent without a key. Erasing a subject's records goes by it. */
  routingKeyHash: z.string().optional(),
  /** The rows as scored, after the spec's `logging.drop` and `logging.hash`. */
  inputs: z.array(z.record(z.string(), z.unknown())),
  /** One prediction per row; empty when the arm failed. */
  outputs: z.array(z.unknown()),
  latencyMs: z.number().min(0),
  /** The arm could not answer (its version failed to load or to score): code and message. */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type PredictionLogRecord = z.infer<typeof PredictionLogRecordSchema>;

export const FeedbackRecordSchema = z.object({
  requestId: z.string().min(1),
  /** Index of the row in an `instances` request; 0 for an `inputs` request. */
  row: z.number().int().min(0),
  model: MODEL_NAME,
  /** The version that answered the request (from the request index). */
  version: z.number().int().positive(),
  arm: z.enum(ARMS),
  /** The true value: a class label (as a string) or a number for regression. */
  label: z.union([z.string(), z.number()]),
  /** ISO time the label arrived. */
  at: z.string(),
  /** Who sent it: the signed caller. */
  actor: z.string(),
});
export type FeedbackRecord = z.infer<typeof FeedbackRecordSchema>;

/**
 * One issued request id, kept for a TTL so feedback can tell a known id from an unknown one
 * whether or not the request was sampled into the log.
 */
export const RequestIndexEntrySchema = z.object({
  requestId: z.string().min(1),
  model: MODEL_NAME,
  /** The version that answered (the caller's arm), and that arm. */
  version: z.number().int().positive(),
  arm: z.enum(['production', 'canary']),
  rows: z.number().int().min(1),
  at: z.string(),
  /** Whether the request went into the prediction log (sampling). */
  logged: z.boolean(),
});
export type RequestIndexEntry = z.infer<typeof RequestIndexEntrySchema>;

/** The log's S3 key prefix for one model (and version, and day), as Firehose writes it. */
export const logPrefix = (kind: 'predictions' | 'feedback', model: string, version?: number, date?: string): string =>
  `${kind}/model=${model}/` + (version === undefined ? '' : `version=${version}/` + (date === undefined ? '' : `date=${date}/`));
