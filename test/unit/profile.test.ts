import { describe, expect, it } from 'vitest';
import { scanDataset, type ScanOptions } from '../../lambdas/core/data/dataset-scan.js';
import { DataValidationError, InputValidationError } from '../../lambdas/core/errors.js';
import { readTextTable } from '../../lambdas/core/data/table-readers.js';
import {
  DatasetProfiler,
  DatasetProfileSchema,
  isNumeric,
  mergeProfiles,
  parseDecimal,
  parseDeclaredSchema,
  type ColumnProfile,
  type DatasetProfile,
} from '../../lambdas/core/data/profile.js';
import { createRng } from '../../lambdas/core/random.js';
import { rejectedWith } from './helpers.js';

/** The text as byte chunks of `size` bytes (the whole text in one chunk by default). */
async function* chunksOf(text: string, size?: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  const step = size ?? Math.max(1, bytes.length);
  for (let i = 0; i < bytes.length; i += step) yield bytes.subarray(i, i + step);
}

/** Scans CSV text as registration does; target `label` unless told otherwise. */
function scanCsv(text: string, options: ScanOptions = { target: 'label' }, chunkSize?: number) {
  return scanDataset({ format: 'csv', chunks: chunksOf(text, chunkSize) }, options);
}

async function profileOf(text: string, options?: ScanOptions): Promise<DatasetProfile> {
  return (await scanCsv(text, options)).profile;
}

/** The error a scan rejects with, checked to be a DataValidationError. */
const scanError = (text: string, options?: ScanOptions) => rejectedWith(scanCsv(text, options), DataValidationError);

const csv = (header: string, rows: readonly string[]) => [header, ...rows].join('\n') + '\n';
const column = (profile: DatasetProfile, name: string): ColumnProfile => {
  const found = profile.columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
};

/** Distinct rows: a continuous number, a small-valued integer, a category, a 0/1 label. Some cells missing. */
function mixedRows(from: number, to: number, seed: number): string[] {
  const rng = createRng(seed);
  const rows: string[] = [];
  for (let i = from; i < to; i += 1) {
    const amount = i % 17 === 3 ? '' : (rng() * 2000 - 500).toFixed(3);
    const small = String(i % 7);
    const city = i % 11 === 5 ? '  ' : ['Paris', 'Lyon', 'Nantes', 'Zürich', 'Łódź'][Math.floor(rng() * 5)]!;
    rows.push(`${amount},${small},${city},${i % 3 === 0 ? 1 : 0},${i}`);
  }
  return rows;
}
const MIXED_HEADER = 'amount,small,city,label,id';

