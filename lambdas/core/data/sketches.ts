import { z } from 'zod';

/**
 * Streaming summaries for dataset profiles. Each one is built in a single pass with bounded
 * memory, serializes to JSON deterministically (same input, same bytes) and merges, so
 * profiles of data partitions combine into the profile of the whole.
 */

/** Quantiles a profile reports; drift checks bin against them. */
export const PROFILE_QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] as const;
export const quantileKey = (q: number) => `p${String(Math.round(q * 100)).padStart(2, '0')}`;

/** Relative accuracy of quantiles: each is within 1% of a value at that rank. */
const RELATIVE_ACCURACY = 0.01;
/** Magnitudes below this count as zero (they have no useful logarithm). */
const MIN_INDEXABLE = 1e-12;

export const QuantileSketchJsonSchema = z.object({
  relativeAccuracy: z.number().gt(0).lt(1),
  zeroCount: z.number().int().nonnegative(),
  /** [bin key, count] sorted by key; bin k holds magnitudes in (gamma^(k-1), gamma^k]. */
  positive: z.array(z.tuple([z.number().int(), z.number().int().positive()])),
  negative: z.array(z.tuple([z.number().int(), z.number().int().positive()])),
});
export type QuantileSketchJson = z.infer<typeof QuantileSketchJsonSchema>;

/**
 * A DDSketch (Masson, Rim and Lee, VLDB 2019): values fall in logarithmic bins, so any quantile
 * is answered within a relative error, and two sketches merge by adding bin counts, exactly and
 * in any order. The bin count is bounded by the range of magnitudes: about 2,800 bins span
 * 1e-12 to 1e12 at 1%. Written here rather than taken from a package because the profile needs
 * a plain JSON form that stays readable for years.
 */
export class QuantileSketch {
  private readonly gamma: number;
  private readonly logGamma: number;
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  private zeroCount = 0;
  private count = 0;

  constructor(readonly relativeAccuracy = RELATIVE_ACCURACY) {
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.logGamma = Math.log(this.gamma);
  }

  add(value: number): void {
    this.count += 1;
    const magnitude = Math.abs(value);
    if (magnitude < MIN_INDEXABLE) {
      this.zeroCount += 1;
      return;
    }
    const key = Math.ceil(Math.log(magnitude) / this.logGamma);
    const store = value > 0 ? this.positive : this.negative;
    store.set(key, (store.get(key) ?? 0) + 1);
  }

  merge(other: QuantileSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy) throw new Error('sketches with different accuracies cannot be merged');
    for (const [key, n] of other.positive) this.positive.set(key, (this.positive.get(key) ?? 0) + n);
    for (const [key, n] of other.negative) this.negative.set(key, (this.negative.get(key) ?? 0) + n);
    this.zeroCount += other.zeroCount;
    this.count += other.count;
  }

  /** The value at quantile q (0..1): the representative of the bin holding rank q*(count-1). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = q * (this.count - 1);
    let seen = 0;
    const representative = (key: number) => (2 * this.gamma ** key) / (this.gamma + 1);
    for (const [key, n] of sortedBins(this.negative).reverse()) {
      seen += n;
      if (seen > rank) return -representative(key);
    }
    seen += this.zeroCount;
    if (seen > rank) return 0;
    for (const [key, n] of sortedBins(this.positive)) {
      seen += n;
      if (seen > rank) return representative(key);
    }
    return representative(sortedBins(this.positive).at(-1)?.[0] ?? 0);
  }

  toJSON(): QuantileSketchJson {
    return { relativeAccuracy: this.relativeAccuracy, zeroCount: this.zeroCount, positive: sortedBins(this.positive), negative: sortedBins(this.negative) };
  }

  static fromJSON(json: QuantileSketchJson): QuantileSketch {
    const sketch = new QuantileSketch(json.relativeAccuracy);
    for (const [key, n] of json.positive) sketch.positive.set(key, n);
    for (const [key, n] of json.negative) sketch.negative.set(key, n);
    sketch.zeroCount = json.zeroCount;
    sketch.count = json.zeroCount + [...json.positive, ...json.negative].reduce((sum, [, n]) => sum + n, 0);
    return sketch;
  }
}

const sortedBins = (bins: Map<number, number>): [number, number][] => [...bins].sort((a, b) => a[0] - b[0]);

export const NumericSummaryJsonSchema = z.object({
  count: z.number().int().nonnegative(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  /** Sum of squared deviations from the mean (Welford's M2): what a merge needs besides count and mean. */
  m2: z.number(),
  quantiles: z.record(z.string(), z.number()),
  sketch: QuantileSketchJsonSchema,
});
export type NumericSummaryJson = z.infer<typeof NumericSummaryJsonSchema>;

