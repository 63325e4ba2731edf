import { parse, View } from 'vega';
import { expressionInterpreter } from 'vega-interpreter';
import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { aliasMoves, aliasTimelineSpec, columnSpec, driftOverTimeSpec, gateIntervals, gateIntervalSpec, metricOverTimeSpec, metricPoints, runMetricsSpec, type Spec } from '../../lib/client/console/charts.js';
import type { DriftCheckRecord } from '../../lambdas/contract/drift.js';
import type { StoredGateReport } from '../../lambdas/core/evaluation/gate-report.js';
import type { AuditEvent } from '../../lambdas/core/registry/records.js';

/** Compiles and runs a spec as the page does (Vega's expression interpreter, no eval); answers the rows of its first data set with values. */
async function run(spec: Spec): Promise<{ view: View; rows: (name: string) => unknown[] }> {
  const vega = compile(spec as never).spec;
  const view = new View(parse(vega, undefined, { ast: true }), { expr: expressionInterpreter, renderer: 'none' } as never);
  await view.runAsync();
  return { view, rows: (name) => view.data(name) as unknown[] };
}

const report: StoredGateReport = {
  runId: 'r1',
  model: 'credit',
  passed: false,
  summary: 'failed: champion.rocAuc',
  champion: { version: 1 },
  insufficient: 1,
  checks: [
    { name: 'min_rows', passed: true, status: 'pass', value: 200, threshold: '>= 100', detail: '200 held-out rows' },
    { name: 'champion.rocAuc', passed: false, status: 'fail', value: -0.08, threshold: 'interval above -0.01', detail: '', metric: 'rocAuc', interval: [-0.12, -0.04], tolerance: 0.01, candidate: 0.8, champion: 0.88 },
    { name: 'champion.rocAuc[region=north]', passed: true, status: 'insufficient', value: null, threshold: '', detail: 'too few rows', metric: 'rocAuc', segment: { column: 'region', value: 'north' }, interval: [-0.3, 0.2], tolerance: 0.01 },
    { name: 'champion.accuracy[region=south]', passed: true, status: 'insufficient', value: null, threshold: '', detail: 'no rows', metric: 'accuracy', segment: { column: 'region', value: 'south' }, interval: [null, null] },
  ],
};

