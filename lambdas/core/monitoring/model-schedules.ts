/**
 * The platform's schedules per model, both kinds in one place: `drift` (the spec's
 * `monitoring.schedule`, invoking DriftCheck) and `retrain` (the spec's top-level `schedule`,
 * invoking the retraining guardrail function, never the pipeline). They are EventBridge Scheduler
 * schedules managed by the platform, not by `cdk deploy`: the registry API and DeclareModels put,
 * replace and delete them with the spec, so a spec created or changed through the API takes effect
 * at once. Each function reads the stored spec when its schedule fires.
 */
import { sha256Hex } from '../sha256.js';
import type { ModelSpec } from '../training/model-spec.js';
import { syncModelMonitoring, type ModelMonitoring } from './system-monitoring.js';

export const SCHEDULE_KINDS = ['drift', 'retrain'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

/** The expression the spec asks for, per kind (none: no schedule of that kind). */
export function scheduleExpression(kind: ScheduleKind, spec: ModelSpec | undefined): string | undefined {
  if (!spec) return undefined;
  return kind === 'drift' ? spec.monitoring.schedule : spec.schedule;
}

/** Scheduler names are at most 64 characters of [0-9a-zA-Z-_.]: a long model name is cut and keeps a hash of the whole. */
export function scheduleName(kind: ScheduleKind, model: string): string {
  const name = `${kind}-${model}`;
  if (name.length <= 64) return name;
  return `${kind}-${model.slice(0, 64 - kind.length - 10)}-${sha256Hex(model).slice(0, 8)}`;
}

/** The platform's schedules (EventBridge Scheduler in AWS: lambdas/aws/model-schedules.ts). Both calls are idempotent. */
export interface ModelSchedules {
  /** Creates the model's schedule of `kind`, or replaces its expression. */
  put(kind: ScheduleKind, model: string, expression: string): Promise<void>;
  /** Deletes the model's schedule of `kind`; none is not an error. */
  remove(kind: ScheduleKind, model: string): Promise<void>;
}

/** Makes the model's schedules what `spec` asks for (no spec, or no expression of a kind: no schedule of it). */
export async function syncModelSchedules(schedules: ModelSchedules, model: string, spec: ModelSpec | undefined): Promise<void> {
  for (const kind of SCHEDULE_KINDS) {
    const expression = scheduleExpression(kind, spec);
    if (expression) await schedules.put(kind, model, expression);
    else await schedules.remove(kind, model);
  }
}

/** What storing a spec reads and writes: the registry's model record and the schedules. */
export interface ScheduledSpecStores {
  findModel(name: string): Promise<{ spec: ModelSpec } | undefined>;
  putModel(spec: ModelSpec, actor: string): Promise<{ created: boolean }>;
  schedules: ModelSchedules;
  /** The model's CloudWatch dashboard and alarms (core/monitoring/system-monitoring.ts), written once the spec is stored. */
  monitoring?: ModelMonitoring;
}

/**
 * Stores a spec and its schedules, the schedules first:
 * - a schedule call fails: nothing was stored, the caller may retry;
 * - the spec write fails (a lost race, the table): the schedules are put back as the stored spec
 *   has them, and the write's error is rethrown (`onRestoreFailed` hears if putting them back fails).
 * A schedule left ahead of its spec is harmless: each function reads the stored spec when it fires
 * and acts only if that spec still asks for the schedule. The other order could leave a stored
 * schedule with no schedule behind it, a model silently never checked or retrained.
 */
export async function storeSpecWithSchedules(stores: ScheduledSpecStores, spec: ModelSpec, actor: string, onRestoreFailed?: (error: unknown) => void): Promise<{ created: boolean }> {
  await syncModelSchedules(stores.schedules, spec.name, spec);
  let stored: { created: boolean };
  try {
    stored = await stores.putModel(spec, actor);
  } catch (error) {
    try {
      await syncModelSchedules(stores.schedules, spec.name, (await stores.findModel(spec.name))?.spec);
    } catch (restoreError) {
      onRestoreFailed?.(restoreError);
    }
    throw error;
  }
  // After the write: dashboards and alarms mirror the stored spec. A failure leaves the spec stored and says so (MONITORING_NOT_SYNCED).
  if (stores.monitoring) await syncModelMonitoring(stores.monitoring, spec);
  return stored;
}