/** Count, min, max, mean and standard deviation (Welford) plus a DDSketch for quantiles. */
export class NumericSummary {
  count = 0;
  min = Infinity;
  max = -Infinity;
  mean = 0;
  m2 = 0;
  private sketch = new QuantileSketch();

  add(value: number): void {
    this.count += 1;
    const delta = value - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (value - this.mean);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.sketch.add(value);
  }

  /** Chan et al.'s pairwise update: the merged mean and M2 equal those of the concatenated data. */
  merge(other: NumericSummary): void {
    if (other.count === 0) return;
    const count = this.count + other.count;
    const delta = other.mean - this.mean;
    this.m2 += other.m2 + (delta * delta * this.count * other.count) / count;
    this.mean += (delta * other.count) / count;
    this.count = count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.sketch.merge(other.sketch);
  }

  quantile(q: number): number | null {
    if (this.count === 0) return null;
    // The sketch answers within its relative accuracy; the true extremes are known exactly.
    return Math.min(this.max, Math.max(this.min, this.sketch.quantile(q)));
  }

  toJSON(): NumericSummaryJson {
    const empty = this.count === 0;
    return {
      count: this.count,
      min: empty ? null : this.min,
      max: empty ? null : this.max,
      mean: empty ? null : this.mean,
      std: empty ? null : Math.sqrt(this.m2 / this.count),
      m2: this.m2,
      quantiles: Object.fromEntries(PROFILE_QUANTILES.map((q) => [quantileKey(q), this.quantile(q) ?? 0])),
      sketch: this.sketch.toJSON(),
    };
  }

  static fromJSON(json: NumericSummaryJson): NumericSummary {
    const summary = new NumericSummary();
    summary.count = json.count;
    summary.min = json.min ?? Infinity;
    summary.max = json.max ?? -Infinity;
    summary.mean = json.mean ?? 0;
    summary.m2 = json.m2;
    summary.sketch = QuantileSketch.fromJSON(json.sketch);
    return summary;
  }
}

export const FrequencySketchJsonSchema = z.object({
  capacity: z.number().int().positive(),
  /** Values counted, missing ones excluded. */
  total: z.number().int().nonnegative(),
  /** True while no value was ever evicted: then `counters` holds every value with its exact count. */
  exact: z.boolean(),
  /** [value, count] sorted by count (descending), then value: a lower bound on each count when not exact. */
  counters: z.array(z.tuple([z.string(), z.number().int().positive()])),
});
export type FrequencySketchJson = z.infer<typeof FrequencySketchJsonSchema>;

/**
 * Category frequencies with bounded memory (Misra-Gries): exact while a column has at most
 * `capacity` distinct values; beyond that it keeps the heavy hitters, each count under by at
 * most total/(capacity+1). Deterministic and mergeable.
 */
export class FrequencySketch {
  private counts = new Map<string, number>();
  total = 0;
  exact = true;

  constructor(readonly capacity = 1000) {}

  add(value: string, weight = 1): void {
    this.total += weight;
    const current = this.counts.get(value);
    if (current !== undefined) {
      this.counts.set(value, current + weight);
      return;
    }
    this.counts.set(value, weight);
    if (this.counts.size > this.capacity) this.shrink();
  }

