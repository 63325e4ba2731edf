import { describe, expect, it } from 'vitest';
import {
  argmax,
  classificationReport,
  expectedCalibrationError,
  pickRows,
  regressionReport,
  segmentBy,
  segmentReports,
} from '../../lambdas/core/evaluation/metrics.js';

// Six binary rows; P(class 1) 0.9, 0.3, 0.6, 0.4, 0.7, 0.2 for labels 1, 0, 1, 1, 0, 0.
const BINARY_LABELS = [1, 0, 1, 1, 0, 0];
const BINARY_PROBS = [
  [0.1, 0.9],
  [0.7, 0.3],
  [0.4, 0.6],
  [0.6, 0.4],
  [0.3, 0.7],
  [0.8, 0.2],
];

// Six rows, three classes. Argmax: 0, 1, 1, 2, 2, 2 against labels 0, 0, 1, 1, 2, 2.
const MULTI_LABELS = [0, 0, 1, 1, 2, 2];
const MULTI_PROBS = [
  [0.7, 0.2, 0.1],
  [0.4, 0.5, 0.1],
  [0.2, 0.6, 0.2],
  [0.3, 0.3, 0.4],
  [0.1, 0.2, 0.7],
  [0.2, 0.3, 0.5],
];

describe('classificationReport: binary', () => {
  const report = classificationReport(BINARY_LABELS, BINARY_PROBS);

  it('matches a hand count of the confusion matrix', () => {
    // Predicted 1, 0, 1, 0, 1, 0: TP 2 (rows 0, 2), FP 1 (row 4), FN 1 (row 3), TN 2.
    expect(report.accuracy).toBe(4 / 6);
    expect(report.precision).toBe(2 / 3);
    expect(report.recall).toBe(2 / 3);
    expect(report.f1).toBeCloseTo(2 / 3, 15);
    expect(report.rows).toBe(6);
  });

  it('computes ROC AUC, log loss and calibration error by hand', () => {
    // Positives 0.9, 0.6, 0.4 against negatives 0.3, 0.7, 0.2: 3 + 2 + 2 of 9 pairs.
    expect(report.rocAuc).toBe(7 / 9);
    expect(report.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.7) + Math.log(0.6) + Math.log(0.4) + Math.log(0.3) + Math.log(0.8)) / 6, 12);
    // Top-label confidences: 0.9 right; 0.7 right and 0.7 wrong; 0.6 right and 0.6 wrong; 0.8 right.
    // Bins (0.8,0.9]: 1/6*|1-0.9|; (0.7,0.8]: 1/6*|1-0.8|; (0.6,0.7]: 2/6*|0.5-0.7|; (0.5,0.6]: 2/6*|0.5-0.6|.
    // (0.1 + 0.2 + 0.4 + 0.2) / 6 = 0.15.
    expect(report.calibrationError).toBeCloseTo(0.15, 12);
  });

  it('scores the class given as positiveClass', () => {
    const zero = classificationReport(BINARY_LABELS, BINARY_PROBS, 0);
    // Predicted 0 on rows 1, 3, 5 (two of them labelled 0); labelled 0 on rows 1, 4, 5 (two predicted 0).
    expect(zero.precision).toBe(2 / 3);
    expect(zero.recall).toBe(2 / 3);
    // P(0) = 1 - P(1) reverses the ranking and the roles: the same 7 of 9 pairs.
    expect(zero.rocAuc).toBe(7 / 9);
    expect(zero.accuracy).toBe(report.accuracy);

    const skewed = classificationReport([1, 1, 0, 0], [[0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1]]);
    // Class 1: predicted on rows 0, 2 (one right); labelled on rows 0, 1 (one found). Class 0: the same here.
    expect(skewed.precision).toBe(0.5);
    expect(skewed.recall).toBe(0.5);
    const asZero = classificationReport([1, 1, 1, 0], [[0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1]], 0);
    // Class 0: predicted on rows 1, 3 (row 3 right): precision 1/2; labelled only on row 3, found: recall 1.
    expect(asZero.precision).toBe(0.5);
    expect(asZero.recall).toBe(1);
    expect(asZero.f1).toBeCloseTo(2 / 3, 15);
  });

  it('reports 0 precision, recall and F1 when nothing is predicted positive (zero_division = 0)', () => {
    const none = classificationReport([1, 0, 1], [[0.9, 0.1], [0.8, 0.2], [0.6, 0.4]]);
    expect(none.precision).toBe(0);
    expect(none.recall).toBe(0);
    expect(none.f1).toBe(0);
    expect(none.accuracy).toBe(1 / 3);
  });

  it('breaks an argmax tie toward the lowest class index', () => {
    expect(argmax([0.5, 0.5])).toBe(0);
    expect(argmax([0.2, 0.4, 0.4])).toBe(1);
    expect(classificationReport([1, 0], [[0.5, 0.5], [0.5, 0.5]]).accuracy).toBe(0.5);
    expect(classificationReport([1, 1], [[0.5, 0.5], [0.1, 0.9]]).recall).toBe(0.5);
  });

  it('clips and renormalises probabilities for log loss', () => {
    // 0.6 / (0.2 + 0.6) = 0.75.
    expect(classificationReport([1, 0], [[0.2, 0.6], [0.5, 0.5]]).logLoss).toBeCloseTo(-(Math.log(0.75) + Math.log(0.5)) / 2, 12);
    const confidentWrong = classificationReport([0, 1], [[0, 1], [0.5, 0.5]]).logLoss;
    expect(confidentWrong).toBeCloseTo((-Math.log(1e-15 / (1 - 1e-15 + 1e-15)) - Math.log(0.5)) / 2, 10);
    expect(Number.isFinite(confidentWrong)).toBe(true);
  });

  it('rejects malformed input', () => {
    expect(() => classificationReport([1, 0], [[0.5, 0.5]])).toThrow(/2 labels but 1 predictions/);
    expect(() => classificationReport([], [])).toThrow(/no rows/);
    expect(() => classificationReport([2], [[0.5, 0.5]])).toThrow(/label 2/);
    expect(() => classificationReport([1, 0], [[0.5, 0.5], [1]])).toThrow(/row 1 has 1 probabilities/);
    expect(() => classificationReport([0], [[1]])).toThrow(/at least 2 classes/);
    expect(() => classificationReport([0], [[Number.NaN, 1]])).toThrow(/probability NaN/);
    expect(() => classificationReport([0], [[0.5, 0.5]], 2)).toThrow(/positiveClass 2/);
  });
});