describe('DatasetProfiler (through scanDataset): column types', () => {
  it('infers numeric for a column of numbers, in any decimal spelling, and string for text', async () => {
    const numbers = ['1', '-2.5', '.5', '1e3', ' 7 ', '+3', '0', '12.25'];
    const rows = Array.from({ length: 40 }, (_, i) => `${numbers[i % numbers.length]},name${i % 4},0x${i},${i % 2}`);
    const { schema, profile, rowCount } = await scanCsv(csv('num,text,hex,label', rows));
    expect(rowCount).toBe(40);
    expect(profile.columns.map((c) => [c.name, c.type])).toEqual([
      ['num', 'numeric'],
      ['text', 'string'],
      ['hex', 'string'],
      ['label', 'numeric'],
    ]);
    expect(schema.source).toBe('inferred');
    expect(schema.target).toBe('label');
    expect(schema.columns[0]).toEqual({ name: 'num', type: 'numeric', nullable: false, min: -2.5, max: 1000 });
    expect(schema.columns[1]).toEqual({ name: 'text', type: 'string', nullable: false, categories: ['name0', 'name1', 'name2', 'name3'] });
    expect(column(profile, 'num').numeric).toMatchObject({ count: 40, min: -2.5, max: 1000 });
    expect(column(profile, 'num').frequencies).toBeUndefined();
    expect(column(profile, 'text').numeric).toBeUndefined();
    expect(DatasetProfileSchema.parse(profile)).toEqual(profile);
  });

  it('calls a column with more than 5% text a string column', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i < 3 ? `n/a${i}` : i},${i % 2}`);
    const { profile } = await scanCsv(csv('x,label', rows));
    expect(column(profile, 'x').type).toBe('string');
    expect(column(profile, 'x').frequencies?.total).toBe(40);
  });

  it('rejects a few stray values in a numeric column, naming the column and the lines', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i === 4 ? 'abc' : i},${i % 2}`);
    const error = await scanError(csv('x,label', rows));
    // Data row 5 is on line 6 of the file.
    expect(error.message).toMatch(/column "x": 1 value\(s\) not a number, on line 6 \(.*--schema.*first bad value "abc"\)$/);
    expect(error.field).toBe('x');
  });

  it('lets a declared schema decide the types, whatever the values look like', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => `${i},${i % 2}`);
    const schema = parseDeclaredSchema({ columns: [{ name: 'zip', type: 'string' }, { name: 'label', type: 'string', nullable: false }], target: 'label' });
    const { schema: recorded, profile } = await scanCsv(csv('zip,label', rows), { schema });
    expect(recorded.source).toBe('declared');
    expect(column(profile, 'zip').type).toBe('string');
    expect(profile.target).toEqual({ column: 'label', kind: 'classes', classes: { '0': 5, '1': 5 } });
  });

  it('fails a declared schema, naming the broken rules and lines', async () => {
    const rows = ['5,a,1', '-1,b,0', '3,zz,1', '4,,0'];
    const schema = parseDeclaredSchema({
      columns: [
        { name: 'x', type: 'numeric', min: 0 },
        { name: 'c', type: 'string', categories: ['a', 'b'], nullable: false },
        { name: 'label', type: 'numeric' },
      ],
    });
    const error = await scanError(csv('x,c,label', rows), { schema, target: 'label' });
    expect(error.message).toMatch(/declared schema/);
    expect(error.message).toMatch(/column "x": 1 value\(s\) below the declared min 0, on line 3/);
    expect(error.message).toMatch(/column "c": 1 value\(s\) outside the declared categories, on line 4 \(first one "zz"\)/);
    expect(error.message).toMatch(/column "c": 1 missing value\(s\), on line 5 \(the schema says the column is not nullable\)/);
  });
});

describe('DatasetProfiler: counts', () => {
  it('counts missing values (empty, blank or quoted empty) and leaves them out of the statistics', async () => {
    const rows = ['1,a,0', ',b,1', '  ,,0', '"",c,1', '4,"  ",0', '6,d,1'];
    const { profile, schema } = await scanCsv(csv('x,c,label', rows));
    expect(column(profile, 'x')).toMatchObject({ count: 6, missing: 3, numeric: { count: 3, min: 1, max: 6 } });
    expect(column(profile, 'x').numeric!.mean).toBeCloseTo(11 / 3, 12);
    expect(column(profile, 'c')).toMatchObject({ count: 6, missing: 2, frequencies: { total: 4 } });
    expect(column(profile, 'label').missing).toBe(0);
    expect(schema.columns.map((c) => c.nullable)).toEqual([true, true, false]);
  });

  it('counts rows that repeat an earlier row', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i},${i * 2},${i % 2}`);
    const profile = await profileOf(csv('x1,x2,label', [...rows, rows[0]!, rows[7]!, rows[0]!]));
    expect(profile.rows).toBe(43);
    expect(profile.duplicateRows).toBe(3);
    expect(profile.duplicatesComplete).toBe(true);
  });

  it('does not count rows that differ only in one cell as repeats', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 20},${i < 20 ? 'a' : 'b'},${i % 2}`);
    const profile = await profileOf(csv('x1,c,label', rows));
    expect(profile.duplicateRows).toBe(0);
  });

  it('keeps exact counts of a numeric column while it has at most 50 distinct values, keyed as written', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => `${i % 50},${i % 3 === 0 ? ' 2 ' : '2.0'},${i},${i % 2}`);
    const profile = await profileOf(csv('fifty,spelled,many,label', rows));
    const fifty = column(profile, 'fifty').values!;
    expect(Object.keys(fifty)).toHaveLength(50);
    expect(fifty['0']).toBe(2);
    expect(fifty['9']).toBe(2);
    expect(fifty['10']).toBe(1);
    expect(Object.values(fifty).reduce((a, b) => a + b, 0)).toBe(60);
    // The same values in another row order give the same JSON.
    const reversed = await profileOf(csv('fifty,spelled,many,label', [...rows].reverse()));
    expect(JSON.stringify(column(reversed, 'fifty').values)).toBe(JSON.stringify(fifty));
    expect(JSON.stringify(column(reversed, 'spelled').values)).toBe(JSON.stringify(column(profile, 'spelled').values));
    expect(column(profile, 'spelled').values).toEqual({ '2': 20, '2.0': 40 });
    expect(column(profile, 'many').values).toBeNull();
    expect(column(profile, 'many').numeric!.count).toBe(60);
  });

  it('counts the values of a string column exactly, most frequent first', async () => {
    const cities = ['Paris', 'Lyon', 'Paris', ' Lyon ', 'Nice', 'Paris'];
    const rows = cities.map((city, i) => `${city},${i % 2}`);
    const frequencies = column(await profileOf(csv('city,label', rows)), 'city').frequencies;
    expect(frequencies).toEqual({ capacity: 1000, total: 6, exact: true, counters: [['Paris', 3], ['Lyon', 2], ['Nice', 1]] });
  });
});

