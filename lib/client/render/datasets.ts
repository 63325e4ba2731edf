import type { DatasetFromLogsAnswer } from '../../../lambdas/contract/datasets.js';
import type { DatasetSummary, DatasetVersion, LogWindowLineage } from '../../../lambdas/core/data/dataset-version.js';
import type { DatasetProfile } from '../../../lambdas/core/data/profile.js';
import type { ValidationReport } from '../../../lambdas/core/data/validation.js';

/** Human output of the dataset commands. */

export function describeDataset(version: DatasetVersion): string {
  const lines = [
    `dataset   ${version.name}@${version.version}`,
    `format    ${version.format}, ${version.bytes} bytes, ${version.rowCount} rows`,
    `schema    ${version.schema.source}${version.schema.target ? `, target ${version.schema.target}` : ''}`,
    ...version.schema.columns.map(
      (c) =>
        `  ${c.name.padEnd(24)} ${c.type.padEnd(8)} ${c.nullable ? 'nullable' : 'required'}${c.min !== undefined ? `  ${c.min}..${c.max}` : ''}${c.categories ? `  {${c.categories.slice(0, 8).join(', ')}${c.categories.length > 8 ? ', ...' : ''}}` : ''}`,
    ),
    `owner     ${version.owner}`,
    `source    ${version.source}`,
    `arrived   ${version.arrivedAt}`,
    `data      ${version.uri}`,
    `profile   ${version.profileUri}`,
  ];
  if (version.lineage) lines.push(`lineage   ${describeLineage(version.lineage)}`);
  for (const entry of version.quarantinedFor) lines.push(`QUARANTINED for ${entry.model} by its ${entry.gate} gate: ${entry.reason}`);
  // Records from before quarantine was per model carry only the flag: quarantined for every model.
  if (version.quarantined && version.quarantinedFor.length === 0) lines.push(`QUARANTINED: ${version.quarantineReason ?? ''}`);
  return lines.join('\n');
}

export function formatDatasetVersions(name: string, versions: DatasetVersion[]): string {
  return (
    versions.map((v) => `${v.version.slice(0, 12)}  ${v.arrivedAt}  ${String(v.rowCount).padStart(9)} rows  ${v.format}${v.quarantinedFor.length > 0 ? `  QUARANTINED for ${v.quarantinedFor.map((q) => q.model).join(', ')}` : v.quarantined ? '  QUARANTINED' : ''}`).join('\n') ||
    `no versions of ${name}`
  );
}

export function formatDatasetList(datasets: DatasetSummary[]): string {
  return datasets.map((d) => `${d.name.padEnd(24)} ${d.versionCount} version(s), newest ${d.latestVersion.slice(0, 12)} (${d.latestArrivedAt})`).join('\n') || 'no datasets';
}

export function describeReport(report: ValidationReport & { reportUri?: string }): string {
  const mark = (c: ValidationReport['checks'][number]) => (c.passed ? 'pass' : c.severity === 'block' ? 'FAIL' : 'warn');
  return [
    `${report.passed ? 'PASSED' : 'FAILED'}: ${report.summary}`,
    ...report.checks.map((c) => `  ${mark(c).padEnd(5)} ${`${c.name}${c.column ? `[${c.column}]` : ''}`.padEnd(36)} ${c.detail}${c.rule && c.rule !== 'default' && !c.passed ? ` [${c.rule}]` : ''}`),
    ...(report.reference
      ? [`missing rates judged against ${report.reference.dataset.name}@${report.reference.dataset.version.slice(0, 12)} (version ${report.reference.version}, ${report.reference.alias === 'production' ? 'in production' : 'the newest'})`]
      : []),
    ...(report.referenceProblem ? [`no reference for missing rates: ${report.referenceProblem}`] : []),
    ...(report.reportUri ? [`report ${report.reportUri}`] : []),
  ].join('\n');
}

export function describeProfile(profile: DatasetProfile): string {
  const lines = [`profile   ${profile.rows} rows, ${profile.duplicateRows} duplicate(s)`];
  for (const column of profile.columns) {
    const missing = `${column.missing} missing`;
    if (column.numeric) {
      const n = column.numeric;
      lines.push(`  ${column.name.padEnd(24)} ${missing}; min ${n.min} p50 ${n.quantiles.p50?.toPrecision(4)} max ${n.max}; mean ${n.mean?.toPrecision(4)} std ${n.std?.toPrecision(4)}`);
    } else if (column.frequencies) {
      const top = column.frequencies.counters.slice(0, 5).map(([value, count]) => `${value}: ${count}`).join(', ');
      lines.push(`  ${column.name.padEnd(24)} ${missing}; ${column.frequencies.exact ? '' : '>'}${column.frequencies.counters.length} distinct; ${top}`);
    }
  }
  if (profile.target?.classes) lines.push(`target    ${profile.target.column}: ${Object.entries(profile.target.classes).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  return lines.join('\n');
}

/** Where a version built from the prediction log came from, on one line. */
function describeLineage(lineage: LogWindowLineage): string {
  return (
    `${lineage.labelledRows} labelled row(s) of ${lineage.model} (${lineage.arm}, version(s) ${lineage.versions.join(', ') || '-'}) logged ${lineage.window.from} .. ${lineage.window.to}` +
    (lineage.base ? ` on top of ${lineage.base.rows} row(s) of ${lineage.base.name}@${lineage.base.version.slice(0, 12)}` : ', logged rows only')
  );
}

/** `dataset from-logs`: what was joined and what was registered. */
export function describeFromLogs(result: { build: DatasetFromLogsAnswer; dataset: DatasetVersion; created: boolean }): string {
  const { build, dataset, created } = result;
  const l = build.lineage;
  return [
    `${created ? 'registered' : 'already registered'} ${dataset.name}@${dataset.version} (${dataset.rowCount} rows, passed the data gate)`,
    `window    ${l.window.from} .. ${l.window.to}, ${l.arm} arm, version(s) ${l.versions.join(', ') || '-'}`,
    `joined    ${l.loggedRows} logged row(s): ${l.labelledRows} labelled (${l.requests} request(s)), ${l.unlabelledRows} without a label (left out), ${l.duplicateLabels} duplicate label(s) ignored`,
    `base      ${l.base ? `${l.base.rows} row(s) of ${l.base.name}@${l.base.version.slice(0, 12)} (the version production was trained on)` : 'none (logged rows only)'}`,
    ...(build.emptyColumns.length > 0 ? [`empty     ${build.emptyColumns.join(', ')} (not in the log: empty on logged rows)`] : []),
  ].join('\n');
}
