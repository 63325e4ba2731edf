import type { RolloutAbortAnswer, RolloutStatus } from '../../../lambdas/contract/registry.js';
import { formatTime, v } from './common.js';

const SignalsSchema = (signals: unknown): { name: string; value: number | null; threshold: number; ok: boolean }[] =>
  Array.isArray(signals) ? (signals as { name: string; value: number | null; threshold: number; ok: boolean }[]) : [];

/** The rollout, its phase and weight, the last check's signals, and its decisions, oldest first. */
export function formatRolloutStatus(status: RolloutStatus): string {
  const { rollout } = status;
  const { policy } = rollout;
  const where =
    rollout.phase === 'canary' ? `canary at ${rollout.weight} (step ${rollout.stepIndex + 1} of ${policy.steps.length - 1})` : rollout.phase === 'shadow' ? 'shadow' : rollout.phase;
  const lines = [
    `rollout ${rollout.rolloutId}: ${rollout.model} ${v(rollout.version)} against production ${v(rollout.production)}`,
    `  state ${rollout.state}, phase ${where}, steps done ${status.stepsDone} of ${policy.steps.length - 1}${rollout.extensions ? `, bake extended ${rollout.extensions}x` : ''}`,
    `  steps ${policy.steps.join(', ')}, bake ${policy.bake}${policy.shadowFirst ? `, shadow first ${policy.shadowFirst}` : ''}, min requests ${policy.minRequests}`,
    `  started ${formatTime(rollout.startedAt)} by ${rollout.startedBy}${status.execution ? `; execution ${status.execution.status}` : ''}`,
  ];
  if (rollout.outcome) lines.push(`  outcome: ${rollout.outcome}`);
  if (rollout.lastCheck) {
    const check = rollout.lastCheck;
    lines.push(`  last check ${formatTime(check.at)} (${check.mode}): ${check.decision}: ${check.reason}`);
    for (const signal of SignalsSchema(check.signals)) lines.push(`    ${signal.ok ? 'ok  ' : 'FAIL'} ${signal.name} ${signal.value === null ? 'n/a' : signal.value} (limit ${signal.threshold})`);
    lines.push(`    evidence ${check.reportUri}`);
  }
  if (status.decisions.length) {
    lines.push('  decisions:');
    for (const event of status.decisions) lines.push(`    ${formatTime(event.at)}  ${event.action}  ${event.actor}: ${event.reason}`);
  }
  return lines.join('\n');
}

export function formatRolloutAbort(answer: RolloutAbortAnswer): string {
  const { rollout } = answer;
  return [
    `rollout ${rollout.rolloutId} of ${rollout.model} ${v(rollout.version)} aborted`,
    answer.cleared.length ? `cleared: ${answer.cleared.join(', ')}` : 'canary and shadow were not pointing at the version',
    `production stays at ${v(rollout.production)}`,
  ].join('\n');
}
