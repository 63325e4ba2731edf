import { describe, expect, it } from 'vitest';
import { createRng, shuffledIndices } from '../../lambdas/core/random.js';
import { stratifiedSplit } from '../../lambdas/core/training/split.js';

const draws = (seed: number, n: number) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng());
};

describe('createRng', () => {
  it('gives the same sequence for the same seed', () => {
    expect(draws(42, 100)).toEqual(draws(42, 100));
  });

  it('gives different sequences for different seeds', () => {
    const a = draws(1, 20);
    const b = draws(2, 20);
    expect(a.filter((value, i) => value === b[i])).toHaveLength(0);
  });

  it('draws values in [0, 1) that spread over the interval', () => {
    const values = draws(7, 10_000);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    // Each tenth of the interval gets roughly a tenth of the draws.
    const buckets = new Array<number>(10).fill(0);
    for (const v of values) buckets[Math.floor(v * 10)]! += 1;
    for (const count of buckets) expect(count).toBeGreaterThan(850);
  });
});

describe('shuffledIndices', () => {
  it('returns a permutation of 0..n-1', () => {
    const order = shuffledIndices(200, createRng(3));
    expect(order).toHaveLength(200);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('actually reorders, and reproducibly', () => {
    const order = shuffledIndices(50, createRng(3));
    expect(order).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffledIndices(50, createRng(3))).toEqual(order);
    expect(shuffledIndices(50, createRng(4))).not.toEqual(order);
  });

  it('handles 0 and 1 elements', () => {
    expect(shuffledIndices(0, createRng(1))).toEqual([]);
    expect(shuffledIndices(1, createRng(1))).toEqual([0]);
  });
});

describe('stratifiedSplit', () => {
  // 700 negatives and 300 positives, interleaved.
  const labels = Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0));

  it('splits into disjoint sides that together cover every row, in ascending order', () => {
    const { train, test } = stratifiedSplit(labels, 0.25, 42);
    expect(new Set([...train, ...test]).size).toBe(1000);
    expect(train.length + test.length).toBe(1000);
    expect([...train].sort((a, b) => a - b)).toEqual(train);
    expect([...test].sort((a, b) => a - b)).toEqual(test);
  });

  it('sends the requested fraction of each class to the test side', () => {
    const { test } = stratifiedSplit(labels, 0.25, 42);
    const positives = test.filter((i) => labels[i] === 1).length;
    const negatives = test.filter((i) => labels[i] === 0).length;
    expect(positives).toBe(75);
    expect(negatives).toBe(175);
  });

  it('keeps the per-class fraction close for other fractions too', () => {
    for (const fraction of [0.1, 0.2, 0.33, 0.5]) {
      const { test } = stratifiedSplit(labels, fraction, 9);
      for (const [label, size] of [[1, 300], [0, 700]] as const) {
        const share = test.filter((i) => labels[i] === label).length / size;
        expect(Math.abs(share - fraction)).toBeLessThanOrEqual(0.5 / size + 1e-12);
      }
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    expect(stratifiedSplit(labels, 0.25, 42)).toEqual(stratifiedSplit(labels, 0.25, 42));
    expect(stratifiedSplit(labels, 0.25, 43).test).not.toEqual(stratifiedSplit(labels, 0.25, 42).test);
  });

  it('puts every class on both sides, even a tiny one', () => {
    const rare = [...Array.from({ length: 97 }, () => 0), 1, 1, 1];
    const { train, test } = stratifiedSplit(rare, 0.1, 5);
    expect(test.some((i) => rare[i] === 1)).toBe(true);
    expect(train.some((i) => rare[i] === 1)).toBe(true);
    // A class of two rows at fraction 0.5 still keeps one row for training.
    const pair = [0, 0, 0, 0, 1, 1];
    const split = stratifiedSplit(pair, 0.5, 1);
    expect(split.test.filter((i) => pair[i] === 1)).toHaveLength(1);
    expect(split.train.filter((i) => pair[i] === 1)).toHaveLength(1);
  });
});
