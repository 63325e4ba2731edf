import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../lambdas/core/data/csv.js';
import { DataValidationError } from '../../lambdas/core/errors.js';

/** Runs parseCsv, expecting a DataValidationError, and returns its message. */
function csvError(text: string): string {
  try {
    parseCsv(text);
  } catch (error) {
    expect(error).toBeInstanceOf(DataValidationError);
    return (error as Error).message;
  }
  throw new Error(`parseCsv accepted ${JSON.stringify(text)}`);
}

describe('parseCsv: RFC 4180 fields', () => {
  it('parses a plain header and rows', () => {
    expect(parseCsv('a,b,c\n1,2,3\n4,5,6\n')).toEqual({ header: ['a', 'b', 'c'], rows: [['1', '2', '3'], ['4', '5', '6']] });
  });

  it('keeps commas inside quoted fields', () => {
    expect(parseCsv('name,city\n"Doe, Jane","Paris, FR"\n').rows).toEqual([['Doe, Jane', 'Paris, FR']]);
  });

  it('turns a doubled quote inside a quoted field into one quote', () => {
    expect(parseCsv('a,b\n"say ""hi""",""""\n').rows).toEqual([['say "hi"', '"']]);
  });

  it('keeps line breaks inside quoted fields', () => {
    expect(parseCsv('a,b\n"line one\nline two",2\n3,4\n').rows).toEqual([
      ['line one\nline two', '2'],
      ['3', '4'],
    ]);
  });

  it('accepts CRLF line ends, without leaving a carriage return in the last field', () => {
    expect(parseCsv('a,b\r\n1,2\r\n3,4\r\n')).toEqual({ header: ['a', 'b'], rows: [['1', '2'], ['3', '4']] });
  });

  it('drops a leading byte order mark so the first column keeps its name', () => {
    expect(parseCsv('\ufeffage,label\n30,1\n').header).toEqual(['age', 'label']);
  });

  it('skips blank lines, in the middle and at the end', () => {
    expect(parseCsv('a,b\n1,2\n\n3,4\n\n\n').rows).toEqual([['1', '2'], ['3', '4']]);
    expect(parseCsv('a,b\r\n\r\n1,2\r\n').rows).toEqual([['1', '2']]);
  });

  it('gives the same rows with or without a trailing newline', () => {
    expect(parseCsv('a,b\n1,2\n3,4')).toEqual(parseCsv('a,b\n1,2\n3,4\n'));
    expect(parseCsv('a,b\n1,"x"').rows).toEqual([['1', 'x']]);
  });

  it('keeps empty fields, quoted or not', () => {
    expect(parseCsv('a,b,c\n,"",3\n').rows).toEqual([['', '', '3']]);
  });

  it('trims header names', () => {
    expect(parseCsv(' a , b \n1,2\n').header).toEqual(['a', 'b']);
  });

  it('parses a header-only file to zero rows', () => {
    expect(parseCsv('a,b\n')).toEqual({ header: ['a', 'b'], rows: [] });
    expect(parseCsv('a,b')).toEqual({ header: ['a', 'b'], rows: [] });
  });
});

describe('parseCsv: malformed files fail with the line at fault', () => {
  it('rejects an empty file', () => {
    expect(csvError('')).toMatch(/empty/);
    expect(csvError('\n\r\n  \n')).toMatch(/empty/);
    expect(csvError('\ufeff')).toMatch(/empty/);
  });

  it('rejects a row with too few or too many fields, naming its line', () => {
    expect(csvError('a,b\n1,2\n3\n')).toBe('line 3 has 1 fields, the header has 2');
    expect(csvError('a,b\n1,2,3\n')).toBe('line 2 has 3 fields, the header has 2');
  });

  it('counts lines in the file, past blank lines and line breaks inside quotes', () => {
    expect(csvError('a,b\n\n1,2\n\n3\n')).toMatch(/^line 5 /);
    expect(csvError('a,b\n"x\ny",2\n3\n')).toMatch(/^line 4 /);
    expect(csvError('a,b\r\n1,2\r\n1,2,3\r\n')).toMatch(/^line 3 /);
  });

  it('rejects an unterminated quote, naming the line it starts on', () => {
    expect(csvError('a,b\n1,2\n"open,2\n3,4\n')).toMatch(/unterminated.*line 3/);
  });

  it('rejects a quote inside an unquoted field', () => {
    expect(csvError('a,b\n1,2\n3,4"5\n')).toMatch(/quote inside an unquoted field on line 3/);
  });

  it('rejects text after a closing quote', () => {
    expect(csvError('a,b\n"1"x,2\n')).toMatch(/after a closing quote on line 2/);
    expect(csvError('a,b\n1,"2" \n')).toMatch(/after a closing quote on line 2/);
  });

  it('rejects a header with a duplicate name (after trimming)', () => {
    expect(csvError('a,b,a\n1,2,3\n')).toMatch(/"a" appears twice/);
    expect(csvError('a, a\n1,2\n')).toMatch(/"a" appears twice/);
  });

  it('rejects a header with an empty name, naming the column', () => {
    expect(csvError('a,,b\n1,2,3\n')).toMatch(/column 2 of the header has no name/);
    expect(csvError('a, \n1,2\n')).toMatch(/column 2 of the header has no name/);
  });
});

describe('parseCsv: CR-only line ends', () => {
  it('reads records separated by a bare CR', () => {
    expect(parseCsv('a,b\r1,2\r3,4\r')).toEqual({ header: ['a', 'b'], rows: [['1', '2'], ['3', '4']] });
  });

  it('keeps a bare CR inside a quoted field as part of the value', () => {
    expect(parseCsv('a,b\r"x\ry",2\r').rows).toEqual([['x\ry', '2']]);
  });

  it('counts a bare CR inside a quoted field as a line break, as it does between records', () => {
    // Lines: 1 header, 2-3 the quoted "x<CR>y", 4 the short row.
    expect(csvError('a,b\r"x\ry",2\r3\r')).toMatch(/^line 4 /);
  });
});