describe('classificationReport: multiclass', () => {
  const report = classificationReport(MULTI_LABELS, MULTI_PROBS);

  it('macro-averages precision, recall and F1 computed by hand', () => {
    // Class 0: predicted {0}, right 1 -> P 1; labelled {0, 1} -> R 1/2; F1 2/3.
    // Class 1: predicted {1, 2}, right 1 -> P 1/2; labelled {2, 3} -> R 1/2; F1 1/2.
    // Class 2: predicted {3, 4, 5}, right 2 -> P 2/3; labelled {4, 5} -> R 1; F1 4/5.
    expect(report.accuracy).toBe(4 / 6);
    expect(report.precision).toBeCloseTo((1 + 1 / 2 + 2 / 3) / 3, 15); // 13/18
    expect(report.recall).toBeCloseTo((1 / 2 + 1 / 2 + 1) / 3, 15); // 2/3
    expect(report.f1).toBeCloseTo((2 / 3 + 1 / 2 + 4 / 5) / 3, 15); // 59/90
    expect(report.rows).toBe(6);
  });

  it('macro-averages one-vs-rest ROC AUC', () => {
    // Class 0: positives 0.7, 0.4 beat all of 0.2, 0.3, 0.1, 0.2: 1.
    // Class 1: 0.6 beats 0.2, 0.5, 0.2, 0.3 (4); 0.3 beats 0.2, 0.2, ties 0.3, loses to 0.5 (2.5): 6.5/8.
    // Class 2: positives 0.7, 0.5 beat all of 0.1, 0.1, 0.2, 0.4: 1.
    expect(report.rocAuc).toBeCloseTo((1 + 6.5 / 8 + 1) / 3, 15); // 0.9375
  });

  it('computes log loss and calibration error by hand', () => {
    // Probability of the true class: 0.7, 0.4, 0.6, 0.3, 0.7, 0.5.
    expect(report.logLoss).toBeCloseTo(-(Math.log(0.7) + Math.log(0.4) + Math.log(0.6) + Math.log(0.3) + Math.log(0.7) + Math.log(0.5)) / 6, 12);
    // Confidences 0.7 (right), 0.5 (wrong), 0.6 (right), 0.4 (wrong), 0.7 (right), 0.5 (right).
    // (0.6,0.7]: 2/6*|1-0.7|; (0.5,0.6]: 1/6*|1-0.6|; (0.4,0.5]: 2/6*|0.5-0.5|; (0.3,0.4]: 1/6*|0-0.4|. Sum 1.4/6.
    expect(report.calibrationError).toBeCloseTo(1.4 / 6, 12);
  });

  it('averages over classes seen in labels or predictions; ROC AUC is NaN when a class is absent from the labels', () => {
    // Class 2 never occurs in the labels; it is predicted once (row 3). Classes 0, 1, 2 all count.
    const probs = [
      [0.8, 0.1, 0.1],
      [0.6, 0.3, 0.1],
      [0.1, 0.8, 0.1],
      [0.1, 0.2, 0.7],
    ];
    const r = classificationReport([0, 0, 1, 1], probs);
    // Class 0: P 1, R 1. Class 1: P 1, R 1/2. Class 2: P 0 (wrongly predicted), R 0 (zero_division).
    expect(r.precision).toBeCloseTo(2 / 3, 15);
    expect(r.recall).toBeCloseTo(1.5 / 3, 15);
    expect(r.f1).toBeCloseTo((1 + 2 / 3 + 0) / 3, 15);
    expect(r.rocAuc).toBeNaN();
    // A class absent from both labels and predictions is left out of the macro average.
    const unseen = classificationReport([0, 1], [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]]);
    expect(unseen.precision).toBe(1);
    expect(unseen.recall).toBe(1);
    expect(unseen.f1).toBe(1);
  });
});

