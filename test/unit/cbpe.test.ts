import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calibrate, cbpeWindow, estimateAll, estimateMetric, fitIsotonic, CBPE_METRICS } from '../../lambdas/core/monitoring/cbpe.js';

interface CbpeCase {
  name: string;
  heldOut: { scores: number[]; labels: number[] };
  window: { scores: number[]; labels: number[] };
  calibrated: number[];
  estimated: Record<(typeof CBPE_METRICS)[number], number>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/cbpe.json', import.meta.url), 'utf8')) as { versions: Record<string, string>; cases: CbpeCase[] };

/**
 * Tolerance 1e-9 absolute: both sides compute the same sums on the same doubles, only in another
 * order (numpy's pairwise summation against a running sum), which moves the last few bits; the ROC AUC
 * estimate rounds its running sums to 5 decimals as NannyML does, so a sum landing on the other side of
 * a rounding edge would move it by about 1e-5 / rows, far above 1e-9: the fixture's vectors have no
 * such edge (the test would say so).
 */
const TOLERANCE = 1e-9;

describe('CBPE against NannyML 0.13.1 (test/fixtures/cbpe.json)', () => {
  it('was made by the pinned NannyML', () => {
    expect(fixture.versions.nannyml).toBe('0.13.1');
    expect(fixture.cases.length).toBeGreaterThanOrEqual(3);
  });

  for (const c of fixture.cases) {
    it(`${c.name}: the isotonic calibration equals scikit-learn's on every window score`, () => {
      const calibration = fitIsotonic(c.heldOut.scores, c.heldOut.labels);
      const worst = Math.max(...c.window.scores.map((s, i) => Math.abs(calibrate(calibration, s) - c.calibrated[i]!)));
      expect(worst).toBeLessThan(TOLERANCE);
    });

    it(`${c.name}: expected accuracy, F1 and ROC AUC equal NannyML's estimates`, () => {
      const window = cbpeWindow(fitIsotonic(c.heldOut.scores, c.heldOut.labels), c.window.scores);
      const estimated = estimateAll(window);
      for (const metric of CBPE_METRICS) expect(Math.abs(estimated[metric] - c.estimated[metric]), metric).toBeLessThan(TOLERANCE);
    });
  }
});

describe('CBPE', () => {
  it('clips scores outside the held-out range to its ends and interpolates between thresholds', () => {
    const calibration = fitIsotonic([0.2, 0.4, 0.6, 0.8], [0, 0, 1, 1]);
    expect(calibrate(calibration, 0)).toBe(0);
    expect(calibrate(calibration, 1)).toBe(1);
    expect(calibrate(calibration, 0.5)).toBeCloseTo(0.5, 12);
  });

  it('pools violators: a decreasing run becomes its mean', () => {
    const calibration = fitIsotonic([0.1, 0.2, 0.3, 0.4], [1, 0, 0, 1]);
    expect([...calibration.y]).toEqual([1 / 3, 1 / 3, 1]);
  });

  it('weights act as repeated rows (as the bootstrap counts use them), per position from the highest score down', () => {
    const calibration = fitIsotonic([0.1, 0.3, 0.45, 0.55, 0.7, 0.9], [0, 0, 1, 0, 1, 1]);
    const weighted = cbpeWindow(calibration, [0.35, 0.8, 0.15, 0.6]);
    expect([...weighted.calibrated]).toEqual([0.8, 0.6, 0.35, 0.15].map((s) => calibrate(calibration, s)));
    const repeated = cbpeWindow(calibration, [0.15, 0.15, 0.35, 0.6, 0.6, 0.6, 0.8]);
    for (const metric of CBPE_METRICS) expect(estimateMetric(weighted, metric, Float64Array.from([1, 3, 1, 2]))).toBeCloseTo(estimateMetric(repeated, metric, new Float64Array(7).fill(1)), 12);
  });

  it('treats tied scores as one step of the ROC curve, whatever their order', () => {
    const calibration = fitIsotonic([0.1, 0.3, 0.45, 0.55, 0.7, 0.9], [0, 0, 1, 0, 1, 1]);
    const tied = estimateMetric(cbpeWindow(calibration, [0.6, 0.6, 0.3, 0.3, 0.8]), 'rocAuc');
    expect(estimateMetric(cbpeWindow(calibration, [0.3, 0.8, 0.6, 0.3, 0.6]), 'rocAuc')).toBe(tied);
    expect(cbpeWindow(calibration, [0.6, 0.6, 0.3, 0.3, 0.8]).runEnds).toEqual(Uint8Array.from([1, 0, 1, 0, 1]));
  });

  it('has no ROC AUC estimate when every calibrated probability is 0 or 1 on one side', () => {
    const window = cbpeWindow(fitIsotonic([0.2, 0.8], [1, 1]), [0.3, 0.7]);
    expect(estimateMetric(window, 'rocAuc')).toBeNaN();
    expect(estimateMetric(window, 'accuracy')).toBe(0.5);
  });
});
