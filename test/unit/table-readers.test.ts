import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CsvTableReader, parseCsv } from '../../lambdas/core/data/csv.js';
import { DataValidationError } from '../../lambdas/core/errors.js';
import {
  bufferFile,
  firstInvalidUtf8,
  formatFromFileName,
  readParquetTable,
  readTextTable,
  type Cell,
  type TableSink,
} from '../../lambdas/core/data/table-readers.js';
import { rejectedWith } from './helpers.js';

/** What a sink received: the column names, and each row with its position. */
interface Collected {
  header: string[] | undefined;
  rows: Cell[][];
  positions: number[];
}

function collector(): TableSink & Collected {
  const seen: Collected = { header: undefined, rows: [], positions: [] };
  return Object.assign(seen, {
    columns(names: string[]) {
      expect(seen.header, 'columns() is called once').toBeUndefined();
      seen.header = names;
    },
    row(cells: readonly Cell[], position: number) {
      seen.rows.push([...cells]);
      seen.positions.push(position);
    },
  });
}

/** The bytes as a stream of chunks of `size` bytes (the last one shorter). */
async function* chunksOf(bytes: Uint8Array, size = bytes.byteLength || 1): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.byteLength; start += size) yield bytes.subarray(start, start + size);
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const rejectionOf = rejectedWith;

/** CSV pushed to a CsvTableReader as string chunks of `size` characters (the whole text at once by default). */
function readCsvInStringChunks(text: string, size = text.length || 1): Collected {
  const seen: Collected = { header: undefined, rows: [], positions: [] };
  const reader = new CsvTableReader(
    (header) => {
      seen.header = header;
    },
    (fields, line) => {
      seen.rows.push(fields);
      seen.positions.push(line);
    },
  );
  for (let start = 0; start < text.length; start += size) reader.push(text.slice(start, start + size));
  reader.end();
  return seen;
}

const plain = (seen: Collected): Collected => ({ header: seen.header, rows: seen.rows, positions: seen.positions });

/** Small CSV texts that exercise every tokenizer state at a chunk boundary somewhere. */
const STREAMING_CASES: Record<string, string> = {
  'plain rows': 'a,b,c\n1,2,3\n4,5,6\n',
  'quoted commas and doubled quotes': 'name,note\n"Doe, Jane","say ""hi"""\n"""",""""""\n',
  'line breaks inside quotes (LF and CRLF)': 'a,b\r\n"x\r\ny",2\r\n"p\nq\n",3\r\n4,"r"\r\n',
  'CRLF line ends': 'a,b\r\n1,2\r\n3,4\r\n',
  'CR-only line ends': 'a,b\r1,2\r3,4',
  'a byte order mark': '\ufeffage,label\n30,1\n41,0\n',
  'blank lines': 'a,b\n\n1,2\n\r\n\n3,4\n\n',
  'multi-byte characters': 'city,price\nCafé,3€\n"Zürich, CH","€ 10"\n𝔘,ü\n',
  'no final line end, quoted last field': 'a,b\n1,2\n3,"x"',
  'empty fields, quoted or not': 'a,b,c\n,"",3\n,,\n',
};