describe('the console charts', () => {
  it('draws each compared metric as its interval against the tolerance, overall and per segment, insufficient marked', async () => {
    const rows = gateIntervals(report);
    expect(rows).toEqual([
      expect.objectContaining({ metric: 'rocAuc', segment: 'overall', lower: -0.12, upper: -0.04, tolerance: 0.01, status: 'fail' }),
      expect.objectContaining({ metric: 'rocAuc', segment: 'region=north', status: 'insufficient' }),
    ]);
    const values = (await run(gateIntervalSpec(rows))).rows('source_0') as { limit?: number; label?: string }[];
    expect(values.map((v) => v.label)).toEqual(expect.arrayContaining(['rocAuc (overall)', 'rocAuc (region=north)']));
    expect(values.find((v) => v.label === 'rocAuc (overall)')!.limit).toBe(-0.01);
  });

  it('builds specs that compile and run without eval for runs, columns, drift over time and the alias timeline', async () => {
    await run(runMetricsSpec([{ name: 'accuracy', values: [0.8, 0.82] }, { name: 'rocAuc', values: [0.9, null] }], ['r1', 'r2']));
    await run(columnSpec({ name: 'age', type: 'numeric', count: 10, missing: 0, values: { '20': 4, '30': 6 } })!);
    await run(columnSpec({ name: 'city', type: 'string', count: 10, missing: 1, top: [['a', 5], ['b', 4]], other: 0 } as never)!);
    const quantiles = columnSpec({
      name: 'income',
      type: 'numeric',
      count: 100,
      missing: 0,
      numeric: { count: 100, min: 0, max: 100, mean: 50, std: 10, m2: 1, quantiles: { p25: 20, p50: 50, p75: 60 }, sketch: {} as never },
    })!;
    // Four bins between min, the quartiles (keyed as profiles key them) and max, each a quarter of the rows.
    expect((quantiles.data as { values: { share: number; density: number }[] }).values.map((v) => v.share)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect((quantiles.data as { values: { density: number }[] }).values[1]!.density).toBeCloseTo(0.25 / 30);
    await run(quantiles);
    await run(driftOverTimeSpec([{ checkedAt: '2026-12-06T01:00:00Z', feature: 'age', score: 0.2, threshold: 0.05, drifted: false }]));
    await run(aliasTimelineSpec([{ at: '2026-12-06T01:00:00Z', alias: 'production', version: 1, actor: 'me', action: 'alias.moved' }]));
  });

  it('draws the metric over the checks: realized and estimated points apart (colour, shape, legend), intervals, the held-out baseline', async () => {
    const check = (at: string, performance: DriftCheckRecord['performance']): DriftCheckRecord => ({
      checkId: `20261206T0${at}0000000Z-abcdef`,
      model: 'credit',
      version: 2,
      arm: 'production',
      window: { from: '2026-12-06T00:00:00Z', to: `2026-12-06T0${at}:00:00Z` },
      status: 'no_drift',
      datasetDrift: false,
      driftedFeatures: [],
      predictionDrift: false,
      rows: 400,
      referenceRows: 200,
      referenceSource: 'training-split',
      reportUri: 's3://x',
      trigger: 'manual',
      performance,
      actor: 'me',
      checkedAt: `2026-12-06T0${at}:00:01Z`,
    });
    const base = { decayed: null, metric: 'rocAuc', baseline: 0.88, labelled: 0, coverage: 0 };
    const checks = [
      // Newest first, as the list route answers.
      check('4', { ...base, status: 'awaiting-labels', value: null, estimated: 0.86, estimatedInterval: [0.83, 0.89], interval: null }),
      check('3', { ...base, status: 'judged', decayed: false, value: 0.87, estimated: null, interval: [0.84, 0.9], labelled: 300, coverage: 0.75 }),
      check('2', { ...base, status: 'insufficient', value: null, estimated: null, labelled: 3, coverage: 0.01 }),
      check('1', { ...base, status: 'judged', decayed: true, value: 0.8, estimated: null, interval: null, labelled: 300, coverage: 0.75 }),
      check('0', undefined),
    ];
    const series = metricPoints(checks)!;
    expect(series.metric).toBe('rocAuc');
    expect(series.points.map((p) => [p.kind, p.value, p.lower, p.upper])).toEqual([
      ['estimated', 0.86, 0.83, 0.89],
      ['realized', 0.87, 0.84, 0.9],
      ['realized', 0.8, null, null],
    ]);
    const { view } = await run(metricOverTimeSpec(series.metric, series.points, { baseline: series.baseline }) as Spec);
    // Walk the drawn scene: every point's kind with its fill and shape, the interval rules, the baseline rule.
    const symbols: { kind: string; fill: string; shape: string }[] = [];
    const rules: { kind?: string; baseline?: number }[] = [];
    const legends: string[] = [];
    const marktypes = new Set<string>();
    const walk = (node: { marktype?: string; role?: string; items?: unknown[]; datum?: Record<string, unknown>; fill?: string; shape?: string; text?: string }, marktype?: string, role?: string) => {
      if (node.marktype) marktypes.add(node.marktype);
      if (marktype === 'symbol' && role === 'mark' && node.datum) symbols.push({ kind: String(node.datum.kind), fill: node.fill!, shape: node.shape! });
      if (marktype === 'rule' && role === 'mark' && node.datum) rules.push(node.datum as never);
      if (marktype === 'text' && role === 'legend-label' && node.datum) legends.push(String(node.datum.label));
      for (const item of node.items ?? []) walk(item as never, node.marktype ?? marktype, node.role ?? role);
    };
    walk((view.scenegraph() as unknown as { root: never }).root);
    const byKind = (kind: string) => symbols.filter((s) => s.kind === kind);
    expect(byKind('realized')).toHaveLength(2);
    expect(byKind('estimated')).toHaveLength(1);
    // Merged into one series, both kinds would share one colour and one shape.
    expect(new Set(byKind('realized').map((s) => `${s.fill}/${s.shape}`)).size).toBe(1);
    expect(byKind('estimated')[0]!.fill).not.toBe(byKind('realized')[0]!.fill);
    expect(byKind('estimated')[0]!.shape).not.toBe(byKind('realized')[0]!.shape);
    expect(legends).toEqual(['realized', 'estimated']);
    // No line joins the points; an interval rule per point that has one, and the baseline.
    expect(marktypes.has('line')).toBe(false);
    expect(rules.filter((r) => r.kind).map((r) => r.kind)).toEqual(['estimated', 'realized']);
    expect(rules.filter((r) => r.baseline !== undefined).map((r) => r.baseline)).toEqual([0.88]);
    expect(metricPoints([check('0', undefined)])).toBeUndefined();
  });

  it('reads alias moves, rollbacks and cleared aliases from the audit log', () => {
    const event = (action: AuditEvent['action'], before: unknown, after: unknown, at: string): AuditEvent => ({ model: 'm', eventId: at, at, actor: 'arn:me', action, reason: 'r', version: 2, before, after });
    const moves = aliasMoves([
      event('version.registered', null, null, 't0'),
      event('alias.moved', null, { alias: 'production', version: 1 }, 't1'),
      event('alias.moved', { alias: 'production', version: 1 }, { alias: 'production', version: 2 }, 't2'),
      event('alias.rolled_back', { production: { version: 2 } }, { production: { alias: 'production', version: 1 }, previous: null }, 't3'),
      event('alias.cleared', [{ alias: 'canary', version: 2 }], { rolloutId: 'x', cleared: ['canary'] }, 't4'),
    ]);
    expect(moves.map((m) => [m.at, m.alias, m.version])).toEqual([
      ['t1', 'production', 1],
      ['t2', 'production', 2],
      ['t3', 'production', 1],
      ['t4', 'canary', null],
    ]);
  });
});
