import type { DriftCheckAnswer, DriftCheckList } from '../../../lambdas/contract/drift.js';
import { DriftReportSchema, type FeatureDrift } from '../../../lambdas/core/monitoring/drift.js';
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
  lines.push(`  checked ${formatTime(check.checkedAt)} by ${check.actor}; report ${check.reportUri}`);
  if (check.htmlReportUri) lines.push(`  charts: mlops drift report ${check.model} --check ${check.checkId}`);
  return lines.join('\n');
}

export function formatDriftCheckList(list: DriftCheckList): string {
  if (list.checks.length === 0) return `${list.model} has no drift checks yet`;
  const rows = list.checks.map((c) => [c.checkId, v(c.version), c.arm, c.status, String(c.rows), c.driftedFeatures.join(',') || '-', formatTime(c.checkedAt)]);
  return table(['check', 'version', 'arm', 'status', 'rows', 'drifted', 'checked'], rows).join('\n');
}
