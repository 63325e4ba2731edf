import type { DriftCheckRecord } from '../../../lambdas/contract/drift.js';
import type { GateReportAnswer } from '../../../lambdas/contract/registry.js';
import type { ColumnProfile } from '../../../lambdas/core/data/profile.js';
import type { AuditEvent } from '../../../lambdas/core/registry/records.js';
import type { MetricPoint } from '../../../lambdas/core/monitoring/performance-chart.js';
// One builder of the metric-over-time chart for the console and the drift check's HTML report.
export { metricOverTimeSpec, type MetricPoint } from '../../../lambdas/core/monitoring/performance-chart.js';

/**
 * The console's Vega-Lite specs, as pure functions of the API's answers (unit-tested in
 * test/unit/console-charts.test.ts). Drawn by embed.ts with Vega's expression interpreter, so the
 * page needs no 'unsafe-eval'.
 */
export type Spec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface IntervalRow {
  check: string;
  metric: string;
  segment: string;
  lower: number;
  upper: number;
  tolerance: number;
  status: 'pass' | 'fail' | 'insufficient';
  candidate: number | null;
  champion: number | null;
}

/**
 * The gate's compared metrics: each check with a paired interval (candidate minus production, overall
 * and per segment), and its tolerance. A check fails when its interval lies below -tolerance.
 */
export function gateIntervals(report: GateReportAnswer['report']): IntervalRow[] {
  const rows: IntervalRow[] = [];
  for (const check of report.checks) {
    const [lower, upper] = check.interval ?? [];
    if (typeof lower !== 'number' || typeof upper !== 'number') continue;
    rows.push({
      check: check.name,
      metric: check.metric ?? check.name,
      segment: check.segment ? `${check.segment.column}=${check.segment.value}` : 'overall',
      lower,
      upper,
      tolerance: check.tolerance ?? 0,
      status: check.status,
      candidate: check.candidate ?? null,
      champion: check.champion ?? null,
    });
  }
  return rows;
}

const STATUS_COLORS = { domain: ['pass', 'fail', 'insufficient'], range: ['#1b7f3b', '#b3261e', '#8a6d00'] };

/** One row per compared metric and segment: its interval as a bar, -tolerance as a tick, 0 as a rule. */
export function gateIntervalSpec(rows: IntervalRow[]): Spec {
  const data = rows.map((row) => ({ ...row, label: `${row.metric} (${row.segment})`, limit: -row.tolerance }));
  return {
    $schema: SCHEMA,
    description: 'Each compared metric: the interval of candidate minus production against the tolerance',
    width: 480,
    height: { step: 26 },
    data: { values: data },
    encoding: { y: { field: 'label', type: 'nominal', title: null, sort: null } },
    layer: [
      {
        mark: { type: 'bar', height: 10 },
        encoding: {
          x: { field: 'lower', type: 'quantitative', title: 'candidate - production (interval)', scale: { padding: 16 } },
          x2: { field: 'upper' },
          color: { field: 'status', type: 'nominal', scale: STATUS_COLORS, title: 'verdict' },
          tooltip: [
            { field: 'metric' },
            { field: 'segment' },
            { field: 'lower', format: '.4f' },
            { field: 'upper', format: '.4f' },
            { field: 'tolerance', format: '.4f' },
            { field: 'status' },
          ],
        },
      },
      { mark: { type: 'tick', color: '#000', thickness: 2, size: 18 }, encoding: { x: { field: 'limit', type: 'quantitative' } } },
      // Zero (no difference), drawn over the bars.
      { mark: { type: 'rule', color: '#444', strokeDash: [3, 2] }, encoding: { x: { datum: 0, type: 'quantitative' }, y: { value: 0 }, y2: { value: 'height' } } },
    ],
  };
}