  /** Subtracts the (capacity+1)-th largest count from every counter and drops those at zero. */
  private shrink(): void {
    this.exact = false;
    const sorted = [...this.counts.values()].sort((a, b) => b - a);
    const cut = sorted[this.capacity] ?? 0;
    for (const [value, count] of this.counts) {
      if (count <= cut) this.counts.delete(value);
      else this.counts.set(value, count - cut);
    }
  }

  merge(other: FrequencySketch): void {
    this.exact = this.exact && other.exact;
    const total = this.total + other.total;
    for (const [value, count] of other.counts) this.counts.set(value, (this.counts.get(value) ?? 0) + count);
    if (this.counts.size > this.capacity) this.shrink();
    this.total = total;
  }

  get distinct(): number {
    return this.counts.size;
  }

  entries(): [string, number][] {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  toJSON(): FrequencySketchJson {
    return { capacity: this.capacity, total: this.total, exact: this.exact, counters: this.entries() };
  }

  static fromJSON(json: FrequencySketchJson): FrequencySketch {
    const sketch = new FrequencySketch(json.capacity);
    for (const [value, count] of json.counters) sketch.counts.set(value, count);
    sketch.total = json.total;
    sketch.exact = json.exact;
    return sketch;
  }
}

/**
 * A set of 64-bit row fingerprints (two 32-bit FNV-1a style hashes) in open-addressed typed
 * arrays: 8 bytes a slot at most half full, so 8 to 16.7 million rows take 256 MB, and about
 * 384 MB for a moment while the table doubles. Rows past `maxRows` are not tracked and the
 * caller reports the check as partial.
 */
export class RowFingerprints {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private size = 0;
  /** Whether every row offered was tracked. */
  complete = true;

  constructor(
    private readonly maxRows = 20_000_000,
    initialSlots = 1 << 16,
  ) {
    this.hi = new Uint32Array(initialSlots);
    this.lo = new Uint32Array(initialSlots);
  }

  /** Adds a row's fingerprint; returns true when the same fingerprint was already there. */
  addRow(cells: readonly unknown[]): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let c = 0; c < cells.length; c += 1) {
      const cell = cells[c];
      const text = cell === null || cell === undefined ? '\u0000' : typeof cell === 'string' ? cell : String(cell);
      for (let i = 0; i < text.length; i += 1) {
        const code = text.charCodeAt(i);
        h1 = Math.imul(h1 ^ code, 0x01000193);
        h2 = Math.imul(h2 ^ code, 0x5bd1e995);
        h2 ^= h2 >>> 15;
      }
      // A separator, so ["ab", "c"] and ["a", "bc"] differ.
      h1 = Math.imul(h1 ^ 0x1f, 0x01000193);
      h2 = Math.imul(h2 ^ 0x1f, 0x5bd1e995);
    }
    // Unsigned, as the typed arrays store them; the low half is never 0, which marks an empty slot.
    return this.add(h1 >>> 0, (h2 | 1) >>> 0);
  }

  private add(hi: number, lo: number): boolean {
    let slot = this.find(hi, lo);
    if (this.lo[slot] !== 0) return true;
    // Past the cap, rows are still checked against those tracked, but not added.
    if (this.size >= this.maxRows) {
      this.complete = false;
      return false;
    }
    if ((this.size + 1) * 2 > this.hi.length) {
      this.grow();
      slot = this.find(hi, lo);
    }
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    this.size += 1;
    return false;
  }

  /** The slot holding this fingerprint, or the empty slot where it would go. */
  private find(hi: number, lo: number): number {
    const mask = this.hi.length - 1;
    let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) & mask;
    while (this.lo[slot] !== 0 && !(this.lo[slot] === lo && this.hi[slot] === hi)) slot = (slot + 1) & mask;
    return slot;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    this.size = 0;
    for (let i = 0; i < oldLo.length; i += 1) {
      if (oldLo[i] === 0) continue;
      const slot = this.find(oldHi[i]!, oldLo[i]!);
      this.hi[slot] = oldHi[i]!;
      this.lo[slot] = oldLo[i]!;
      this.size += 1;
    }
  }
}
