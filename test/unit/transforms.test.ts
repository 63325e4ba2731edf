import { describe, expect, it } from 'vitest';
import type { Table } from '../../lambdas/core/data/table.js';
import { DataValidationError, InputValidationError } from '../../lambdas/core/errors.js';
import type { Cell } from '../../lambdas/core/data/table-readers.js';
import { rowOf } from '../../lambdas/core/training/trainers/matrix.js';
import {
  FeatureSchema,
  FittedTransformsSchema,
  MISSING_CATEGORY,
  UNKNOWN_CATEGORY,
  fitTransforms,
  transformRow,
  transformTable,
  type Feature,
  type FittedFeature,
  type FittedTransforms,
} from '../../lambdas/core/training/transforms.js';
import { thrownBy } from './helpers.js';

const features = (...raw: unknown[]): Feature[] => raw.map((f) => FeatureSchema.parse(f));
const column = (values: readonly Cell[], name = 'x'): Table => ({ header: [name], rows: values.map((v) => [v]) });
const all = (table: Table) => table.rows.map((_, i) => i);
const only = (fitted: FittedTransforms, index = 0): FittedFeature => fitted.features[index]!;
const numeric = (fitted: FittedTransforms, index = 0) => {
  const feature = only(fitted, index);
  if (feature.type !== 'numeric') throw new Error('expected a numeric feature');
  return feature;
};
const categorical = (fitted: FittedTransforms, index = 0) => {
  const feature = only(fitted, index);
  if (feature.type !== 'categorical') throw new Error('expected a categorical feature');
  return feature;
};
/** transformRow on a single-feature fit, as serving calls it. */
const encode = (fitted: FittedTransforms, value: Cell | undefined, name = 'x') => [...transformRow(fitted, (f) => (f === name ? value : undefined), 'request')];

// Rows 0-3 train, 4-5 test. age: 20, "30", missing, 70 in training: median 30, mean 40.
const table: Table = {
  header: ['age', 'region', 'label'],
  rows: [
    [20, 'north', 'yes'],
    ['30', 'south', 'no'],
    [null, 'north', 'yes'],
    [' 70 ', ' east ', 'no'],
    [1000, 'west', 'yes'],
    ['', null, 'no'],
  ],
};
const TRAIN = [0, 1, 2, 3];

describe('FeatureSchema', () => {
  it('fills the documented defaults and rejects unknown keys', () => {
    expect(FeatureSchema.parse({ name: 'a', type: 'numeric' })).toEqual({ name: 'a', type: 'numeric', impute: 'median', scale: 'standard' });
    expect(FeatureSchema.parse({ name: 'c', type: 'categorical' })).toEqual({ name: 'c', type: 'categorical', maxCategories: 50, minFrequency: 1, impute: 'missing_category' });
    expect(FeatureSchema.safeParse({ name: 'a', type: 'numeric', buckets: 1 }).success).toBe(false);
    expect(FeatureSchema.safeParse({ name: 'a', type: 'numeric', extra: true }).success).toBe(false);
  });
});