describe('DatasetProfiler: the target', () => {
  it('summarizes a 0/1 target as classes with counts', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},${i % 3 === 0 ? 1 : 0}`);
    expect((await profileOf(csv('x,label', rows))).target).toEqual({ column: 'label', kind: 'classes', classes: { '0': 20, '1': 10 } });
  });

  it('summarizes a text target as classes, leaving missing labels out', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `${i},${i === 5 ? '' : i % 2 ? 'yes' : 'no'}`);
    const profile = await profileOf(csv('x,label', rows));
    expect(profile.target).toEqual({ column: 'label', kind: 'classes', classes: { no: 6, yes: 5 } });
    expect(column(profile, 'label').missing).toBe(1);
  });

  it('summarizes a continuous target as a distribution, without classes', async () => {
    const rows = Array.from({ length: 80 }, (_, i) => `${i},${(i * 1.5).toFixed(1)}`);
    expect((await profileOf(csv('x,label', rows))).target).toEqual({ column: 'label', kind: 'distribution' });
  });

  it('has no target summary without a target', async () => {
    const profile = await profileOf(csv('x,label', ['1,0', '2,1']), {});
    expect(profile.target).toBeUndefined();
  });

  it('rejects a target that is not a column, a target with no values and a file with no rows', async () => {
    expect((await scanError(csv('x,y', ['1,0']))).message).toMatch(/target "label" is not a column of the file \(columns: x, y\)/);
    expect((await scanError(csv('x,label', ['1,', '2,']))).message).toMatch(/target "label" has no values/);
    expect((await scanError('x,label\n')).message).toMatch(/header but no data rows/);
  });
});

describe('DatasetProfiler: determinism', () => {
  const text = csv(MIXED_HEADER, mixedRows(0, 400, 7));

  it('gives byte-identical profiles for two scans of the same bytes', async () => {
    const first = await scanCsv(text);
    const second = await scanCsv(text);
    expect(JSON.stringify(second.profile)).toBe(JSON.stringify(first.profile));
    expect(JSON.stringify(second.schema)).toBe(JSON.stringify(first.schema));
    expect(second.sha256).toBe(first.sha256);
  });

  it('gives the same profile whatever the chunk size, even with chunks cutting multi-byte characters', async () => {
    const whole = JSON.stringify((await scanCsv(text)).profile);
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const scan = await scanCsv(text, { target: 'label' }, size);
      expect(JSON.stringify(scan.profile), `chunks of ${size} bytes`).toBe(whole);
      expect(scan.bytes).toBe(Buffer.byteLength(text));
    }
    // The multi-byte city names were read intact.
    const cities = column(JSON.parse(whole) as DatasetProfile, 'city').frequencies!.counters.map(([city]) => city);
    expect(cities).toEqual(expect.arrayContaining(['Zürich', 'Łódź']));
  });
});

describe('DatasetProfiler: numbers read by the CSV tokenizer', () => {
  /** Numeric cells of every shape: plain decimals of 1 to 25 digits (signs, points), and text that only parseDecimal reads. */
  function numericCell(rng: () => number): string {
    const pick = rng();
    if (pick < 0.04) return '';
    if (pick < 0.08) return ['1e3', ' 7 ', '+3', '"12.5"', '-0', '0.0', '.5', '-.25', '007', '5.'][Math.floor(rng() * 10)]!;
    const digits = 1 + Math.floor(rng() ** 2 * 25);
    let text = '';
    for (let k = 0; k < digits; k += 1) text += String(Math.floor(rng() * 10));
    if (rng() < 0.6) {
      const at = Math.floor(rng() * (digits + 1));
      text = `${text.slice(0, at)}.${text.slice(at)}`;
    }
    return rng() < 0.3 ? `-${text}` : text;
  }

  it('profiles the same with and without the tokenizer reading the numbers, whatever the chunk size', async () => {
    const rng = createRng(16);
    const rows: string[] = [];
    for (let r = 0; r < 3000; r += 1) {
      // Every tenth row repeats an earlier one, so the duplicate count is compared too.
      rows.push(r > 0 && r % 10 === 0 ? rows[Math.floor(rng() * r)]! : [numericCell(rng), numericCell(rng), numericCell(rng), String(r % 2)].join(','));
    }
    const text = csv('a,b,c,label', rows).replace(/\n/g, (m) => (rng() < 0.1 ? '\r\n' : m));
    const schema = parseDeclaredSchema({
      columns: [
        { name: 'a', type: 'numeric' },
        { name: 'b', type: 'numeric' },
        { name: 'c', type: 'numeric' },
        { name: 'label', type: 'string' },
      ],
    });
    // Without useFieldScan the profiler reads every number from its text.
    const textOnly = async (size?: number) => {
      const profiler = new DatasetProfiler({ format: 'csv', schema, target: 'label' });
      await readTextTable(chunksOf(text, size), 'csv', { columns: (names) => profiler.columns(names), row: (cells, at) => profiler.row(cells, at) });
      return JSON.stringify(profiler.finish());
    };
    const expected = await textOnly();
    expect(JSON.parse(expected).profile.duplicateRows).toBeGreaterThan(0);
    for (const size of [undefined, 1, 7, 64, 4096]) {
      const scan = await scanCsv(text, { schema, target: 'label' }, size);
      expect(JSON.stringify({ schema: scan.schema, profile: scan.profile }), `chunks of ${size ?? 'all'} bytes`).toBe(expected);
    }
    expect(await textOnly(5)).toBe(expected);
  });
});

describe('parseDecimal and isNumeric', () => {
  it.each([
    ['1', 1],
    ['-2.5', -2.5],
    ['.5', 0.5],
    ['1e3', 1000],
    [' 7 ', 7],
    ['+3', 3],
    ['-0.001', -0.001],
    ['\t12\r', 12],
  ])('reads %j as %d', (text, value) => {
    expect(parseDecimal(text)).toBe(value);
    expect(isNumeric(text)).toBe(true);
  });

  it.each(['', '   ', '0x1', '0X1F', '0b1', '0B1', '0o7', ' 0x1 ', 'Infinity', '-Infinity', '1e400', 'NaN', 'abc', '1,5', '1 2', '--1'])('rejects %j', (text) => {
    expect(parseDecimal(text)).toBeNaN();
    expect(isNumeric(text)).toBe(false);
  });

  it('rejects cells of Unicode whitespace only (no-break space, BOM, em space) instead of reading them as 0', () => {
    // Number() reads these as 0, so a blank-looking cell would silently become the value 0.
    const codePoint = (text: string) => `U+${text.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    const read = Object.fromEntries(['\u00a0', '\ufeff', '\u2003'].map((text) => [codePoint(text), parseDecimal(text)]));
    expect(read).toEqual({ 'U+00A0': NaN, 'U+FEFF': NaN, 'U+2003': NaN });
    expect(isNumeric('\u00a0')).toBe(false);
  });
});