/** Metrics of compared runs, side by side: one small panel per metric. */
export function runMetricsSpec(metrics: { name: string; values: unknown[] }[], runs: string[]): Spec {
  const values = metrics.flatMap((metric) =>
    metric.values.flatMap((value, index) => (typeof value === 'number' && Number.isFinite(value) ? [{ metric: metric.name, run: runs[index], value }] : [])),
  );
  return {
    $schema: SCHEMA,
    description: 'Metrics of the compared runs',
    data: { values },
    facet: { field: 'metric', type: 'nominal', title: null },
    columns: 4,
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 160,
      height: { step: 18 },
      mark: 'bar',
      encoding: {
        y: { field: 'run', type: 'nominal', title: null },
        x: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'run', type: 'nominal', legend: null },
        tooltip: [{ field: 'run' }, { field: 'metric' }, { field: 'value', format: '.4f' }],
      },
    },
  };
}

/**
 * A column's distribution from its profile: exact value counts, a string column's top values, or
 * (a numeric column with many values) the density between its quantiles.
 */
export function columnSpec(column: ColumnProfile): Spec | undefined {
  const base = { $schema: SCHEMA, description: `Distribution of ${column.name}`, width: 280, height: 120 };
  const exact = column.values ?? undefined;
  if (exact && Object.keys(exact).length > 0) {
    const values = Object.entries(exact).map(([value, count]) => ({ value, count }));
    return { ...base, data: { values }, mark: 'bar', encoding: { x: { field: 'value', type: 'ordinal', sort: null, title: column.name }, y: { field: 'count', type: 'quantitative' }, tooltip: [{ field: 'value' }, { field: 'count' }] } };
  }
  if (column.top && column.top.length > 0) {
    const values = [...column.top.map(([value, count]) => ({ value, count })), ...(column.other ? [{ value: '(other)', count: column.other }] : [])];
    return { ...base, data: { values }, mark: 'bar', encoding: { y: { field: 'value', type: 'nominal', sort: null, title: column.name }, x: { field: 'count', type: 'quantitative' }, tooltip: [{ field: 'value' }, { field: 'count' }] }, height: { step: 14 } };
  }
  const numeric = column.numeric;
  if (numeric && numeric.min !== null && numeric.max !== null) {
    // Profile quantiles are keyed p01, p05, ... p99 (core/data/sketches.ts quantileKey).
    const rank = (key: string) => (/^p\d+$/.test(key) ? Number(key.slice(1)) / 10 ** (key.length - 1) : Number(key));
    const quantiles = Object.entries(numeric.quantiles).map(([key, x]) => [rank(key), x] as const).filter(([p]) => p > 0 && p < 1);
    const points = [[0, numeric.min] as const, ...quantiles, [1, numeric.max] as const].sort((a, b) => a[0] - b[0]);
    const values = [];
    for (let i = 1; i < points.length; i += 1) {
      const [p0, x0] = points[i - 1]!;
      const [p1, x1] = points[i]!;
      if (x1 > x0) values.push({ from: x0, to: x1, density: (p1 - p0) / (x1 - x0), share: p1 - p0 });
    }
    return { ...base, data: { values }, mark: 'rect', encoding: { x: { field: 'from', type: 'quantitative', title: column.name }, x2: { field: 'to' }, y: { field: 'density', type: 'quantitative', title: 'density' }, tooltip: [{ field: 'from' }, { field: 'to' }, { field: 'share', format: '.0%' }] } };
  }
  return undefined;
}

export interface DriftPoint {
  checkedAt: string;
  feature: string;
  /** The drift score (p-value or distance); null when not judged. */
  score: number | null;
  threshold: number;
  drifted: boolean | null;
}

