import { applyVerdict, progressOf, type RolloutProgress, type RolloutRegistry, type RolloutStepSettings } from '../registry/rollout.js';
import type { Task } from '../training/model-spec.js';
import { MlopsError } from '../errors.js';
import { checkRollout } from './rollout-check.js';
import { checkWindow, readArms, type LogObjects } from './rollout-evidence.js';

/**
 * The RolloutCheck step: reads the bake window of both arms (core/serving/rollout-evidence.ts),
 * asks checkRollout (core/serving/rollout-check.ts) for a decision, keeps the check's full output
 * as a JSON report, and applies the decision to the rollout as one audited registry change whose
 * event carries the report's URI.
 */

export interface RolloutCheckStores {
  registry: RolloutRegistry;
  logs: LogObjects;
  /** Writes a JSON report to the reports bucket and answers its s3:// URI. */
  reports: { put(key: string, json: string): Promise<string> };
  /** The model's task (from its spec). */
  task(model: string): Promise<Task>;
}

export async function runRolloutCheck(
  stores: RolloutCheckStores,
  settings: RolloutStepSettings,
  input: { model: string; rolloutId: string; now?: Date },
): Promise<RolloutProgress> {
  const now = input.now ?? new Date();
  const record = await stores.registry.findRollout(input.model);
  if (!record || record.rolloutId !== input.rolloutId) throw new MlopsError('ROLLOUT_NOT_FOUND', `${input.model} has no rollout ${input.rolloutId}`, { field: 'rolloutId' });
  // Stopped meanwhile (aborted, a manual rollback): nothing to check.
  if (record.state !== 'RUNNING') return progressOf(record, settings.bufferSeconds);
  if (record.phase !== 'shadow' && record.phase !== 'canary') return progressOf(record, settings.bufferSeconds);
  const mode = record.phase;
  const window = checkWindow(record.since, now, settings.bufferSeconds);
  const { baseline, candidate, stats } = await readArms(stores.logs, { model: record.model, production: record.production, version: record.version, mode, window, now });
  const result = checkRollout({
    policy: record.policy,
    task: await stores.task(record.model),
    mode,
    baseline: baseline.records,
    candidate: candidate.records,
    labels: [...baseline.labels, ...candidate.labels],
    extensions: record.extensions,
  });
  const report = {
    kind: 'rollout-check',
    model: record.model,
    rolloutId: record.rolloutId,
    version: record.version,
    production: record.production,
    mode,
    step: mode === 'canary' ? { index: record.stepIndex, weight: record.weight } : null,
    extensions: record.extensions,
    window,
    bufferSeconds: settings.bufferSeconds,
    read: stats,
    arms: {
      production: { version: baseline.version, requests: baseline.records.length, labels: baseline.labels.length },
      [mode]: { version: candidate.version, requests: candidate.records.length, labels: candidate.labels.length },
    },
    policy: record.policy,
    ...result,
    checkedAt: now.toISOString(),
  };
  const reportUri = await stores.reports.put(
    `rollouts/${record.model}/${record.rolloutId}/check-${now.toISOString().replace(/[:.]/g, '-')}.json`,
    JSON.stringify(report, null, 2),
  );
  // Small in the record (the status shows it); the report holds everything.
  const signals = result.signals.map(({ name, value, threshold, ok }) => ({ name, value, threshold, ok }));
  return applyVerdict(stores.registry, settings, record, { decision: result.decision, reason: result.reason, reportUri, window, signals }, now);
}
