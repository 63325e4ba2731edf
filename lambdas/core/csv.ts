import { DataValidationError } from './errors.js';

export interface ParsedCsv {
  readonly header: string[];
  readonly rows: string[][];
}

/**
 * Parses CSV text as RFC 4180 describes it: a header row, fields separated by commas, quoted
 * fields that may hold commas, doubled quotes and line breaks, CRLF or LF line ends. A file
 * that breaks the format fails with the line at fault, rather than yielding shifted columns.
 */
export function parseCsv(text: string): ParsedCsv {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (source.trim() === '') throw new DataValidationError('the file is empty: expected a header row and data rows');

  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    field = '';
    // A blank line (one empty field) carries no record.
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: recordLine });
    fields = [];
  };

  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '"' && field === '') {
      const quoteLine = line;
      i += 1;
      for (;;) {
        if (i >= source.length) throw new DataValidationError(`unterminated quoted field starting on line ${quoteLine}`);
        const c = source[i]!;
        if (c === '"') {
          if (source[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        if (c === '\n') line += 1;
        field += c;
        i += 1;
      }
      const next = source[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new DataValidationError(`unexpected character after a closing quote on line ${line}`);
      }
      continue;
    }
    if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      if (ch === '\r' && source[i + 1] === '\n') i += 1;
      line += 1;
      recordLine = line;
    } else if (ch === '"') {
      throw new DataValidationError(`a quote inside an unquoted field on line ${line}: quote the whole field and double the quote`);
    } else {
      field += ch;
    }
    i += 1;
  }
  if (field !== '' || fields.length > 0) endRecord();

  const [headerRecord, ...dataRecords] = records;
  if (!headerRecord) throw new DataValidationError('the file is empty: expected a header row and data rows');
  const header = headerRecord.fields.map((name) => name.trim());
  const seen = new Set<string>();
  header.forEach((name, index) => {
    if (name === '') throw new DataValidationError(`column ${index + 1} of the header has no name`);
    if (seen.has(name)) throw new DataValidationError(`column "${name}" appears twice in the header`);
    seen.add(name);
  });
  for (const record of dataRecords) {
    if (record.fields.length !== header.length) {
      throw new DataValidationError(`line ${record.line} has ${record.fields.length} fields, the header has ${header.length}`);
    }
  }
  return { header, rows: dataRecords.map((record) => record.fields) };
}
