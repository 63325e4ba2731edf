import type { Alias } from '../../../lambdas/core/registry/records.js';
import type { PipelineOutcome } from '../platform-client.js';
import { decisionCommand, v } from './common.js';

/** What `promote` (and a run waiting for approval) reports: the --json document and its human form. */

export type ReleaseStatus = 'RELEASED' | 'WAITING_FOR_APPROVAL' | 'FAILED' | 'RUNNING';

/** What `mlops promote <model> <version> --to production` prints with --json. */
export interface ReleaseReport {
  status: ReleaseStatus;
  model: string;
  runId: string;
  executionArn: string;
  version: number;
  /** States the execution entered, in order (absent with --no-wait). */
  steps?: string[];
  failure?: { step: string; error: string; reason: string };
  /** Where production points once released. */
  production?: Alias;
}

/**
 * A release run's outcome as the promote command reports it. An execution that ended without
 * succeeding is FAILED, with the run record's failure, or one made from the execution status when
 * the run recorded none (timed out, aborted).
 */
export function releaseReport(
  model: string,
  version: number,
  started: { runId: string; executionArn: string },
  outcome: PipelineOutcome | undefined,
  production?: Alias,
): ReleaseReport {
  const base = { model, runId: started.runId, executionArn: started.executionArn, version };
  if (!outcome) return { status: 'RUNNING', ...base };
  const steps = outcome.steps;
  if (outcome.status === 'SUCCEEDED') return { status: 'RELEASED', ...base, steps, ...(production ? { production } : {}) };
  if (outcome.status === 'WAITING_FOR_APPROVAL') return { status: 'WAITING_FOR_APPROVAL', ...base, steps };
  if (outcome.status === 'RUNNING') return { status: 'RUNNING', ...base, steps };
  const failure = outcome.run?.failure ?? {
    step: steps.at(-1) ?? 'unknown',
    error: `EXECUTION_${outcome.status}`,
    reason: `the release execution ended ${outcome.status} without recording a failure`,
  };
  return { status: 'FAILED', ...base, steps, failure };
}

export function formatRelease(report: ReleaseReport, env: string): string {
  const subject = `${report.model} ${v(report.version)}`;
  switch (report.status) {
    case 'RUNNING':
      return [
        `release run ${report.runId} started: ${subject} -> production (evaluate, gate, approval where required)`,
        `follow it with: mlops${env === 'local' ? '' : ` --env ${env}`} runs show ${report.runId}`,
      ].join('\n');
    case 'RELEASED': {
      const now = report.production?.version ?? report.version;
      const moved = now === report.version ? '' : ` (it has moved since the release put ${v(report.version)} there)`;
      return `released: production of ${report.model} is now ${v(now)}${moved} (run ${report.runId})`;
    }
    case 'WAITING_FOR_APPROVAL':
      return waitingForApproval(report.model, report.version, report.runId, env);
    case 'FAILED':
      return [
        `release of ${subject} FAILED at ${report.failure!.step}: ${report.failure!.error}`,
        `  ${report.failure!.reason}`,
        `production did not move (run ${report.runId})`,
      ].join('\n');
  }
}

/** The lines that tell a person a release waits for them, and what to type. */
export function waitingForApproval(model: string, version: number | undefined, runId: string, env: string): string {
  const ref = version ?? '<version>';
  return [
    `waiting for approval: ${model} ${version === undefined ? 'the new version' : v(version)} goes to production once someone approves it (run ${runId})`,
    `  approve: ${decisionCommand('approve', model, ref, env)}`,
    `  reject:  ${decisionCommand('reject', model, ref, env)}`,
  ].join('\n');
}
