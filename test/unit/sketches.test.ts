import { describe, expect, it } from 'vitest';
import { HyperLogLog } from '../../lambdas/core/data/hyperloglog.js';
import { createRng, shuffledIndices } from '../../lambdas/core/random.js';
import {
  FrequencySketch,
  FrequencySketchJsonSchema,
  NumericSummary,
  NumericSummaryJsonSchema,
  PROFILE_QUANTILES,
  QuantileSketch,
  QuantileSketchJsonSchema,
  RowFingerprints,
  quantileKey,
} from '../../lambdas/core/data/sketches.js';

/** A standard normal deviate from a seeded uniform generator (Box-Muller). */
function normal(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function uniformData(n: number, seed = 1): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng() * 1000);
}

function lognormalData(n: number, seed = 2): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Math.exp(2 * normal(rng)));
}

/** About a fifth exact zeros, the rest normal around 0 with a wide spread: negatives, positives, small and large magnitudes. */
function mixedData(n: number, seed = 3): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => (rng() < 0.2 ? 0 : normal(rng) * 10 ** Math.floor(rng() * 5)));
}

/** The value at rank q*(n-1) of the sorted data (the rank a sketch answers for, rounded down). */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function sketchOf(values: readonly number[], accuracy?: number): QuantileSketch {
  const sketch = new QuantileSketch(accuracy);
  for (const value of values) sketch.add(value);
  return sketch;
}

function summaryOf(values: readonly number[]): NumericSummary {
  const summary = new NumericSummary();
  for (const value of values) summary.add(value);
  return summary;
}

