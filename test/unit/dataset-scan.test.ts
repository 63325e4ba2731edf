import type { AsyncBuffer } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RECORD_CHARS } from '../../lambdas/core/data/csv.js';
import { scanDataset, type DatasetSource, type ScanOptions } from '../../lambdas/core/data/dataset-scan.js';
import { DataValidationError, InputValidationError } from '../../lambdas/core/errors.js';
import { DatasetProfileSchema, parseDeclaredSchema, type DeclaredSchemaInput } from '../../lambdas/core/data/profile.js';
import { createRng } from '../../lambdas/core/random.js';
import { bufferFile } from '../../lambdas/core/data/table-readers.js';
import { rejectedWith, thrownBy } from './helpers.js';

const bytesOf = (content: string | Uint8Array) => (typeof content === 'string' ? new Uint8Array(Buffer.from(content, 'utf8')) : content);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The bytes as a stream of chunks of `size` bytes, counting how many bytes the reader pulled. */
function streamOf(bytes: Uint8Array, size = 64 * 1024): { chunks: AsyncIterable<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  async function* chunks() {
    for (let start = 0; start < bytes.byteLength; start += size) {
      const chunk = bytes.subarray(start, start + size);
      pulled += chunk.byteLength;
      yield chunk;
    }
  }
  return { chunks: chunks(), pulled: () => pulled };
}

const csv = (content: string | Uint8Array, size?: number): DatasetSource => ({ format: 'csv', chunks: streamOf(bytesOf(content), size).chunks });
const jsonl = (content: string): DatasetSource => ({ format: 'jsonl', chunks: streamOf(bytesOf(content)).chunks });
const parquet = (bytes: Uint8Array, file: AsyncBuffer = bufferFile(bytes)): DatasetSource => ({ format: 'parquet', file, chunks: streamOf(bytes).chunks });
const schema = (input: DeclaredSchemaInput) => parseDeclaredSchema(input);

/** Runs scanDataset, expecting a DataValidationError, and returns it. */
const scanError = (source: DatasetSource, options?: ScanOptions) => rejectedWith(scanDataset(source, options), DataValidationError);

/**
 * Checks a schema-violation message without pinning its phrasing: it names the schema's source,
 * and its part about `column` gives the count, the problem, the positions and the bad value.
 */
function expectViolation(
  error: DataValidationError,
  expected: { source: 'declared' | 'inferred'; column: string; count: number; problem: RegExp; at: string; value?: string },
): string {
  expect(error.message).toMatch(new RegExp(`^the file does not match its ${expected.source} schema: `));
  const parts = error.message.split(/(?=column ")/).filter((part) => part.startsWith(`column "${expected.column}": `));
  expect(parts, `one problem about column "${expected.column}" in: ${error.message}`).toHaveLength(1);
  const part = parts[0]!;
  expect(part).toMatch(new RegExp(`^column "${expected.column}": ${expected.count} `));
  expect(part).toMatch(expected.problem);
  expect(part).toMatch(new RegExp(`on ${expected.at.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\d)`));
  if (expected.value !== undefined) expect(part).toContain(JSON.stringify(expected.value));
  return part;
}

/** A CSV of `rows` data lines `x,label` with numeric x, optionally one stray value in x. */
function numericCsv(rows: number, strayAt?: { index: number; value: string }): string {
  const lines = ['x,label'];
  for (let i = 0; i < rows; i += 1) lines.push(`${strayAt?.index === i ? strayAt.value : i * 1.5},${i % 2}`);
  return `${lines.join('\n')}\n`;
}

describe('scanDataset: empty and header-only files', () => {
  it('rejects a 0-byte file, streamed as no chunk or as one empty chunk', async () => {
    // Prepare
    async function* oneEmptyChunk() {
      yield new Uint8Array(0);
    }

    // Act
    const noChunk = await scanError(csv(''));
    const emptyChunk = await scanError({ format: 'csv', chunks: oneEmptyChunk() });

    // Assess
    expect(noChunk.message).toBe('the file is empty: expected a header row and data rows');
    expect(emptyChunk.message).toBe(noChunk.message);
  });

  it('rejects a file of whitespace and blank lines as empty', async () => {
    expect((await scanError(csv('  \n\t\n\r\n \n'))).message).toMatch(/^the file is empty/);
    expect((await scanError(csv('\ufeff\n'))).message).toMatch(/^the file is empty/);
  });

  it('rejects a header with no data rows', async () => {
    // Act
    const error = await scanError(csv('age,income,label\n\n'));

    // Assess
    expect(error.message).toMatch(/no data rows/);
    expect(error.field).toBe('rows');
  });

  it('rejects an empty JSON Lines file and a header-only Parquet file', async () => {
    expect((await scanError(jsonl(''))).message).toMatch(/^the file is empty/);
    const headerOnly = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'a', data: [], type: 'DOUBLE' }] }));
    expect((await scanError(parquet(headerOnly))).message).toMatch(/no data rows/);
  });
});