describe('fitTransforms: numeric imputation', () => {
  it('fits on the training rows only: a test-only value moves neither the median nor the mean', () => {
    const median = fitTransforms(features({ name: 'age', type: 'numeric' }), table, TRAIN);
    expect(numeric(median).fill).toBe(30);
    const mean = fitTransforms(features({ name: 'age', type: 'numeric', impute: 'mean' }), table, TRAIN);
    expect(numeric(mean).fill).toBe(40);
    // The test row 4 (age 1000) would move both if it were used.
    expect(numeric(fitTransforms(features({ name: 'age', type: 'numeric' }), table, [...TRAIN, 4])).fill).toBe(50);
    // Changing the test rows changes nothing in the fit.
    const otherTest: Table = { header: table.header, rows: [...table.rows.slice(0, 4), [-5, 'x', 'no'], [9e9, 'y', 'no']] };
    expect(fitTransforms(features({ name: 'age', type: 'numeric' }, { name: 'region', type: 'categorical' }), otherTest, TRAIN)).toEqual(
      fitTransforms(features({ name: 'age', type: 'numeric' }, { name: 'region', type: 'categorical' }), table, TRAIN),
    );
  });

  it('takes the mean of the two middle values for an even count', () => {
    expect(numeric(fitTransforms(features({ name: 'x', type: 'numeric' }), column([4, 1, null, 10, 2]), [0, 1, 2, 3, 4])).fill).toBe(3);
    expect(numeric(fitTransforms(features({ name: 'x', type: 'numeric' }), column([5, 1, 3]), [0, 1, 2])).fill).toBe(3);
  });

  it('imputes median, mean or zero into missing values (null, blank text, absent)', () => {
    const base = { name: 'x', type: 'numeric', scale: 'none' };
    const data = column([1, 2, 9, null]);
    for (const [impute, fill] of [['median', 2], ['mean', 4], ['zero', 0]] as const) {
      const fitted = fitTransforms(features({ ...base, impute }), data, [0, 1, 2, 3]);
      expect(numeric(fitted).fill).toBe(fill);
      expect(encode(fitted, null)).toEqual([fill]);
      expect(encode(fitted, '  ')).toEqual([fill]);
      expect(encode(fitted, undefined)).toEqual([fill]);
      expect(encode(fitted, '7.5')).toEqual([7.5]);
    }
  });

  it("raises with the feature named when impute is 'none' and a value is missing", () => {
    const spec = features({ name: 'age', type: 'numeric', impute: 'none' });
    const atFit = thrownBy(() => fitTransforms(spec, table, TRAIN), DataValidationError);
    expect(atFit.message).toMatch(/feature "age" has a missing value in data row 3 and impute is none/);
    expect(atFit.field).toBe('age');

    const fitted = fitTransforms(spec, table, [0, 1, 3]);
    expect(numeric(fitted).fill).toBeNull();
    expect(thrownBy(() => transformRow(fitted, () => null, 'request 17'), DataValidationError).message).toMatch(
      /feature "age" has a missing value in request 17 and impute is none/,
    );
    expect(thrownBy(() => transformTable(fitted, table, [5]), DataValidationError).message).toMatch(/feature "age" .* data row 6/);
  });

  it('rejects non-numeric text and non-finite numbers, naming the feature and where', () => {
    const fitted = fitTransforms(features({ name: 'age', type: 'numeric' }), table, TRAIN);
    const error = thrownBy(() => transformRow(fitted, () => 'forty', 'request abc'), DataValidationError);
    expect(error.message).toMatch(/feature "age" has a non-numeric value "forty" in request abc/);
    expect(thrownBy(() => transformRow(fitted, () => '0x10'), DataValidationError).message).toMatch(/non-numeric value "0x10"/);
    expect(thrownBy(() => transformRow(fitted, () => Number.POSITIVE_INFINITY), DataValidationError).message).toMatch(/non-finite/);
    const bad: Table = { header: ['age'], rows: [[1], ['n/a'], [3]] };
    expect(thrownBy(() => fitTransforms(features({ name: 'age', type: 'numeric' }), bad, [0, 1, 2]), DataValidationError).message).toMatch(
      /feature "age" has a non-numeric value "n\/a" in data row 2/,
    );
  });

  it('fails for median or mean with no training values, names a missing column, refuses duplicate features', () => {
    expect(thrownBy(() => fitTransforms(features({ name: 'x', type: 'numeric' }), column([null, '', 5]), [0, 1]), DataValidationError).message).toMatch(
      /feature "x" has no values in the training rows/,
    );
    expect(numeric(fitTransforms(features({ name: 'x', type: 'numeric', impute: 'zero' }), column([null, '']), [0, 1])).fill).toBe(0);
    expect(thrownBy(() => fitTransforms(features({ name: 'nope', type: 'numeric' }), table, TRAIN), DataValidationError).message).toMatch(/column "nope"/);
    expect(() => fitTransforms(features({ name: 'age', type: 'numeric' }, { name: 'age', type: 'categorical' }), table, TRAIN)).toThrow(InputValidationError);
  });
});