/** Mean and population standard deviation in two passes. */
function twoPass(values: readonly number[]): { mean: number; std: number; min: number; max: number } {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

const QUANTILES = [0, 0.001, ...PROFILE_QUANTILES, 0.999, 1];
const TOLERANCE = 0.01 + 1e-9;

describe('QuantileSketch', () => {
  const datasets: Record<string, () => number[]> = {
    uniform: () => uniformData(20_000),
    lognormal: () => lognormalData(20_000),
    'mixed negative, zero and positive': () => mixedData(20_000),
  };

  it.each(Object.keys(datasets))('answers every quantile of %s data within 1%% of the exact value', (name) => {
    const data = datasets[name]!();
    const sketch = sketchOf(data);
    const sorted = [...data].sort((a, b) => a - b);
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q);
      const estimate = sketch.quantile(q);
      if (exact === 0) expect(estimate, `q=${q}`).toBe(0);
      else expect(Math.abs(estimate - exact) / Math.abs(exact), `q=${q}: exact ${exact}, sketch ${estimate}`).toBeLessThanOrEqual(TOLERANCE);
      // The sign is always right.
      expect(Math.sign(estimate), `q=${q}`).toBe(Math.sign(exact));
    }
  });

  it('keeps negative values below zeros below positive values', () => {
    const sketch = sketchOf([-5, -5, 0, 0, 0, 3]);
    expect(sketch.quantile(0)).toBeCloseTo(-5, 1);
    expect(sketch.quantile(0.2)).toBeCloseTo(-5, 1);
    expect(sketch.quantile(0.4)).toBe(0);
    expect(sketch.quantile(0.8)).toBe(0);
    expect(sketch.quantile(1)).toBeCloseTo(3, 1);
  });

  it('answers NaN when empty', () => {
    expect(new QuantileSketch().quantile(0.5)).toBeNaN();
  });

  it('is small: its bins are bounded by the range of magnitudes, not the number of values', () => {
    const json = sketchOf(uniformData(20_000)).toJSON();
    // 1..1000 spans about 346 bins at 1%; values below 1 add a few hundred more at most.
    expect(json.positive.length).toBeLessThan(1200);
    expect(json.negative).toEqual([]);
  });

  it('merges two sketches into exactly the sketch of the concatenated data, in either order', () => {
    const a = mixedData(5_000, 11);
    const b = lognormalData(3_000, 12).map((v) => -v);
    const whole = sketchOf([...a, ...b]).toJSON();

    const ab = sketchOf(a);
    ab.merge(sketchOf(b));
    const ba = sketchOf(b);
    ba.merge(sketchOf(a));

    expect(ab.toJSON()).toEqual(whole);
    expect(ba.toJSON()).toEqual(whole);
    for (const q of QUANTILES) expect(ab.quantile(q)).toBe(sketchOf([...a, ...b]).quantile(q));
  });

  it('merges an empty sketch as a no-op, both ways', () => {
    const data = uniformData(500, 5);
    const left = sketchOf(data);
    left.merge(new QuantileSketch());
    const right = new QuantileSketch();
    right.merge(sketchOf(data));
    expect(left.toJSON()).toEqual(sketchOf(data).toJSON());
    expect(right.toJSON()).toEqual(sketchOf(data).toJSON());
    expect(right.quantile(0.5)).toBe(sketchOf(data).quantile(0.5));
  });

  it('round-trips through JSON: same bins, same quantiles', () => {
    const sketch = sketchOf(mixedData(4_000, 21));
    const json = JSON.parse(JSON.stringify(sketch.toJSON())) as unknown;
    const restored = QuantileSketch.fromJSON(QuantileSketchJsonSchema.parse(json));
    expect(restored.toJSON()).toEqual(sketch.toJSON());
    for (const q of QUANTILES) expect(restored.quantile(q)).toBe(sketch.quantile(q));
    // A restored sketch keeps counting where the original left off.
    restored.add(1e6);
    sketch.add(1e6);
    expect(restored.toJSON()).toEqual(sketch.toJSON());
    expect(restored.quantile(1)).toBe(sketch.quantile(1));
  });

  it('writes bins sorted by key', () => {
    const json = sketchOf([1000, 1, 10, 100, -3, -300, -30]).toJSON();
    const keys = (bins: [number, number][]) => bins.map(([key]) => key);
    expect(keys(json.positive)).toEqual([...keys(json.positive)].sort((x, y) => x - y));
    expect(keys(json.negative)).toEqual([...keys(json.negative)].sort((x, y) => x - y));
    expect(json.positive).toHaveLength(4);
    expect(json.negative).toHaveLength(3);
  });

  it('refuses to merge sketches with different accuracies', () => {
    const coarse = sketchOf([1, 2, 3], 0.02);
    const fine = sketchOf([1, 2, 3]);
    expect(() => fine.merge(coarse)).toThrow(/different accuracies/);
    expect(() => coarse.merge(fine)).toThrow(/different accuracies/);
    // Nothing was merged.
    expect(fine.toJSON()).toEqual(sketchOf([1, 2, 3]).toJSON());
  });
});