describe('scanDataset: malformed CSV names the line at fault', () => {
  it('rejects a ragged row, naming its line', async () => {
    expect((await scanError(csv('a,b\n1,2\n3\n4,5\n'))).message).toBe('line 3 has 1 fields, the header has 2');
    expect((await scanError(csv('a,b\r\n1,2\r\n3,4,5\r\n', 3))).message).toBe('line 3 has 3 fields, the header has 2');
  });

  it('rejects an unterminated quote, naming the line it starts on', async () => {
    expect((await scanError(csv('a,b\n1,2\n"open,3\n4,5\n', 4))).message).toBe('unterminated quoted field starting on line 3');
  });

  it('rejects bytes that are not UTF-8, giving the byte offset and line', async () => {
    // Prepare
    const bytes = Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0x31, 0x2c, 0xff, 0x0a]);

    // Act
    const error = await scanError(csv(new Uint8Array(bytes)));

    // Assess
    expect(error.message).toMatch(/not UTF-8/);
    expect(error.message).toMatch(/at byte 6 \(around line 2\)/);
    expect(error.message).toMatch(/0xff/);
  });
});

describe('scanDataset: a numeric column with a stray string', () => {
  it('names the column and the line of the stray value, and suggests declaring it as string', async () => {
    // Prepare: 100 numbers; the 61st data row (line 62) is "abc".
    const text = numericCsv(101, { index: 60, value: 'abc' });

    // Act
    const error = await scanError(csv(text));

    // Assess
    const part = expectViolation(error, { source: 'inferred', column: 'x', count: 1, problem: /not (a )?numbers?/, at: 'line 62', value: 'abc' });
    expect(part).toMatch(/declare it as string/);
    expect(part).toMatch(/--schema/);
    expect(error.message).not.toMatch(/column "label"/);
    expect(error.field).toBe('x');
  });

  it('with a declared schema, says the column is declared numeric', async () => {
    // Prepare
    const text = numericCsv(101, { index: 60, value: 'abc' });
    const declared = schema({ columns: [{ name: 'x', type: 'numeric' }, { name: 'label', type: 'numeric' }] });

    // Act
    const error = await scanError(csv(text), { schema: declared });

    // Assess
    const part = expectViolation(error, { source: 'declared', column: 'x', count: 1, problem: /not (a )?numbers?/, at: 'line 62', value: 'abc' });
    expect(part).toMatch(/declare(s|d) .*numeric/);
    expect(part).not.toMatch(/inferred/);
  });

  it('lists the first three lines of a repeated problem and counts the rest', async () => {
    // Prepare: 200 numbers and 5 strays on lines 11, 21, 31, 41, 51 (under 5%, so x stays numeric).
    const lines = ['x,label', ...Array.from({ length: 205 }, (_, i) => `${i % 10 === 9 && i < 50 ? 'n/a' : i},${i % 2}`)];

    // Act
    const error = await scanError(csv(`${lines.join('\n')}\n`));

    // Assess
    expectViolation(error, { source: 'inferred', column: 'x', count: 5, problem: /not (a )?numbers?/, at: 'lines 11, 21, 31 and 2 more', value: 'n/a' });
  });

  it('infers a column with many strings as a string column instead of failing', async () => {
    // Prepare: 20 of 100 values are text.
    const lines = ['x,label', ...Array.from({ length: 100 }, (_, i) => `${i % 5 === 0 ? `code-${i}` : i},${i % 2}`)];

    // Act
    const scan = await scanDataset(csv(`${lines.join('\n')}\n`));

    // Assess
    expect(scan.schema.columns.find((column) => column.name === 'x')?.type).toBe('string');
  });
});