describe('streaming CSV: every chunking gives the same table as the whole text', () => {
  it('the whole-text reference matches parseCsv and puts each row on the line it starts on', () => {
    // Prepare
    const text = STREAMING_CASES['line breaks inside quotes (LF and CRLF)']!;

    // Act
    const seen = readCsvInStringChunks(text);

    // Assess
    expect({ header: seen.header, rows: seen.rows }).toEqual(parseCsv(text));
    expect(seen.rows).toEqual([
      ['x\r\ny', '2'],
      ['p\nq\n', '3'],
      ['4', 'r'],
    ]);
    expect(seen.positions).toEqual([2, 4, 7]);
    expect(readCsvInStringChunks(STREAMING_CASES['blank lines']!).positions).toEqual([3, 6]);
  });

  for (const [name, text] of Object.entries(STREAMING_CASES)) {
    it(`${name}: string chunks of every size from 1 to the text length`, () => {
      // Prepare
      const whole = readCsvInStringChunks(text);
      expect({ header: whole.header, rows: whole.rows }).toEqual(parseCsv(text));

      for (let size = 1; size <= text.length; size += 1) {
        // Act
        const chunked = readCsvInStringChunks(text, size);

        // Assess
        expect(chunked, `chunk size ${size}`).toEqual(whole);
      }
    });

    it(`${name}: byte chunks of every size through readTextTable, with the byte count, row count and sha256`, async () => {
      // Prepare
      const bytes = utf8(text);
      const whole = readCsvInStringChunks(text);
      const expectedSummary = { bytes: bytes.byteLength, rows: whole.rows.length, sha256: sha256(bytes) };

      for (let size = 1; size <= bytes.byteLength; size += 1) {
        const sink = collector();

        // Act
        const summary = await readTextTable(chunksOf(bytes, size), 'csv', sink);

        // Assess
        expect(plain(sink), `chunk size ${size}`).toEqual(whole);
        expect(summary, `chunk size ${size}`).toEqual(expectedSummary);
      }
    });
  }

  it('decodes a multi-byte character split across byte chunks into the same text', async () => {
    // Prepare: "é" is 2 bytes and "€" 3 bytes; a 1-byte chunking cuts through both.
    const bytes = utf8('word\né\n€\n');
    const sink = collector();

    // Act
    await readTextTable(chunksOf(bytes, 1), 'csv', sink);

    // Assess
    expect(sink.rows).toEqual([['é'], ['€']]);
  });

  it('reports the byte count and sha256 of the raw bytes, byte order mark included', async () => {
    // Prepare
    const bytes = utf8('\ufeffa,b\n1,2\n');
    const sink = collector();

    // Act
    const summary = await readTextTable(chunksOf(bytes, 4), 'csv', sink);

    // Assess
    expect(bytes.byteLength).toBe(3 + 8);
    expect(summary).toEqual({ bytes: 11, rows: 1, sha256: createHash('sha256').update(Buffer.from(bytes)).digest('hex') });
    expect(sink.header).toEqual(['a', 'b']);
  });
});

describe('readTextTable: bytes that are not UTF-8', () => {
  it('names the invalid byte, its offset in the file and its line', async () => {
    // Prepare
    const bytes = new Uint8Array([0x61, 0x2c, 0x62, 0x0a, 0x31, 0x2c, 0xff, 0x0a]);

    // Act
    const error = await rejectionOf(readTextTable(chunksOf(bytes), 'csv', collector()), DataValidationError);

    // Assess
    expect(error.message).toBe('the file is not UTF-8 text: invalid byte 0xff at byte 6 (around line 2); save it as UTF-8');
  });

  it('counts the offset and line from the start of the file when the bad byte is in a later chunk', async () => {
    // Prepare: the bad byte 0xe9 (Latin-1 "é") is at byte 12, on line 3, in the third 5-byte chunk.
    const bytes = new Uint8Array([...utf8('ab,cd\n1,2\n3,'), 0xe9, ...utf8('\n')]);

    // Act
    const error = await rejectionOf(readTextTable(chunksOf(bytes, 5), 'csv', collector()), DataValidationError);

    // Assess
    expect(error.message).toMatch(/invalid byte 0xe9 at byte 12 \(around line 3\)/);
  });

  it('names the right byte when a valid multi-byte character straddles the previous chunk boundary', async () => {
    // Prepare: "é" (c3 a9) is cut after its first byte; the invalid 0xff sits at byte 11, on line 3.
    const bytes = new Uint8Array([...utf8('a,b\nx,é\n1,'), 0xff, 0x0a]);
    const cut = bytes.indexOf(0xc3) + 1;
    async function* twoChunks() {
      yield bytes.subarray(0, cut);
      yield bytes.subarray(cut);
    }

    // Act
    const error = await rejectionOf(readTextTable(twoChunks(), 'csv', collector()), DataValidationError);

    // Assess
    expect(error.message).toBe('the file is not UTF-8 text: invalid byte 0xff at byte 11 (around line 3); save it as UTF-8');
  });

  it('counts the offset and line from the start of the file when the bad byte lies past the first 64 KiB of one large chunk', async () => {
    // Prepare: one 200 KB chunk (decoded in 64 KiB pieces) whose rows hold "é"; the bad byte follows them.
    const head = utf8(`a,b\n${'1,é\n'.repeat(40_000)}2,`);
    const bytes = new Uint8Array([...head, 0xff, 0x0a]);

    // Act
    const error = await rejectionOf(readTextTable(chunksOf(bytes), 'csv', collector()), DataValidationError);

    // Assess
    expect(error.message).toBe(`the file is not UTF-8 text: invalid byte 0xff at byte ${head.byteLength} (around line 40002); save it as UTF-8`);
  });

  it('names the right byte for an encoded surrogate (CESU-8 / modified UTF-8), which is not UTF-8', async () => {
    // Prepare: ed a0 80 encodes U+D800, which strict UTF-8 forbids; it starts at byte 6, on line 2.
    const bytes = new Uint8Array([...utf8('a,b\n1,'), 0xed, 0xa0, 0x80, 0x0a]);

    // Act
    const error = await rejectionOf(readTextTable(chunksOf(bytes), 'csv', collector()), DataValidationError);

    // Assess
    expect(error.message).toBe('the file is not UTF-8 text: invalid byte 0xed at byte 6 (around line 2); save it as UTF-8');
  });

  it('rejects a file that ends inside a multi-byte character', async () => {
    // Prepare: the first byte of "€" (e2 82 ac) and nothing after it.
    const bytes = new Uint8Array([...utf8('a,b\n1,'), 0xe2, 0x82]);

    // Act
    const error = await rejectionOf(readTextTable(chunksOf(bytes, 3), 'csv', collector()), DataValidationError);

    // Assess
    expect(error.message).toBe('the file is not UTF-8 text: it ends inside a multi-byte character (around line 2)');
  });
});

