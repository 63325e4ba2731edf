import { describe, expect, it } from 'vitest';
import { parseCsv, type ParsedCsv } from '../../lambdas/core/csv.js';
import { inferSchema, toTrainingTable, validateDataset, type ValidationReport } from '../../lambdas/core/dataset.js';
import { DataValidationError } from '../../lambdas/core/errors.js';
import { smallSpec } from './helpers.js';

/** 40 distinct rows of x1, x2, label: labels alternate 0/1. Needs 5 / 0.25 = 20 rows to pass min_rows. */
function goodRows(n = 40): string[][] {
  return Array.from({ length: n }, (_, i) => [String(i), (i * 0.5).toFixed(1), String(i % 2)]);
}
const table = (rows: string[][], header = ['x1', 'x2', 'label']): ParsedCsv => ({ header, rows });
const check = (report: ValidationReport, name: string, column?: string) => {
  const found = report.checks.find((c) => c.name === name && (column === undefined || c.column === column));
  if (!found) throw new Error(`no ${name} check${column ? ` for ${column}` : ''}`);
  return found;
};
const failedNames = (report: ValidationReport) => report.checks.filter((c) => !c.passed).map((c) => c.name);

describe('validateDataset', () => {
  it('passes a good dataset with every check passed', () => {
    const report = validateDataset(table(goodRows()), smallSpec());
    expect(report.passed).toBe(true);
    expect(report.rowCount).toBe(40);
    expect(failedNames(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['required_columns', 'numeric_features', 'missing_values', 'target_classes', 'min_rows', 'duplicate_rows']),
    );
    expect(report.summary).toMatch(/^all \d+ blocking checks passed$/);
  });

  it('passes a dataset that went through parseCsv, with extra columns in any order', () => {
    const text = ['label,notes,x2,x1', ...goodRows().map(([x1, x2, label]) => `${label},"free, text",${x2},${x1}`)].join('\r\n');
    expect(validateDataset(parseCsv(text), smallSpec()).passed).toBe(true);
  });

  it('fails required_columns, naming the missing column', () => {
    const rows = goodRows().map(([x1, , label]) => [x1!, label!]);
    const report = validateDataset(table(rows, ['x1', 'label']), smallSpec());
    expect(report.passed).toBe(false);
    expect(check(report, 'required_columns').passed).toBe(false);
    expect(check(report, 'required_columns').detail).toBe('missing column: x2');
    expect(report.summary).toMatch(/checks failed: required_columns \(missing column: x2\)/);
  });

  it('fails required_columns when the target column is missing', () => {
    const rows = goodRows().map(([x1, x2]) => [x1!, x2!]);
    const report = validateDataset(table(rows, ['x1', 'x2']), smallSpec());
    expect(check(report, 'required_columns').detail).toMatch(/label/);
    expect(report.checks.some((c) => c.name === 'target_classes')).toBe(false);
    expect(report.passed).toBe(false);
  });

  it('fails numeric_features for the column with text, naming the file lines', () => {
    const rows = goodRows();
    rows[3]![0] = 'abc';
    rows[10]![0] = '0x1F';
    const report = validateDataset(table(rows), smallSpec());
    expect(report.passed).toBe(false);
    const bad = check(report, 'numeric_features', 'x1');
    expect(bad.passed).toBe(false);
    // Data rows start on line 2 of the file.
    expect(bad.detail).toMatch(/2 value\(s\) are not numbers, on lines 5, 12/);
    expect(check(report, 'numeric_features', 'x2').passed).toBe(true);
    expect(report.summary).toMatch(/numeric_features\[x1\]/);
  });

  it('does not count a number too large for a double (Infinity) as numeric', () => {
    const rows = goodRows();
    rows[6]![1] = '1e400';
    const report = validateDataset(table(rows), smallSpec());
    expect(check(report, 'numeric_features', 'x2')).toMatchObject({ passed: false, detail: expect.stringMatching(/on line 8$/) });
    expect(inferSchema(table(rows)).columns.find((c) => c.name === 'x2')?.type).toBe('string');
  });

  it('fails missing_values for a blank feature value, without calling it a non-number', () => {
    const rows = goodRows();
    rows[0]![1] = '';
    rows[5]![1] = '  ';
    const report = validateDataset(table(rows), smallSpec());
    expect(report.passed).toBe(false);
    expect(check(report, 'missing_values', 'x2').passed).toBe(false);
    expect(check(report, 'missing_values', 'x2').detail).toMatch(/2 missing value\(s\), on lines 2, 7/);
    expect(check(report, 'numeric_features', 'x2').passed).toBe(true);
    expect(check(report, 'missing_values', 'x1').passed).toBe(true);
    expect(report.summary).toMatch(/missing_values\[x2\]/);
  });

  it('shortens a long list of lines', () => {
    const rows = goodRows();
    for (const i of [0, 1, 2, 3, 4]) rows[i]![0] = 'n/a';
    expect(check(validateDataset(table(rows), smallSpec()), 'numeric_features', 'x1').detail).toMatch(/lines 2, 3, 4 and 2 more/);
  });

  it('fails target_classes with a single class', () => {
    const rows = goodRows().map(([x1, x2]) => [x1!, x2!, '1']);
    const report = validateDataset(table(rows), smallSpec());
    expect(report.passed).toBe(false);
    expect(check(report, 'target_classes').passed).toBe(false);
    expect(check(report, 'target_classes').detail).toMatch(/exactly 2 classes .*found 1/);
    expect(report.summary).toMatch(/target_classes\[label\]/);
  });

  it('fails target_classes with three classes', () => {
    const rows = goodRows().map(([x1, x2], i) => [x1!, x2!, String(i % 3)]);
    const report = validateDataset(table(rows), smallSpec());
    expect(report.passed).toBe(false);
    expect(check(report, 'target_classes').detail).toMatch(/found 3/);
  });

  it('fails target_classes when labels are missing, naming the lines', () => {
    const rows = goodRows();
    rows[2]![2] = ' ';
    const report = validateDataset(table(rows), smallSpec());
    expect(report.passed).toBe(false);
    expect(check(report, 'target_classes').detail).toMatch(/1 row\(s\) have no label, on line 4/);
  });

  it('fails target_classes when the positive label does not occur', () => {
    const rows = goodRows().map(([x1, x2], i) => [x1!, x2!, i % 2 ? 'yes' : 'no']);
    const report = validateDataset(table(rows), smallSpec());
    expect(report.passed).toBe(false);
    expect(check(report, 'target_classes').detail).toMatch(/positive label "1" does not occur/);
    // With the right positive label the same data passes.
    expect(validateDataset(table(rows), smallSpec({ positiveLabel: 'yes' })).passed).toBe(true);
  });

  it('fails min_rows below minRows / testFraction and passes at it', () => {
    const short = validateDataset(table(goodRows(19)), smallSpec());
    expect(short.passed).toBe(false);
    expect(failedNames(short)).toEqual(['min_rows']);
    expect(check(short, 'min_rows').detail).toMatch(/19 rows; at least 20 needed/);
    expect(short.summary).toMatch(/1 of \d+ checks failed: min_rows/);
    expect(validateDataset(table(goodRows(20)), smallSpec()).passed).toBe(true);
  });

  it('only warns about duplicate rows', () => {
    const rows = goodRows();
    rows.push([...rows[0]!], [...rows[0]!]);
    const report = validateDataset(table(rows), smallSpec());
    const duplicates = check(report, 'duplicate_rows');
    expect(duplicates.passed).toBe(false);
    expect(duplicates.severity).toBe('warn');
    expect(duplicates.detail).toMatch(/2 row\(s\) repeat an earlier row, on lines 42, 43/);
    expect(report.passed).toBe(true);
    expect(report.summary).toMatch(/blocking checks passed; warnings: duplicate_rows/);
  });

  it('counts every failing blocking check in the summary', () => {
    const rows = goodRows(10).map(([x1, , label]) => [x1!, 'oops', label!]);
    const report = validateDataset(table(rows), smallSpec());
    expect(report.summary).toMatch(/^2 of \d+ checks failed: numeric_features\[x2\] .*; min_rows/);
  });
});

