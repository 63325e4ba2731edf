import { describe, expect, it } from 'vitest';
import { evaluateGate } from '../../lambdas/core/evaluation/gate.js';
import { rocAuc } from '../../lambdas/core/evaluation/metrics.js';
import { GatePolicySchema } from '../../lambdas/core/training/model-spec.js';

describe('rocAuc', () => {
  it('matches a hand count of correctly ordered positive/negative pairs', () => {
    // Pairs (pos, neg): 0.35>0.1 yes, 0.35>0.4 no, 0.8>0.1 yes, 0.8>0.4 yes: 3 of 4.
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    // 3 positives x 2 negatives; positives 0.9 (beats both), 0.3 (beats 0.2), 0.1 (beats none): 3 of 6.
    expect(rocAuc([1, 0, 1, 0, 1], [0.9, 0.2, 0.3, 0.5, 0.1])).toBeCloseTo(0.5, 12);
  });

  it('counts a tied positive/negative pair as one half', () => {
    // pos 0.5 vs neg 0.5: 1/2, vs neg 0.2: 1; pos 0.9 beats both: 2. (0.5 + 1 + 2) / 4.
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBe(0.875);
    // Everything tied: no information.
    expect(rocAuc([0, 1, 1, 0, 1], [0.3, 0.3, 0.3, 0.3, 0.3])).toBe(0.5);
    // Ties among positives only do not matter.
    expect(rocAuc([1, 1, 0, 0], [0.7, 0.7, 0.1, 0.2])).toBe(1);
  });

  it('is 1 for a perfect ranking and 0 for a reversed one', () => {
    expect(rocAuc([0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9])).toBe(1);
    expect(rocAuc([0, 0, 0, 1, 1], [0.9, 0.8, 0.7, 0.2, 0.1])).toBe(0);
  });

  it('does not depend on the order of the rows', () => {
    expect(rocAuc([1, 1, 0, 0], [0.8, 0.35, 0.4, 0.1])).toBe(0.75);
  });

  it('is NaN with a single class', () => {
    expect(rocAuc([1, 1, 1], [0.1, 0.5, 0.9])).toBeNaN();
    expect(rocAuc([0, 0], [0.1, 0.5])).toBeNaN();
  });
});

describe('evaluateGate', () => {
  const policy = GatePolicySchema.parse({ minAccuracy: 0.75, minRocAuc: 0.8, minRows: 100 });
  const good = { accuracy: 0.85, rocAuc: 0.9, logLoss: 0.4, predictionStd: 0.2 };
  const failing = (report: ReturnType<typeof evaluateGate>) => report.checks.filter((c) => !c.passed).map((c) => c.name);

  it('passes when every threshold is met, including exactly at the threshold', () => {
    const report = evaluateGate(good, policy, 500);
    expect(report.passed).toBe(true);
    expect(failing(report)).toEqual([]);
    expect(report.summary).toMatch(/^gate passed: /);
    expect(evaluateGate({ ...good, accuracy: 0.75, rocAuc: 0.8 }, policy, 100).passed).toBe(true);
  });

  it('fails naming the metric, its value and the threshold', () => {
    const report = evaluateGate({ ...good, accuracy: 0.5 }, policy, 500);
    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual(['accuracy']);
    expect(report.summary).toBe('gate failed: accuracy 0.5 < 0.75');
    const auc = evaluateGate({ ...good, rocAuc: 0.79999 }, policy, 500);
    expect(failing(auc)).toEqual(['rocAuc']);
    expect(auc.summary).toBe('gate failed: rocAuc 0.79999 < 0.8');
    // Rounding must never print a failing value as equal to its threshold.
    expect(evaluateGate({ ...good, rocAuc: 0.79999999 }, policy, 500).summary).toBe('gate failed: rocAuc 0.79999999 < 0.8');
  });

  it('fails on too few held-out rows', () => {
    const report = evaluateGate(good, policy, 99);
    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual(['min_rows']);
    expect(report.summary).toMatch(/99 held-out rows/);
  });

  it('fails on a non-finite metric, even one with no threshold', () => {
    const report = evaluateGate({ ...good, logLoss: Number.POSITIVE_INFINITY }, policy, 500);
    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual(['metrics_finite']);
    expect(report.summary).toMatch(/not finite: logLoss/);
    const nanAuc = evaluateGate({ ...good, rocAuc: Number.NaN }, policy, 500);
    expect(failing(nanAuc)).toEqual(['metrics_finite', 'rocAuc']);
  });

  it('fails a model whose predictions do not vary', () => {
    const report = evaluateGate({ ...good, predictionStd: 1e-9 }, policy, 500);
    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual(['predictions_vary']);
    expect(failing(evaluateGate({ ...good, predictionStd: 0 }, policy, 500))).toEqual(['predictions_vary']);
  });

  it('fails a threshold whose metric was not measured', () => {
    const { accuracy: _dropped, ...rest } = good;
    const report = evaluateGate(rest, policy, 500);
    expect(failing(report)).toEqual(['accuracy']);
    expect(report.summary).toMatch(/accuracy was not measured/);
  });

  it('does not check thresholds the policy leaves out', () => {
    const lenient = GatePolicySchema.parse({ minRows: 10 });
    const report = evaluateGate({ accuracy: 0.1, rocAuc: 0.2, predictionStd: 0.1 }, lenient, 50);
    expect(report.passed).toBe(true);
    expect(report.checks.map((c) => c.name)).not.toContain('accuracy');
    expect(report.checks.map((c) => c.name)).not.toContain('rocAuc');
  });
});
