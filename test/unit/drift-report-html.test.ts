import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DriftReportLink } from '../../lambdas/contract/drift.js';
import { driftChartSpecs, driftReportHtml, escapeHtml } from '../../lambdas/core/monitoring/drift-html.js';
import { checkDrift, DriftAccumulator, DriftReportSchema, HISTOGRAM_BINS, type MonitoredFeature } from '../../lambdas/core/monitoring/drift.js';
import { MonitoringPolicySchema } from '../../lambdas/core/training/model-spec.js';
import { report as reportAction } from '../../lib/client/actions/drift.js';
import type { Cli } from '../../lib/client/cli.js';
import type { PlatformClient } from '../../lib/client/platform-client.js';

const EVIL = '<script>alert(1)</script>';
const EVIL_CATEGORY = '</script><img src=x onerror=alert(2)>';
const features: MonitoredFeature[] = [
  { name: 'age', type: 'numeric' },
  { name: EVIL, type: 'numeric' },
  { name: 'plan', type: 'categorical' },
];
/** Stands in for the three browser bundles: the page must carry it verbatim. */
const LIBRARIES = '/* vega vega-lite vega-embed */ window.vegaEmbed = function () { return Promise.resolve(); };';

/** A reference and a window whose `age` is shifted; `plan` gains a hostile category in the window. */
function driftReport() {
  const referenceSide = new DriftAccumulator({ features, task: 'binary_classification' });
  for (let i = 0; i < 400; i += 1) referenceSide.addRow({ age: 20 + ((i * 7) % 50), [EVIL]: (i * 13) % 17, plan: i % 3 === 0 ? 'basic' : 'pro' }, { label: 'yes', probability: ((i * 11) % 100) / 100 });
  const reference = referenceSide.summary();
  const current = new DriftAccumulator({ features, task: 'binary_classification', reference });
  for (let i = 0; i < 300; i += 1) {
    current.addRow({ age: 20 + ((i * 7) % 50) + 15, [EVIL]: (i * 13) % 17, plan: i % 3 === 0 ? 'basic' : i % 3 === 1 ? 'pro' : EVIL_CATEGORY }, { label: 'yes', probability: ((i * 11) % 100) / 100 });
  }
  return checkDrift({ policy: MonitoringPolicySchema.parse({}), task: 'binary_classification', reference, current: current.summary(), window: { from: '2026-12-06T00:00:00.000Z', to: '2026-12-06T04:00:00.000Z' } });
}

