import type { DriftCheckAnswer, DriftCheckList } from '../../../lambdas/contract/drift.js';
import { DriftReportSchema, type FeatureDrift } from '../../../lambdas/core/monitoring/drift.js';
import { PerformanceReportSchema, type MetricValue, type PerformanceReport } from '../../../lambdas/core/monitoring/performance.js';
import { formatTime, v } from './common.js';

const num = (value: number | null | undefined) => (value === null || value === undefined ? '-' : Math.abs(value) >= 1e-3 || value === 0 ? value.toPrecision(4) : value.toExponential(3));
const verdict = (drifted: boolean | null) => (drifted === null ? 'insufficient' : drifted ? 'DRIFT' : 'ok');

/** Columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

const featureRow = (f: FeatureDrift): string[] => [f.column, f.type, f.method, num(f.statistic), num(f.threshold), verdict(f.drifted), `${f.referenceRows}/${f.currentRows}`];

/** A check: what was compared, a table per feature (method, statistic, threshold, verdict), prediction drift and the dataset drift line. */
export function formatDriftCheck(answer: DriftCheckAnswer): string {
  const { check } = answer;
  const lines = [
    `drift check ${check.checkId}: ${check.model} ${v(check.version)} (${check.arm}), ${check.status.toUpperCase()}`,
    `  window ${check.window.from} .. ${check.window.to}: ${check.rows} rows against ${check.referenceRows} reference rows (${check.referenceSource})`,
  ];
  const parsed = DriftReportSchema.safeParse(answer.report);
  if (!parsed.success) return [...lines, `  report ${check.reportUri}`].join('\n');
  const report = parsed.data;
  if (report.insufficient.window) lines.push(`  insufficient: ${report.insufficient.reason ?? `${report.insufficient.rows} rows, fewer than ${report.insufficient.minRows}`}`);
  const rows = report.features.map(featureRow);
  if (report.prediction) rows.push(featureRow(report.prediction));
  lines.push('', ...table(['feature', 'type', 'method', 'statistic', 'threshold', 'verdict', 'rows ref/cur'], rows).map((line) => `  ${line}`), '');
  const d = report.dataset;
  lines.push(
    `  dataset drift: ${verdict(d.drifted)} (${d.driftedColumns} of ${d.columns} columns drifted, share ${num(d.share)}; drift when >= ${d.driftShare})`,
    `  Benjamini-Hochberg at FDR ${d.bh.fdr}: ${d.bh.rejected} of ${d.bh.tests} p-value tests rejected`,
  );
  if (report.skipped.length) lines.push(`  not judged: ${report.skipped.map((s) => `${s.column} (${s.reason})`).join(', ')}`);
  const performance = PerformanceReportSchema.safeParse(answer.report.performance);
  if (performance.success) lines.push(...performanceLines(performance.data));
  lines.push(`  checked ${formatTime(check.checkedAt)} by ${check.actor}; report ${check.reportUri}`);
  if (check.htmlReportUri) lines.push(`  charts: mlops drift report ${check.model} --check ${check.checkId}`);
  return lines.join('\n');
}

const metricText = (m: MetricValue) => `${m.metric} ${num(m.value)}${m.interval ? ` [${num(m.interval[0])}, ${num(m.interval[1])}]` : ''}`;

/** The performance section: status and why, realized metrics when judged, CBPE's estimates on their own line, marked as such. */
export function performanceLines(p: PerformanceReport): string[] {
  const level = `${Number((p.bootstrap.confidence * 100).toFixed(2))}% CI`;
  const status = p.status === 'awaiting-labels' ? 'AWAITING LABELS' : p.status.toUpperCase();
  const lines = [`  performance: ${status}${p.status === 'judged' ? (p.decayed ? ', DECAYED' : p.decayed === false ? ', no decay' : '') : ''} (${p.reason})`];
  lines.push(`    labels ${p.labels.labelled}/${p.labels.logged} logged rows (coverage ${num(p.labels.coverage)}, needs ${p.labels.minLabelCoverage}), due ${p.labels.dueAt}; ${p.metric} held-out ${num(p.baseline)}, tolerance ${num(p.tolerance)}`);
  if (p.realized) {
    lines.push(`    realized (${level}): ${p.realized.metrics.map(metricText).join(', ')}`);
    for (const s of p.realized.segments) lines.push(`      ${s.column}=${s.value} (${s.rows} rows): ${s.metrics.slice(0, 1).map(metricText).join(', ')}`);
    if (p.realized.segmentsSkipped.length) lines.push(`      segments not reported: ${p.realized.segmentsSkipped.map((s) => `${s.column} (${s.reason})`).join(', ')}`);
  }
  if (p.estimated) lines.push(`    estimated (CBPE) ${p.estimated.metrics.map(metricText).join(', ')}: estimates from ${p.estimated.rows} logged outputs, not realized values`);
  else if (p.estimateUnavailable) lines.push(`    no estimate: ${p.estimateUnavailable}`);
  return lines;
}

export function formatDriftCheckList(list: DriftCheckList): string {
  if (list.checks.length === 0) return `${list.model} has no drift checks yet`;
  const performance = (c: DriftCheckList['checks'][number]) => {
    const p = c.performance;
    if (!p) return '-';
    if (p.status === 'judged') return `${p.metric} ${num(p.value)}${p.decayed ? ' DECAYED' : ''}`;
    return `${p.status === 'awaiting-labels' ? 'awaiting labels' : p.status}${p.estimated !== null ? ` (est. ${p.metric} ${num(p.estimated)})` : ''}`;
  };
  const rows = list.checks.map((c) => [c.checkId, v(c.version), c.arm, c.status, String(c.rows), c.driftedFeatures.join(',') || '-', formatTime(c.checkedAt), performance(c)]);
  return table(['check', 'version', 'arm', 'status', 'rows', 'drifted', 'checked', 'performance'], rows).join('\n');
}