describe('fitTransforms: scaling', () => {
  it('standardises to mean 0 and population std 1 on the (imputed) training rows', () => {
    const fitted = fitTransforms(features({ name: 'age', type: 'numeric' }), table, TRAIN);
    // Imputed training values 20, 30, 30, 70: mean 37.5, variance (17.5² + 7.5² + 7.5² + 32.5²) / 4 = 368.75.
    expect(numeric(fitted).center).toBe(37.5);
    expect(numeric(fitted).scale).toBe(Math.sqrt(368.75));
    const x = transformTable(fitted, table, TRAIN);
    const values = [...x.data];
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    expect(mean).toBeCloseTo(0, 12);
    expect(std).toBeCloseTo(1, 12);
    // A test row is scaled with the training statistics, not its own.
    expect(rowOf(transformTable(fitted, table, [4]), 0)[0]).toBe((1000 - 37.5) / Math.sqrt(368.75));
  });

  it("leaves values as they are with scale 'none', and only centres a constant feature", () => {
    const none = fitTransforms(features({ name: 'x', type: 'numeric', scale: 'none' }), column([3, 5, 8]), [0, 1, 2]);
    expect(numeric(none)).toMatchObject({ center: 0, scale: 1 });
    expect(encode(none, 5)).toEqual([5]);
    const constant = fitTransforms(features({ name: 'x', type: 'numeric' }), column([4, 4, 4]), [0, 1, 2]);
    expect(numeric(constant)).toMatchObject({ center: 4, scale: 1 });
    expect(encode(constant, 4)).toEqual([0]);
    expect(encode(constant, 6)).toEqual([2]);
  });
});