describe('the drift report charts', () => {
  it('carries binned counts of both sides per feature and for the prediction, and the report still parses', () => {
    const report = driftReport();
    expect(DriftReportSchema.parse(JSON.parse(JSON.stringify(report)))).toEqual(report);
    const byColumn = new Map(report.histograms!.features.map((h) => [h.column, h]));
    const age = byColumn.get('age')!;
    expect(age.kind).toBe('bins');
    expect(age.edges).toHaveLength(HISTOGRAM_BINS + 1);
    // Exact counts: every clean row lands in one bin.
    expect([age.reference.reduce((a, b) => a + b, 0), age.current.reduce((a, b) => a + b, 0), age.exact]).toEqual([400, 300, true]);
    // The shift moves mass to the upper bins.
    expect(age.current.slice(0, 5).reduce((a, b) => a + b, 0)).toBeLessThan(age.reference.slice(0, 5).reduce((a, b) => a + b, 0));
    // 17 distinct values: one bar per value, in numeric order.
    expect(byColumn.get(EVIL)!.kind).toBe('categories');
    expect(byColumn.get(EVIL)!.categories!.slice(0, 3)).toEqual(['0', '1', '2']);
    const plan = byColumn.get('plan')!;
    expect(plan.categories).toContain(EVIL_CATEGORY);
    expect(plan.reference[plan.categories!.indexOf(EVIL_CATEGORY)]).toBe(0);
    expect(report.histograms!.prediction!.column).toBe('prediction');
  });

  it('holds one Vega-Lite spec per feature plus the prediction, the libraries inlined, no external script, user text escaped', () => {
    const report = driftReport();
    const html = driftReportHtml({ ...report, checkId: '20261206T040000000Z-abc123', model: 'churn', version: 3, arm: 'production' }, LIBRARIES);
    const charts = JSON.parse(/<script type="application\/json" id="drift-charts">([^]*?)<\/script>/.exec(html)![1]!) as { id: string; spec: { $schema: string; title: string; data: { values: { value?: string }[] } } }[];
    expect(charts).toHaveLength(report.features.length + 1);
    expect(charts.every((c) => c.spec.$schema.includes('vega-lite') && html.includes(`id="${c.id}"`))).toBe(true);
    expect(driftChartSpecs(report).map((c) => c.column)).toEqual([...report.features.map((f) => f.column), 'prediction']);
    // The hostile category survives as data, inside the JSON (whose `<` are escaped).
    expect(charts.some((c) => c.spec.data.values.some((v) => v.value === EVIL_CATEGORY))).toBe(true);
    expect(charts[1]!.spec.title.startsWith(`${EVIL}: `)).toBe(true);

    expect(html).toContain(`<script>${LIBRARIES}</script>`);
    expect(html).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(html).not.toMatch(/<link[^>]*href=["']?https?:/i);
    // User text never becomes markup: exactly the page's own three script elements open.
    expect(html).not.toContain(EVIL);
    expect(html).not.toContain('<img');
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html).toContain(escapeHtml(EVIL));
    expect(html).toContain('Benjamini-Hochberg at FDR 0.05000: ');
    expect(html).toMatch(/Dataset drift: <b>(DRIFT|ok|insufficient)<\/b>/);
    expect(html).toContain('drift when &lt;= 0.05000');
  });

  it('has specs Vega-Lite compiles and Vega renders: bars of both sides, the title as text', async () => {
    for (const chart of driftChartSpecs(driftReport())) {
      const view = new View(parse(compile(chart.spec as unknown as TopLevelSpec).spec), { renderer: 'none' });
      const svg = await view.toSVG();
      view.finalize();
      // One bar per bin and side; each labelled with the column, escaped.
      const values = (chart.spec.data as { values: unknown[] }).values;
      expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(values.length);
      expect(svg).toContain(`aria-label="${escapeHtml(chart.column)}`);
      expect(svg).toMatch(/side: reference/);
      expect(svg).toMatch(/side: current/);
      expect(svg).not.toContain('<script');
    }
  });

  it('draws no chart for a feature without values, and says so', () => {
    const report = driftReport();
    const stripped = { ...report, histograms: { features: report.histograms!.features.filter((h) => h.column !== 'plan'), prediction: null } };
    const html = driftReportHtml(stripped, LIBRARIES);
    expect(driftChartSpecs(stripped)).toHaveLength(report.features.length - 1);
    expect(html).toContain('no chart: a side has no values');
  });
});

describe('mlops drift report', () => {
  let dir: string | undefined;
  afterEach(async () => {
    vi.unstubAllGlobals();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function fakeCli(printed: unknown[]) {
    const asked: string[] = [];
    const link = (model: string, checkId: string): DriftReportLink => ({ model, checkId, htmlReportUri: `s3://reports/drift-checks/${model}/${checkId}.html`, url: `http://s3.test/${checkId}?X-Amz-Signature=x`, expiresAt: '2026-12-06T05:00:00.000Z' });
    const platform = {
      listDriftChecks: async (model: string) => ({ model, checks: [{ checkId: '20261206T040000000Z-aaaaaa' }] }),
      getDriftReportLink: async (model: string, checkId: string) => (asked.push(checkId), link(model, checkId)),
    } as unknown as PlatformClient;
    const cli = { print: (json: unknown) => printed.push(json), progress: () => undefined, client: async () => platform } as unknown as Cli;
    return { cli, asked };
  }

  it('writes the latest check\'s HTML to --out, or a given check\'s to drift-<model>-<checkId>.html', async () => {
    dir = await mkdtemp(join(tmpdir(), 'drift-report-'));
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => (fetched.push(url), new Response(`<html>${url}</html>`)));
    const printed: unknown[] = [];
    const { cli, asked } = fakeCli(printed);

    const out = join(dir, 'latest.html');
    await reportAction(cli, 'churn', { out });
    expect(asked).toEqual(['20261206T040000000Z-aaaaaa']);
    expect(await readFile(out, 'utf8')).toBe('<html>http://s3.test/20261206T040000000Z-aaaaaa?X-Amz-Signature=x</html>');
    expect(printed[0]).toMatchObject({ checkId: '20261206T040000000Z-aaaaaa', file: out });

    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await reportAction(cli, 'churn', { check: '20261206T030000000Z-bbbbbb' });
    } finally {
      process.chdir(cwd);
    }
    expect(await readFile(join(dir, 'drift-churn-20261206T030000000Z-bbbbbb.html'), 'utf8')).toContain('bbbbbb');
    expect(fetched).toHaveLength(2);
  });

  it('refuses a bad model name before calling anything', async () => {
    const { cli, asked } = fakeCli([]);
    await expect(reportAction(cli, 'Not A Model', {})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(asked).toEqual([]);
  });
});