describe('scanDataset: a record longer than the limit', () => {
  const LINE_BYTES = 10 * 1024 * 1024;
  /** "a,b", then one 10 MB line of x, then a normal row: 10 MB of bytes behind a lazy stream. */
  function tenMegabyteLine(quoted = false) {
    const bytes = new Uint8Array(4 + LINE_BYTES + 5);
    bytes.set(bytesOf('a,b\n'));
    bytes.fill(0x78, 4, 4 + LINE_BYTES);
    if (quoted) bytes[4] = 0x22;
    bytes.set(bytesOf('\n1,2\n'), 4 + LINE_BYTES);
    return streamOf(bytes);
  }

  it('rejects a 10 MB line at the default 1 MiB limit, naming the line and the limit, without reading the rest', async () => {
    // Prepare
    const stream = tenMegabyteLine();

    // Act
    const error = await scanError({ format: 'csv', chunks: stream.chunks });

    // Assess
    expect(error.message).toBe(`line 2 is longer than ${DEFAULT_MAX_RECORD_CHARS} characters, the limit for one record`);
    expect(DEFAULT_MAX_RECORD_CHARS).toBe(1024 * 1024);
    expect(stream.pulled()).toBeLessThanOrEqual(DEFAULT_MAX_RECORD_CHARS + 2 * 64 * 1024);
  });

  it('applies the limit passed in the scan options', async () => {
    // Prepare
    const stream = tenMegabyteLine();

    // Act
    const error = await scanError({ format: 'csv', chunks: stream.chunks }, { maxRecordChars: 1000 });

    // Assess
    expect(error.message).toBe('line 2 is longer than 1000 characters, the limit for one record');
    expect(stream.pulled()).toBe(64 * 1024);
  });

  it('blames a missing closing quote when a quoted field runs past the limit', async () => {
    // Prepare
    const stream = tenMegabyteLine(true);

    // Act
    const error = await scanError({ format: 'csv', chunks: stream.chunks }, { maxRecordChars: 100_000 });

    // Assess
    expect(error.message).toBe('a quoted field starting on line 2 runs past 100000 characters: is its closing quote missing?');
    expect(stream.pulled()).toBeLessThan(LINE_BYTES);
  });

  it('rejects a JSON Lines line longer than the limit without reading the rest', async () => {
    // Prepare
    const head = bytesOf('{"a":1}\n{"a":"');
    const bytes = new Uint8Array(head.byteLength + LINE_BYTES).fill(0x78);
    bytes.set(head);
    const stream = streamOf(bytes);

    // Act
    const error = await scanError({ format: 'jsonl', chunks: stream.chunks }, { maxRecordChars: 100_000 });

    // Assess
    expect(error.message).toBe('line 2 is longer than 100000 characters, the limit for one record');
    expect(stream.pulled()).toBeLessThan(bytes.byteLength);
  });
});

describe('scanDataset: files over the size limit', () => {
  it('rejects a CSV one byte over maxBytes, and accepts it at exactly maxBytes', async () => {
    // Prepare
    const text = numericCsv(50);
    const size = Buffer.byteLength(text);

    // Act
    const error = await scanError(csv(text, 100), { maxBytes: size - 1 });
    const scan = await scanDataset(csv(text, 100), { maxBytes: size });

    // Assess
    expect(error.message).toBe(`the file is larger than the ${size - 1}-byte limit for one dataset`);
    expect(scan.bytes).toBe(size);
  });

  it('stops reading a CSV stream once it passes maxBytes', async () => {
    // Prepare
    const stream = streamOf(bytesOf(numericCsv(5000)), 1000);

    // Act
    const error = await scanError({ format: 'csv', chunks: stream.chunks }, { maxBytes: 2500 });

    // Assess
    expect(error.message).toMatch(/larger than the 2500-byte limit/);
    expect(stream.pulled()).toBe(3000);
  });

  it('rejects a Parquet file over maxBytes without reading it', async () => {
    // Prepare
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'x', data: [1, 2, 3], type: 'DOUBLE' }] }));
    let slices = 0;
    const file: AsyncBuffer = {
      byteLength: bytes.byteLength,
      slice: (start, end) => {
        slices += 1;
        return bytes.slice(start, end).buffer as ArrayBuffer;
      },
    };

    // Act
    const error = await scanError(parquet(bytes, file), { maxBytes: bytes.byteLength - 1 });

    // Assess
    expect(error.message).toBe(`the file is larger than the ${bytes.byteLength - 1}-byte limit for one dataset`);
    expect(slices).toBe(0);
    expect((await scanDataset(parquet(bytes), { maxBytes: bytes.byteLength })).rowCount).toBe(3);
  });
});