describe('firstInvalidUtf8', () => {
  it('returns -1 for valid UTF-8, and for a character cut by the end of the chunk', () => {
    expect(firstInvalidUtf8(utf8('plain, é € 𝔘'))).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xe2, 0x82]))).toBe(-1);
  });

  it('returns the offset of a byte that cannot start a character, or of a lead byte whose continuation is wrong', () => {
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xff]))).toBe(2);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc3, 0x41]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0xc0, 0x80]))).toBe(0);
  });
});

describe('JSON Lines through readTextTable', () => {
  const readJsonl = async (text: string, chunkSize?: number) => {
    const sink = collector();
    const summary = await readTextTable(chunksOf(utf8(text), chunkSize), 'jsonl', sink);
    return { sink, summary };
  };
  const jsonlError = async (text: string) => (await rejectionOf(readJsonl(text), DataValidationError)).message;

  it("names the columns after the first object's keys and keeps values typed", async () => {
    // Prepare
    const text = '{"age":30,"name":"Ann","member":true,"score":null}\n{"age":41.5,"name":"Bob","member":false}\n';

    // Act
    const { sink, summary } = await readJsonl(text);

    // Assess
    expect(sink.header).toEqual(['age', 'name', 'member', 'score']);
    expect(sink.rows).toEqual([
      [30, 'Ann', 'true', null],
      [41.5, 'Bob', 'false', null],
    ]);
    expect(typeof sink.rows[0]![0]).toBe('number');
    expect(sink.positions).toEqual([1, 2]);
    expect(summary).toEqual({ bytes: Buffer.byteLength(text), rows: 2, sha256: sha256(utf8(text)) });
  });

  it('skips blank lines and accepts CRLF line ends, counting lines in the file', async () => {
    // Prepare
    const text = '{"a":1,"b":"x"}\r\n\r\n   \n{"a":2,"b":"y"}\r\n{"b":"z","a":3}';

    // Act
    const { sink } = await readJsonl(text);

    // Assess
    expect(sink.rows).toEqual([
      [1, 'x'],
      [2, 'y'],
      [3, 'z'],
    ]);
    expect(sink.positions).toEqual([1, 4, 5]);
  });

  it('gives the same rows for byte chunks of every size', async () => {
    // Prepare
    const text = '{"city":"Zürich","price":"€ 10"}\r\n\n{"city":"Café \\"Le\\"","price":null}\n';
    const { sink: whole } = await readJsonl(text);
    expect(whole.rows).toEqual([
      ['Zürich', '€ 10'],
      ['Café "Le"', null],
    ]);

    for (let size = 1; size <= utf8(text).byteLength; size += 1) {
      // Act
      const { sink } = await readJsonl(text, size);

      // Assess
      expect(plain(sink), `chunk size ${size}`).toEqual(plain(whole));
    }
  });

  it('rejects a line that is not JSON, naming the line', async () => {
    expect(await jsonlError('{"a":1}\n{"a":2}\n{"a":3,}\n')).toMatch(/^line 3 is not valid JSON: /);
  });

  it('rejects a line that is JSON but not an object', async () => {
    expect(await jsonlError('{"a":1}\n[1]\n')).toBe('line 2 is not a JSON object');
    expect(await jsonlError('{"a":1}\n\n7\n')).toBe('line 3 is not a JSON object');
    expect(await jsonlError('null\n')).toBe('line 1 is not a JSON object');
  });

  it('rejects a field the first line does not have, naming it', async () => {
    expect(await jsonlError('{"a":1}\n{"a":2,"c":3}\n')).toBe('line 2 has field(s) the first line does not: c');
  });

  it('reads a field missing from a later line as null', async () => {
    const { sink } = await readJsonl('{"a":1,"b":2}\n{"a":3}\n');
    expect(sink.rows).toEqual([
      [1, 2],
      [3, null],
    ]);
  });

  it('rejects a nested object or array value, naming the column and line', async () => {
    // Prepare
    const text = '{"a":1,"b":"x"}\n{"a":2,"b":{"c":1}}\n';

    // Act
    const error = await rejectionOf(readJsonl(text), DataValidationError);

    // Assess
    expect(error.message).toMatch(/^column "b" holds a nested value on line 2/);
    expect(error.field).toBe('b');
    expect(await jsonlError('{"a":[1,2]}\n')).toMatch(/^column "a" holds a nested value on line 1/);
  });

  it('rejects an empty file, and a first object with no keys', async () => {
    expect(await jsonlError('')).toBe('the file is empty: expected one JSON object per line');
    expect(await jsonlError('\n \r\n\n')).toBe('the file is empty: expected one JSON object per line');
    expect(await jsonlError('{}\n{"a":1}\n')).toMatch(/^line 1 is an empty object/);
  });

  it('rejects a line longer than the record limit, naming it', async () => {
    // Prepare
    const text = `{"a":1}\n{"a":"${'x'.repeat(200)}"}\n`;

    // Act
    const error = await rejectionOf(readTextTable(chunksOf(utf8(text), 16), 'jsonl', collector(), { maxRecordChars: 100 }), DataValidationError);

    // Assess
    expect(error.message).toBe('line 2 is longer than 100 characters, the limit for one record');
  });
});