describe('NumericSummary', () => {
  const data = mixedData(10_000, 31);

  it('has the exact count, min, max, mean and population std', () => {
    const json = summaryOf(data).toJSON();
    const exact = twoPass(data);
    expect(json.count).toBe(data.length);
    expect(json.min).toBe(exact.min);
    expect(json.max).toBe(exact.max);
    expect(json.mean).toBeCloseTo(exact.mean, 9);
    expect(json.std).toBeCloseTo(exact.std, 9);
    expect(NumericSummaryJsonSchema.parse(json)).toEqual(json);
  });

  it('keeps mean and std accurate for values far from zero (no catastrophic cancellation)', () => {
    const shifted = uniformData(5_000, 32).map((v) => 1e9 + v);
    const json = summaryOf(shifted).toJSON();
    const exact = twoPass(shifted);
    // A sum-of-squares formula would lose every digit of the variance here; Welford keeps them.
    expect(json.mean! - 1e9).toBeCloseTo(exact.mean - 1e9, 4);
    expect(json.std).toBeCloseTo(exact.std, 4);
    expect(exact.std).toBeGreaterThan(250);
  });

  it('reports the profile quantiles from the sketch, within 1%, clamped to the exact extremes', () => {
    const json = summaryOf(data).toJSON();
    const sorted = [...data].sort((a, b) => a - b);
    expect(Object.keys(json.quantiles)).toEqual(PROFILE_QUANTILES.map(quantileKey));
    expect(Object.keys(json.quantiles)).toEqual(['p01', 'p05', 'p10', 'p25', 'p50', 'p75', 'p90', 'p95', 'p99']);
    for (const q of PROFILE_QUANTILES) {
      const exact = exactQuantile(sorted, q);
      const estimate = json.quantiles[quantileKey(q)]!;
      if (exact === 0) expect(estimate).toBe(0);
      else expect(Math.abs(estimate - exact) / Math.abs(exact)).toBeLessThanOrEqual(TOLERANCE);
    }
    const constant = summaryOf([7.3, 7.3, 7.3]).toJSON();
    expect(Object.values(constant.quantiles)).toEqual(Array(PROFILE_QUANTILES.length).fill(7.3));
  });

  it('summarizes no values as nulls', () => {
    expect(new NumericSummary().toJSON()).toMatchObject({ count: 0, min: null, max: null, mean: null, std: null, m2: 0 });
  });

  it('merges parts into the summary of the whole', () => {
    const parts = [data.slice(0, 1234), data.slice(1234, 1234), data.slice(1234, 7000), data.slice(7000)];
    const merged = new NumericSummary();
    for (const part of parts) merged.merge(summaryOf(part));
    const whole = summaryOf(data).toJSON();
    const json = merged.toJSON();
    expect(json.count).toBe(whole.count);
    expect(json.min).toBe(whole.min);
    expect(json.max).toBe(whole.max);
    expect(json.mean).toBeCloseTo(whole.mean!, 9);
    expect(json.std).toBeCloseTo(whole.std!, 9);
    expect(json.m2 / whole.m2).toBeCloseTo(1, 12);
    expect(json.sketch).toEqual(whole.sketch);
    expect(json.quantiles).toEqual(whole.quantiles);
  });

  it('merges in any grouping: (a+b)+c equals a+(b+c)', () => {
    const [a, b, c] = [data.slice(0, 100), data.slice(100, 5000), data.slice(5000)];
    const left = summaryOf(a);
    left.merge(summaryOf(b));
    left.merge(summaryOf(c));
    const bc = summaryOf(b);
    bc.merge(summaryOf(c));
    const right = summaryOf(a);
    right.merge(bc);
    expect(left.toJSON().mean).toBeCloseTo(right.toJSON().mean!, 9);
    expect(left.toJSON().std).toBeCloseTo(right.toJSON().std!, 9);
    expect(left.toJSON().sketch).toEqual(right.toJSON().sketch);
  });

  it('round-trips through JSON and merges after the round trip', () => {
    const a = summaryOf(data.slice(0, 4000));
    const b = summaryOf(data.slice(4000));
    const restored = NumericSummary.fromJSON(NumericSummaryJsonSchema.parse(JSON.parse(JSON.stringify(a.toJSON()))));
    expect(restored.toJSON()).toEqual(a.toJSON());
    restored.merge(NumericSummary.fromJSON(b.toJSON()));
    const whole = summaryOf(data).toJSON();
    expect(restored.toJSON().mean).toBeCloseTo(whole.mean!, 9);
    expect(restored.toJSON().std).toBeCloseTo(whole.std!, 9);
    expect(restored.toJSON().sketch).toEqual(whole.sketch);
  });
});

/** Exact counts of a stream. */
function countsOf(stream: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of stream) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** A skewed stream: value v{k} appears about n/(k+1) times, shuffled with a seed. */
function skewedStream(distinct: number, scale: number, seed: number): string[] {
  const stream: string[] = [];
  for (let k = 0; k < distinct; k += 1) for (let i = 0; i < Math.ceil(scale / (k + 1)); i += 1) stream.push(`v${k}`);
  return shuffledIndices(stream.length, createRng(seed)).map((i) => stream[i]!);
}

function frequencyOf(stream: readonly string[], capacity?: number): FrequencySketch {
  const sketch = new FrequencySketch(capacity);
  for (const value of stream) sketch.add(value);
  return sketch;
}

