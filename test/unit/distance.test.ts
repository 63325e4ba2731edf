import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  binnedShares,
  categoryShares,
  fillEmptyBins,
  histogramBinEdges,
  histogramCounts,
  jensenShannon,
  jensenShannonDistance,
  normedWassersteinDistance,
  populationStabilityIndex,
  populationStd,
  psi,
  wassersteinDistance,
  type Category,
  type DataKind,
} from '../../lambdas/core/monitoring/distance.js';
import { createRng } from '../../lambdas/core/random.js';

/**
 * The fixture holds seeded datasets and what Evidently 0.7.23 and scipy 1.17.1 (numpy 2.4.6)
 * compute on them; regenerate with scripts/reference_distances.py.
 */
interface FixtureCase {
  name: string;
  kind: DataKind;
  reference: Category[];
  current: Category[];
  expected: {
    jensenshannon: number;
    jensenshannonBase2: number;
    psi: number;
    bins: number;
    referenceShares: number[];
    currentShares: number[];
    filledReferenceShares: number[];
    filledCurrentShares: number[];
    scipyJensenshannonOfShares: number;
    sturgesEdges?: number[];
    wasserstein?: number;
    wassersteinNorm?: number;
    referenceStd?: number;
    psiBins10?: number;
    jensenshannonBins10?: number;
  };
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/distances.json', import.meta.url), 'utf8')) as { versions: Record<string, string>; cases: FixtureCase[] };

/** Equal to 1e-9 relative; values that are 0 on one side must be within 1e-12 of it. */
function expectClose(actual: number, expected: number): void {
  const tolerance = Math.max(1e-9 * Math.abs(expected), 1e-12);
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}
const expectAllClose = (actual: readonly number[], expected: readonly number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expectClose(value, expected[i]!));
};
const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);

describe('distances against Evidently and scipy (test/fixtures/distances.json)', () => {
  it('comes from the pinned Evidently version', () => {
    expect(fixture.versions.evidently).toBe('0.7.23');
    expect(fixture.cases.length).toBeGreaterThanOrEqual(10);
  });

  describe.each(fixture.cases)('$name', (c) => {
    it("bins as Evidently's get_binned_data, before and after the empty-bin rule", () => {
      const shares = binnedShares(c.reference, c.current, c.kind);
      expect(shares.reference).toHaveLength(c.expected.bins);
      expectAllClose(sorted(shares.reference), c.expected.referenceShares);
      expectAllClose(sorted(shares.current), c.expected.currentShares);
      expectAllClose(sorted(fillEmptyBins(shares.reference)), c.expected.filledReferenceShares);
      expectAllClose(sorted(fillEmptyBins(shares.current)), c.expected.filledCurrentShares);
    });

    it("gives Evidently's Jensen-Shannon distance (natural log and base 2) and PSI", () => {
      expectClose(jensenShannon(c.reference, c.current, c.kind), c.expected.jensenshannon);
      expectClose(jensenShannon(c.reference, c.current, c.kind, { base: 2 }), c.expected.jensenshannonBase2);
      expectClose(psi(c.reference, c.current, c.kind), c.expected.psi);
      const shares = binnedShares(c.reference, c.current, c.kind);
      expectClose(jensenShannonDistance(shares.reference, shares.current), c.expected.scipyJensenshannonOfShares);
    });
  });

  const numericCases = fixture.cases.filter((c) => c.kind === 'numeric');
  describe.each(numericCases)('$name (numeric)', (c) => {
    const reference = c.reference as number[];
    const current = c.current as number[];

    it("has numpy's sturges bin edges to the last bit", () => {
      expect(histogramBinEdges([...reference, ...current], 'sturges')).toEqual(c.expected.sturgesEdges);
    });

    it("gives scipy's Wasserstein distance and Evidently's normed one", () => {
      expectClose(wassersteinDistance(reference, current), c.expected.wasserstein!);
      expectClose(populationStd(reference), c.expected.referenceStd!);
      expectClose(normedWassersteinDistance(reference, current), c.expected.wassersteinNorm!);
    });
  });

  // Only where the reference is binned (more than 20 distinct values) does a bin count mean anything.
  const binnedCases = fixture.cases.filter((c) => c.expected.psiBins10 !== undefined);
  describe.each(binnedCases)('$name (10 bins asked)', (c) => {
    it("uses the bin count asked for (Evidently issue #1400), with Evidently's code otherwise", () => {
      expectClose(psi(c.reference, c.current, c.kind, { bins: 10 }), c.expected.psiBins10!);
      expectClose(jensenShannon(c.reference, c.current, c.kind, { bins: 10 }), c.expected.jensenshannonBins10!);
      expect(binnedShares(c.reference, c.current, c.kind, { bins: 10 }).reference).toHaveLength(10);
    });
  });

  it('covers both binnings, empty bins and the tiny-share rule', () => {
    expect(numericCases.length).toBeGreaterThanOrEqual(6);
    expect(binnedCases.length).toBeGreaterThanOrEqual(5);
    expect(fixture.cases.some((c) => c.expected.filledReferenceShares.some((share) => share < 1e-9))).toBe(true);
    expect(fixture.cases.some((c) => c.expected.currentShares.includes(0))).toBe(true);
  });
});

