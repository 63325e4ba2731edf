import type { Alerts, RunUpdates } from '../stores.js';
import { failureReason, type RunContext } from './run.js';

export interface RunFailure {
  /** Absent when StartRun failed before a run existed: then only the requested model is known. */
  run?: RunContext | undefined;
  model?: string | undefined;
  failure: { step: string; error: string; cause?: string | null | undefined };
}

/** RecordFailure: marks the run FAILED with a reason a person can act on, and publishes the alert. */
export async function recordRunFailure(stores: { runs: RunUpdates; alerts: Alerts }, environment: string, input: RunFailure) {
  const { run, failure } = input;
  const reason = failureReason(failure.cause, failure.error);
  if (run) await stores.runs.updateRun(run.runId, { status: 'FAILED', endedAt: new Date().toISOString(), failure: { step: failure.step, error: failure.error, reason } });
  const model = run?.model ?? input.model ?? 'unknown model';
  const alert = { environment, kind: 'training-run-failed', model, runId: run?.runId ?? null, step: failure.step, error: failure.error, reason };
  await stores.alerts.publish(`[mlops ${environment}] ${model}: ${run?.promotion ? `promotion of version ${run.promotion.version}` : 'training'} failed at ${failure.step}`, alert);
  return { recorded: Boolean(run), alerted: true as const, alert };
}
