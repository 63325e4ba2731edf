/**
 * The live or estimated metric over time, as a Vega-Lite spec: the one builder behind the drift check's
 * HTML report (drift-html.ts) and the console's monitoring view (lib/client/console/charts.ts). It imports
 * nothing, so the console's page bundle can take it.
 */

/** A check's performance as the chart draws it: realized (judged) or CBPE's estimate (labels awaited), never both. */
export interface MetricPoint {
  checkId: string;
  /** The window's end: where the point sits on the time axis. */
  windowTo: string;
  version: number;
  status: 'awaiting-labels' | 'insufficient' | 'judged';
  kind: 'realized' | 'estimated';
  value: number;
  lower: number | null;
  upper: number | null;
}

/** The horizontal rules: the version's held-out value and, where the tolerance is known, where decay begins. */
export interface MetricRules {
  baseline: number | null;
  decayBound?: number | null;
}

/** Realized and estimated points differ in colour and shape, with a legend. */
const KINDS = { domain: ['realized', 'estimated'], colors: ['#1f5fa8', '#b85c00'], shapes: ['circle', 'diamond'] };

/**
 * Each point with its interval as a vertical rule, colour and shape by kind; no line joins them (an estimate
 * and a realized value are not one series).
 */
export function metricOverTimeSpec(metric: string, points: readonly MetricPoint[], rules: MetricRules, layout: { title?: string; width?: number; height?: number } = {}): Record<string, unknown> {
  // Padded, so the first and last points are not cut by the plot's edge.
  const x = { field: 'windowTo', type: 'temporal', title: 'window end', scale: { padding: 14 } };
  const color = { field: 'kind', type: 'nominal', scale: { domain: KINDS.domain, range: KINDS.colors }, title: null };
  const tooltip = [{ field: 'checkId', title: 'check' }, { field: 'version' }, { field: 'status' }, { field: 'kind' }, { field: 'value', format: '.4f' }, { field: 'lower', format: '.4f' }, { field: 'upper', format: '.4f' }];
  const rule = (field: string, value: number, line: string, style: Record<string, unknown>) => ({
    data: { values: [{ [field]: value, line }] },
    mark: { type: 'rule', ...style },
    encoding: { y: { field, type: 'quantitative' }, tooltip: [{ field: 'line' }, { field, format: '.4f' }] },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(layout.title !== undefined && { title: layout.title }),
    description: `${metric} over time: realized where judged, estimated while labels are awaited, with intervals and the held-out baseline`,
    width: layout.width ?? 560,
    height: layout.height ?? 200,
    layer: [
      {
        data: { values: points },
        layer: [
          { transform: [{ filter: 'datum.lower != null && datum.upper != null' }], mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, y: { field: 'lower', type: 'quantitative', title: metric, scale: { zero: false } }, y2: { field: 'upper' }, color } },
          {
            mark: { type: 'point', filled: true, size: 70 },
            encoding: { x, y: { field: 'value', type: 'quantitative' }, color, shape: { field: 'kind', type: 'nominal', scale: { domain: KINDS.domain, range: KINDS.shapes }, title: null }, tooltip },
          },
        ],
      },
      ...(rules.baseline === null ? [] : [rule('baseline', rules.baseline, 'held-out', { color: '#444', strokeDash: [4, 3] })]),
      ...(rules.decayBound === null || rules.decayBound === undefined ? [] : [rule('decayBound', rules.decayBound, 'decay beyond', { color: '#c0392b', strokeDash: [2, 2] })]),
    ],
  };
}
