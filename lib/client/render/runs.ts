import type { compareManyRuns, compareRuns, reproductionVerdict } from '../../../lambdas/core/training/run-comparison.js';
import type { RunRecord } from '../../../lambdas/core/training/run.js';
import { formatMetrics, headlineMetrics } from './common.js';

/** Human output of the run commands: a run, a list of runs, a comparison, a reproduction's verdict. */

export function describeRun(record: RunRecord | undefined): string | undefined {
  if (!record) return undefined;
  const lines = [
    `run       ${record.runId}`,
    `status    ${record.status}`,
    `model     ${record.model}${record.modelVersion ? ` version ${record.modelVersion}` : ''}`,
    `dataset   ${record.dataset.name}@${record.dataset.version.slice(0, 12)}`,
    `metrics   ${formatMetrics(record.metrics)}`,
    `gate      ${record.gateSummary ?? '-'}`,
    `artifact  ${record.artifact ? `${record.artifact.uri} sha256=${record.artifact.sha256.slice(0, 12)}` : '-'}`,
  ];
  if (record.failure) lines.push(`failure   ${record.failure.step}: ${record.failure.reason}`);
  return lines.join('\n');
}

export function formatRunList(records: RunRecord[]): string {
  return records.map((r) => `${r.runId}  ${r.status.padEnd(9)} ${r.startedAt}  ${r.mode === 'reproduce' ? 'reproduce ' : ''}${formatMetrics(headlineMetrics(r.metrics))}`).join('\n') || 'no runs';
}

type Comparison = ReturnType<typeof compareRuns>;

/** Two runs side by side; differences marked with `*`, metric deltas (b - a) at the end of a row. */
export function formatComparison(a: string, b: string, comparison: Comparison): string {
  const row = (r: { name: string; a: unknown; b: unknown; differs: boolean }, extra = '') =>
    `${r.differs ? '*' : ' '} ${r.name.padEnd(20)} ${String(r.a ?? '-').slice(0, 30).padEnd(32)} ${String(r.b ?? '-').slice(0, 30).padEnd(32)}${extra}`;
  return [
    `  ${''.padEnd(20)} ${a.slice(0, 30).padEnd(32)} ${b.slice(0, 30)}`,
    ...comparison.lineage.map((r) => row(r)),
    'parameters',
    ...comparison.parameters.map((r) => row(r)),
    'metrics',
    ...comparison.metrics.map((r) => row(r, r.delta !== null && r.differs ? ` ${r.delta > 0 ? '+' : ''}${r.delta.toPrecision(4)}` : '')),
  ].join('\n');
}

/** Three or more runs, one column each; differences marked with `*`, a numeric metric's best and worst run named. */
export function formatManyComparison(comparison: ReturnType<typeof compareManyRuns>): string {
  const cell = (value: unknown) => String(value ?? '-').slice(0, 18).padEnd(20);
  const row = (r: { name: string; values: unknown[]; differs: boolean }, extra = '') => `${r.differs ? '*' : ' '} ${r.name.padEnd(20)} ${r.values.map(cell).join('')}${extra}`;
  return [
    `  ${''.padEnd(20)} ${comparison.runs.map(cell).join('')}`,
    ...comparison.lineage.map((r) => row(r)),
    'parameters',
    ...comparison.parameters.map((r) => row(r)),
    'metrics',
    ...comparison.metrics.map((r) => row(r, r.differs && r.highest ? `  highest ${r.highest}, lowest ${r.lowest}` : '')),
  ].join('\n');
}

export function formatVerdict(runId: string, verdict: ReturnType<typeof reproductionVerdict>): string {
  return [
    `${verdict.matches ? 'REPRODUCED exactly' : 'DID NOT REPRODUCE'}: ${runId} -> ${verdict.reproducedBy}`,
    `  artifact sha256 ${verdict.artifact.matches ? 'matches' : `differs: ${verdict.artifact.recorded} vs ${verdict.artifact.reproduced}`}`,
    ...verdict.metrics.map((m) => `  ${m.matches ? ' ' : '*'} ${m.name.padEnd(18)} ${String(m.recorded).padEnd(22)} ${String(m.reproduced)}`),
  ].join('\n');
}
