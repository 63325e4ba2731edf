/**
 * Missing values judged against the reference: did a column's missing rate rise beyond a
 * tolerance? One rule for the training-time data gate (core/data/validation.ts, against the
 * dataset the production version was trained on) and for the drift check's data quality
 * (core/monitoring/drift.ts, the window against the version's reference sample).
 *
 * The rule: the rise is `current - reference` (rates); it counts when the one-sided 95% lower
 * confidence bound of that difference exceeds the tolerance. The bound is Newcombe's hybrid score
 * interval (Newcombe 1998, method 10; statsmodels `confint_proportions_2indep(method="newcomb")`),
 * built from each side's Wilson interval. Why not the alternatives:
 * - an absolute rise alone: 2 missing of 40 rows against 0 of 40 is a 5-point rise by chance;
 * - a two-proportion z-test of "no change": on a million rows any rise is significant (the
 *   fixed-threshold complaint Evidently's users make), and its Wald variance collapses at rate 0,
 *   the usual reference rate;
 * - a tolerance-shifted test is what stays: large samples are judged by the rise against the
 *   tolerance, small ones must show the rise with confidence.
 */

/** One side's missing values and the rows they were counted over. */
export interface MissingCount {
  readonly missing: number;
  readonly rows: number;
}

export interface MissingRateChange {
  readonly reference: number;
  readonly current: number;
  /** current - reference. */
  readonly change: number;
  /** One-sided 95% lower confidence bound of the change; -1 (no evidence) when a side has no rows. */
  readonly lowerBound: number;
  readonly tolerance: number;
  /** The rise exceeds the tolerance with 95% confidence: lowerBound > tolerance. */
  readonly rose: boolean;
}

/** The standard normal's 0.95 quantile: a one-sided 95% bound. */
export const MISSING_RISE_Z = 1.6448536269514722;

/** Wilson's score interval of x successes in n at normal quantile z. */
export function wilsonInterval(x: number, n: number, z: number): [number, number] {
  const p = x / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

/** Judges the change of the missing rate from `reference` to `current` against `tolerance` (a share, 0..1). */
export function judgeMissingRate(reference: MissingCount, current: MissingCount, tolerance: number): MissingRateChange {
  const rate = (side: MissingCount) => (side.rows > 0 ? side.missing / side.rows : 0);
  const [r, c] = [rate(reference), rate(current)];
  const change = c - r;
  if (reference.rows === 0 || current.rows === 0) return { reference: r, current: c, change, lowerBound: -1, tolerance, rose: false };
  const [currentLow] = wilsonInterval(current.missing, current.rows, MISSING_RISE_Z);
  const [, referenceHigh] = wilsonInterval(reference.missing, reference.rows, MISSING_RISE_Z);
  const lowerBound = change - Math.sqrt((c - currentLow) ** 2 + (referenceHigh - r) ** 2);
  return { reference: r, current: c, change, lowerBound, tolerance, rose: lowerBound > tolerance };
}