describe('mergeProfiles', () => {
  const partA = mixedRows(0, 130, 1);
  const partB = mixedRows(130, 300, 2);

  async function parts() {
    const a = await profileOf(csv(MIXED_HEADER, partA));
    const b = await profileOf(csv(MIXED_HEADER, partB));
    const whole = await profileOf(csv(MIXED_HEADER, [...partA, ...partB]));
    return { a, b, whole, merged: mergeProfiles(a, b) };
  }

  it('equals the profile of both parts read as one file', async () => {
    const { merged, whole } = await parts();
    expect(DatasetProfileSchema.parse(merged)).toEqual(merged);
    expect(merged.rows).toBe(whole.rows);
    expect(merged.columns.map((c) => [c.name, c.type, c.count, c.missing])).toEqual(whole.columns.map((c) => [c.name, c.type, c.count, c.missing]));
    expect(column(merged, 'amount').missing).toBeGreaterThan(0);
    expect(column(merged, 'city').missing).toBeGreaterThan(0);

    for (const name of ['amount', 'small', 'label', 'id']) {
      const m = column(merged, name).numeric!;
      const w = column(whole, name).numeric!;
      expect([m.count, m.min, m.max], name).toEqual([w.count, w.min, w.max]);
      expect(m.mean, name).toBeCloseTo(w.mean!, 9);
      expect(m.std, name).toBeCloseTo(w.std!, 9);
      expect(m.sketch, name).toEqual(w.sketch);
      expect(m.quantiles, name).toEqual(w.quantiles);
      expect(column(merged, name).values, name).toEqual(column(whole, name).values);
    }
    expect(column(merged, 'small').values).toEqual({ '0': 43, '1': 43, '2': 43, '3': 43, '4': 43, '5': 43, '6': 42 });
    expect(column(merged, 'city').frequencies).toEqual(column(whole, 'city').frequencies);
    expect(column(merged, 'city').frequencies!.exact).toBe(true);
    expect(merged.target).toEqual(whole.target);
    expect(merged.target).toEqual({ column: 'label', kind: 'classes', classes: { '0': 200, '1': 100 } });
  });

  it('adds duplicate counts but marks them incomplete', async () => {
    const { a, b, merged } = await parts();
    expect(a.duplicatesComplete && b.duplicatesComplete).toBe(true);
    expect(merged.duplicateRows).toBe(a.duplicateRows + b.duplicateRows);
    expect(merged.duplicatesComplete).toBe(false);
  });

  it('drops exact values when the parts together have more than 50', async () => {
    const a = await profileOf(csv('v,label', Array.from({ length: 30 }, (_, i) => `${i},${i % 2}`)));
    const b = await profileOf(csv('v,label', Array.from({ length: 30 }, (_, i) => `${i + 30},${i % 2}`)));
    expect(Object.keys(column(a, 'v').values!)).toHaveLength(30);
    expect(column(mergeProfiles(a, b), 'v').values).toBeNull();
    expect(column(mergeProfiles(a, a), 'v').values).toEqual(Object.fromEntries(Object.entries(column(a, 'v').values!).map(([k, n]) => [k, 2 * n])));
  });

  it('refuses profiles with different columns or types', async () => {
    const base = await profileOf(csv('x,label', ['1,0', '2,1']));
    const renamed = await profileOf(csv('y,label', ['1,0', '2,1']));
    const retyped = await profileOf(csv('x,label', ['a,0', 'b,1']));
    const wider = await profileOf(csv('x,label,z', ['1,0,1', '2,1,2']));
    for (const other of [renamed, retyped, wider]) {
      expect(() => mergeProfiles(base, other)).toThrow(InputValidationError);
      expect(() => mergeProfiles(base, other)).toThrow(/different columns or types/);
    }
  });
});