/** The Misra-Gries guarantee: heavy hitters survive, each undercounted by at most total/(capacity+1). */
function expectHeavyHitterGuarantee(sketch: FrequencySketch, truth: Map<string, number>, total: number, capacity: number): void {
  const bound = total / (capacity + 1);
  const kept = new Map(sketch.entries());
  expect(kept.size).toBeLessThanOrEqual(capacity);
  let heavy = 0;
  for (const [value, count] of truth) {
    const estimate = kept.get(value);
    if (count > bound) {
      heavy += 1;
      expect(estimate, `${value} (true count ${count}) was dropped`).toBeDefined();
    }
    if (estimate !== undefined) {
      expect(estimate).toBeLessThanOrEqual(count);
      expect(estimate).toBeGreaterThanOrEqual(count - bound);
    }
  }
  // The check above is not vacuous.
  expect(heavy).toBeGreaterThan(0);
  for (const value of kept.keys()) expect(truth.has(value)).toBe(true);
}

describe('FrequencySketch', () => {
  it('counts exactly while the distinct values fit its capacity', () => {
    const stream = skewedStream(10, 60, 41);
    const sketch = frequencyOf(stream, 10);
    const json = sketch.toJSON();
    expect(json.exact).toBe(true);
    expect(json.total).toBe(stream.length);
    expect(new Map(json.counters)).toEqual(countsOf(stream));
    expect(sketch.distinct).toBe(10);
    expect(FrequencySketchJsonSchema.parse(json)).toEqual(json);
  });

  it('keeps the heavy hitters, undercounted by at most total/(capacity+1), past its capacity', () => {
    const stream = skewedStream(300, 400, 42);
    const capacity = 20;
    const sketch = frequencyOf(stream, capacity);
    expect(sketch.exact).toBe(false);
    expect(sketch.total).toBe(stream.length);
    expectHeavyHitterGuarantee(sketch, countsOf(stream), stream.length, capacity);
  });

  it('honours weights', () => {
    const sketch = new FrequencySketch(5);
    sketch.add('a', 3);
    sketch.add('b');
    sketch.add('a', 2);
    expect(sketch.toJSON()).toEqual({ capacity: 5, total: 6, exact: true, counters: [['a', 5], ['b', 1]] });
  });

  it('merges exact sketches into exactly the sketch of both streams', () => {
    const a = ['x', 'y', 'y', 'z'];
    const b = ['y', 'w', 'x', 'x', 'x'];
    const left = frequencyOf(a, 10);
    left.merge(frequencyOf(b, 10));
    expect(left.toJSON()).toEqual(frequencyOf([...a, ...b], 10).toJSON());
    expect(left.toJSON().counters).toEqual([['x', 4], ['y', 3], ['w', 1], ['z', 1]]);
  });

  it('keeps the guarantee after merging sketches past capacity, and is no longer exact', () => {
    const capacity = 15;
    const a = skewedStream(200, 300, 43);
    const b = skewedStream(120, 500, 44).map((v) => (v === 'v0' ? 'v0' : `${v}b`));
    const merged = frequencyOf(a, capacity);
    merged.merge(frequencyOf(b, capacity));
    expect(merged.exact).toBe(false);
    expect(merged.total).toBe(a.length + b.length);
    expectHeavyHitterGuarantee(merged, countsOf([...a, ...b]), a.length + b.length, capacity);
  });

  it('is not exact after a merge pushes two exact sketches past capacity', () => {
    const left = frequencyOf(['a', 'b', 'c'], 4);
    left.merge(frequencyOf(['d', 'e', 'a'], 4));
    expect(left.exact).toBe(false);
    expect(left.total).toBe(6);
    expect(left.entries().map(([v]) => v)).toContain('a');
  });

  it('orders entries by count (descending), then by value, whatever the insertion order', () => {
    const values = ['b', 'a', 'c', 'z', 'z', 'm', 'm', 'm'];
    const expected: [string, number][] = [['m', 3], ['z', 2], ['a', 1], ['b', 1], ['c', 1]];
    expect(frequencyOf(values).entries()).toEqual(expected);
    expect(frequencyOf([...values].reverse()).entries()).toEqual(expected);
    expect(JSON.stringify(frequencyOf([...values].reverse()).toJSON())).toBe(JSON.stringify(frequencyOf(values).toJSON()));
  });

  it('round-trips through JSON', () => {
    const sketch = frequencyOf(skewedStream(50, 100, 45), 10);
    const restored = FrequencySketch.fromJSON(FrequencySketchJsonSchema.parse(JSON.parse(JSON.stringify(sketch.toJSON()))));
    expect(restored.toJSON()).toEqual(sketch.toJSON());
    expect(restored.distinct).toBe(sketch.distinct);
  });
});

