import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Category } from '../../lambdas/core/monitoring/distance.js';
import { chiSquareSurvival, chiSquareTest, ksTest, logGamma, lowerRegularizedGamma, normalCdf, upperRegularizedGamma, zTest } from '../../lambdas/core/monitoring/stat-tests.js';

/** Reference values from scipy 1.17.1 and Evidently 0.7.23 (scripts/reference_distances.py). */
interface FixtureCase {
  name: string;
  kind: 'numeric' | 'categorical';
  reference: Category[];
  current: Category[];
  expected: { chisquarePValue?: number | null; zPValue?: number; zStatistic?: number; ksStatistic?: number; ksPValue?: number };
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/distances.json', import.meta.url), 'utf8')) as {
  specialFunctions: { gammaln: [number, number][]; chi2Sf: [number, number, number][]; normCdf: [number, number][] };
  cases: FixtureCase[];
};

/**
 * 1e-9 relative; p-values below 1e-12 compare on a log scale (1e-9 relative of the log), and
 * anything within 1e-15 of the reference passes (the absolute floor: 2 (1 - Φ) rounds there).
 */
function expectPValue(actual: number, expected: number | null): void {
  if (expected === null) {
    expect(actual).toBeNaN();
    return;
  }
  if (Math.abs(actual - expected) <= 1e-15) return;
  if (expected < 1e-12) {
    expect(actual).toBeGreaterThan(0);
    expect(Math.abs(Math.log(actual) - Math.log(expected)), `${actual} vs ${expected}`).toBeLessThanOrEqual(1e-9 * Math.abs(Math.log(expected)));
    return;
  }
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
}

describe('special functions against scipy', () => {
  it.each(fixture.specialFunctions.gammaln)('gammaln(%d)', (x, expected) => {
    expect(Math.abs(logGamma(x) - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
  });

  it.each(fixture.specialFunctions.chi2Sf)('chi2.sf(%d, %d)', (x, df, expected) => {
    expectPValue(chiSquareSurvival(x, df), expected);
  });

  it.each(fixture.specialFunctions.normCdf)('norm.cdf(%d)', (z, expected) => {
    expectPValue(normalCdf(z), expected);
  });

  it('P + Q = 1 and the edges are exact', () => {
    for (const [a, x] of [[0.5, 0.2], [3, 2], [3, 9], [50, 48], [50, 70]] as const) {
      expect(lowerRegularizedGamma(a, x) + upperRegularizedGamma(a, x)).toBeCloseTo(1, 14);
    }
    expect(upperRegularizedGamma(2, 0)).toBe(1);
    expect(upperRegularizedGamma(2, Infinity)).toBe(0);
    expect(chiSquareSurvival(3, 0)).toBeNaN();
    expect(() => logGamma(0)).toThrow(/x > 0/);
  });
});

const testedCases = fixture.cases.filter((c) => c.expected.zPValue !== undefined);

describe("Evidently's chi-square and Z-test on the fixture's datasets", () => {
  it('covers a category only the current has, a single value, and tiny p-values', () => {
    expect(testedCases.length).toBeGreaterThanOrEqual(7);
    expect(testedCases.some((c) => c.expected.chisquarePValue === 0)).toBe(true);
    expect(testedCases.some((c) => c.expected.chisquarePValue === null)).toBe(true);
    expect(testedCases.some((c) => (c.expected.chisquarePValue ?? 1) > 0 && (c.expected.chisquarePValue ?? 1) < 1e-12)).toBe(true);
  });

  describe.each(testedCases)('$name', (c) => {
    it('chi-square p-value', () => {
      expectPValue(chiSquareTest(c.reference, c.current).pValue, c.expected.chisquarePValue ?? null);
    });

    it('Z-test p-value (and statistic)', () => {
      const result = zTest(c.reference, c.current);
      expectPValue(result.pValue, c.expected.zPValue!);
      if (c.expected.zStatistic !== undefined) expect(Math.abs(result.statistic - c.expected.zStatistic)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(c.expected.zStatistic)));
    });
  });
});

const ksCases = fixture.cases.filter((c) => c.expected.ksPValue !== undefined);

describe("scipy's two-sample KS test (exact) on the fixture's datasets", () => {
  it('covers equal and unequal sizes, ties, tiny samples and tiny p-values', () => {
    expect(ksCases.some((c) => c.reference.length === c.current.length)).toBe(true);
    expect(ksCases.some((c) => c.reference.length < 10)).toBe(true);
    expect(ksCases.some((c) => new Set(c.reference).size < c.reference.length)).toBe(true);
    expect(ksCases.some((c) => c.expected.ksPValue! < 1e-12)).toBe(true);
  });

  it.each(ksCases)('$name', (c) => {
    const result = ksTest(c.reference as number[], c.current as number[]);
    expect(result.statistic).toBe(c.expected.ksStatistic);
    expectPValue(result.pValue, c.expected.ksPValue!);
  });

  it('gives p = 1 for identical samples and refuses what scipy would not compute exactly', () => {
    expect(ksTest([1, 2, 3], [3, 2, 1])).toEqual({ statistic: 0, pValue: 1 });
    expect(() => ksTest([1], [])).toThrow(/both sides/);
    expect(() => ksTest(new Array<number>(10_001).fill(0), [1])).toThrow(/at most 10000 rows a side/);
  });
});

describe('chi-square and Z-test rules', () => {
  it('gives p = 0 when the current has a category the reference lacks (its expected count is 0)', () => {
    expect(chiSquareTest(['a', 'a', 'b'], ['a', 'c'])).toEqual({ statistic: Infinity, pValue: 0 });
  });

  it('gives p = 1 for identical shares, and p = 1 in the Z-test for one shared value', () => {
    expect(chiSquareTest(['a', 'b'], ['b', 'a', 'a', 'b']).pValue).toBe(1);
    expect(zTest(['x', 'x'], ['x']).pValue).toBe(1);
  });

  it('refuses an empty side', () => {
    expect(() => chiSquareTest([], ['a'])).toThrow(/both sides/);
    expect(() => zTest(['a'], [])).toThrow(/both sides/);
  });
});