/** Seeded normal draws (Box-Muller on the project's generator). */
function normals(seed: number, n: number, mean = 0, sd = 1): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
}

describe('distance properties', () => {
  it('is 0 for identical distributions, numeric and categorical', () => {
    const values = normals(1, 500);
    expect(jensenShannon(values, values, 'numeric')).toBe(0);
    expect(psi(values, values, 'numeric')).toBe(0);
    expect(wassersteinDistance(values, values)).toBe(0);
    const labels = ['a', 'b', 'b', 'c'];
    expect(jensenShannon(labels, [...labels].reverse(), 'categorical')).toBe(0);
    expect(psi(labels, [...labels, ...labels], 'categorical')).toBe(0);
  });

  it('Jensen-Shannon is symmetric and within [0, sqrt(ln 2)] (1 in base 2)', () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const p = Array.from({ length: 6 }, (_, i) => createRng(seed * 31 + i)());
      const q = Array.from({ length: 6 }, (_, i) => createRng(seed * 97 + i)());
      const d = jensenShannonDistance(p, q);
      expect(d).toBeCloseTo(jensenShannonDistance(q, p), 15);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(Math.sqrt(Math.LN2));
    }
    // Disjoint supports reach the bound.
    expect(jensenShannonDistance([1, 0], [0, 1])).toBeCloseTo(Math.sqrt(Math.LN2), 15);
    expect(jensenShannonDistance([1, 0], [0, 1], 2)).toBeCloseTo(1, 15);
  });

  it('normalises counts as scipy does: counts and shares give one distance', () => {
    expect(jensenShannonDistance([10, 30, 60], [20, 20, 60])).toBeCloseTo(jensenShannonDistance([0.1, 0.3, 0.6], [0.2, 0.2, 0.6]), 15);
  });

  it('PSI is non-negative and grows with the shift', () => {
    const reference = normals(2, 2000);
    const shifts = [0, 0.2, 0.5, 1].map((shift) => psi(reference, normals(3, 2000, shift), 'numeric'));
    shifts.forEach((value) => expect(value).toBeGreaterThanOrEqual(0));
    for (let i = 1; i < shifts.length; i += 1) expect(shifts[i]).toBeGreaterThan(shifts[i - 1]!);
  });

  it('fills empty bins with the smallest share / 10^6 at or below 1e-4, else with 1e-4', () => {
    expect(fillEmptyBins([0.5, 0.5, 0])).toEqual([0.5, 0.5, 0.0001]);
    expect(fillEmptyBins([0.0001, 0.9999, 0])).toEqual([0.0001, 0.9999, 0.0001 / 10 ** 6]);
    expect(() => fillEmptyBins([0, 0])).toThrow(/every bin is empty/);
    // Without the rule PSI of a one-sided bin would be infinite.
    expect(populationStabilityIndex([0.5, 0.5, 0], [0.4, 0.4, 0.2])).toBe(Infinity);
    expect(Number.isFinite(psi([1, 1, 2, 2], [1, 2, 3, 3], 'categorical'))).toBe(true);
  });

  it('counts values as np.histogram: left-closed bins, the last one closed on both sides', () => {
    expect(histogramCounts([0, 1, 1.5, 2, 3, 4], [0, 1, 2, 4])).toEqual([1, 2, 3]);
    expect(histogramCounts([-1, 5], [0, 1, 2, 4])).toEqual([0, 0, 0]);
    expect(histogramBinEdges([3, 3], 2)).toEqual([2.5, 3, 3.5]);
  });

  it('treats a numeric reference with at most 20 distinct values as categories', () => {
    const reference = Array.from({ length: 200 }, (_, i) => i % 20);
    expect(binnedShares(reference, [0, 1, 2], 'numeric').kind).toBe('categories');
    expect(binnedShares([...reference, 20.5], [0, 1, 2], 'numeric').kind).toBe('histogram');
  });

  it('keeps categories of either side, with share 0 where a side lacks one', () => {
    const shares = categoryShares(['a', 'a', 'b'], ['b', 'c']);
    expect(shares.categories).toEqual(['a', 'b', 'c']);
    expect(shares.reference).toEqual([2 / 3, 1 / 3, 0]);
    expect(shares.current).toEqual([0, 0.5, 0.5]);
  });

  it('refuses empty sides and non-finite numeric values', () => {
    expect(() => jensenShannon([], [1], 'numeric')).toThrow(/both sides/);
    const many = Array.from({ length: 30 }, (_, i) => i);
    expect(() => psi(many, [Number.NaN], 'numeric')).toThrow(/finite/);
  });

  it('norms Wasserstein by at least 0.001 for a constant reference', () => {
    expect(normedWassersteinDistance([1, 1, 1], [1, 1, 2])).toBeCloseTo(wassersteinDistance([1, 1, 1], [1, 1, 2]) / 0.001, 9);
  });
});
