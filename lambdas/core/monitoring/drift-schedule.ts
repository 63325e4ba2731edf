/**
 * Scheduled drift checks: every model whose spec has `monitoring.schedule` gets a `drift` schedule
 * (core/monitoring/model-schedules.ts, managed with the spec). It invokes DriftCheck with a
 * ScheduledDriftCheckEvent; the check reads the stored spec when it fires.
 */
import { z } from 'zod';
import { MlopsError, NotFoundError, parseOrThrow } from '../errors.js';
import { SYSTEM_ACTORS } from '../training/start-run.js';
import { MODEL_NAME } from '../training/run.js';
import type { ModelSpec } from '../training/model-spec.js';
import { runDriftCheck, type DriftCheckSettings, type DriftCheckStores } from './drift-check.js';
import type { DriftCheckRecord } from '../../contract/drift.js';

/** What a drift schedule sends the DriftCheck function. */
export const ScheduledDriftCheckEventSchema = z.object({ kind: z.literal('scheduled-drift-check'), model: MODEL_NAME }).strict();
export type ScheduledDriftCheckEvent = z.infer<typeof ScheduledDriftCheckEventSchema>;

export type ScheduledDriftCheckOutcome = { check: DriftCheckRecord } | { skipped: string };

/**
 * A check fired by a schedule: over `monitoring.window` ending now (less the log read allowance),
 * on production, actor `system:schedule`. Too few rows, or none, is recorded as `insufficient`
 * (never refused). Skipped, with the reason, when the model is gone, its stored spec no longer
 * asks for a schedule, or nothing is in production.
 */
export async function runScheduledDriftCheck(stores: DriftCheckStores, settings: DriftCheckSettings, input: { event: unknown; now: Date; suffix: string }): Promise<ScheduledDriftCheckOutcome> {
  const { model } = parseOrThrow(ScheduledDriftCheckEventSchema, input.event, 'scheduled drift check event');
  let spec: ModelSpec;
  try {
    ({ spec } = await stores.registry.getModel(model));
  } catch (error) {
    if (error instanceof NotFoundError) return { skipped: `model ${model} is not registered` };
    throw error;
  }
  if (!spec.monitoring.schedule) return { skipped: `the spec of ${model} has no monitoring.schedule (a schedule left from an earlier spec)` };
  try {
    const { check } = await runDriftCheck(stores, settings, { model, request: {}, actor: SYSTEM_ACTORS.schedule, trigger: 'schedule', now: input.now, suffix: input.suffix });
    return { check };
  } catch (error) {
    if (error instanceof MlopsError && error.code === 'NO_PRODUCTION_VERSION') return { skipped: error.message };
    throw error;
  }
}