describe('readParquetTable', () => {
  /** 10 rows in row groups of 3: ids as INT64, names as strings, scores as doubles with nulls. */
  function sampleParquet(): Uint8Array {
    const ids = Array.from({ length: 10 }, (_, i) => BigInt(1_000_000_000_000 + i));
    const names = Array.from({ length: 10 }, (_, i) => (i === 4 ? null : `name-${i}`));
    const scores = Array.from({ length: 10 }, (_, i) => (i % 3 === 1 ? null : i + 0.5));
    return new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'id', data: ids, type: 'INT64' },
          { name: 'name', data: names, type: 'STRING' },
          { name: 'score', data: scores, type: 'DOUBLE' },
        ],
        rowGroupSize: 3,
      }),
    );
  }

  it('reads rows in order across several row groups, numbering them from 1', async () => {
    // Prepare
    const bytes = sampleParquet();
    expect(parquetMetadata(bytes.slice().buffer).row_groups.length).toBe(4);
    const sink = collector();

    // Act
    const result = await readParquetTable(bufferFile(bytes), sink);

    // Assess
    expect(result).toEqual({ rows: 10 });
    expect(sink.header).toEqual(['id', 'name', 'score']);
    expect(sink.positions).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sink.rows.map((row) => row[0])).toEqual(Array.from({ length: 10 }, (_, i) => 1_000_000_000_000 + i));
    expect(sink.rows[0]).toEqual([1_000_000_000_000, 'name-0', 0.5]);
    expect(sink.rows[4]).toEqual([1_000_000_000_004, null, null]);
    expect(sink.rows[5]).toEqual([1_000_000_000_005, 'name-5', 5.5]);
    expect(sink.rows[7]).toEqual([1_000_000_000_007, 'name-7', null]);
  });

  it('turns INT64 values into numbers, keeps strings as strings and nulls as null', async () => {
    // Prepare
    const sink = collector();

    // Act
    await readParquetTable(bufferFile(sampleParquet()), sink);

    // Assess
    for (const [id, name, score] of sink.rows) {
      expect(typeof id).toBe('number');
      expect(name === null || typeof name === 'string').toBe(true);
      expect(score === null || typeof score === 'number').toBe(true);
    }
    expect(sink.rows.filter((row) => row[1] === null)).toHaveLength(1);
    expect(sink.rows.filter((row) => row[2] === null)).toHaveLength(3);
  });

  it('reads booleans as text', async () => {
    // Prepare
    const bytes = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'flag', data: [true, false, null], type: 'BOOLEAN' }] }));
    const sink = collector();

    // Act
    await readParquetTable(bufferFile(bytes), sink);

    // Assess
    expect(sink.rows).toEqual([['true'], ['false'], [null]]);
  });

  it('rejects a truncated file as truncated', async () => {
    // Prepare
    const bytes = sampleParquet();

    // Act
    const error = await rejectionOf(readParquetTable(bufferFile(bytes.slice(0, bytes.byteLength - 100)), collector()), DataValidationError);

    // Assess
    expect(error.message).toMatch(/truncated/);
  });

  it('rejects a file whose footer is damaged, before any row reaches the sink', async () => {
    // Prepare: the 4 bytes before the closing PAR1 give the footer's length; make it longer than the file.
    const bytes = sampleParquet();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.byteLength - 8, 0x7fffffff, true);
    const sink = collector();

    // Act
    const error = await rejectionOf(readParquetTable(bufferFile(bytes), sink), DataValidationError);

    // Assess
    expect(error.message).toMatch(/^the Parquet file's metadata cannot be read \(truncated or damaged\?\)/);
    expect(sink.header).toBeUndefined();
    expect(sink.rows).toEqual([]);
  });

  it('rejects bytes that do not start with PAR1 as not a Parquet file', async () => {
    // Prepare: a fixed pseudo-random byte string.
    let seed = 12345;
    const bytes = new Uint8Array(2048).map(() => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed & 0xff;
    });

    // Act
    const error = await rejectionOf(readParquetTable(bufferFile(bytes), collector()), DataValidationError);

    // Assess
    expect(error.message).toBe('not a Parquet file: it does not start with "PAR1"');
  });

  it('rejects a file too short to be Parquet, and a CSV file given as Parquet', async () => {
    expect((await rejectionOf(readParquetTable(bufferFile(utf8('PAR1')), collector()), DataValidationError)).message).toMatch(
      /^not a Parquet file: 4 bytes is shorter/,
    );
    expect((await rejectionOf(readParquetTable(bufferFile(utf8('a,b\n1,2\n3,4\n')), collector()), DataValidationError)).message).toMatch(
      /^not a Parquet file/,
    );
  });
});

describe('formatFromFileName', () => {
  it('knows the dataset formats by extension, in any case', () => {
    expect(formatFromFileName('train.csv')).toBe('csv');
    expect(formatFromFileName('TRAIN.CSV')).toBe('csv');
    expect(formatFromFileName('part-0.parquet')).toBe('parquet');
    expect(formatFromFileName('part-0.pq')).toBe('parquet');
    expect(formatFromFileName('events.jsonl')).toBe('jsonl');
    expect(formatFromFileName('events.ndjson')).toBe('jsonl');
  });

  it('returns undefined for any other name', () => {
    expect(formatFromFileName('data.json')).toBeUndefined();
    expect(formatFromFileName('data.csv.gz')).toBeUndefined();
    expect(formatFromFileName('csv')).toBeUndefined();
  });
});
