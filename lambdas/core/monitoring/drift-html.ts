import { metricOverTimeSpec, type MetricPoint } from './performance-chart.js';
import type { DriftReport, FeatureDrift, Histogram } from './drift.js';
import type { MetricValue, PerformanceReport } from './performance.js';
import { LOWER_IS_BETTER } from '../training/model-spec.js';

/**
 * A drift check's report as one self-contained HTML page: per feature the reference and current
 * histograms overlaid (Vega-Lite specs drawn from the report's `histograms`), with the statistic,
 * the threshold and the verdict; the prediction drift; the dataset verdict and the
 * Benjamini-Hochberg line. Pure: the caller hands in the chart libraries' browser bundles (vega,
 * vega-lite, vega-embed), which are inlined, so the page opens offline.
 *
 * Everything from the report is user data (feature names, categories): text goes through
 * escapeHtml, and the chart specs sit in a `<script type="application/json">` with `<` escaped, so
 * no value can close the element or start markup.
 */

/** What the page shows besides the report's verdicts (the stored JSON report has them). */
export type DriftReportPage = DriftReport & {
  readonly checkId?: string;
  readonly model?: string;
  readonly version?: number;
  readonly arm?: string;
  readonly checkedAt?: string;
  /** The window's performance (core/monitoring/performance.ts); absent on checks from before it. */
  readonly performance?: PerformanceReport;
};

export interface ChartSpec {
  /** The element the chart is drawn into (`chart-<n>`: never a user value). */
  readonly id: string;
  /** The column the chart draws (the model's output for `prediction`). */
  readonly column: string;
  readonly of: 'feature' | 'prediction' | 'performance';
  readonly spec: Record<string, unknown>;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** JSON that can sit inside a <script> element: no `<` (so no `</script>` or `<!--`), and no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const num = (value: number | null | undefined) => (value === null || value === undefined ? '-' : Math.abs(value) >= 1e-3 || value === 0 ? value.toPrecision(4) : value.toExponential(3));
const verdict = (drifted: boolean | null) => (drifted === null ? 'insufficient' : drifted ? 'DRIFT' : 'ok');
const compares = (f: FeatureDrift) => (f.method === 'ks' ? '<=' : f.method === 'chisquare' || f.method === 'z' ? '<' : '>=');

/** One chart: both sides' shares of their rows per bin (sides differ in size), overlaid. */
export function histogramSpec(histogram: Histogram, title: string): Record<string, unknown> {
  const totals = { reference: histogram.reference.reduce((a, b) => a + b, 0) + (histogram.other?.reference ?? 0), current: histogram.current.reduce((a, b) => a + b, 0) + (histogram.other?.current ?? 0) };
  const share = (count: number, side: 'reference' | 'current') => (totals[side] > 0 ? count / totals[side] : 0);
  const sides = ['reference', 'current'] as const;
  const common = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 520,
    height: 180,
    mark: { type: 'bar', opacity: 0.55, tooltip: true },
  };
  const color = { field: 'side', type: 'nominal', scale: { domain: [...sides], range: ['#4c78a8', '#f58518'] }, title: null };
  const y = { field: 'share', type: 'quantitative', stack: null, title: 'share of rows', axis: { format: '.0%' } };
  if (histogram.kind === 'bins') {
    const edges = histogram.edges ?? [];
    const values = sides.flatMap((side) => histogram[side].map((count, i) => ({ side, start: edges[i], end: edges[i + 1], count, share: share(count, side) })));
    return { ...common, data: { values }, encoding: { x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: histogram.column }, x2: { field: 'end' }, y, color } };
  }
  const categories = [...(histogram.categories ?? [])];
  const values = sides.flatMap((side) => histogram[side].map((count, i) => ({ side, value: categories[i], count, share: share(count, side) })));
  // A separate field marks the summed rest, so a category literally named like it stays a category.
  if (histogram.other) for (const side of sides) values.push({ side, value: `(${categories.length}+ more)`, count: histogram.other[side], share: share(histogram.other[side], side) });
  return { ...common, data: { values }, encoding: { x: { field: 'value', type: 'nominal', sort: null, title: histogram.column }, y, color } };
}