describe('QuantileSketch keys', () => {
  it('bins every value as ceil(log(|v|) / log(gamma)) does, at, just below and just above bin edges', () => {
    const logGamma = Math.log(1.01 / 0.99);
    const values: number[] = [];
    const bits = new Float64Array(1);
    const word = new BigInt64Array(bits.buffer);
    for (let k = -1300; k < 2000; k += 7) {
      for (const step of [-2n, -1n, 0n, 1n, 2n]) {
        bits[0] = Math.exp(k * logGamma);
        word[0]! += step;
        values.push(bits[0]!, -bits[0]!);
      }
    }
    const rng = createRng(9);
    for (let i = 0; i < 20_000; i += 1) values.push((rng() - 0.3) * 10 ** (rng() * 30 - 12), Math.floor(rng() * 70_000));
    const sketch = new QuantileSketch();
    const expected = new Map<string, number>();
    for (const value of values) {
      sketch.add(value);
      if (Math.abs(value) < 1e-12) continue;
      const key = `${value > 0 ? '+' : '-'}${Math.ceil(Math.log(Math.abs(value)) / logGamma)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const { positive, negative } = sketch.toJSON();
    const actual = new Map([...positive.map(([k, n]): [string, number] => [`+${k}`, n]), ...negative.map(([k, n]): [string, number] => [`-${k}`, n])]);
    expect(actual).toEqual(expected);
  });
});

describe('FrequencySketch.addHashed', () => {
  it('counts as add does, also when a shrink drops cached values and when hashes collide', () => {
    const plain = new FrequencySketch(10);
    const hashed = new FrequencySketch(10);
    const rng = createRng(3);
    for (let i = 0; i < 5_000; i += 1) {
      const value = `v${Math.floor(rng() * rng() * 40)}`;
      plain.add(value);
      hashed.addHashed(value, i % 3); // a poor hash: only three slots
    }
    expect(hashed.toJSON()).toEqual(plain.toJSON());
    expect(hashed.exact).toBe(false);
  });
});

describe('RowFingerprints', () => {
  it('reports a row already seen, and not a new one', () => {
    const rows = new RowFingerprints();
    expect(rows.addRow(['1', 'a', '0'])).toBe(false);
    expect(rows.addRow(['2', 'a', '0'])).toBe(false);
    expect(rows.addRow(['1', 'a', '0'])).toBe(true);
    expect(rows.addRow(['1', 'a', '0'])).toBe(true);
    expect(rows.addRow(['2', 'a', '0'])).toBe(true);
    expect(rows.complete).toBe(true);
  });

  it('finds every repeat among many rows', () => {
    const rows = new RowFingerprints();
    const n = 1_000;
    for (let i = 0; i < n; i += 1) rows.addRow([String(i), 'x']);
    const missed: number[] = [];
    for (let i = 0; i < n; i += 1) if (!rows.addRow([String(i), 'x'])) missed.push(i);
    expect(missed.length, `repeats not found for rows ${missed.slice(0, 10).join(', ')}...`).toBe(0);
  });

  it('separates cells: ["ab","c"] and ["a","bc"] differ', () => {
    const rows = new RowFingerprints();
    expect(rows.addRow(['ab', 'c'])).toBe(false);
    expect(rows.addRow(['a', 'bc'])).toBe(false);
    expect(rows.addRow(['abc'])).toBe(false);
    expect(rows.addRow(['abc', ''])).toBe(false);
    // Each of them is now known, so "differ" above is not just "never matches".
    expect([rows.addRow(['ab', 'c']), rows.addRow(['a', 'bc']), rows.addRow(['abc']), rows.addRow(['abc', ''])]).toEqual([true, true, true, true]);
  });

  it('tells a missing cell (null) from an empty string', () => {
    const rows = new RowFingerprints();
    expect(rows.addRow(['x', null])).toBe(false);
    expect(rows.addRow(['x', ''])).toBe(false);
    expect([rows.addRow(['x', null]), rows.addRow(['x', ''])]).toEqual([true, true]);
  });

  it('keeps every earlier row when it grows past its initial slots', () => {
    const rows = new RowFingerprints(1_000_000, 4);
    const n = 5_000;
    for (let i = 0; i < n; i += 1) expect(rows.addRow([String(i), `r${i * 7}`])).toBe(false);
    let repeats = 0;
    for (let i = 0; i < n; i += 1) if (rows.addRow([String(i), `r${i * 7}`])) repeats += 1;
    expect(repeats).toBe(n);
    expect(rows.addRow([String(n), `r${n * 7}`])).toBe(false);
    expect(rows.complete).toBe(true);
  });

  it('stops tracking at maxRows and says the check is incomplete', () => {
    const rows = new RowFingerprints(3);
    for (const row of [['a'], ['b'], ['c']]) expect(rows.addRow(row)).toBe(false);
    expect(rows.complete).toBe(true);
    expect(rows.addRow(['d'])).toBe(false);
    expect(rows.complete).toBe(false);
    // Untracked rows are never reported as repeats.
    expect(rows.addRow(['d'])).toBe(false);
  });
});

describe('RowFingerprints past maxRows', () => {
  it('estimates nothing while every row is tracked', () => {
    const rows = new RowFingerprints(100);
    for (let i = 0; i < 100; i += 1) rows.addRow([String(i)]);
    expect(rows.estimate()).toBeUndefined();
  });

  it('estimates duplicates over every row, seeded with the tracked ones, and never below the repeats it found', () => {
    const rows = new RowFingerprints(1000);
    for (let i = 0; i < 1000; i += 1) rows.addRow([String(i)]);
    for (let i = 0; i < 500; i += 1) rows.addRow([String(i)]); // found: tracked
    for (let i = 1000; i < 3000; i += 1) rows.addRow([String(i)]); // new, untracked
    for (let i = 1000; i < 1500; i += 1) rows.addRow([String(i)]); // repeats of untracked rows
    const estimate = rows.estimate()!;
    expect(rows.complete).toBe(false);
    expect(estimate.method).toBe('hyperloglog');
    expect(estimate.duplicateRows).toBeGreaterThanOrEqual(500);
    expect(Math.abs(estimate.duplicateRows - 1000)).toBeLessThanOrEqual(estimate.bound);
  });
});

describe('HyperLogLog', () => {
  it('counts distinct items within three standard errors, whatever the repeats', () => {
    for (const n of [1_000, 50_000, 300_000]) {
      const sketch = new HyperLogLog();
      for (let i = 0; i < n; i += 1) {
        sketch.add(i, Math.imul(i, 0x2545f491) ^ 0x5bd1e995);
        if (i % 3 === 0) sketch.add(i, Math.imul(i, 0x2545f491) ^ 0x5bd1e995);
      }
      expect(Math.abs(sketch.estimate() - n) / n, `n = ${n}`).toBeLessThanOrEqual(3 * sketch.standardError);
    }
  });

  it('has 2^precision registers and a standard error of 1.04 / sqrt(registers)', () => {
    const sketch = new HyperLogLog(12);
    expect(sketch.registerCount).toBe(4096);
    expect(sketch.standardError).toBeCloseTo(1.04 / 64, 12);
    expect(new HyperLogLog().estimate()).toBe(0);
    expect(() => new HyperLogLog(3)).toThrow(/precision must be an integer from 7 to 18/);
  });
});
