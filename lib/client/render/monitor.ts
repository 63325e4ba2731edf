import type { DriftCheckRecord } from '../../../lambdas/contract/drift.js';
import type { MonitorAnswer, TriggerDecision, TriggerList } from '../../../lambdas/contract/retraining.js';
import { formatTime, v } from './common.js';

const checkLine = (check: DriftCheckRecord): string => {
  const performance = check.performance
    ? `; performance ${check.performance.status}${check.performance.decayed ? ' DECAYED' : ''}${check.performance.value !== null ? ` ${check.performance.metric} ${check.performance.value.toFixed(4)}` : ''}`
    : '';
  const drifted = check.driftedFeatures.length ? ` (${check.driftedFeatures.join(', ')})` : '';
  return `  ${formatTime(check.checkedAt)}  ${check.checkId}  ${v(check.version)} ${check.arm}  ${check.status.toUpperCase()}${drifted}, ${check.rows} rows${performance}`;
};

/** One decision: when, which trigger, started (with its run) or suppressed (with the reason code and sentence). */
export function triggerLine(decision: TriggerDecision): string {
  const outcome = decision.outcome === 'started' ? `STARTED ${decision.runId}` : `suppressed (${decision.reason})`;
  const check = decision.check ? ` [check ${decision.check.checkId}]` : '';
  return `  ${formatTime(decision.decidedAt)}  ${decision.trigger.padEnd(11)} ${outcome}${check}: ${decision.message}`;
}

export function formatTriggers(list: TriggerList): string {
  if (list.triggers.length === 0) return `${list.model}: no retraining trigger yet`;
  return [`${list.model}: retraining triggers, newest first`, ...list.triggers.map(triggerLine)].join('\n');
}

/** `mlops monitor`: three sections, each saying when it is empty. */
export function formatMonitor(answer: MonitorAnswer): string {
  const lines = [`${answer.model}`, '', 'latest drift checks:'];
  lines.push(...(answer.checks.length ? answer.checks.map(checkLine) : ['  none yet (mlops drift check, or a monitoring.schedule)']));
  lines.push('', `open alarms (${answer.alarmPrefix}*):`);
  lines.push(...(answer.alarms.length ? answer.alarms.map((a) => `  ${a.name}${a.since ? ` since ${formatTime(a.since)}` : ''}: ${a.reason}`) : ['  none']));
  lines.push('', 'retraining triggers:');
  lines.push(...(answer.triggers.length ? answer.triggers.map(triggerLine) : ['  none yet']));
  return lines.join('\n');
}