/** Each feature's drift score over the checks, with its threshold: one panel per feature. */
export function driftOverTimeSpec(points: DriftPoint[]): Spec {
  const values = points.map((p) => ({ ...p, verdict: p.drifted === null ? 'insufficient' : p.drifted ? 'drift' : 'ok' }));
  return {
    $schema: SCHEMA,
    description: 'Drift score per feature over time, with its threshold',
    data: { values },
    facet: { field: 'feature', type: 'nominal', title: null },
    columns: 3,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 220,
      height: 110,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'checkedAt', type: 'temporal', title: null }, y: { field: 'score', type: 'quantitative', title: 'score' } } },
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#b3261e' }, encoding: { y: { aggregate: 'max', field: 'threshold' } } },
        {
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x: { field: 'checkedAt', type: 'temporal' },
            y: { field: 'score', type: 'quantitative' },
            color: { field: 'verdict', type: 'nominal', scale: { domain: ['ok', 'drift', 'insufficient'], range: ['#1b7f3b', '#b3261e', '#8a6d00'] } },
            tooltip: [{ field: 'feature' }, { field: 'checkedAt', type: 'temporal' }, { field: 'score', format: '.4f' }, { field: 'threshold' }, { field: 'verdict' }],
          },
        },
      ],
    },
  };
}

/**
 * The checks' performance as points of one metric (the newest check's): a realized value where the window
 * was judged, else the estimate; checks with neither (or another metric) give no point.
 */
export function metricPoints(checks: DriftCheckRecord[]): { metric: string; baseline: number | null; points: MetricPoint[] } | undefined {
  const latest = checks.find((check) => check.performance)?.performance;
  if (!latest) return undefined;
  const points: MetricPoint[] = [];
  for (const check of checks) {
    const p = check.performance;
    if (!p || p.metric !== latest.metric) continue;
    const realized = p.status === 'judged' && p.value !== null;
    const value = realized ? p.value : p.estimated;
    if (value === null) continue;
    const [lower, upper] = (realized ? p.interval : p.estimatedInterval) ?? [null, null];
    points.push({ checkId: check.checkId, windowTo: check.window.to, version: check.version, status: p.status, kind: realized ? 'realized' : 'estimated', value, lower, upper });
  }
  return { metric: latest.metric, baseline: latest.baseline, points };
}

export interface AliasMove {
  at: string;
  alias: string;
  version: number | null;
  actor: string;
  action: string;
}

/** The alias moves in a model's audit log, for the timeline. */
export function aliasMoves(events: AuditEvent[]): AliasMove[] {
  const moves: AliasMove[] = [];
  for (const event of events) {
    if (event.action !== 'alias.moved' && event.action !== 'alias.rolled_back' && event.action !== 'alias.cleared') continue;
    const after = event.after as { alias?: string; version?: number } | null | undefined;
    const before = event.before as { alias?: string; version?: number } | null | undefined;
    if (event.action === 'alias.cleared') {
      const cleared = (event.after as { cleared?: string[] } | undefined)?.cleared ?? (before?.alias ? [before.alias] : []);
      for (const alias of cleared) moves.push({ at: event.at, alias, version: null, actor: event.actor, action: event.action });
      continue;
    }
    // A rollback records { production, previous } on each side.
    const moved = event.action === 'alias.rolled_back' ? { alias: 'production', ...(after as { production?: { version?: number } } | undefined)?.production } : after;
    const alias = moved?.alias ?? before?.alias;
    if (alias) moves.push({ at: event.at, alias, version: moved?.version ?? event.version ?? null, actor: event.actor, action: event.action });
  }
  return moves;
}

/** The alias history as a timeline: one lane per alias, a point per move labelled with the version. */
export function aliasTimelineSpec(moves: AliasMove[]): Spec {
  const values = moves.map((move) => ({ ...move, label: move.version === null ? 'cleared' : `v${move.version}` }));
  return {
    $schema: SCHEMA,
    description: 'Alias moves over time',
    width: 560,
    height: { step: 36 },
    data: { values },
    encoding: { x: { field: 'at', type: 'temporal', title: null }, y: { field: 'alias', type: 'nominal', title: null } },
    layer: [
      { mark: { type: 'point', filled: true, size: 80 }, encoding: { color: { field: 'action', type: 'nominal' }, tooltip: [{ field: 'alias' }, { field: 'label', title: 'version' }, { field: 'at', type: 'temporal', timeUnit: 'yearmonthdatehoursminutesseconds' }, { field: 'actor' }, { field: 'action' }] } },
      { mark: { type: 'text', dy: -12 }, encoding: { text: { field: 'label' } } },
    ],
  };
}