function featureTitle(f: FeatureDrift): string {
  return `${f.column}: ${f.method} ${num(f.statistic)} (drift when ${compares(f)} ${num(f.threshold)}): ${verdict(f.drifted)}`;
}

/** The chart specs the page draws: one per feature with values on both sides, then the prediction. */
export function driftChartSpecs(report: DriftReport): ChartSpec[] {
  const histograms = new Map((report.histograms?.features ?? []).map((h) => [h.column, h]));
  const charts: ChartSpec[] = [];
  for (const f of report.features) {
    const histogram = histograms.get(f.column);
    if (histogram) charts.push({ id: `chart-${charts.length}`, column: f.column, of: 'feature', spec: histogramSpec(histogram, featureTitle(f)) });
  }
  const prediction = report.histograms?.prediction;
  if (prediction && report.prediction) charts.push({ id: `chart-${charts.length}`, column: prediction.column, of: 'prediction', spec: histogramSpec(prediction, featureTitle(report.prediction)) });
  return charts;
}

function featureSection(f: FeatureDrift, chart: ChartSpec | undefined): string {
  const cells: [string, string][] = [
    ['method', `${f.method} (${f.methodSource === 'default' ? "Evidently's default" : 'monitoring.methods'})`],
    ['statistic', num(f.statistic)],
    ['threshold', `drift when ${compares(f)} ${num(f.threshold)}`],
    ['verdict', verdict(f.drifted)],
    ['persistent', f.persistent === null ? '-' : f.persistent ? 'yes' : 'no'],
    ['effect size', f.effectSize ? `${f.effectSize.measure} ${num(f.effectSize.value)}` : '-'],
    ['rows (reference / current)', `${f.referenceRows} / ${f.currentRows}`],
  ];
  if (f.bhRejected !== undefined) cells.push(['Benjamini-Hochberg', f.bhRejected ? 'rejected' : 'not rejected']);
  if (f.sampled) cells.push(['sampled', `${f.sampled.reference} / ${f.sampled.current} rows`]);
  if (f.insufficient) cells.push(['not judged', f.insufficient]);
  const rows = cells.map(([k, value]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(value)}</td></tr>`).join('');
  const cls = f.drifted === null ? 'insufficient' : f.drifted ? 'drift' : 'ok';
  return `<section class="feature ${cls}"><h3>${escapeHtml(f.column)} <span class="badge">${escapeHtml(verdict(f.drifted))}</span></h3><div class="row">${chart ? `<div class="chart" id="${chart.id}"></div>` : '<div class="chart none">no chart: a side has no values</div>'}<table>${rows}</table></div></section>`;
}

/**
 * The live or estimated metric over time: one point per recent check of the model on the arm (its
 * window's end), realized where the window was judged and CBPE's estimate otherwise (never both for
 * one check), each with its bootstrap interval as a vertical rule; the held-out baseline and the
 * decay line (baseline minus the tolerance) as horizontal rules.
 */
export function performanceChartSpec(performance: PerformanceReport): Record<string, unknown> {
  const points: MetricPoint[] = performance.history
    .filter((p) => p.metric === performance.metric && (p.value !== null || p.estimated !== null))
    .map((p) => {
      const realized = p.value !== null;
      const [lower, upper] = (realized ? p.interval : p.estimatedInterval) ?? [null, null];
      return { checkId: p.checkId, windowTo: p.windowTo, version: p.version, status: p.status, kind: realized ? 'realized' : 'estimated', value: (realized ? p.value : p.estimated)!, lower, upper };
    });
  const decayBound =
    performance.baseline === null || performance.tolerance === null ? null : performance.baseline + (LOWER_IS_BETTER.has(performance.metric) ? performance.tolerance : -performance.tolerance);
  return metricOverTimeSpec(
    performance.metric,
    points,
    { baseline: performance.baseline, decayBound },
    {
      title: `${performance.metric} over time (realized where judged, CBPE estimate while labels are awaited; ${Number((performance.bootstrap.confidence * 100).toFixed(2))}% intervals)`,
      width: 640,
      height: 220,
    },
  );
}

const interval = (m: MetricValue) => (m.interval ? `[${num(m.interval[0])}, ${num(m.interval[1])}]` : (m.insufficient ?? '-'));

/** The performance section: status and why, realized metrics (judged only) apart from CBPE's estimates, segments, the chart. */
function performanceSection(p: PerformanceReport, chart: ChartSpec | undefined): string {
  const level = `${Number((p.bootstrap.confidence * 100).toFixed(2))}%`;
  const rows = (metrics: MetricValue[]) => metrics.map((m) => `<tr><td>${escapeHtml(m.metric)}</td><td>${escapeHtml(num(m.value))}</td><td>${escapeHtml(interval(m))}</td></tr>`).join('');
  const head = `<tr><th>metric</th><th>value</th><th>${escapeHtml(level)} interval</th></tr>`;
  const status = p.status === 'awaiting-labels' ? 'awaiting labels' : p.status;
  const parts = [
    `<p class="status">performance: <b>${escapeHtml(status.toUpperCase())}</b>${p.decayed ? ' <b>DECAYED</b>' : ''} (${escapeHtml(p.reason)})</p>`,
    `<p>labels: ${p.labels.labelled} of ${p.labels.logged} logged rows (coverage ${escapeHtml(num(p.labels.coverage))}, needs ${escapeHtml(num(p.labels.minLabelCoverage))}); due ${escapeHtml(p.labels.dueAt)} (labelDelay ${escapeHtml(p.labels.labelDelay)}); judged on at least ${p.labels.minRows} rows; metric ${escapeHtml(p.metric)}, held-out ${escapeHtml(num(p.baseline))}, tolerance ${escapeHtml(num(p.tolerance))}</p>`,
  ];
  if (p.realized) {
    parts.push(`<h3>Realized (labelled rows)</h3><table>${head}${rows(p.realized.metrics)}</table>`);
    if (p.realized.segments.length > 0) {
      const segmentRows = p.realized.segments.map((s) => `<tr><td>${escapeHtml(`${s.column}=${s.value}`)}</td><td>${s.rows}</td>${s.metrics.slice(0, 1).map((m) => `<td>${escapeHtml(num(m.value))}</td><td>${escapeHtml(interval(m))}</td>`).join('')}</tr>`).join('');
      parts.push(`<table><tr><th>segment</th><th>rows</th><th>${escapeHtml(p.metric)}</th><th>${escapeHtml(level)} interval</th></tr>${segmentRows}</table>`);
    }
    if (p.realized.segmentsSkipped.length > 0) parts.push(`<p>segments not reported: ${p.realized.segmentsSkipped.map((s) => `${escapeHtml(s.column)} (${escapeHtml(s.reason)})`).join(', ')}</p>`);
  }
  if (p.estimated) parts.push(`<h3>Estimated (CBPE, ${p.estimated.rows} logged outputs, calibrated on ${p.estimated.calibrationRows} held-out rows): not realized values</h3><table>${head}${rows(p.estimated.metrics)}</table>`);
  else if (p.estimateUnavailable) parts.push(`<p>no estimate: ${escapeHtml(p.estimateUnavailable)}</p>`);
  if (chart) parts.push(`<div class="chart" id="${chart.id}"></div>`);
  return parts.join('\n');
}

/** The page: pure, from the report and the chart libraries' browser bundles (concatenated). */
export function driftReportHtml(report: DriftReportPage, libraries: string): string {
  const charts = driftChartSpecs(report);
  const chartOf = new Map(charts.filter((c) => c.of === 'feature').map((c) => [c.column, c]));
  const predictionChart = charts.find((c) => c.of === 'prediction');
  const performanceChart: ChartSpec | undefined = report.performance ? { id: 'chart-performance', column: report.performance.metric, of: 'performance', spec: performanceChartSpec(report.performance) } : undefined;
  const d = report.dataset;
  const title = `Drift check ${report.model ?? ''} ${report.version !== undefined ? `v${report.version}` : ''} ${report.checkId ?? ''}`.replace(/\s+/g, ' ').trim();
  const facts = [
    report.arm && `arm ${report.arm}`,
    report.window && `window ${report.window.from} .. ${report.window.to}`,
    `${report.dataQuality.rows.current} rows against ${report.dataQuality.rows.reference} reference rows`,
    report.checkedAt && `checked ${report.checkedAt}`,
  ].filter((x): x is string => Boolean(x));
  const quality = report.dataQuality.features
    .map((q) => {
      const m = q.missingRate;
      const rose = m.rose ? `missing rate rose ${num(m.change)} (at least ${num(m.lowerBound ?? m.change)} at 95%), beyond validation.maxMissingRateIncrease ${num(m.tolerance ?? 0)}` : '';
      const extra = [rose, q.newCategories && q.newCategories.rows > 0 ? `${q.newCategories.rows} rows of new categories` : '', q.outOfRange && q.outOfRange.rows > 0 ? `${q.outOfRange.rows} values outside [${num(q.outOfRange.min)}, ${num(q.outOfRange.max)}]` : ''].filter(Boolean).join('; ');
      return `<tr><td>${escapeHtml(q.column)}</td><td>${escapeHtml(num(q.missingRate.reference))}</td><td>${escapeHtml(num(q.missingRate.current))}</td><td>${q.schemaViolations.absent + q.schemaViolations.wrongType}</td><td>${escapeHtml(extra || '-')}</td></tr>`;
    })
    .join('');
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="facts">${escapeHtml(facts.join(' · '))}</p>`,
    `<p class="status ${escapeHtml(report.status)}">status: <b>${escapeHtml(report.status.toUpperCase())}</b>${report.insufficient.reason ? ` (${escapeHtml(report.insufficient.reason)})` : ''}</p>`,
    '<h2>Dataset</h2>',
    `<p>Dataset drift: <b>${escapeHtml(verdict(d.drifted))}</b> (${d.driftedColumns} of ${d.columns} columns drifted, share ${escapeHtml(num(d.share))}; drift when &gt;= ${escapeHtml(num(d.driftShare))})</p>`,
    `<p>Benjamini-Hochberg at FDR ${escapeHtml(num(d.bh.fdr))}: ${d.bh.rejected} of ${d.bh.tests} p-value tests rejected</p>`,
    '<h2>Prediction drift</h2>',
    report.prediction ? featureSection(report.prediction, predictionChart) : '<p>no model outputs in the window</p>',
    ...(report.performance ? ['<h2>Performance</h2>', performanceSection(report.performance, performanceChart)] : []),
    '<h2>Features</h2>',
    ...report.features.map((f) => featureSection(f, chartOf.get(f.column))),
    report.skipped.length ? `<p>not checked: ${report.skipped.map((s) => `${escapeHtml(s.column)} (${escapeHtml(s.reason)})`).join(', ')}</p>` : '',
    '<h2>Data quality</h2>',
    `<table class="quality"><tr><th>column</th><th>missing (reference)</th><th>missing (current)</th><th>schema violations</th><th>notes</th></tr>${quality}</table>`,
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h3 .badge{font-size:.7em;padding:.1em .5em;border-radius:.3em;background:#ddd}
.drift h3 .badge{background:#e45756;color:#fff}.ok h3 .badge{background:#54a24b;color:#fff}
.row{display:flex;gap:2em;align-items:flex-start;flex-wrap:wrap}
table{border-collapse:collapse}th,td{text-align:left;padding:.2em .6em;border-bottom:1px solid #eee}
.chart.none{color:#888;width:520px}
</style>
<script>${libraries}</script>
</head>
<body>
${body}
<script type="application/json" id="drift-charts">${scriptJson([...charts, ...(performanceChart ? [performanceChart] : [])].map(({ id, spec }) => ({ id, spec })))}</script>
<script>
for (const chart of JSON.parse(document.getElementById('drift-charts').textContent)) {
  vegaEmbed('#' + chart.id, chart.spec, { actions: false, renderer: 'svg' }).catch((error) => { document.getElementById(chart.id).textContent = String(error); });
}
</script>
</body>
</html>
`;
}
