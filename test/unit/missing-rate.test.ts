import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { judgeMissingRate, wilsonInterval, MISSING_RISE_Z } from '../../lambdas/core/data/missing-rate.js';
import { checkDrift, DriftAccumulator, DriftReportSchema, type WindowSummary } from '../../lambdas/core/monitoring/drift.js';
import { driftReportHtml } from '../../lambdas/core/monitoring/drift-html.js';
import { MonitoringPolicySchema } from '../../lambdas/core/training/model-spec.js';

/** Newcombe's lower bounds computed by statsmodels (scripts/reference_missing_rate.py). */
const fixture = JSON.parse(readFileSync(new URL('../fixtures/missing-rate.json', import.meta.url), 'utf8')) as {
  alpha: number;
  cases: { current: { missing: number; rows: number }; reference: { missing: number; rows: number }; lowerBound: number }[];
};

describe('judgeMissingRate', () => {
  it('gives the one-sided 95% lower bound of the rise as statsmodels\' Newcombe interval at alpha 0.1, to 1e-12', () => {
    expect(fixture.alpha).toBe(0.1);
    expect(fixture.cases.length).toBeGreaterThanOrEqual(10);
    for (const c of fixture.cases) {
      const judged = judgeMissingRate(c.reference, c.current, 0.05);
      expect(Math.abs(judged.lowerBound - c.lowerBound), JSON.stringify(c)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(c.lowerBound)));
      expect(judged.rose).toBe(c.lowerBound > 0.05);
      expect(judged.change).toBeCloseTo(c.current.missing / c.current.rows - c.reference.missing / c.reference.rows, 14);
    }
  });

  it('judges large samples by the rise against the tolerance and small ones by the evidence', () => {
    // A 1-point rise on 10,000 rows each is certain but within tolerance; 8 points on 1,000 rows against none is beyond it.
    expect(judgeMissingRate({ missing: 1900, rows: 10_000 }, { missing: 2000, rows: 10_000 }, 0.05).rose).toBe(false);
    expect(judgeMissingRate({ missing: 0, rows: 1000 }, { missing: 80, rows: 1000 }, 0.05).rose).toBe(true);
    // 6 points there is not surely beyond 5.
    expect(judgeMissingRate({ missing: 0, rows: 1000 }, { missing: 60, rows: 1000 }, 0.05).rose).toBe(false);
    // 1 of 40 against 0 of 40: the same 2.5-point rise proves nothing.
    expect(judgeMissingRate({ missing: 0, rows: 40 }, { missing: 1, rows: 40 }, 0).rose).toBe(false);
    // A fall never counts.
    expect(judgeMissingRate({ missing: 40, rows: 1000 }, { missing: 1, rows: 1000 }, 0).rose).toBe(false);
  });

  it('gives no evidence when a side has no rows', () => {
    expect(judgeMissingRate({ missing: 0, rows: 0 }, { missing: 5, rows: 10 }, 0.05)).toEqual({ reference: 0, current: 0.5, change: 0.5, lowerBound: -1, tolerance: 0.05, rose: false });
  });

  it('builds Wilson intervals that stay inside [0, 1]', () => {
    expect(wilsonInterval(0, 40, MISSING_RISE_Z)[0]).toBe(0);
    expect(wilsonInterval(40, 40, MISSING_RISE_Z)[1]).toBe(1);
    const [low, high] = wilsonInterval(8, 40, MISSING_RISE_Z);
    expect(low).toBeLessThan(0.2);
    expect(high).toBeGreaterThan(0.2);
  });
});

describe('the drift check\'s data quality', () => {
  const features = [
    { name: 'age', type: 'numeric' as const },
    { name: 'plan', type: 'categorical' as const },
  ];
  /** `rows` rows, the first `ageMissing` without an age (null) and the first `planAbsent` without the plan key at all. */
  const side = (rows: number, ageMissing: number, planAbsent = 0, reference?: WindowSummary) => {
    const accumulator = new DriftAccumulator({ features, task: 'regression', ...(reference && { reference }) });
    accumulator.addRows(
      Array.from({ length: rows }, (_, i) => ({ age: i < ageMissing ? null : 20 + (i % 50), ...(i < planAbsent ? {} : { plan: ['basic', 'plus', 'pro'][i % 3] }) })),
      Array.from({ length: rows }, (_, i) => i % 7),
    );
    return accumulator.summary();
  };
  const quality = (reference: WindowSummary, current: WindowSummary, maxMissingRateIncrease?: number) =>
    checkDrift({ policy: MonitoringPolicySchema.parse({ minRows: 10 }), task: 'regression', reference, current, ...(maxMissingRateIncrease !== undefined && { maxMissingRateIncrease }) }).dataQuality.features;

  it('reports each column\'s missing-rate change with the gate\'s verdict, absent keys counted as missing', () => {
    const reference = side(1000, 0);
    const [age, plan] = quality(reference, side(1000, 80, 60, reference));
    const gate = judgeMissingRate({ missing: 0, rows: 1000 }, { missing: 80, rows: 1000 }, 0.05);
    expect(age!.missingRate).toEqual({ reference: 0, current: 0.08, change: 0.08, lowerBound: gate.lowerBound, tolerance: 0.05, rose: true });
    expect(plan!.missingRate).toMatchObject({ current: 0.06, rose: false });
    expect(plan!.schemaViolations.absent).toBe(60);
  });

  it('keeps the verdict through the stored report and names it in the HTML report', () => {
    const reference = side(1000, 0);
    const report = checkDrift({ policy: MonitoringPolicySchema.parse({ minRows: 10 }), task: 'regression', reference, current: side(1000, 80, 0, reference) });
    expect(DriftReportSchema.parse(JSON.parse(JSON.stringify(report))).dataQuality.features[0]!.missingRate.rose).toBe(true);
    const html = driftReportHtml(report, '');
    expect(html).toContain('missing rate rose 0.08000 (at least');
    expect(html).toContain('beyond validation.maxMissingRateIncrease 0.05000');
    expect(html.match(/missing rate rose/g)).toHaveLength(1);
  });

  it('takes the tolerance from the spec, and a fall never counts', () => {
    const reference = side(1000, 0);
    expect(quality(reference, side(1000, 80, 0, reference), 0.1)[0]!.missingRate).toMatchObject({ tolerance: 0.1, rose: false });
    const before = side(1000, 300);
    expect(quality(before, side(1000, 10, 0, before))[0]!.missingRate).toMatchObject({ change: -0.29, rose: false });
  });
});