describe('scanDataset: damaged Parquet', () => {
  it('rejects a truncated Parquet file as truncated', async () => {
    // Prepare
    const bytes = new Uint8Array(
      parquetWriteBuffer({ columnData: [{ name: 'x', data: Array.from({ length: 100 }, (_, i) => i), type: 'DOUBLE' }], rowGroupSize: 10 }),
    );

    // Act
    const error = await scanError(parquet(bytes.slice(0, bytes.byteLength - 100)));

    // Assess
    expect(error.message).toMatch(/truncated/);
  });
});

describe('parseDeclaredSchema: a schema that does not parse', () => {
  const declared = (input: unknown) => thrownBy(() => parseDeclaredSchema(input), InputValidationError);

  it('accepts a valid schema, filling in the defaults', () => {
    expect(parseDeclaredSchema({ columns: [{ name: 'a', type: 'numeric', min: 0 }], target: 'a' })).toEqual({
      columns: [{ name: 'a', type: 'numeric', nullable: true, min: 0 }],
      allowExtraColumns: false,
      target: 'a',
    });
  });

  it('rejects an unknown key, at the top or in a column', () => {
    const top = declared({ columns: [{ name: 'a', type: 'numeric' }], extra: true });
    expect(top.message).toMatch(/^invalid dataset schema: \(root\): .*"extra"/);
    const inColumn = declared({ columns: [{ name: 'a', type: 'numeric', mean: 3 }] });
    expect(inColumn.message).toMatch(/^invalid dataset schema: columns\.0: .*"mean"/);
    expect(inColumn.field).toBe('columns.0');
  });

  it('rejects min above max', () => {
    const error = declared({ columns: [{ name: 'a', type: 'numeric', min: 5, max: 1 }] });
    expect(error.message).toBe('invalid dataset schema: columns.0.max: max (1) is below min (5)');
    expect(error.field).toBe('columns.0.max');
  });

  it('rejects categories on a numeric column, and min on a string column', () => {
    const categories = declared({ columns: [{ name: 'a', type: 'string' }, { name: 'b', type: 'numeric', categories: ['x'] }] });
    expect(categories.message).toBe('invalid dataset schema: columns.1.categories: categories apply to string columns only');
    expect(categories.field).toBe('columns.1.categories');
    expect(declared({ columns: [{ name: 'a', type: 'string', min: 0 }] }).field).toBe('columns.0.min');
  });

  it('rejects a column declared twice', () => {
    const error = declared({ columns: [{ name: 'a', type: 'numeric' }, { name: 'b', type: 'string' }, { name: 'a', type: 'string' }] });
    expect(error.message).toBe('invalid dataset schema: columns.2.name: column "a" is declared twice');
    expect(error.field).toBe('columns.2.name');
  });

  it('rejects a target that is not a declared column', () => {
    const error = declared({ columns: [{ name: 'a', type: 'numeric' }], target: 'label' });
    expect(error.message).toBe('invalid dataset schema: target: target "label" is not a declared column');
    expect(error.field).toBe('target');
  });

  it('rejects a schema with no columns or an unknown type', () => {
    expect(declared({ columns: [] }).field).toBe('columns');
    expect(declared({ columns: [{ name: 'a', type: 'integer' }] }).field).toBe('columns.0.type');
  });
});

