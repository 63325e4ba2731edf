import { describe, expect, it } from 'vitest';
import { exceedsErrorRate, errorsUriFor } from '../../lambdas/core/batch/job.js';
import { predictionCells, predictionColumns, requestRow, writeTable } from '../../lambdas/core/batch/formats.js';
import { DEFAULT_MAX_RECORD_CHARS } from '../../lambdas/core/data/csv.js';
import { bufferFile, readParquetTable, readTextTable, type Cell, type TableSink } from '../../lambdas/core/data/table-readers.js';
import { MlopsError } from '../../lambdas/core/errors.js';

/** Everything a reader reports to a sink with a `bad` hook (as batch scoring reads), in order. */
async function read(text: string | Uint8Array, format: 'csv' | 'jsonl' | 'parquet', pieces = 1) {
  const got: { columns: string[]; rows: [number, Cell[]][]; bad: [number, string, string][] } = { columns: [], rows: [], bad: [] };
  const sink: TableSink = {
    columns: (names) => (got.columns = names),
    row: (cells, at) => got.rows.push([at, [...cells]]),
    bad: (at, field, problem) => got.bad.push([at, field, problem]),
  };
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (format === 'parquet') await readParquetTable(bufferFile(bytes), sink);
  else {
    // Split into pieces of any size: a record or a UTF-8 character may straddle two chunks.
    const size = Math.ceil(bytes.length / pieces);
    const chunks = Array.from({ length: pieces }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
    await readTextTable((async function* () { yield* chunks; })(), format, sink);
  }
  return got;
}

describe('batch input readers', () => {
  it('reads CSV rows with the line each starts on, and a row with the wrong field count is a bad row, not a broken file', async () => {
    const csv = 'id,name,score\n1,"Ann, Jr.",3.5\n\n2,"two\nlines",4\n3,short\n4,é,5\n';
    for (const pieces of [1, 3, 17]) {
      const got = await read(csv, 'csv', pieces);
      expect(got.columns).toEqual(['id', 'name', 'score']);
      expect(got.rows).toEqual([
        [2, ['1', 'Ann, Jr.', '3.5']],
        [4, ['2', 'two\nlines', '4']],
        [7, ['4', 'é', '5']],
      ]);
      expect(got.bad).toEqual([[6, '(row)', 'has 2 fields, the header has 3']]);
    }
  });

  it('reads JSON Lines by line: bad JSON, a non-object, an unknown key and a nested value are bad rows with their line', async () => {
    const text = ['{"a": 1, "b": "x"}', '{"a": 2, "b": true}', '{"a": 3, ', '[1, 2]', '', '{"a": 4, "c": 1}', '{"a": {"n": 1}, "b": null}', '{"a": 5}'].join('\n');
    const got = await read(text, 'jsonl', 4);
    expect(got.columns).toEqual(['a', 'b']);
    expect(got.rows).toEqual([
      [1, [1, 'x']],
      [2, [2, 'true']],
      [8, [5, null]],
    ]);
    expect(got.bad.map(([line, field]) => [line, field])).toEqual([
      [3, '(line)'],
      [4, '(line)'],
      [6, 'c'],
      [7, 'a'],
    ]);
    expect(got.bad[0]![2]).toMatch(/not valid JSON/);
  });

  it('names the problem of each bad JSON Lines row as the errors file shows it', async () => {
    const text = ['{"a": 1, "b": "x"}', '{"a": 3, ', '"text"', '{"a": 4, "c": 1, "d": 2}', '{"a": 1, "b": [1]}', '{"a": 1e999, "b": "y"}'].join('\n');
    const got = await read(text, 'jsonl', 3);
    expect(got.rows).toEqual([[1, [1, 'x']]]);
    expect(got.bad).toEqual([
      [2, '(line)', expect.stringMatching(/^not valid JSON: /)],
      [3, '(line)', 'not a JSON object'],
      [4, 'c', 'not a column of the first line'],
      [5, 'b', 'expected a number, a string, a boolean or null'],
      [6, 'a', 'expected a number, a string, a boolean or null'],
    ]);
  });

  it('reports a Parquet row with a value out of range as a bad row and reads on', async () => {
    const bytes = writeTable('parquet', ['x', 'y'], [[1, 'a'], [Infinity, 'b'], [3, 'c']]);
    const got = await read(bytes, 'parquet');
    expect(got.rows).toEqual([[1, [1, 'a']], [3, [3, 'c']]]);
    expect(got.bad).toEqual([[2, 'x', 'expected a number, a string, a boolean or null']]);
  });

  it('still fails the whole file on what is not a row problem: a quote never closed, a record over the size cap', async () => {
    await expect(read('a,b\n1,"open\n2,3\n', 'csv')).rejects.toThrow(/unterminated quoted field starting on line 2/);
    const long = `{"a": "${'x'.repeat(DEFAULT_MAX_RECORD_CHARS)}"}\n`;
    await expect(read(`{"a": 1}\n${long}`, 'jsonl')).rejects.toThrow(/line 2 is longer than/);
  });

  it('fails a file that is not a table: not UTF-8, empty, a header naming a column twice', async () => {
    for (const [text, format, message] of [
      [new Uint8Array([0x61, 0x2c, 0x62, 0x0a, 0xff, 0x0a]), 'csv', /not UTF-8/],
      ['', 'csv', /empty/],
      ['\n\n', 'jsonl', /no JSON object/],
      ['a,a\n1,2\n', 'csv', /appears twice/],
    ] as const) {
      await expect(read(text, format)).rejects.toSatisfy((error: unknown) => error instanceof MlopsError && error.code === 'DATA_VALIDATION_FAILED' && message.test(error.message));
    }
  });
});

describe('batch output writers', () => {
  const columns = ['id', 'note', 'x', 'prediction', 'probability_no', 'probability_yes'];
  const rows: Cell[][] = [
    ['1', 'plain', '0.5', 'yes', 0.25, 0.75],
    ['2', 'a "quoted", comma', '', 'no', 0.9, 0.1],
    ['3', 'two\nlines', ' 7', 'no', 0.6000000000000001, 0.3999999999999999],
  ];

  it('writes CSV that reads back to the same cells in the same order (quotes, commas, line breaks, edge spaces)', async () => {
    const text = Buffer.from(writeTable('csv', columns, rows)).toString('utf8');
    const got = await read(text, 'csv');
    expect(got.columns).toEqual(columns);
    expect(got.rows.map(([, cells]) => cells)).toEqual(rows.map((cells) => cells.map((cell) => (cell === null ? '' : String(cell)))));
    expect(got.bad).toEqual([]);
  });

  it('writes JSON Lines objects with the input values typed as they came and the predictions as numbers', async () => {
    const typed: Cell[][] = [
      [1, 'a', null, 'yes', 0.25, 0.75],
      [2, 'b', 3.5, 'no', 0.9, 0.1],
    ];
    const text = Buffer.from(writeTable('jsonl', columns, typed)).toString('utf8');
    expect(text.split('\n')[0]).toBe('{"id":1,"note":"a","x":null,"prediction":"yes","probability_no":0.25,"probability_yes":0.75}');
    const got = await read(text, 'jsonl');
    expect(got.rows.map(([, cells]) => cells)).toEqual(typed);
  });

  it('writes Parquet that reads back in order: numeric columns as numbers (nulls kept), text columns as text', async () => {
    const typed: Cell[][] = [
      [1, 'a', null, 'yes', 0.25, 0.75],
      [2, 'b', 3.5, 'no', 0.9, 0.1],
      [3, 7, 1, 'no', 0.6, 0.4],
    ];
    const got = await read(writeTable('parquet', columns, typed), 'parquet');
    expect(got.columns).toEqual(columns);
    expect(got.rows).toEqual(typed.map((cells, i) => [i + 1, cells.map((cell, j) => (j === 1 ? String(cell) : cell))]));
  });
});

describe('prediction columns and request rows', () => {
  it('names the columns the output adds: prediction, then probability_<class> in class order; regression only prediction', () => {
    const binary = { task: 'binary_classification' as const, classes: ['no', 'yes'] };
    expect(predictionColumns(binary)).toEqual(['prediction', 'probability_no', 'probability_yes']);
    expect(predictionCells(binary, { label: 'yes', probability: 0.7, probabilities: { no: 0.3, yes: 0.7 } })).toEqual(['yes', 0.3, 0.7]);
    expect(predictionColumns({ task: 'regression' })).toEqual(['prediction']);
    expect(predictionCells({ task: 'regression' }, { value: 12.5 })).toEqual([12.5]);
  });

  it('turns CSV text into the online request row: numbers for numeric features, blank as missing, other text left for the check', () => {
    const shape = { features: [{ name: 'age', type: 'numeric' as const, nullable: true }, { name: 'city', type: 'categorical' as const, nullable: true }] };
    const index = new Map([['city', 0], ['age', 2], ['other', 1]]);
    expect(requestRow(shape, index, ['Oslo', 'x', ' 42 '])).toEqual({ age: 42, city: 'Oslo' });
    expect(requestRow(shape, index, [' ', 'x', ''])).toEqual({ age: null, city: null });
    expect(requestRow(shape, index, ['7', 'x', 'forty'])).toEqual({ age: 'forty', city: '7' });
    expect(requestRow(shape, index, [null, 'x', 3])).toEqual({ age: 3, city: null });
  });
});

describe('the bad-row threshold', () => {
  it('fails a job only when bad rows are more than the allowed share of the rows read', () => {
    expect(exceedsErrorRate({ rows: 100, bad: 1 }, 0.01)).toBe(false);
    expect(exceedsErrorRate({ rows: 100, bad: 2 }, 0.01)).toBe(true);
    expect(exceedsErrorRate({ rows: 99, bad: 1 }, 0.01)).toBe(true);
    expect(exceedsErrorRate({ rows: 10, bad: 0 }, 0)).toBe(false);
    expect(exceedsErrorRate({ rows: 10, bad: 1 }, 0)).toBe(true);
    expect(exceedsErrorRate({ rows: 10, bad: 10 }, 1)).toBe(false);
    expect(exceedsErrorRate({ rows: 0, bad: 0 }, 0)).toBe(false);
  });

  it('puts the errors file next to the output', () => {
    expect(errorsUriFor('s3://b/batch-jobs/j/output.csv')).toBe('s3://b/batch-jobs/j/output.errors.jsonl');
    expect(errorsUriFor('/tmp/out.v2/scored.parquet')).toBe('/tmp/out.v2/scored.errors.jsonl');
  });
});
