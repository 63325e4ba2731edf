/**
 * Scheduled drift checks: every model whose spec has `monitoring.schedule` gets one EventBridge
 * Scheduler schedule, managed by the platform (not by `cdk deploy`), so a spec created or changed
 * through the API takes effect at once. The schedule invokes DriftCheck with a
 * ScheduledDriftCheckEvent; the check reads the stored spec when it fires.
 */
import { z } from 'zod';
import { MlopsError, NotFoundError, parseOrThrow } from '../errors.js';
import { sha256Hex } from '../sha256.js';
import { SYSTEM_ACTORS } from '../training/start-run.js';
import { MODEL_NAME } from '../training/run.js';
import type { ModelSpec } from '../training/model-spec.js';
import { runDriftCheck, type DriftCheckSettings, type DriftCheckStores } from './drift-check.js';
import type { DriftCheckRecord } from '../../contract/drift.js';

/** What a drift schedule sends the DriftCheck function. */
export const ScheduledDriftCheckEventSchema = z.object({ kind: z.literal('scheduled-drift-check'), model: MODEL_NAME }).strict();
export type ScheduledDriftCheckEvent = z.infer<typeof ScheduledDriftCheckEventSchema>;

/** Scheduler names are at most 64 characters of [0-9a-zA-Z-_.]: a long model name is cut and keeps a hash of the whole. */
export function driftScheduleName(model: string): string {
  const name = `drift-${model}`;
  if (name.length <= 64) return name;
  return `drift-${model.slice(0, 49)}-${sha256Hex(model).slice(0, 8)}`;
}

/** The platform's drift schedules (EventBridge Scheduler in AWS: lambdas/aws/drift-schedules.ts). Both calls are idempotent. */
export interface DriftSchedules {
  /** Creates the model's schedule, or replaces its expression: it sends a ScheduledDriftCheckEvent at `expression`. */
  put(model: string, expression: string): Promise<void>;
  /** Deletes the model's schedule; none is not an error. */
  remove(model: string): Promise<void>;
}

/** Makes the model's schedule what `spec` asks for (no spec, or no `monitoring.schedule`: no schedule). */
export async function syncDriftSchedule(schedules: DriftSchedules, model: string, spec: ModelSpec | undefined): Promise<void> {
  const expression = spec?.monitoring.schedule;
  if (expression) await schedules.put(model, expression);
  else await schedules.remove(model);
}

/** What storing a spec reads and writes: the registry's model record and the drift schedules. */
export interface ScheduledSpecStores {
  findModel(name: string): Promise<{ spec: ModelSpec } | undefined>;
  putModel(spec: ModelSpec, actor: string): Promise<{ created: boolean }>;
  schedules: DriftSchedules;
}

/**
 * Stores a spec and its drift schedule, the schedule first:
 * - the schedule call fails: nothing was stored, the caller may retry;
 * - the spec write fails (a lost race, the table): the schedule is put back as the stored spec
 *   has it, and the write's error is rethrown (`onRestoreFailed` hears if putting it back fails).
 * A schedule left ahead of its spec is harmless: the check reads the stored spec when it fires
 * and runs only if that spec still has `monitoring.schedule`. The other order could leave a
 * stored schedule with no schedule behind it, a model silently never checked.
 */
export async function storeSpecWithSchedule(stores: ScheduledSpecStores, spec: ModelSpec, actor: string, onRestoreFailed?: (error: unknown) => void): Promise<{ created: boolean }> {
  await syncDriftSchedule(stores.schedules, spec.name, spec);
  try {
    return await stores.putModel(spec, actor);
  } catch (error) {
    try {
      await syncDriftSchedule(stores.schedules, spec.name, (await stores.findModel(spec.name))?.spec);
    } catch (restoreError) {
      onRestoreFailed?.(restoreError);
    }
    throw error;
  }
}

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