describe('scanDataset: a file that breaks its declared schema', () => {
  const twoColumns = (extra: Partial<DeclaredSchemaInput> = {}) =>
    schema({
      columns: [
        { name: 'age', type: 'numeric', min: 0, max: 120, nullable: false },
        { name: 'color', type: 'string', categories: ['red', 'green', 'blue'] },
      ],
      ...extra,
    });

  it('accepts a file that meets the schema, recording the declared schema', async () => {
    // Act
    const scan = await scanDataset(csv('age,color\n30,red\n0,\n120,blue\n'), { schema: twoColumns() });

    // Assess
    expect(scan.rowCount).toBe(3);
    expect(scan.schema).toEqual({
      source: 'declared',
      columns: [
        { name: 'age', type: 'numeric', nullable: false, min: 0, max: 120 },
        { name: 'color', type: 'string', nullable: true, categories: ['red', 'green', 'blue'] },
      ],
    });
  });

  it('rejects a file that lacks a declared column', async () => {
    const error = await scanError(csv('age\n30\n'), { schema: twoColumns() });
    expect(error.message).toBe('the file lacks declared column(s): color');
    expect(error.field).toBe('schema.columns');
  });

  it('rejects an extra column unless allowExtraColumns is true', async () => {
    // Prepare
    const text = 'age,color,notes\n30,red,hello\n40,green,world\n';

    // Act
    const error = await scanError(csv(text), { schema: twoColumns() });
    const scan = await scanDataset(csv(text), { schema: twoColumns({ allowExtraColumns: true }) });

    // Assess
    expect(error.message).toBe('the file has column(s) the schema does not declare: notes (set allowExtraColumns: true to accept them)');
    expect(scan.schema.columns.map((column) => column.name)).toEqual(['age', 'color', 'notes']);
    expect(scan.schema.columns[2]).toMatchObject({ name: 'notes', type: 'string' });
  });

  it('rejects a value below min or above max, naming the column, problem and line', async () => {
    const below = await scanError(csv('age,color\n30,red\n-1,red\n'), { schema: twoColumns() });
    expectViolation(below, { source: 'declared', column: 'age', count: 1, problem: /below the declared min 0/, at: 'line 3' });
    expect(below.field).toBe('age');
    const above = await scanError(csv('age,color\n121,red\n'), { schema: twoColumns() });
    expectViolation(above, { source: 'declared', column: 'age', count: 1, problem: /above the declared max 120/, at: 'line 2' });
  });

  it('rejects a value outside the declared categories', async () => {
    const error = await scanError(csv('age,color\n30,red\n31,green\n32,purple\n'), { schema: twoColumns() });
    expectViolation(error, { source: 'declared', column: 'color', count: 1, problem: /outside the declared categories/, at: 'line 4', value: 'purple' });
    expect(error.field).toBe('color');
  });

  it('rejects a missing value in a non-nullable column', async () => {
    const error = await scanError(csv('age,color\n30,red\n,green\n  ,blue\n'), { schema: twoColumns() });
    expectViolation(error, { source: 'declared', column: 'age', count: 2, problem: /missing value.*not nullable/, at: 'lines 3, 4' });
  });

  it('reports every kind of problem in one message', async () => {
    const error = await scanError(csv('age,color\n-5,red\n30,pink\n'), { schema: twoColumns() });
    expectViolation(error, { source: 'declared', column: 'age', count: 1, problem: /below the declared min 0/, at: 'line 2' });
    expectViolation(error, { source: 'declared', column: 'color', count: 1, problem: /outside the declared categories/, at: 'line 3', value: 'pink' });
  });

  it('rejects a target that is not a column of the file, and a target with no values', async () => {
    const absent = await scanError(csv('a,b\n1,2\n'), { target: 'label' });
    expect(absent.message).toBe('target "label" is not a column of the file (columns: a, b)');
    expect(absent.field).toBe('target');
    const empty = await scanError(csv('a,label\n1,\n2,\n'), { target: 'label' });
    expect(empty.message).toBe('target "label" has no values');
  });
});

