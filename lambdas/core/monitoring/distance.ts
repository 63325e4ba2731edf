/**
 * Distances between two distributions, as Evidently 0.7.x and scipy compute them: the one module
 * the rollout check (canary vs production predictions) and the drift check (window vs reference)
 * share. Checked against Evidently 0.7.23 / scipy 1.17.1 / numpy 2.4.6 by
 * scripts/reference_distances.py (fixture test/fixtures/distances.json, test test/unit/distance.test.ts).
 *
 * Callers pass clean values: Evidently drops NaN and ±inf before any statistic, and so must they.
 * Values are doubles, as a float64 column in pandas (numpy gives an integer-typed column bins at
 * least 1 wide; read integers as floats on the Python side to compare).
 *
 * Binning (Evidently's `get_binned_data`):
 * - numeric data whose reference has more than 20 distinct values: equal-width bins over the
 *   reference and current values together, as many as numpy's 'sturges' rule gives
 *   (`np.histogram_bin_edges(combined, bins="sturges")`), counted as `np.histogram` counts (each
 *   bin closed on the left, the last one closed on both sides), as shares of each side's rows;
 * - anything else (categorical data, or numeric data with at most 20 distinct reference values):
 *   one bin per distinct value of reference and current together.
 * Evidently takes an `n_bins` argument and ignores it (its issue #1400); here `bins`, when given,
 * is the number of equal-width bins actually used (`np.histogram_bin_edges(combined, bins)`).
 *
 * The p-value tests (chi-square, Z, KS) are in stat-tests.ts.
 *
 * Empty bins: PSI divides by the shares and takes their log, so Evidently replaces an empty bin's
 * share by a small value, per side: the smallest non-empty share / 10^6 when that share is at
 * most 0.0001, else 0.0001. Jensen-Shannon needs no such rule (0 log 0 = 0), and Evidently
 * applies none to it.
 */

/** Evidently's cut-off: a numeric reference with more distinct values than this is binned; otherwise each value is its own bin. */
export const MAX_DISTINCT_VALUES_AS_CATEGORIES = 20;

export type DataKind = 'numeric' | 'categorical';
export type Category = string | number | boolean;

export interface DistanceOptions {
  /** Numeric data: the number of equal-width bins. @default numpy's 'sturges' rule, as Evidently */
  readonly bins?: number;
}

/** Both sides' shares over the same bins, plus what the bins are (for reports and charts). */
export type BinnedShares =
  | { readonly kind: 'histogram'; readonly edges: number[]; readonly reference: number[]; readonly current: number[] }
  | { readonly kind: 'categories'; readonly categories: Category[]; readonly reference: number[]; readonly current: number[] };

