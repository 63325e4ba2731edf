import { z } from 'zod';

/**
 * A gate report as the Gate step stores it (reports bucket, `gates/<model>/<runId>.json`) and the
 * API answers it: the GateReport of gate.ts plus the run it judged. Read back with this schema,
 * never cast. A metric that was not finite is stored as null (JSON has no NaN). Loose objects: a
 * field a later Gate adds passes through to the reader.
 */
export const GateCheckSchema = z.looseObject({
  name: z.string(),
  passed: z.boolean(),
  status: z.enum(['pass', 'fail', 'insufficient']),
  value: z.number().nullable(),
  threshold: z.string(),
  detail: z.string(),
  metric: z.string().optional(),
  segment: z.object({ column: z.string(), value: z.string() }).optional(),
  interval: z.array(z.number().nullable()).optional(),
  tolerance: z.number().nullable().optional(),
  candidate: z.number().nullable().optional(),
  champion: z.number().nullable().optional(),
  rows: z.number().optional(),
});

export const StoredGateReportSchema = z.looseObject({
  runId: z.string(),
  model: z.string(),
  heldOutUri: z.string().optional(),
  passed: z.boolean(),
  checks: z.array(GateCheckSchema),
  summary: z.string(),
  champion: z.object({ version: z.number().int().positive() }).nullable(),
  insufficient: z.number().int().nonnegative(),
});
export type StoredGateReport = z.infer<typeof StoredGateReportSchema>;