describe('scanDataset: a good dataset', () => {
  const GOOD_CSV = [
    'age,income,city,label',
    '34,1200.5,Paris,0',
    '51,3400,Lyon,1',
    '28,2100,Paris,0',
    ',1800,Nice,0',
    '45,5000.25,Lyon,1',
    '39,2700,Paris,0',
    '62,4100,Saint-Étienne,1',
    '23,1500,Nice,0',
    '',
  ].join('\r\n');

  const EXPECTED_SCHEMA = {
    source: 'inferred',
    columns: [
      { name: 'age', type: 'numeric', nullable: true, min: 23, max: 62 },
      { name: 'income', type: 'numeric', nullable: false, min: 1200.5, max: 5000.25 },
      { name: 'city', type: 'string', nullable: false, categories: ['Lyon', 'Nice', 'Paris', 'Saint-Étienne'] },
      { name: 'label', type: 'numeric', nullable: false, min: 0, max: 1 },
    ],
    target: 'label',
  };

  it('returns the row count, byte count, sha256, inferred schema and target classes', async () => {
    // Prepare
    const bytes = bytesOf(GOOD_CSV);

    // Act
    const scan = await scanDataset(csv(bytes, 16), { target: 'label' });

    // Assess
    expect(scan.format).toBe('csv');
    expect(scan.rowCount).toBe(8);
    expect(scan.bytes).toBe(bytes.byteLength);
    expect(scan.sha256).toBe(sha256(bytes));
    expect(scan.schema).toEqual(EXPECTED_SCHEMA);
    expect(scan.profile.rows).toBe(8);
    expect(scan.profile.target).toEqual({ column: 'label', kind: 'classes', classes: { '0': 5, '1': 3 } });
    expect(scan.profile.columns.find((column) => column.name === 'age')).toMatchObject({ type: 'numeric', count: 8, missing: 1 });
  });

  it('takes the target from the declared schema when no target is given', async () => {
    // Prepare
    const declared = schema({
      columns: [
        { name: 'age', type: 'numeric' },
        { name: 'income', type: 'numeric' },
        { name: 'city', type: 'string' },
        { name: 'label', type: 'string' },
      ],
      target: 'label',
    });

    // Act
    const scan = await scanDataset(csv(GOOD_CSV), { schema: declared });

    // Assess
    expect(scan.schema.source).toBe('declared');
    expect(scan.schema.target).toBe('label');
    expect(scan.profile.target).toEqual({ column: 'label', kind: 'classes', classes: { '0': 5, '1': 3 } });
  });

  it('lists no categories for a high-cardinality string column', async () => {
    // Prepare
    const text = ['id,label', ...Array.from({ length: 60 }, (_, i) => `user-${i},${i % 2}`)].join('\n');

    // Act
    const scan = await scanDataset(csv(text));

    // Assess
    expect(scan.schema.columns[0]).toEqual({ name: 'id', type: 'string', nullable: false });
  });

  it('infers the same schema and classes from the same table as JSON Lines and as Parquet', async () => {
    // Prepare
    const records = GOOD_CSV.split('\r\n')
      .slice(1, -1)
      .map((line) => line.split(','))
      .map(([age, income, city, label]) => ({ age: age === '' ? null : Number(age), income: Number(income), city: city!, label: Number(label) }));
    const jsonlText = records.map((record) => JSON.stringify(record)).join('\n');
    const parquetBytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'age', data: records.map((r) => (r.age === null ? null : BigInt(r.age))), type: 'INT64' },
          { name: 'income', data: records.map((r) => r.income), type: 'DOUBLE' },
          { name: 'city', data: records.map((r) => r.city), type: 'STRING' },
          { name: 'label', data: records.map((r) => r.label), type: 'INT32' },
        ],
        rowGroupSize: 3,
      }),
    );

    // Act
    const fromJsonl = await scanDataset(jsonl(jsonlText), { target: 'label' });
    const fromParquet = await scanDataset(parquet(parquetBytes), { target: 'label' });

    // Assess
    expect(fromJsonl.schema).toEqual(EXPECTED_SCHEMA);
    expect(fromParquet.schema).toEqual(EXPECTED_SCHEMA);
    expect(fromJsonl.profile.target).toEqual({ column: 'label', kind: 'classes', classes: { '0': 5, '1': 3 } });
    expect(fromParquet.profile.target).toEqual(fromJsonl.profile.target);
    expect(fromParquet).toMatchObject({ format: 'parquet', rowCount: 8, bytes: parquetBytes.byteLength, sha256: sha256(parquetBytes) });
  });

  it('names Parquet rows by row number in schema errors', async () => {
    // Prepare
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'age', data: [30, -2, 40], type: 'DOUBLE' }], rowGroupSize: 2 }));

    // Act
    const error = await scanError(parquet(bytes), { schema: schema({ columns: [{ name: 'age', type: 'numeric', min: 0 }] }) });

    // Assess
    expectViolation(error, { source: 'declared', column: 'age', count: 1, problem: /below the declared min 0/, at: 'row 2' });
    expect(error.message).not.toMatch(/line/);
  });
});