function requireRows(reference: readonly unknown[], current: readonly unknown[]): void {
  if (reference.length === 0 || current.length === 0) {
    throw new Error(`a distance needs values on both sides: reference has ${reference.length}, current ${current.length}`);
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** scipy.special.rel_entr: x log(x/y), with 0 log(0/y) = 0 and +inf where x > 0 meets y = 0. */
function relativeEntropyTerm(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/**
 * The Jensen-Shannon distance of two count or probability vectors, as
 * `scipy.spatial.distance.jensenshannon(p, q, base)`: each vector is normalised to sum to 1, then
 * sqrt((KL(p || m) + KL(q || m)) / 2) with m = (p + q) / 2, natural log unless `base` is given.
 * It is 0 for identical distributions and at most sqrt(ln 2) (1 in base 2).
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[], base?: number): number {
  if (p.length !== q.length) throw new Error(`Jensen-Shannon needs vectors of one length: ${p.length} and ${q.length}`);
  const pTotal = sum(p);
  const qTotal = sum(q);
  let divergence = 0;
  for (let i = 0; i < p.length; i += 1) {
    const pi = p[i]! / pTotal;
    const qi = q[i]! / qTotal;
    const mi = (pi + qi) / 2;
    divergence += relativeEntropyTerm(pi, mi) + relativeEntropyTerm(qi, mi);
  }
  if (base !== undefined) divergence /= Math.log(base);
  return Math.sqrt(divergence / 2);
}

/** PSI of two share vectors that have no empty bin (see fillEmptyBins): sum of (r - c) ln(r / c). */
export function populationStabilityIndex(reference: readonly number[], current: readonly number[]): number {
  if (reference.length !== current.length) throw new Error(`PSI needs vectors of one length: ${reference.length} and ${current.length}`);
  let total = 0;
  for (let i = 0; i < reference.length; i += 1) total += (reference[i]! - current[i]!) * Math.log(reference[i]! / current[i]!);
  return total;
}

/**
 * Evidently's empty-bin rule (`feel_zeroes`): an empty bin gets the smallest non-empty share / 10^6
 * when that share is at most 0.0001, else 0.0001. The small value keeps PSI finite while a bin
 * that only one side fills still weighs heavily.
 */
export function fillEmptyBins(shares: readonly number[]): number[] {
  const nonEmpty = shares.filter((share) => share !== 0);
  if (nonEmpty.length === 0) throw new Error('every bin is empty');
  const smallest = Math.min(...nonEmpty);
  const filler = smallest <= 0.0001 ? smallest / 10 ** 6 : 0.0001;
  return shares.map((share) => (share === 0 ? filler : share));
}

/**
 * numpy's `histogram_bin_edges(values, bins)` for finite values, with `bins` a count or 'sturges':
 * the range is [min, max] (widened by 0.5 each way when they are equal); sturges asks for bins of
 * width ptp / (log2(n) + 1), i.e. ceil(ptp / width) bins; the edges are numpy.linspace's
 * (i * step + min, the last one exactly max). Same operations in the same order, so the same doubles.
 */
export function histogramBinEdges(values: readonly number[], bins: number | 'sturges'): number[] {
  return binEdgesOver([values], bins);
}

/** histogramBinEdges over several arrays taken together, without concatenating them. */
function binEdgesOver(parts: readonly (readonly number[])[], bins: number | 'sturges'): number[] {
  let first = Infinity;
  let last = -Infinity;
  let size = 0;
  for (const values of parts) {
    for (const value of values) {
      if (!Number.isFinite(value)) throw new Error(`bin edges need finite values, got ${value}`);
      if (value < first) first = value;
      if (value > last) last = value;
    }
    size += values.length;
  }
  if (size === 0) throw new Error('bin edges need at least one value');
  let count: number;
  if (bins === 'sturges') {
    const width = (last - first) / (Math.log2(size) + 1);
    count = width ? Math.ceil((last - first) / width) : 1;
  } else {
    if (!Number.isInteger(bins) || bins < 1) throw new Error(`the number of bins must be a positive integer, got ${bins}`);
    count = bins;
  }
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const step = (last - first) / count;
  const edges = Array.from({ length: count + 1 }, (_, i) => i * step + first);
  edges[count] = last;
  return edges;
}

/** Index of the last edge <= value (binary search); edges ascend. */
function lastEdgeAtOrBelow(edges: readonly number[], value: number): number {
  let low = 0;
  let high = edges.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (edges[middle]! <= value) low = middle;
    else high = middle - 1;
  }
  return low;
}

/**
 * `np.histogram(values, edges)[0]`: bin i holds edges[i] <= x < edges[i + 1], the last bin also
 * x = its right edge; values outside the edges are not counted.
 */
export function histogramCounts(values: readonly number[], edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    if (!(value >= edges[0]! && value <= edges[bins]!)) continue;
    counts[Math.min(lastEdgeAtOrBelow(edges, value), bins - 1)]! += 1;
  }
  return counts;
}

function countsOf(values: readonly Category[]): Map<Category, number> {
  const counts = new Map<Category, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** Each category's count on each side, over the categories either side has (in order of first appearance, reference first). */
export function categoryCounts(reference: readonly Category[], current: readonly Category[]): { categories: Category[]; reference: number[]; current: number[] } {
  const referenceCounts = countsOf(reference);
  const currentCounts = countsOf(current);
  const categories = [...new Set([...referenceCounts.keys(), ...currentCounts.keys()])];
  return {
    categories,
    reference: categories.map((category) => referenceCounts.get(category) ?? 0),
    current: categories.map((category) => currentCounts.get(category) ?? 0),
  };
}

/** Each category's share of the reference and of the current rows (categoryCounts / rows); a category one side lacks has share 0. */
export function categoryShares(reference: readonly Category[], current: readonly Category[]): Extract<BinnedShares, { kind: 'categories' }> {
  requireRows(reference, current);
  const counts = categoryCounts(reference, current);
  return {
    kind: 'categories',
    categories: counts.categories,
    reference: counts.reference.map((count) => count / reference.length),
    current: counts.current.map((count) => count / current.length),
  };
}

/** Whether the values hold more than `limit` distinct ones (stops counting there: a window can be large). */
function moreDistinctThan(values: readonly Category[], limit: number): boolean {
  const seen = new Set<Category>();
  for (const value of values) {
    seen.add(value);
    if (seen.size > limit) return true;
  }
  return false;
}

/**
 * Evidently's `get_binned_data` without the empty-bin rule: histogram shares for numeric data whose
 * reference has more than 20 distinct values, category shares otherwise.
 */
export function binnedShares(reference: readonly Category[], current: readonly Category[], kind: DataKind, options: DistanceOptions = {}): BinnedShares {
  requireRows(reference, current);
  if (kind === 'categorical' || !moreDistinctThan(reference, MAX_DISTINCT_VALUES_AS_CATEGORIES)) return categoryShares(reference, current);
  assertFiniteNumbers(reference);
  assertFiniteNumbers(current);
  const edges = binEdgesOver([reference, current], options.bins ?? 'sturges');
  return {
    kind: 'histogram',
    edges,
    reference: histogramCounts(reference, edges).map((count) => count / reference.length),
    current: histogramCounts(current, edges).map((count) => count / current.length),
  };
}

/** Numeric data is checked once here; binning and counting then trust it. */
function assertFiniteNumbers(values: readonly Category[]): asserts values is readonly number[] {
  for (const value of values) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`numeric data must be finite numbers, got ${JSON.stringify(value)}`);
  }
}

