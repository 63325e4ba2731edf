import { z } from 'zod';
import { HyperLogLog } from './hyperloglog.js';

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
  private readonly integerKeys: Int32Array;
  /** Per exponent of a double (index 0..2047), the keys of its ranges, built on first use. */
  private readonly rangeKeys: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(2048).fill(undefined);
  private readonly positive = new DenseBins();
  private readonly negative = new DenseBins();
  private zeroCount = 0;
  private count = 0;

  constructor(readonly relativeAccuracy = RELATIVE_ACCURACY) {
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.logGamma = Math.log(this.gamma);
    this.integerKeys = integerKeysFor(this.logGamma);
  }

  add(value: number): void {
    this.count += 1;
    const magnitude = Math.abs(value);
    if (magnitude < MIN_INDEXABLE) {
      this.zeroCount += 1;
      return;
    }
    // Small whole numbers (counts, ages, codes) take their key from a table of the same formula;
    // other values from the key of their narrow range of doubles, when the whole range has one.
    let key: number;
    if (magnitude < INTEGER_KEYS && (magnitude | 0) === magnitude) {
      key = this.integerKeys[magnitude]!;
    } else if (!LITTLE_ENDIAN) {
      key = Math.ceil(Math.log(magnitude) / this.logGamma);
    } else {
      BITS_F64[0] = magnitude;
      const high = BITS_U32[1]!;
      const row = this.rangeKeys[high >>> 20] ?? this.rangeRow(high >>> 20);
      key = row[(high >>> (20 - RANGE_BITS)) & RANGE_MASK]!;
      if (key === AMBIGUOUS) key = Math.ceil(Math.log(magnitude) / this.logGamma);
    }
    (value > 0 ? this.positive : this.negative).add(key, 1);
  }

  /**
   * The keys of the 2^RANGE_BITS ranges of doubles with this exponent (each range: one value of
   * the top RANGE_BITS mantissa bits). A range is 1/4096 of a binade wide, far narrower than a
   * bin (2%), so nearly every range lies inside one bin; a range whose ends are within 1e-9 of
   * a bin edge (far more than Math.log's error, under 1 ulp) is AMBIGUOUS and its values are
   * keyed one by one. So the key is the formula's, value for value.
   */
  private rangeRow(exponent: number): Int32Array {
    const row = new Int32Array(RANGE_MASK + 1);
    for (let r = 0; r <= RANGE_MASK; r += 1) {
      BITS_U32[0] = 0;
      BITS_U32[1] = (exponent << 20) | (r << (20 - RANGE_BITS));
      const low = BITS_F64[0]!;
      BITS_U32[0] = 0xffffffff;
      BITS_U32[1] = (exponent << 20) | (r << (20 - RANGE_BITS)) | ((1 << (20 - RANGE_BITS)) - 1);
      const high = BITS_F64[0]!;
      const a = Math.log(low) / this.logGamma;
      const b = Math.log(high) / this.logGamma;
      const key = Math.ceil(a);
      const clear = low >= MIN_INDEXABLE && Number.isFinite(high) && Math.ceil(b) === key && a - (key - 1) > 1e-9 && key - b > 1e-9;
      row[r] = clear ? key : AMBIGUOUS;
    }
    this.rangeKeys[exponent] = row;
    return row;
  }

  merge(other: QuantileSketch): void {
    if (other.relativeAccuracy !== this.relativeAccuracy) throw new Error('sketches with different accuracies cannot be merged');
    for (const [key, n] of other.positive.entries()) this.positive.add(key, n);
    for (const [key, n] of other.negative.entries()) this.negative.add(key, n);
    this.zeroCount += other.zeroCount;
    this.count += other.count;
  }

  /** The value at quantile q (0..1): the representative of the bin holding rank q*(count-1). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = q * (this.count - 1);
    let seen = 0;
    const representative = (key: number) => (2 * this.gamma ** key) / (this.gamma + 1);
    for (const [key, n] of this.negative.entries().reverse()) {
      seen += n;
      if (seen > rank) return -representative(key);
    }
    seen += this.zeroCount;
    if (seen > rank) return 0;
    const positive = this.positive.entries();
    for (const [key, n] of positive) {
      seen += n;
      if (seen > rank) return representative(key);
    }
    return representative(positive.at(-1)?.[0] ?? 0);
  }

  toJSON(): QuantileSketchJson {
    return { relativeAccuracy: this.relativeAccuracy, zeroCount: this.zeroCount, positive: this.positive.entries(), negative: this.negative.entries() };
  }

  static fromJSON(json: QuantileSketchJson): QuantileSketch {
    const sketch = new QuantileSketch(json.relativeAccuracy);
    for (const [key, n] of json.positive) sketch.positive.add(key, n);
    for (const [key, n] of json.negative) sketch.negative.add(key, n);
    sketch.zeroCount = json.zeroCount;
    sketch.count = json.zeroCount + [...json.positive, ...json.negative].reduce((sum, [, n]) => sum + n, 0);
    return sketch;
  }
}

/** Mantissa bits that name a range of doubles in QuantileSketch's key table. */
const RANGE_BITS = 12;
const RANGE_MASK = (1 << RANGE_BITS) - 1;
/** A range of doubles that straddles (or nearly touches) a bin edge. */
const AMBIGUOUS = -0x80000000;
/** A double's bits, read through a shared buffer (little-endian: the high word is index 1). */
const BITS_F64 = new Float64Array(1);
const BITS_U32 = new Uint32Array(BITS_F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Whole numbers below this have their bin key looked up rather than computed. */
const INTEGER_KEYS = 1 << 16;
const integerKeyTables = new Map<number, Int32Array>();

/** Bin keys of 0 .. INTEGER_KEYS-1, computed once per accuracy with the formula `add` uses. */
function integerKeysFor(logGamma: number): Int32Array {
  let table = integerKeyTables.get(logGamma);
  if (!table) {
    table = new Int32Array(INTEGER_KEYS);
    for (let m = 1; m < INTEGER_KEYS; m += 1) table[m] = Math.ceil(Math.log(m) / logGamma);
    integerKeyTables.set(logGamma, table);
  }
  return table;
}

/**
 * A DDSketch store: bin counts in one typed array indexed by key minus an offset, grown to
 * cover new keys (the keys of one sketch span at most about 37,000: magnitudes 1e-12 to 1e308
 * at 1%), so adding a value is an index and an increment instead of a hash-map update.
 */
class DenseBins {
  private counts = new Float64Array(0);
  private offset = 0;

  add(key: number, n: number): void {
    let index = key - this.offset;
    if (index < 0 || index >= this.counts.length) {
      this.cover(key);
      index = key - this.offset;
    }
    this.counts[index]! += n;
  }

  /** Grows the array (at least doubling, with room on both sides) so that it covers `key`. */
  private cover(key: number): void {
    const old = this.counts;
    if (old.length === 0) {
      this.counts = new Float64Array(128);
      this.offset = key - 64;
      return;
    }
    const low = Math.min(this.offset, key);
    const high = Math.max(this.offset + old.length, key + 1);
    const length = Math.max(2 * old.length, high - low + 64);
    const offset = key < this.offset ? high - length : low;
    this.counts = new Float64Array(length);
    this.counts.set(old, this.offset - offset);
    this.offset = offset;
  }

  /** [key, count] of the non-empty bins, by key. */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    const counts = this.counts;
    for (let i = 0; i < counts.length; i += 1) if (counts[i] !== 0) out.push([i + this.offset, counts[i]!]);
    return out;
  }
}

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
 * A value's count in a FrequencySketch. `hi` and `lo` are the caller's to keep something about
 * the value in (the profiler keeps the value's fingerprint there; lo 0: none yet).
 */
export interface FrequencyCounter {
  n: number;
  hi: number;
  lo: number;
}

/** Slots of FrequencySketch's cache of recent values. */
const RECENT_SLOTS = 256;

/**
 * Category frequencies with bounded memory (Misra-Gries): exact while a column has at most
 * `capacity` distinct values; beyond that it keeps the heavy hitters, each count under by at
 * most total/(capacity+1). Deterministic and mergeable.
 */
export class FrequencySketch {
  /** Each value's counter, boxed so that counting a value seen before is one map lookup. */
  private counts = new Map<string, FrequencyCounter>();
  private readonly recentValues: (string | undefined)[] = new Array<string | undefined>(RECENT_SLOTS).fill(undefined);
  private readonly recentCounters: (FrequencyCounter | undefined)[] = new Array<FrequencyCounter | undefined>(RECENT_SLOTS).fill(undefined);
  total = 0;
  exact = true;

  constructor(readonly capacity = 1000) {}

  add(value: string, weight = 1): void {
    this.total += weight;
    const counter = this.counts.get(value);
    if (counter !== undefined) {
      counter.n += weight;
      return;
    }
    this.counts.set(value, { n: weight, hi: 0, lo: 0 });
    if (this.counts.size > this.capacity) this.shrink();
  }

  /**
   * `add(value)` for a value whose hash the caller has at hand (any hash: it only picks a slot).
   * A small direct-mapped cache of recent values and their counters saves the map lookup, which
   * hashes the string again, when a column has few distinct values.
   */
  addHashed(value: string, hash: number): void {
    this.addCounted(value, hash);
  }

  /** `addHashed`, returning the value's counter, or undefined when the sketch did not keep the value. */
  addCounted(value: string, hash: number): FrequencyCounter | undefined {
    const slot = hash & (RECENT_SLOTS - 1);
    if (this.recentValues[slot] === value) {
      this.total += 1;
      const cached = this.recentCounters[slot]!;
      cached.n += 1;
      return cached;
    }
    this.add(value);
    const counter = this.counts.get(value);
    if (counter) {
      this.recentValues[slot] = value;
      this.recentCounters[slot] = counter;
    }
    return counter;
  }

  /** Subtracts the (capacity+1)-th largest count from every counter and drops those at zero. */
  private shrink(): void {
    this.exact = false;
    // Cached counters may be dropped below.
    this.recentValues.fill(undefined);
    this.recentCounters.fill(undefined);
    const sorted = [...this.counts.values()].map((counter) => counter.n).sort((a, b) => b - a);
    const cut = sorted[this.capacity] ?? 0;
    for (const [value, counter] of this.counts) {
      if (counter.n <= cut) this.counts.delete(value);
      else counter.n -= cut;
    }
  }

  merge(other: FrequencySketch): void {
    this.exact = this.exact && other.exact;
    const total = this.total + other.total;
    for (const [value, { n }] of other.counts) {
      const counter = this.counts.get(value);
      if (counter) counter.n += n;
      else this.counts.set(value, { n, hi: 0, lo: 0 });
    }
    if (this.counts.size > this.capacity) this.shrink();
    this.total = total;
  }

  get distinct(): number {
    return this.counts.size;
  }

  entries(): [string, number][] {
    return [...this.counts].map(([value, counter]): [string, number] => [value, counter.n]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  toJSON(): FrequencySketchJson {
    return { capacity: this.capacity, total: this.total, exact: this.exact, counters: this.entries() };
  }

  static fromJSON(json: FrequencySketchJson): FrequencySketch {
    const sketch = new FrequencySketch(json.capacity);
    for (const [value, count] of json.counters) sketch.counts.set(value, { n: count, hi: 0, lo: 0 });
    sketch.total = json.total;
    sketch.exact = json.exact;
    return sketch;
  }
}

/**
 * The row fingerprint, one character at a time: two 32-bit hashes (FNV-1a, and a multiply and
 * xor-shift one) that make 64 bits together. A row is its cells' characters, each cell followed
 * by `endCell`; a missing cell (null) is the character 0. `RowFingerprints.addRow` and the
 * profiler's column-wise pass both hash with these; the profiler takes a plain decimal of up to
 * 18 digits in a numeric column as a few integers that spell it out exactly, and a string value
 * as a 64-bit hash of its characters kept with its counter, instead of the characters themselves
 * (see DatasetProfiler), so rows match when their texts do, as with `addRow`, though the two
 * fingerprints of such a row differ.
 */
export const FINGERPRINT_SEED_HI = 0x811c9dc5;
export const FINGERPRINT_SEED_LO = 0x01000193;
export const fingerprintHi = (h: number, code: number): number => Math.imul(h ^ code, 0x01000193);
export const fingerprintLo = (h: number, code: number): number => {
  const next = Math.imul(h ^ code, 0x5bd1e995);
  return next ^ (next >>> 15);
};
/** A separator after each cell, so ["ab", "c"] and ["a", "bc"] differ. */
export const endCellHi = (h: number): number => Math.imul(h ^ 0x1f, 0x01000193);
export const endCellLo = (h: number): number => Math.imul(h ^ 0x1f, 0x5bd1e995);

/** Rows the exact duplicate table tracks by default: 2^24 slots at most 3/4 full, 128 MiB. */
export const DEFAULT_MAX_DUPLICATE_ROWS = 12_000_000;
/** The exact table's largest load: linear probing stays short (about 8 probes for a miss) up to 3/4. */
const MAX_LOAD = 0.75;
/** Fingerprints sorted and inserted together by `addLater` (2^20: 16 MiB of buffers, so that a block sweeps a full table about one cache line at a time). */
const SORTED_BLOCK = 1 << 20;
/** How much the duplicate table grows at a time (4: fewer rehashes, and a smaller old table beside the new one). */
const GROWTH = 4;
/** Top bits of the home slot the block is sorted on. */
const SORT_BITS = 18;
/** The estimate's bound, in standard errors of the HyperLogLog count (3: about 99.7% of files). */
const BOUND_STANDARD_ERRORS = 3;

/** The duplicate rows of a file past the exact table, estimated over all its rows. */
export interface DuplicateEstimate {
  readonly method: 'hyperloglog';
  /** Rows minus the estimated distinct rows, kept within what the exact table proves. */
  readonly duplicateRows: number;
  /** The true count is within duplicateRows ± bound at three standard errors. */
  readonly bound: number;
  readonly registers: number;
}

/**
 * A set of 64-bit row fingerprints in one open-addressed typed array (the two halves of a slot
 * side by side, so a probe reads one cache line): 8 bytes a slot at most 3/4 full. The table
 * grows fourfold as rows arrive (less for the last step if that is all that is left), up to the
 * size `maxRows` needs: 12 million rows (the default) take 2^24 slots, 128 MiB, and 160 MiB for
 * the moment the table grows into it from 2^22 slots.
 *
 * Past `maxRows` distinct rows, new rows are still checked against the tracked ones (so the
 * exact count is a lower bound), but not added; from then on every row also goes into a
 * HyperLogLog (seeded with the tracked fingerprints, which are exactly the distinct rows so
 * far), whose distinct-row count gives `estimate()`. Memory stays bounded whatever the file.
 */
export class RowFingerprints {
  private table: Uint32Array;
  private size = 0;
  private rows = 0;
  private duplicates = 0;
  private readonly maxSlots: number;
  private estimator: HyperLogLog | undefined;
  private _complete = true;
  // The block of fingerprints waiting to be inserted (addLater), and the buffers that sort it (allocated on first use).
  private waitingHi = new Int32Array(0);
  private waitingLo = new Int32Array(0);
  private waiting = 0;
  private sortedHi = new Int32Array(0);
  private sortedLo = new Int32Array(0);
  private bucketStarts = new Int32Array(0);

  /** Whether every row offered was tracked. */
  get complete(): boolean {
    this.drain();
    return this._complete;
  }

  constructor(
    private readonly maxRows = DEFAULT_MAX_DUPLICATE_ROWS,
    initialSlots = 1 << 16,
  ) {
    let maxSlots = 2;
    while (maxSlots * MAX_LOAD < maxRows) maxSlots *= 2;
    this.maxSlots = maxSlots;
    this.table = new Uint32Array(2 * Math.min(maxSlots, Math.max(2, initialSlots)));
  }

  /** Adds a row's fingerprint; returns true when the same fingerprint was already there. */
  addRow(cells: readonly unknown[]): boolean {
    let h1 = FINGERPRINT_SEED_HI;
    let h2 = FINGERPRINT_SEED_LO;
    for (let c = 0; c < cells.length; c += 1) {
      const cell = cells[c];
      const text = cell === null || cell === undefined ? '\u0000' : typeof cell === 'string' ? cell : String(cell);
      for (let i = 0; i < text.length; i += 1) {
        const code = text.charCodeAt(i);
        h1 = fingerprintHi(h1, code);
        h2 = fingerprintLo(h2, code);
      }
      h1 = endCellHi(h1);
      h2 = endCellLo(h2);
    }
    return this.addFingerprint(h1, h2);
  }

  /** Adds a fingerprint hashed with the functions above (before the row's final step); returns true when it was already there. */
  addFingerprint(h1: number, h2: number): boolean {
    this.drain();
    // Unsigned, as the typed array stores them; the low half is never 0, which marks an empty slot.
    return this.insert(h1 >>> 0, (h2 | 1) >>> 0);
  }

  /**
   * Adds a fingerprint like `addFingerprint`, but later: fingerprints wait in a block, which is
   * sorted by home slot and inserted in that order, so the table is swept front to back instead
   * of hit at random (a random slot in a 128 MiB table is a cache and TLB miss). While the whole
   * block fits under `maxRows`, the order does not change the count (a row repeats an earlier one
   * whatever the order it is inserted in); a block that would reach the cap is inserted in row order.
   * `duplicateRows` and `estimate()` count the waiting fingerprints.
   */
  addLater(h1: number, h2: number): void {
    if (this.waitingHi.length === 0) {
      this.waitingHi = new Int32Array(SORTED_BLOCK);
      this.waitingLo = new Int32Array(SORTED_BLOCK);
      this.sortedHi = new Int32Array(SORTED_BLOCK);
      this.sortedLo = new Int32Array(SORTED_BLOCK);
      this.bucketStarts = new Int32Array((1 << SORT_BITS) + 1);
    }
    const n = this.waiting;
    this.waitingHi[n] = h1;
    this.waitingLo[n] = h2 | 1;
    this.waiting = n + 1;
    if (this.waiting === SORTED_BLOCK) this.drain();
  }

  /** Rows offered that repeat an earlier one (among the tracked rows, once past maxRows). */
  get duplicateRows(): number {
    this.drain();
    return this.duplicates;
  }

  private drain(): void {
    const n = this.waiting;
    if (n === 0) return;
    this.waiting = 0;
    const waitingHi = this.waitingHi;
    const waitingLo = this.waitingLo;
    if (this.size + n > this.maxRows) {
      for (let i = 0; i < n; i += 1) this.insert(waitingHi[i]! >>> 0, waitingLo[i]! >>> 0);
      return;
    }
    while (this.size + n > (this.table.length / 2) * MAX_LOAD && this.table.length / 2 < this.maxSlots) this.grow();
    // A counting sort on the top bits of the home slot.
    const slotBits = Math.log2(this.table.length / 2);
    const shift = Math.max(0, slotBits - SORT_BITS);
    const mask = this.table.length / 2 - 1;
    const starts = this.bucketStarts;
    starts.fill(0);
    for (let i = 0; i < n; i += 1) starts[(((waitingHi[i]! ^ Math.imul(waitingLo[i]!, 0x9e3779b1)) & mask) >>> shift) + 1]! += 1;
    for (let b = 1; b < starts.length; b += 1) starts[b]! += starts[b - 1]!;
    const sortedHi = this.sortedHi;
    const sortedLo = this.sortedLo;
    for (let i = 0; i < n; i += 1) {
      const hi = waitingHi[i]!;
      const lo = waitingLo[i]!;
      const at = starts[((hi ^ Math.imul(lo, 0x9e3779b1)) & mask) >>> shift]!++;
      sortedHi[at] = hi;
      sortedLo[at] = lo;
    }
    for (let i = 0; i < n; i += 1) this.insert(sortedHi[i]! >>> 0, sortedLo[i]! >>> 0);
  }

  private insert(hi: number, lo: number): boolean {
    this.rows += 1;
    let slot = this.find(hi, lo);
    if (this.table[slot + 1] !== 0) {
      this.duplicates += 1;
      return true;
    }
    // Past the cap, rows are still checked against those tracked, but not added.
    if (this.size >= this.maxRows) {
      if (!this.estimator) this.startEstimate();
      this.estimator!.add(hi, lo);
      this._complete = false;
      return false;
    }
    if (this.size + 1 > (this.table.length / 2) * MAX_LOAD && this.table.length / 2 < this.maxSlots) {
      this.grow();
      slot = this.find(hi, lo);
    }
    this.table[slot] = hi;
    this.table[slot + 1] = lo;
    this.size += 1;
    return false;
  }

  /** The estimated duplicate rows over every row offered, once rows went past the table; undefined while the count is exact. */
  estimate(): DuplicateEstimate | undefined {
    this.drain();
    if (!this.estimator) return undefined;
    const distinct = this.estimator.estimate();
    // The table proves at least `size` distinct rows and `duplicates` repeats.
    const duplicateRows = Math.min(this.rows - this.size, Math.max(this.duplicates, Math.round(this.rows - distinct)));
    const bound = Math.ceil(BOUND_STANDARD_ERRORS * this.estimator.standardError * distinct);
    return { method: 'hyperloglog', duplicateRows, bound, registers: this.estimator.registerCount };
  }

  private startEstimate(): void {
    const estimator = new HyperLogLog();
    const table = this.table;
    for (let i = 0; i < table.length; i += 2) if (table[i + 1] !== 0) estimator.add(table[i]!, table[i + 1]!);
    this.estimator = estimator;
  }

  /** The index of the slot holding this fingerprint, or of the empty slot where it would go. */
  private find(hi: number, lo: number): number {
    const table = this.table;
    const mask = table.length / 2 - 1;
    let slot = (hi ^ Math.imul(lo, 0x9e3779b1)) & mask;
    while (table[2 * slot + 1] !== 0 && !(table[2 * slot + 1] === lo && table[2 * slot] === hi)) slot = (slot + 1) & mask;
    return 2 * slot;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Uint32Array(old.length * Math.min(GROWTH, (2 * this.maxSlots) / old.length));
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      const slot = this.find(old[i]!, old[i + 1]!);
      this.table[slot] = old[i]!;
      this.table[slot + 1] = old[i + 1]!;
    }
  }
}