describe('scanDataset: limits the caller sets', () => {
  it('past maxDuplicateRows, checks rows against the tracked ones only and says the count is partial', async () => {
    // Rows 0-19 are distinct; rows 20-29 repeat rows 10-19; the last row repeats row 0.
    const values = [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 10 + i), 0];
    const text = `x,label\n${values.map((v) => `${v},${v % 2}`).join('\n')}\n`;

    const full = await scanDataset(csv(text));
    const capped = await scanDataset(csv(text), { maxDuplicateRows: 10 });

    expect(full.profile).toMatchObject({ duplicateRows: 11, duplicatesComplete: true });
    expect(capped.profile).toMatchObject({ duplicateRows: 1, duplicatesComplete: false });
  });

  it('past maxDuplicateRows, carries a HyperLogLog estimate of the whole file and its bound', async () => {
    // Prepare: 40 distinct rows, then 10 of them again; only 8 are tracked exactly.
    const rows = Array.from({ length: 40 }, (_, i) => `${i},${i % 2}`);
    const text = `x,label\n${[...rows, ...rows.slice(0, 10)].join('\n')}\n`;

    // Act
    const full = await scanDataset(csv(text));
    const capped = await scanDataset(csv(text), { maxDuplicateRows: 8 });

    // Assess: the exact profile has no estimate; the capped one counts repeats of the 8 tracked rows and estimates the rest.
    expect(full.profile).toMatchObject({ duplicateRows: 10, duplicatesComplete: true });
    expect(full.profile.duplicatesEstimate).toBeUndefined();
    expect(capped.profile).toMatchObject({ duplicateRows: 8, duplicatesComplete: false });
    const estimate = capped.profile.duplicatesEstimate!;
    expect(estimate).toMatchObject({ method: 'hyperloglog', registers: 16_384 });
    expect(estimate.bound).toBeGreaterThan(0);
    expect(Math.abs(estimate.duplicateRows - 10)).toBeLessThanOrEqual(estimate.bound);
    expect(DatasetProfileSchema.parse(capped.profile)).toEqual(capped.profile);
  });

  it('estimates a known number of duplicate rows within its bound, far past the exact table', async () => {
    // Prepare: 150,000 distinct rows and 30,000 repeats of earlier rows spread through the file; 20,000 tracked exactly.
    const rng = createRng(16);
    const lines: string[] = [];
    let distinct = 0;
    let repeats = 0;
    while (distinct < 150_000 || repeats < 30_000) {
      if (repeats < 30_000 && distinct > 0 && rng() < 1 / 6) {
        lines.push(lines[Math.floor(rng() * lines.length)]!);
        repeats += 1;
      } else if (distinct < 150_000) {
        lines.push(`${distinct},c${distinct % 7},${distinct % 2}`);
        distinct += 1;
      }
    }

    // Act
    const { profile } = await scanDataset(csv(`id,c,label\n${lines.join('\n')}\n`), { maxDuplicateRows: 20_000 });

    // Assess
    expect(profile.rows).toBe(180_000);
    expect(profile.duplicatesComplete).toBe(false);
    expect(profile.duplicateRows).toBeLessThan(30_000);
    const estimate = profile.duplicatesEstimate!;
    expect(estimate.bound).toBeLessThan(0.05 * 150_000);
    expect(Math.abs(estimate.duplicateRows - 30_000), `estimate ${estimate.duplicateRows} ± ${estimate.bound}`).toBeLessThanOrEqual(estimate.bound);
  });

  it('rejects a JSON Lines number out of range instead of reading it as missing', async () => {
    const error = await scanError(jsonl('{"x":1,"label":0}\n{"x":1e400,"label":1}\n'));
    expect(error.message).toBe('column "x" holds a number out of range on line 2');
    expect(error.field).toBe('x');
  });
});

describe('scanDataset: category frequencies', () => {
  it('reports the 20 most frequent values of a string column and counts the rest as other', async () => {
    // Value v<k> appears k+1 times for k = 0..24: 25 distinct values, 325 rows.
    const values = Array.from({ length: 25 }, (_, k) => Array.from({ length: k + 1 }, () => `v${k}`)).flat();
    const text = `city,label\n${values.map((v, i) => `${v},${i % 2}`).join('\n')}\n`;

    const { profile } = await scanDataset(csv(text));

    const city = profile.columns.find((c) => c.name === 'city')!;
    expect(city.top).toHaveLength(20);
    expect(city.top![0]).toEqual(['v24', 25]);
    expect(city.top![19]).toEqual(['v5', 6]);
    // v0..v4 hold 1+2+3+4+5 rows.
    expect(city.other).toBe(15);
    expect(city.frequencies).toMatchObject({ exact: true, total: 325 });
  });
});