/** Evidently's `jensenshannon` stattest: the Jensen-Shannon distance of the binned shares (no empty-bin rule), natural log unless `base`. */
export function jensenShannon(reference: readonly Category[], current: readonly Category[], kind: DataKind, options: DistanceOptions & { readonly base?: number } = {}): number {
  const shares = binnedShares(reference, current, kind, options);
  return jensenShannonDistance(shares.reference, shares.current, options.base);
}

/** Evidently's `psi` stattest, with `bins` honoured: PSI of the binned shares after the empty-bin rule. */
export function psi(reference: readonly Category[], current: readonly Category[], kind: DataKind, options: DistanceOptions = {}): number {
  const shares = binnedShares(reference, current, kind, options);
  return populationStabilityIndex(fillEmptyBins(shares.reference), fillEmptyBins(shares.current));
}

const ascending = (values: readonly number[]) => Float64Array.from(values).sort();

/** Two ascending arrays as one ascending array (the pooled values, without sorting them again). */
function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  const merged = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) merged[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) merged[k++] = a[i++]!;
  while (j < b.length) merged[k++] = b[j++]!;
  return merged;
}

/** How many of the sorted values are <= x (numpy searchsorted 'right'), walking forward from `from`. */
function countAtOrBelow(sorted: Float64Array, x: number, from: number): number {
  let i = from;
  while (i < sorted.length && sorted[i]! <= x) i += 1;
  return i;
}

/**
 * The first Wasserstein distance of two samples, as `scipy.stats.wasserstein_distance(u, v)`: the
 * area between their empirical CDFs, summed over the gaps between consecutive pooled values.
 */
export function wassersteinDistance(u: readonly number[], v: readonly number[]): number {
  requireRows(u, v);
  const uSorted = ascending(u);
  const vSorted = ascending(v);
  const pooled = mergeSorted(uSorted, vSorted);
  let total = 0;
  let uBelow = 0;
  let vBelow = 0;
  for (let k = 0; k < pooled.length - 1; k += 1) {
    uBelow = countAtOrBelow(uSorted, pooled[k]!, uBelow);
    vBelow = countAtOrBelow(vSorted, pooled[k]!, vBelow);
    total += Math.abs(uBelow / u.length - vBelow / v.length) * (pooled[k + 1]! - pooled[k]!);
  }
  return total;
}

/** Population standard deviation (numpy.std, ddof 0). */
export function populationStd(values: readonly number[]): number {
  const mean = sum(values) / values.length;
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  return Math.sqrt(squares / values.length);
}

/** Evidently's floor on the norm, so a constant reference does not divide by zero. */
export const MIN_WASSERSTEIN_NORM = 0.001;

/** Evidently's `wasserstein` stattest: the Wasserstein distance over max(reference population std, 0.001). */
export function normedWassersteinDistance(reference: readonly number[], current: readonly number[]): number {
  return wassersteinDistance(reference, current) / Math.max(populationStd(reference), MIN_WASSERSTEIN_NORM);
}