describe('fitTransforms: quantile buckets', () => {
  const ten = column([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

  it('takes the k/b quantiles of the training values as edges (linear interpolation)', () => {
    const fitted = fitTransforms(features({ name: 'x', type: 'numeric', buckets: 4 }), ten, all(ten));
    // Positions 0.25*9 = 2.25, 4.5, 6.75 in 1..10: 3.25, 5.5, 7.75.
    expect(numeric(fitted).edges).toEqual([3.25, 5.5, 7.75]);
    expect(fitted.outputNames).toEqual(['x[bucket 0]', 'x[bucket 1]', 'x[bucket 2]', 'x[bucket 3]']);
  });

  it('one-hot encodes the bucket, edges belonging to the lower bucket', () => {
    const fitted = fitTransforms(features({ name: 'x', type: 'numeric', buckets: 4 }), ten, all(ten));
    const hot = (v: Cell) => encode(fitted, v).indexOf(1);
    expect(encode(fitted, 4)).toEqual([0, 1, 0, 0]);
    expect(hot(-100)).toBe(0);
    expect(hot(3.25)).toBe(0);
    expect(hot(3.26)).toBe(1);
    expect(hot(5.5)).toBe(1);
    expect(hot(7.75)).toBe(2);
    expect(hot('8')).toBe(3);
    expect(hot(1e9)).toBe(3);
    // A missing value is imputed (median 5.5) before bucketing.
    expect(hot(null)).toBe(1);
    for (const v of [-1, 3.25, 5, 9, null]) expect(encode(fitted, v).reduce((s, x) => s + x, 0)).toBe(1);
  });

  it('deduplicates repeated edges, so fewer buckets come out', () => {
    const skewed = column([1, 1, 1, 1, 1, 2, 3, 4]);
    const fitted = fitTransforms(features({ name: 'x', type: 'numeric', buckets: 4 }), skewed, all(skewed));
    // Positions 1.75 and 3.5 both land among the 1s; 5.25 is 2 + 0.25 * (3 - 2).
    expect(numeric(fitted).edges).toEqual([1, 2.25]);
    expect(fitted.outputNames).toHaveLength(3);
    expect(encode(fitted, 1)).toEqual([1, 0, 0]);
    expect(encode(fitted, 2)).toEqual([0, 1, 0]);
    expect(encode(fitted, 3)).toEqual([0, 0, 1]);
  });

  it('takes bucket edges from the training rows only', () => {
    const data = column([1, 2, 3, 4, 1000, -1000]);
    const fitted = fitTransforms(features({ name: 'x', type: 'numeric', buckets: 2 }), data, [0, 1, 2, 3]);
    expect(numeric(fitted).edges).toEqual([2.5]);
  });
});

describe('fitTransforms: categorical', () => {
  it('one-hot encodes trimmed text, numbers as text, an unseen category in __unknown__', () => {
    const fitted = fitTransforms(features({ name: 'region', type: 'categorical' }), table, TRAIN);
    // Rows 0-3 all have a region, so no missing category is fitted.
    expect(categorical(fitted).categories).toEqual(['east', 'north', 'south']);
    expect(fitted.outputNames).toEqual(['region=east', 'region=north', 'region=south', `region=${UNKNOWN_CATEGORY}`]);
    const x = transformTable(fitted, table, [0, 1, 2, 3, 4, 5]);
    expect([...rowOf(x, 0)]).toEqual([0, 1, 0, 0]);
    expect([...rowOf(x, 3)]).toEqual([1, 0, 0, 0]); // ' east ' trimmed
    expect([...rowOf(x, 4)]).toEqual([0, 0, 0, 1]); // 'west' only in the test rows
    expect([...rowOf(x, 5)]).toEqual([0, 0, 0, 1]); // missing, and no missing value in training

    const numbers = fitTransforms(features({ name: 'x', type: 'categorical' }), column([5, '5', 2.5, ' 7 ']), [0, 1, 2, 3]);
    expect(categorical(numbers).categories).toEqual(['2.5', '5', '7']);
    expect(encode(numbers, 5)).toEqual([0, 1, 0, 0]);
    expect(encode(numbers, '7')).toEqual([0, 0, 1, 0]);
  });

  it('makes missing a category of its own when training has missing values', () => {
    const data = column(['a', null, 'b', '  ', 'a']);
    const fitted = fitTransforms(features({ name: 'x', type: 'categorical' }), data, all(data));
    expect(categorical(fitted)).toEqual({ name: 'x', type: 'categorical', categories: [MISSING_CATEGORY, 'a', 'b'], fill: MISSING_CATEGORY });
    expect(encode(fitted, null)).toEqual([1, 0, 0, 0]);
    expect(encode(fitted, undefined)).toEqual([1, 0, 0, 0]);
    expect(encode(fitted, '')).toEqual([1, 0, 0, 0]);
  });

  it("imputes the most frequent training category with impute 'most_frequent'", () => {
    const data = column(['b', 'a', null, 'b', 'a', 'c']);
    const fitted = fitTransforms(features({ name: 'x', type: 'categorical', impute: 'most_frequent' }), data, all(data));
    // a and b tie at 2: the lower value wins.
    expect(categorical(fitted).fill).toBe('a');
    expect(categorical(fitted).categories).toEqual(['a', 'b', 'c']);
    expect(encode(fitted, null)).toEqual(encode(fitted, 'a'));
  });

  it('cuts categories by minFrequency and maxCategories into __unknown__', () => {
    const values = [...'aaaaa', ...'bbb', ...'ccc', 'd', 'e', 'e'];
    const data = column(values);
    const fit = (extra: Record<string, unknown>) => fitTransforms(features({ name: 'x', type: 'categorical', ...extra }), data, all(data));
    expect(categorical(fit({})).categories).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(categorical(fit({ minFrequency: 2 })).categories).toEqual(['a', 'b', 'c', 'e']);
    expect(categorical(fit({ minFrequency: 3 })).categories).toEqual(['a', 'b', 'c']);
    // Most frequent first, b and c tie at 3: b by value.
    const two = fit({ maxCategories: 2 });
    expect(categorical(two).categories).toEqual(['a', 'b']);
    expect(encode(two, 'c')).toEqual([0, 0, 1]);
    expect(encode(two, 'e')).toEqual([0, 0, 1]);
    expect(encode(two, 'b')).toEqual([0, 1, 0]);
  });

  it('sorts the kept categories by value for a stable column order', () => {
    const data = column(['zeta', 'zeta', 'zeta', 'alpha', 'Mid']);
    const fitted = fitTransforms(features({ name: 'x', type: 'categorical' }), data, all(data));
    expect(categorical(fitted).categories).toEqual(['Mid', 'alpha', 'zeta']);
  });

  it('never makes a literal __unknown__ value a category of its own', () => {
    const data = column([UNKNOWN_CATEGORY, UNKNOWN_CATEGORY, 'a']);
    const fitted = fitTransforms(features({ name: 'x', type: 'categorical' }), data, all(data));
    expect(fitted.outputNames).toEqual(['x=a', 'x=__unknown__']);
    expect(encode(fitted, UNKNOWN_CATEGORY)).toEqual([0, 1]);
  });
});

/** A deterministic mixed table: numbers, numeric text, blanks, nulls, categories with a long tail. */
function mixedTable(rows: number): Table {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const regions = ['north', 'south', 'east', 'west', 'rare-1', 'rare-2', ' north '];
  return {
    header: ['id', 'age', 'income', 'region', 'score', 'tier'],
    rows: Array.from({ length: rows }, (_, i): Cell[] => {
      const r = next();
      return [
        i,
        r < 0.1 ? null : r < 0.15 ? '' : r < 0.5 ? Math.round(18 + next() * 60) : String(Math.round(18 + next() * 60)),
        r < 0.05 ? null : (next() * 1e5).toFixed(2),
        r < 0.08 ? null : regions[Math.floor(next() ** 2 * regions.length)]!,
        next() * 10 - 5,
        r < 0.2 ? null : Math.floor(next() * 4),
      ];
    }),
  };
}

const MIXED_FEATURES = features(
  { name: 'age', type: 'numeric' },
  { name: 'income', type: 'numeric', impute: 'mean', buckets: 5 },
  { name: 'region', type: 'categorical', maxCategories: 4 },
  { name: 'score', type: 'numeric', impute: 'zero', scale: 'none' },
  { name: 'tier', type: 'categorical', impute: 'most_frequent', minFrequency: 2 },
);

describe('transforms: determinism and serving parity', () => {
  const data = mixedTable(400);
  const train = all(data).filter((i) => i % 4 !== 0);
  const test = all(data).filter((i) => i % 4 === 0);

  it('fits the same transforms every time, as plain JSON that reads back unchanged', () => {
    const first = fitTransforms(MIXED_FEATURES, data, train);
    const second = fitTransforms(MIXED_FEATURES, data, [...train]);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    const revived = JSON.parse(JSON.stringify(first)) as unknown;
    expect(revived).toEqual(first);
    expect(FittedTransformsSchema.parse(revived)).toEqual(first);
    expect(first.outputNames).toHaveLength(transformTable(first, data, test).cols);
    expect(new Set(first.outputNames).size).toBe(first.outputNames.length);
  });

  it('encodes every row identically through transformRow and transformTable', () => {
    const fitted = FittedTransformsSchema.parse(JSON.parse(JSON.stringify(fitTransforms(MIXED_FEATURES, data, train)))) as FittedTransforms;
    const rows = all(data);
    const x = transformTable(fitted, data, rows);
    expect(x.rows).toBe(rows.length);
    // Serving sees a JSON object keyed by column name.
    for (const i of rows) {
      const record = Object.fromEntries(data.header.map((name, c) => [name, data.rows[i]![c]]));
      const served = transformRow(fitted, (name) => record[name], `data row ${i + 1}`);
      const batch = rowOf(x, i);
      expect(served.length).toBe(batch.length);
      for (let c = 0; c < batch.length; c += 1) expect(served[c]).toBe(batch[c]);
    }
  });

  it('lays out one column per output name, in the order of the features', () => {
    const fitted = fitTransforms(MIXED_FEATURES, data, train);
    const names = fitted.outputNames;
    expect(names[0]).toBe('age');
    expect(names.slice(1, 6)).toEqual(['income[bucket 0]', 'income[bucket 1]', 'income[bucket 2]', 'income[bucket 3]', 'income[bucket 4]']);
    expect(names.slice(6, 11)).toEqual([...categorical(fitted, 2).categories.map((c) => `region=${c}`), 'region=__unknown__']);
    expect(categorical(fitted, 2).categories).toHaveLength(4);
    expect(names[11]).toBe('score');
    expect(names.at(-1)).toBe('tier=__unknown__');
  });
});