describe('expectedCalibrationError', () => {
  it('is 0 on a perfectly calibrated toy case', () => {
    // Four rows at 0.75 with three right, two at 0.5 with one right, one at 1 and right.
    const labels = [1, 1, 1, 0, 0, 1, 1];
    const probs = [[0.25, 0.75], [0.25, 0.75], [0.25, 0.75], [0.25, 0.75], [0.5, 0.5], [0.5, 0.5], [0, 1]];
    expect(expectedCalibrationError(labels, probs)).toBe(0);
    expect(classificationReport(labels, probs).calibrationError).toBe(0);
  });

  it('gives the hand value on an overconfident case', () => {
    // Four rows at 0.9 with two right: |0.5 - 0.9| = 0.4; two at 0.6, both wrong: 0.6.
    // 4/6 * 0.4 + 2/6 * 0.6 = 2.8/6 = 7/15.
    const labels = [1, 1, 0, 0, 1, 1];
    const probs = [[0.1, 0.9], [0.1, 0.9], [0.1, 0.9], [0.1, 0.9], [0.6, 0.4], [0.6, 0.4]];
    expect(expectedCalibrationError(labels, probs)).toBeCloseTo(7 / 15, 12);
  });

  it('puts a confidence on a bin edge in the lower bin', () => {
    // 0.7 (wrong) belongs to (0.6, 0.7] with 0.65 (right): one bin, |0.5 - 0.675| = 0.175.
    // Binning 0.7 into (0.7, 0.8] instead would give 1/2 * 0.7 + 1/2 * 0.35 = 0.525.
    expect(expectedCalibrationError([0, 1], [[0.3, 0.7], [0.35, 0.65]])).toBeCloseTo(0.175, 12);
    // 0.3 is the top of (0.2, 0.3]: four classes, top probability exactly 0.3, right.
    expect(expectedCalibrationError([0, 1], [[0.3, 0.25, 0.25, 0.2], [0.2, 0.35, 0.25, 0.2]])).toBeCloseTo(0.5 * 0.7 + 0.5 * 0.65, 12);
  });
});

describe('regressionReport', () => {
  it('computes RMSE, MAE and R² by hand on four rows', () => {
    // Residuals -0.5, 0, 1, -1: SS_res 2.25; mean 2.5, SS_tot 2.25 + 0.25 + 0.25 + 2.25 = 5.
    const r = regressionReport([1, 2, 3, 4], [1.5, 2, 2, 5]);
    expect(r.rmse).toBe(0.75);
    expect(r.mae).toBe(0.625);
    expect(r.r2).toBeCloseTo(0.55, 15);
    expect(r.rows).toBe(4);
  });

  it('gives R² 0 for predicting the mean, 1 for a perfect fit, NaN for constant actual values', () => {
    expect(regressionReport([1, 2, 3, 4], [2.5, 2.5, 2.5, 2.5]).r2).toBe(0);
    expect(regressionReport([1, 2, 3, 4], [1, 2, 3, 4])).toEqual({ rmse: 0, mae: 0, r2: 1, rows: 4 });
    expect(regressionReport([3, 3], [3, 4]).r2).toBeNaN();
    expect(regressionReport([1, 2, 3, 4], [4, 3, 2, 1]).r2).toBe(1 - 20 / 5);
  });

  it('rejects mismatched, empty or non-finite input', () => {
    expect(() => regressionReport([1, 2], [1])).toThrow(/2 actual values but 1 predictions/);
    expect(() => regressionReport([], [])).toThrow(/no rows/);
    expect(() => regressionReport([1], [Number.NaN])).toThrow(/not finite/);
  });
});

describe('segments', () => {
  it('groups row indices by value, drops small segments, orders by value', () => {
    const groups = segmentBy(['b', 'a', 'b', 'c', 'a', 'b'], 2);
    expect([...groups.keys()]).toEqual(['a', 'b']);
    expect(groups.get('a')).toEqual([1, 4]);
    expect(groups.get('b')).toEqual([0, 2, 5]);
    expect([...segmentBy(['b', 'a', 'c'], 1).keys()]).toEqual(['a', 'b', 'c']);
  });

  it('runs a report per segment on that segment’s rows only', () => {
    const region = ['n', 's', 'n', 's', 'n', 'x'];
    const actual = [1, 10, 2, 20, 3, 99];
    const predicted = [1, 12, 2, 18, 5, 0];
    const reports = segmentReports(region, 2, (rows) => regressionReport(pickRows(actual, rows), pickRows(predicted, rows)));
    expect(reports.map((r) => [r.segment, r.rows])).toEqual([
      ['n', 3],
      ['s', 2],
    ]);
    // n: residuals 0, 0, -2 -> MAE 2/3; s: residuals -2, 2 -> MAE 2, RMSE 2.
    expect(reports[0]!.report.mae).toBeCloseTo(2 / 3, 15);
    expect(reports[1]!.report.mae).toBe(2);
    expect(reports[1]!.report.rmse).toBe(2);
    expect(() => pickRows([1, 2], [2])).toThrow(RangeError);
  });
});