describe('inferSchema', () => {
  it('types each column from its present values and flags missing ones', () => {
    const csv = table(
      [
        ['1', 'a', '1e5', '', '0x10'],
        ['-2.5', 'b', ' .5 ', '', 'NaN'],
        ['+3', '3', '7.', '', 'Infinity'],
        ['4', 'c', '', '', '1'],
      ],
      ['int', 'text', 'sparse', 'empty', 'tricky'],
    );
    expect(inferSchema(csv).columns).toEqual([
      { name: 'int', type: 'numeric', nullable: false },
      { name: 'text', type: 'string', nullable: false },
      { name: 'sparse', type: 'numeric', nullable: true },
      { name: 'empty', type: 'string', nullable: true },
      { name: 'tricky', type: 'string', nullable: false },
    ]);
  });
});

describe('toTrainingTable', () => {
  it('orders features as the spec declares them and maps the positive label to 1', () => {
    const csv = table(
      [
        ['yes', '2', '10'],
        [' no', '3.5', '-1'],
        ['yes ', '0', '1e2'],
      ],
      ['label', 'x2', 'x1'],
    );
    expect(toTrainingTable(csv, smallSpec({ positiveLabel: 'yes' }))).toEqual({
      x: [
        [10, 2],
        [-1, 3.5],
        [100, 0],
      ],
      y: [1, 0, 1],
    });
  });

  it('fails with DataValidationError naming a missing column', () => {
    const attempt = () => toTrainingTable(table([['1', '1']], ['x1', 'label']), smallSpec());
    expect(attempt).toThrow(DataValidationError);
    expect(attempt).toThrow(/"x2"/);
  });
});
