/**
 * The datasets API's `from-logs` body and answer (`POST /models/{model}/datasets/from-logs`,
 * DATASET_ROUTES): the datasets function parses requests with these schemas (core/data/dataset-from-logs.ts)
 * and the client parses the answers with the same ones.
 */
import { z } from 'zod';
import { DATASET_NAME, LogWindowLineageSchema } from '../core/data/dataset-version.js';
import { DATASET_FORMATS } from '../core/data/formats.js';
import { ARMS } from '../core/serving/records.js';
import { DURATION } from '../core/training/model-spec.js';

const INSTANT = z.iso.datetime({ offset: true });

/**
 * The window (a duration ending now, @default 7 days, or from/to), the arm whose logged rows are
 * used (@default production), the dataset the version is added to (@default the spec's `dataset`),
 * and whether to leave out the rows production was trained on.
 */
export const DatasetFromLogsRequestSchema = z
  .object({
    window: DURATION.optional(),
    from: INSTANT.optional(),
    to: INSTANT.optional(),
    arm: z.enum(ARMS).default('production'),
    name: DATASET_NAME.optional(),
    logsOnly: z.boolean().default(false),
  })
  .strict()
  .refine((r) => (r.from === undefined) === (r.to === undefined), { message: 'give from and to together', path: ['to'] })
  .refine((r) => r.window === undefined || r.from === undefined, { message: 'give a window or from/to, not both', path: ['window'] });
export type DatasetFromLogsRequest = z.input<typeof DatasetFromLogsRequestSchema>;

export const DatasetFromLogsAnswerSchema = z.object({
  /**
   * RUNNING: the file is built and its registration started (poll `GET /datasets/{name}/registrations/{registrationId}`);
   * REGISTERED: registered inline (the retraining trigger); EXISTS: the same rows are a version already, nothing written.
   */
  status: z.enum(['RUNNING', 'REGISTERED', 'EXISTS']),
  model: z.string(),
  /** The version to be: its id is the sha256 of the built file. */
  dataset: z.object({ name: z.string(), version: z.string(), format: z.enum(DATASET_FORMATS), rows: z.number().int(), bytes: z.number().int() }),
  registrationId: z.string().optional(),
  created: z.boolean().optional(),
  lineage: LogWindowLineageSchema,
  /** Base columns a logged row has no value for (left empty): columns that are neither features nor the target. */
  emptyColumns: z.array(z.string()),
});
export type DatasetFromLogsAnswer = z.infer<typeof DatasetFromLogsAnswerSchema>;
