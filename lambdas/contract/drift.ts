/**
 * The drift check API's bodies and answers (routes in routes.ts, DRIFT_ROUTES): the drift-check
 * function parses requests with these schemas and the client parses the answers with the same ones.
 */
import { z } from 'zod';
import { ARMS } from '../core/serving/records.js';
import { DURATION } from '../core/training/model-spec.js';
import { MODEL_NAME } from '../core/training/run.js';

const INSTANT = z.iso.datetime({ offset: true });

/** A check id: the time it ran (sortable) and a random suffix. */
export const DRIFT_CHECK_ID = z.string().regex(/^\d{8}T\d{9}Z-[a-f0-9]{6}$/, 'must be a drift check id such as 20261206T040500000Z-1a2b3c');

/**
 * `POST /models/{model}/drift-checks`: the window (a duration ending now, or from/to; @default the
 * spec's `monitoring.window` ending now) and the arm whose traffic is checked (@default production).
 */
export const DriftCheckRequestSchema = z
  .object({
    window: DURATION.optional(),
    from: INSTANT.optional(),
    to: INSTANT.optional(),
    arm: z.enum(ARMS).default('production'),
  })
  .strict()
  .refine((r) => (r.from === undefined) === (r.to === undefined), { message: 'give from and to together', path: ['to'] })
  .refine((r) => r.window === undefined || r.from === undefined, { message: 'give a window or from/to, not both', path: ['window'] });
export type DriftCheckRequest = z.input<typeof DriftCheckRequestSchema>;

/** One check as recorded (the registry table) and listed: the verdict's summary and where the full report is. */
export const DriftCheckRecordSchema = z.object({
  checkId: DRIFT_CHECK_ID,
  model: MODEL_NAME,
  version: z.number().int().positive(),
  arm: z.enum(ARMS),
  window: z.object({ from: z.string(), to: z.string() }),
  /** `drift`, `no_drift` or `insufficient` (the report's status). */
  status: z.enum(['drift', 'no_drift', 'insufficient']),
  datasetDrift: z.boolean().nullable(),
  driftedFeatures: z.array(z.string()),
  predictionDrift: z.boolean().nullable(),
  rows: z.number().int().nonnegative(),
  referenceRows: z.number().int().nonnegative(),
  /** Where the reference came from: the version's stored sample, or its dataset (versions from before reference samples). */
  referenceSource: z.enum(['training-split', 'dataset']),
  reportUri: z.string(),
  /** The self-contained HTML report beside the JSON one (checks from before HTML reports have none). */
  htmlReportUri: z.string().optional(),
  trigger: z.enum(['manual', 'schedule']),
  /**
   * The window's performance (delayed labels joined by request id; lambdas/core/monitoring/performance.ts):
   * `awaiting-labels` until the label delay has passed and enough labels arrived (then `estimated` may carry
   * the CBPE estimate for binary classifiers), `insufficient` with too few labelled rows, `judged` otherwise.
   * `decayed` is true only when judged and the live metric fell beyond the gate's tolerance below the
   * version's held-out metric. Absent on checks from before performance windows.
   */
  performance: z
    .object({
      status: z.enum(['awaiting-labels', 'insufficient', 'judged']),
      decayed: z.boolean().nullable(),
      metric: z.string(),
      /** The realized metric on the labelled rows (judged only). */
      value: z.number().nullable(),
      /** The version's held-out value of the same metric. */
      baseline: z.number().nullable(),
      /** CBPE's estimate while labels are awaited (binary classifiers); never mixed with `value`. */
      estimated: z.number().nullable(),
      labelled: z.number().int().nonnegative(),
      coverage: z.number().min(0).max(1),
      /** The bootstrap interval of `value`, and of `estimated` (the gate's confidence), for the metric-over-time chart. */
      interval: z.tuple([z.number(), z.number()]).nullable().optional(),
      estimatedInterval: z.tuple([z.number(), z.number()]).nullable().optional(),
    })
    .optional(),
  actor: z.string(),
  checkedAt: z.string(),
});
export type DriftCheckRecord = z.infer<typeof DriftCheckRecordSchema>;

/** `POST` answers 201 with the record and the report; `GET .../{checkId}` answers the same. */
export const DriftCheckAnswerSchema = z.object({ check: DriftCheckRecordSchema, report: z.record(z.string(), z.unknown()) });
export type DriftCheckAnswer = z.infer<typeof DriftCheckAnswerSchema>;

/** `GET /models/{model}/drift-checks`: the latest checks, newest first. */
export const DriftCheckListSchema = z.object({ model: MODEL_NAME, checks: z.array(DriftCheckRecordSchema) });
export type DriftCheckList = z.infer<typeof DriftCheckListSchema>;

/** `GET /models/{model}/drift-checks/{checkId}/report`: a presigned URL of the check's HTML report (about 1 MB: the chart libraries are inlined). */
export const DriftReportLinkSchema = z.object({ model: MODEL_NAME, checkId: DRIFT_CHECK_ID, htmlReportUri: z.string(), url: z.string(), expiresAt: z.string() });
export type DriftReportLink = z.infer<typeof DriftReportLinkSchema>;
