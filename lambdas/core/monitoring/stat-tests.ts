import { categoryCounts, type Category } from './distance.js';

/**
 * The p-value tests Evidently 0.7.x picks for small references (the drift check of the monitoring
 * issue): chi-square and the two-proportion Z-test, computed as Evidently and scipy compute them.
 * Checked against Evidently 0.7.23 / scipy 1.17.1 by scripts/reference_distances.py
 * (test/fixtures/distances.json, test/unit/stat-tests.test.ts), and the two-sample Kolmogorov-Smirnov
 * test as scipy's ks_2samp computes it exactly (up to 10,000 rows a side, where scipy's 'auto' is exact).
 *
 * The special functions are the textbook ones (Lanczos log-gamma, the incomplete gamma function by
 * series below a + 1 and by Lentz's continued fraction above, Numerical Recipes 3rd ed. §6.1-6.2):
 * about 1e-14 relative where the values are not tiny, which is what the 1e-9 comparison needs.
 */

const LANCZOS = [
  57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199, 0.339946499848118887e-4, 0.465236289270485756e-4,
  -0.983744753048795646e-4, 0.158088703224912494e-3, -0.210264441724104883e-3, 0.217439618115212643e-3, -0.16431810653676389e-3,
  0.844182239838527433e-4, -0.261908384015814087e-4, 0.368991826595316234e-5,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 671/128, 14 terms). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma needs x > 0, got ${x}`);
  let y = x;
  const shifted = x + 5.2421875;
  const head = (x + 0.5) * Math.log(shifted) - shifted;
  let series = 0.999999999999997092;
  for (const c of LANCZOS) series += c / ++y;
  return head + Math.log((2.5066282746310005 * series) / x);
}

const EPSILON = Number.EPSILON;
const TINY = Number.MIN_VALUE / EPSILON;
const MAX_ITERATIONS = 100_000;

/** e^-x x^a / Γ(a), the factor both expansions share, in logs so that it does not overflow. */
const gammaPrefactor = (a: number, x: number) => Math.exp(-x + a * Math.log(x) - logGamma(a));

/** P(a, x) by its series, for x < a + 1. */
function lowerGammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let total = term;
  for (let n = 1; n < MAX_ITERATIONS; n += 1) {
    term *= x / (a + n);
    total += term;
    if (Math.abs(term) < Math.abs(total) * EPSILON) break;
  }
  return total * gammaPrefactor(a, x);
}

/** Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1. */
function upperGammaFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i += 1) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < EPSILON) break;
  }
  return gammaPrefactor(a, x) * h;
}

/** The regularised upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a). */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x < 0 || !(a > 0)) throw new Error(`Q(a, x) needs a > 0 and x >= 0, got a=${a}, x=${x}`);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - lowerGammaSeries(a, x) : upperGammaFraction(a, x);
}

/** The regularised lower incomplete gamma function P(a, x) = 1 - Q(a, x). */
export function lowerRegularizedGamma(a: number, x: number): number {
  if (x < 0 || !(a > 0)) throw new Error(`P(a, x) needs a > 0 and x >= 0, got a=${a}, x=${x}`);
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? lowerGammaSeries(a, x) : 1 - upperGammaFraction(a, x);
}

/** scipy.stats.chi2.sf(x, df): Q(df / 2, x / 2). */
export const chiSquareSurvival = (x: number, df: number): number => (df > 0 ? upperRegularizedGamma(df / 2, x / 2) : NaN);

const SQRT_HALF = Math.SQRT1_2;
/** erf(x) = sign(x) P(1/2, x²); erfc(x) = Q(1/2, x²) for x >= 0. */
const erf = (x: number) => Math.sign(x) * lowerRegularizedGamma(0.5, x * x);
const erfc = (x: number) => (x < 0 ? 2 - upperRegularizedGamma(0.5, x * x) : upperRegularizedGamma(0.5, x * x));

/**
 * The standard normal CDF, arranged as scipy's ndtr (cephes): erf near 0, erfc in the tails, and
 * 1 - tail on the right. Evidently then takes 1 - cdf, so its p-values carry that rounding; this
 * reproduces it.
 */
export function normalCdf(z: number): number {
  const x = z * SQRT_HALF;
  const absolute = Math.abs(x);
  if (absolute < SQRT_HALF) return 0.5 + 0.5 * erf(x);
  const tail = 0.5 * erfc(absolute);
  return x > 0 ? 1 - tail : tail;
}

/**
 * Evidently's `chisquare` stattest: Pearson's chi-square of the current category counts against
 * the reference counts scaled to the current size, k - 1 degrees of freedom over the categories
 * either side has. A category only the current has expects 0 rows: the statistic is infinite and
 * p = 0, as scipy gives. One category only: NaN (no degrees of freedom), as scipy.
 */
export function chiSquareTest(reference: readonly Category[], current: readonly Category[]): { statistic: number; pValue: number } {
  if (reference.length === 0 || current.length === 0) throw new Error(`chi-square needs rows on both sides: reference has ${reference.length}, current ${current.length}`);
  const counts = categoryCounts(reference, current);
  const scale = current.length / reference.length;
  let statistic = 0;
  counts.categories.forEach((_, i) => {
    const expected = counts.reference[i]! * scale;
    statistic += (counts.current[i]! - expected) ** 2 / expected;
  });
  return { statistic, pValue: chiSquareSurvival(statistic, counts.categories.length - 1) };
}

/** Python's ordering of the values (numbers numerically, strings by code unit), for Evidently's sorted(keys). */
function pythonOrder(a: Category, b: Category): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Evidently's `z` stattest: the two-sided two-proportion Z-test of "not the first value" (the
 * smallest of both sides' values) between reference and current, with the pooled variance; p = 1
 * when both sides hold one and the same value. p = 2 (1 - Φ(|z|)), rounded as Evidently computes it.
 */
export function zTest(reference: readonly Category[], current: readonly Category[]): { statistic: number; pValue: number } {
  if (reference.length === 0 || current.length === 0) throw new Error(`a Z-test needs rows on both sides: reference has ${reference.length}, current ${current.length}`);
  const referenceValues = new Set(reference);
  const currentValues = new Set(current);
  if (referenceValues.size === 1 && currentValues.size === 1 && [...referenceValues][0] === [...currentValues][0]) return { statistic: 0, pValue: 1 };
  const first = [...new Set([...reference, ...current])].sort(pythonOrder)[0];
  const share = (values: readonly Category[]) => values.filter((value) => value !== first).length / values.length;
  const [n1, n2] = [reference.length, current.length];
  const [p1, p2] = [share(reference), share(current)];
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic, pValue: 2 * (1 - normalCdf(Math.abs(statistic))) };
}

/** Up to this many rows on the larger side scipy's ks_2samp (method 'auto') computes the exact p-value; past it, an asymptotic one. */
export const KS_EXACT_MAX_ROWS = 10_000;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** The largest gap between the two empirical CDFs, over the pooled values (scipy: cdf1 - cdf2 at each value, both signs). */
function ksStatistic(u: readonly number[], v: readonly number[]): number {
  const a = Float64Array.from(u).sort();
  const b = Float64Array.from(v).sort();
  let largest = 0;
  let i = 0;
  let j = 0;
  // Walk the pooled values in order; at each distinct value both CDFs count everything <= it.
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < a.length && a[i]! <= x) i += 1;
    while (j < b.length && b[j]! <= x) j += 1;
    largest = Math.max(largest, Math.abs(i / a.length - j / b.length));
  }
  return Math.min(largest, 1);
}

/**
 * P(D >= h / lcm(m, n)) under the null, exactly: the share of the monotone lattice paths from (0, 0)
 * to (m, n) that touch the band |x/m - y/n| >= h / lcm (Hodges 1958). Following Viehmann (2021,
 * arXiv 2102.08037), each cell holds the probability that a random path reaching it has already
 * touched the band: a path reaches (i, j) from (i - 1, j) with probability i / (i + j) and from
 * (i, j - 1) with probability j / (i + j), and a cell outside the band has probability 1. Working
 * with that probability, not with path counts, keeps small p-values accurate and nothing overflows.
 */
function ksExactProbability(rows1: number, rows2: number, h: number): number {
  const [m, n] = rows1 >= rows2 ? [rows1, rows2] : [rows2, rows1];
  const g = gcd(m, n);
  const [mg, ng] = [m / g, n / g];
  // Column x = 0: cells below the band's upper edge are inside (0), the rest outside (1).
  const column = new Float64Array(n + 1).fill(1);
  let low = 0;
  let high = Math.min(Math.ceil(h / mg), n + 1);
  column.fill(0, low, high);
  for (let i = 1; i <= m; i += 1) {
    const previousLow = low;
    low = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    high = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (high <= low) return 1;
    // Cells the band left behind are outside now; cells above it were never inside.
    column.fill(1, previousLow, low);
    let below = low === 0 ? 0 : 1;
    for (let j = low; j < high; j += 1) {
      below = (column[j]! * i + below * j) / (i + j);
      column[j] = below;
    }
  }
  return column[high - 1]!;
}

/**
 * The two-sided two-sample Kolmogorov-Smirnov test, as scipy.stats.ks_2samp(u, v) with its default
 * method for samples of at most 10,000 rows each: the exact p-value, the statistic rounded to the
 * lattice (h / lcm(m, n)) as scipy returns it. Larger samples throw: scipy switches to kstwo's
 * asymptotic distribution there, which this module does not reproduce; sample the window first.
 */
export function ksTest(u: readonly number[], v: readonly number[]): { statistic: number; pValue: number } {
  if (u.length === 0 || v.length === 0) throw new Error(`a KS test needs rows on both sides: ${u.length} and ${v.length}`);
  if (Math.max(u.length, v.length) > KS_EXACT_MAX_ROWS) {
    throw new Error(`the exact KS test takes at most ${KS_EXACT_MAX_ROWS} rows a side, got ${u.length} and ${v.length}: sample the larger side first`);
  }
  const lcm = (u.length / gcd(u.length, v.length)) * v.length;
  const h = Math.round(ksStatistic(u, v) * lcm);
  if (h === 0) return { statistic: 0, pValue: 1 };
  const p = ksExactProbability(u.length, v.length, h);
  return { statistic: h / lcm, pValue: Math.min(Math.max(p, 0), 1) };
}
