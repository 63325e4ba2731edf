import { describe, expect, it } from 'vitest';
import { scanDataset } from '../../lambdas/core/data/dataset-scan.js';
import { labelText } from '../../lambdas/core/data/table.js';
import { validateDataset, type DatasetEvidence, type ValidationReport } from '../../lambdas/core/data/validation.js';
import { DataValidationError } from '../../lambdas/core/errors.js';
import { DATA_CHECKS, DEFAULT_SEVERITIES, type DataCheckName } from '../../lambdas/core/training/model-spec.js';
import { mergeProfiles } from '../../lambdas/core/data/profile.js';
import { describeReport } from '../../lib/client/render/datasets.js';
import { smallSpec, thrownBy } from './helpers.js';

const NOW = new Date('2025-06-15T12:00:00.000Z');
const DAY = 86_400_000;
const before = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

/** Profiles CSV text as registration does and returns what the gate judges. */
async function evidenceOf(text: string, arrivedAt = before(3_600_000)): Promise<DatasetEvidence> {
  const scan = await scanDataset(
    {
      format: 'csv',
      chunks: (async function* () {
        yield Buffer.from(text);
      })(),
    },
    { target: 'label' },
  );
  return { rowCount: scan.rowCount, arrivedAt, schema: scan.schema, profile: scan.profile };
}

/** `n` distinct rows [x1, x2, label], labels alternating 0/1. smallSpec needs 5 / 0.25 = 20 rows. */
function goodRows(n = 40): string[][] {
  return Array.from({ length: n }, (_, i) => [String(i), (i * 0.5).toFixed(1), String(i % 2)]);
}
const csvOf = (rows: readonly (readonly string[])[], header: readonly string[] = ['x1', 'x2', 'label']) =>
  [header.join(','), ...rows.map((row) => row.join(','))].join('\n') + '\n';
const evidenceOfRows = (rows: readonly (readonly string[])[], header?: readonly string[], arrivedAt?: string) => evidenceOf(csvOf(rows, header), arrivedAt);
/** The rows with one more column. */
const withColumn = (rows: string[][], value: (i: number) => string) => rows.map((row, i) => [...row, value(i)]);

const check = (report: ValidationReport, name: string, column?: string) => {
  const found = report.checks.find((c) => c.name === name && (column === undefined || c.column === column));
  if (!found) throw new Error(`no ${name} check${column ? ` for ${column}` : ''} in ${report.checks.map((c) => c.name).join(', ')}`);
  return found;
};
const failedNames = (report: ValidationReport) => report.checks.filter((c) => !c.passed).map((c) => (c.column ? `${c.name}[${c.column}]` : c.name));
const has = (report: ValidationReport, name: string) => report.checks.some((c) => c.name === name);

describe('validateDataset: a good dataset', () => {
  it('passes every check, in report order, each with its default severity', async () => {
    const report = validateDataset(await evidenceOfRows(goodRows()), smallSpec(), NOW);
    expect(report.passed).toBe(true);
    expect(report.rowCount).toBe(40);
    expect(failedNames(report)).toEqual([]);
    expect(report.checks.map((c) => (c.column ? `${c.name}[${c.column}]` : c.name))).toEqual([
      'required_columns',
      'extra_columns',
      'column_types[x1]',
      'column_types[x2]',
      'missing_values[x1]',
      'missing_values[x2]',
      'duplicate_rows',
      'row_count',
      'missing_labels[label]',
      'target_classes[label]',
      'class_balance[label]',
    ]);
    const specChecks = report.checks.map((c) => ({ ...c, name: c.name as DataCheckName }));
    for (const c of specChecks) expect(c.severity, c.name).toBe(DEFAULT_SEVERITIES[c.name]);
    // Checks come in the order DATA_CHECKS lists them.
    const order = specChecks.map((c) => DATA_CHECKS.indexOf(c.name));
    expect(order).not.toContain(-1);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(check(report, 'target_classes').detail).toBe('2 classes (0: 20, 1: 20)');
    expect(check(report, 'row_count').detail).toBe('40 rows, within 20..2000000');
    expect(report.summary).toBe('all 11 blocking checks passed');
  });
});

describe('validateDataset: required_columns', () => {
  it('blocks when a feature is missing, naming it', async () => {
    const rows = goodRows().map(([x1, , label]) => [x1!, label!]);
    const report = validateDataset(await evidenceOfRows(rows, ['x1', 'label']), smallSpec(), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'required_columns')).toMatchObject({ passed: false, severity: 'block', detail: 'missing column: x2' });
    expect(report.summary).toMatch(/checks failed: required_columns \(missing column: x2\)/);
    // No checks on a column that is not there.
    expect(report.checks.some((c) => c.column === 'x2')).toBe(false);
  });

  it('blocks when the target is missing, naming it, and skips the label checks', async () => {
    const rows = goodRows().map(([x1, x2]) => [x1!, x2!, 'a']);
    const evidence = await evidenceOfRows(rows, ['x1', 'x2', 'other']).catch(() => undefined);
    // The profiler itself rejects a file without its target; the gate still judges a profile without one.
    expect(evidence).toBeUndefined();
    const scanned = await evidenceOf(csvOf(goodRows()));
    const profile = { ...scanned.profile, columns: scanned.profile.columns.filter((c) => c.name !== 'label') };
    const report = validateDataset({ ...scanned, profile }, smallSpec(), NOW);
    expect(check(report, 'required_columns')).toMatchObject({ passed: false, detail: 'missing column: label' });
    expect(has(report, 'missing_labels') || has(report, 'target_classes') || has(report, 'class_balance')).toBe(false);
    expect(report.passed).toBe(false);
  });

  it('names every missing column', async () => {
    const scanned = await evidenceOf(csvOf(goodRows()));
    const profile = { ...scanned.profile, columns: scanned.profile.columns.filter((c) => c.name === 'x1') };
    expect(check(validateDataset({ ...scanned, profile }, smallSpec(), NOW), 'required_columns').detail).toBe('missing columns: x2, label');
  });
});

describe('validateDataset: extra_columns', () => {
  it('warns about a column the model does not use, naming it, and still passes', async () => {
    const rows = withColumn(goodRows(), (i) => `note ${i}`);
    const report = validateDataset(await evidenceOfRows(rows, ['x1', 'x2', 'label', 'notes']), smallSpec(), NOW);
    expect(check(report, 'extra_columns')).toMatchObject({ passed: false, severity: 'warn', detail: 'column(s) the model does not use: notes' });
    expect(report.passed).toBe(true);
    expect(report.summary).toMatch(/^all \d+ blocking checks passed; warnings: extra_columns \(column\(s\) the model does not use: notes\)$/);
  });

  it('does not count a column with expectations in validation.columns as extra', async () => {
    const rows = withColumn(goodRows(), (i) => `note ${i}`);
    const spec = smallSpec({ validation: { columns: { notes: { maxMissingRate: 0.5 } } } });
    const report = validateDataset(await evidenceOfRows(rows, ['x1', 'x2', 'label', 'notes']), spec, NOW);
    expect(check(report, 'extra_columns').passed).toBe(true);
  });

  it('disappears from the report with severity off', async () => {
    const rows = withColumn(goodRows(), (i) => `note ${i}`);
    const report = validateDataset(await evidenceOfRows(rows, ['x1', 'x2', 'label', 'notes']), smallSpec({ validation: { severity: { extra_columns: 'off' } } }), NOW);
    expect(has(report, 'extra_columns')).toBe(false);
    expect(report.passed).toBe(true);
    expect(report.summary).toBe('all 10 blocking checks passed');
  });
});

describe('validateDataset: column_types', () => {
  it('blocks a string column where the model expects a number, naming the column', async () => {
    const rows = goodRows().map(([x1, , label], i) => [x1!, `level-${i % 3}`, label!]);
    const report = validateDataset(await evidenceOfRows(rows), smallSpec(), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'column_types', 'x2')).toMatchObject({ passed: false, severity: 'block', detail: 'the model expects numeric, the dataset has string' });
    expect(check(report, 'column_types', 'x1')).toMatchObject({ passed: true, detail: 'numeric, as expected' });
    expect(report.summary).toBe('1 of 11 checks failed: column_types[x2] (the model expects numeric, the dataset has string)');
  });
});

describe('validateDataset: missing_values', () => {
  const twoMissing = () => {
    const rows = goodRows();
    rows[3]![0] = '';
    rows[17]![0] = '  ';
    return rows;
  };

  const threeMissing = () => {
    const rows = twoMissing();
    rows[25]![0] = '';
    return rows;
  };
  /** smallSpec with x1 not imputed. */
  const x1NotImputed = () =>
    smallSpec({ features: [{ name: 'x1', type: 'numeric', impute: 'none' }, { name: 'x2', type: 'numeric' }] });

  /** The rows with the first `n` values of x1 missing. */
  const x1Missing = (n: number, rows = goodRows()) => rows.map((row, i) => (i < n ? ['', ...row.slice(1)] : row));

  it('lets an imputed feature miss up to the default 5% and only warns above it, naming the column, the rates and the rule', async () => {
    expect(smallSpec().validation.maxMissingRate).toBeUndefined();
    const atLimit = validateDataset(await evidenceOfRows(twoMissing()), smallSpec(), NOW);
    expect(check(atLimit, 'missing_values', 'x1')).toMatchObject({ passed: true, severity: 'warn', detail: '2 of 40 missing (5.00%); at most 5.00% allowed', rule: 'default' });
    expect(atLimit.passed).toBe(true);

    const report = validateDataset(await evidenceOfRows(threeMissing()), smallSpec(), NOW);
    expect(report.passed).toBe(true);
    expect(check(report, 'missing_values', 'x1')).toMatchObject({
      passed: false,
      severity: 'warn',
      detail: '3 of 40 missing (7.50%); at most 5.00% allowed by default (a warning: set validation.maxMissingRate to block)',
      rule: 'default',
      rates: { current: 0.075, limit: 0.05 },
    });
    expect(report.summary).toBe(
      `all ${report.checks.length - 1} blocking checks passed; warnings: missing_values[x1] (3 of 40 missing (7.50%); at most 5.00% allowed by default (a warning: set validation.maxMissingRate to block))`,
    );
  });

  it('passes a dataset whose imputed feature misses 20% with a warning, and no reference to compare with', async () => {
    const report = validateDataset(await evidenceOfRows(x1Missing(8)), smallSpec(), NOW);
    expect(report.passed).toBe(true);
    expect(failedNames(report)).toEqual(['missing_values[x1]']);
    expect(check(report, 'missing_values', 'x1')).toMatchObject({ severity: 'warn', rates: { current: 0.2, limit: 0.05 } });
    expect(has(report, 'missing_rate_increase')).toBe(false);
    expect(report.reference).toBeUndefined();
  });

  it('blocks over a limit the spec sets: validation.maxMissingRate (a stored spec holding the old written-out default 0.05 too), a column limit, or an explicit severity', async () => {
    const evidence = await evidenceOfRows(x1Missing(8));
    const global = validateDataset(evidence, smallSpec({ validation: { maxMissingRate: 0.05 } }), NOW);
    expect(global.passed).toBe(false);
    expect(check(global, 'missing_values', 'x1')).toMatchObject({ severity: 'block', detail: '8 of 40 missing (20.00%); at most 5.00% allowed', rule: 'validation.maxMissingRate' });
    expect(global.summary).toBe(`1 of ${global.checks.length} checks failed: missing_values[x1] (8 of 40 missing (20.00%); at most 5.00% allowed)`);

    const column = validateDataset(evidence, smallSpec({ validation: { columns: { x1: { maxMissingRate: 0.1 } } } }), NOW);
    expect(check(column, 'missing_values', 'x1')).toMatchObject({ passed: false, severity: 'block', rule: 'validation.columns.x1.maxMissingRate', rates: { current: 0.2, limit: 0.1 } });
    expect(column.passed).toBe(false);

    const severity = validateDataset(evidence, smallSpec({ validation: { severity: { missing_values: 'block' } } }), NOW);
    expect(check(severity, 'missing_values', 'x1')).toMatchObject({ passed: false, severity: 'block', rule: 'default' });
    expect(severity.passed).toBe(false);
  });

  describe('against the reference', () => {
    /** The reference: the dataset a trained version of the model learnt from. */
    const referenceOf = async (rows: string[][]) => ({
      alias: 'production' as const,
      version: 3,
      dataset: { name: 'loans', version: 'a'.repeat(64) },
      profile: (await evidenceOfRows(rows)).profile,
    });

    it('blocks a rise of the missing rate beyond maxMissingRateIncrease, naming the column, both rates, the bound and the rule', async () => {
      const report = validateDataset(await evidenceOfRows(x1Missing(8)), smallSpec(), NOW, await referenceOf(goodRows()));
      expect(report.passed).toBe(false);
      expect(report.reference).toEqual({ alias: 'production', version: 3, dataset: { name: 'loans', version: 'a'.repeat(64) } });
      const rise = check(report, 'missing_rate_increase', 'x1');
      expect(rise).toMatchObject({ passed: false, severity: 'block', rule: 'validation.maxMissingRateIncrease', rates: { current: 0.2, reference: 0, change: 0.2, tolerance: 0.05 } });
      // Newcombe's bound for 8/40 against 0/40 (statsmodels, test/fixtures/missing-rate.json).
      expect(rise.rates?.lowerBound).toBeCloseTo(0.09522403184648073, 12);
      expect(rise.detail).toBe(
        `20.00% missing against 0.00% in the reference (loans@${'a'.repeat(12)}, version 3 in production): a change of +20.00 points, at least 9.52 at 95% confidence; at most +5.00 allowed`,
      );
      expect(report.summary).toContain(`missing_rate_increase[x1] (${rise.detail})`);
      // The absolute default still only warns; x2 did not change.
      expect(check(report, 'missing_values', 'x1').severity).toBe('warn');
      expect(check(report, 'missing_rate_increase', 'x2').passed).toBe(true);
    });

    it('passes a fall, the same rate, and a rise within the tolerance', async () => {
      const fall = validateDataset(await evidenceOfRows(x1Missing(2)), smallSpec(), NOW, await referenceOf(x1Missing(8)));
      expect(check(fall, 'missing_rate_increase', 'x1')).toMatchObject({ passed: true, rates: { current: 0.05, reference: 0.2 } });
      expect(fall.passed).toBe(true);
      const same = validateDataset(await evidenceOfRows(x1Missing(8)), smallSpec(), NOW, await referenceOf(x1Missing(8)));
      expect(check(same, 'missing_rate_increase', 'x1')).toMatchObject({ passed: true, rates: { change: 0 } });
      expect(same.passed).toBe(true);
      const tolerant = validateDataset(await evidenceOfRows(x1Missing(8)), smallSpec({ validation: { maxMissingRateIncrease: 0.2 } }), NOW, await referenceOf(goodRows()));
      expect(check(tolerant, 'missing_rate_increase', 'x1').passed).toBe(true);
    });

    it('needs the rise shown with confidence: 3 of 40 against none is 7.5 points, but not surely above 5', async () => {
      const report = validateDataset(await evidenceOfRows(x1Missing(3)), smallSpec(), NOW, await referenceOf(goodRows()));
      const rise = check(report, 'missing_rate_increase', 'x1');
      expect(rise.rates?.change).toBeCloseTo(0.075, 12);
      expect(rise.rates!.lowerBound!).toBeLessThan(0.05);
      expect(rise.passed).toBe(true);
    });

    it('takes its severity from the spec, and leaves a feature with impute none to its zero limit', async () => {
      const warned = validateDataset(await evidenceOfRows(x1Missing(8)), smallSpec({ validation: { severity: { missing_rate_increase: 'warn' } } }), NOW, await referenceOf(goodRows()));
      expect(check(warned, 'missing_rate_increase', 'x1')).toMatchObject({ passed: false, severity: 'warn' });
      expect(warned.passed).toBe(true);
      const notImputed = validateDataset(await evidenceOfRows(x1Missing(8)), x1NotImputed(), NOW, await referenceOf(goodRows()));
      expect(notImputed.checks.filter((c) => c.column === 'x1').map((c) => c.name)).not.toContain('missing_rate_increase');
      expect(check(notImputed, 'missing_values', 'x1')).toMatchObject({ passed: false, severity: 'block', detail: '8 of 40 missing (20.00%); at most 0.00% allowed' });
    });

    it('is printed by `mlops dataset validate` with the reference and each failed check\'s rule', async () => {
      const report = validateDataset(await evidenceOfRows(x1Missing(8)), smallSpec(), NOW, await referenceOf(goodRows()));
      const lines = describeReport(report).split('\n');
      expect(lines).toContain(`missing rates judged against loans@${'a'.repeat(12)} (version 3, in production)`);
      expect(lines.slice(1).find((line) => line.includes('missing_rate_increase[x1]'))).toMatch(/^  FAIL  .*at most \+5\.00 allowed \[validation\.maxMissingRateIncrease\]$/);
      expect(lines.slice(1).find((line) => line.includes('missing_values[x1]'))).toMatch(/^  warn  .*set validation\.maxMissingRate to block\)$/);
    });

    it('reports a reference it could not use, judging by the absolute rule only', () => {
      return evidenceOfRows(x1Missing(8)).then((evidence) => {
        const report = validateDataset(evidence, smallSpec(), NOW, { problem: 'the reference dataset loans@aaa is not registered' });
        expect(report.passed).toBe(true);
        expect(report.referenceProblem).toBe('the reference dataset loans@aaa is not registered');
        expect(has(report, 'missing_rate_increase')).toBe(false);
      });
    });
  });

  it('blocks any missing value of a numeric feature with impute none, whatever maxMissingRate says', async () => {
    const report = validateDataset(await evidenceOfRows(twoMissing()), x1NotImputed(), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'missing_values', 'x1')).toMatchObject({ passed: false, severity: 'block', detail: '2 of 40 missing (5.00%); at most 0.00% allowed' });
    expect(report.summary).toMatch(/checks failed: missing_values\[x1\] \(2 of 40 missing \(5\.00%\); at most 0\.00% allowed\)/);
    const loose = smallSpec({ features: x1NotImputed().features, validation: { maxMissingRate: 0.5 } });
    expect(check(validateDataset(await evidenceOfRows(twoMissing()), loose, NOW), 'missing_values', 'x1').passed).toBe(false);
  });

  it('lets 2 of 40 pass under maxMissingRate 0.1', async () => {
    const report = validateDataset(await evidenceOfRows(twoMissing()), smallSpec({ validation: { maxMissingRate: 0.1 } }), NOW);
    expect(check(report, 'missing_values', 'x1')).toMatchObject({ passed: true, detail: '2 of 40 missing (5.00%); at most 10.00% allowed' });
    expect(report.passed).toBe(true);
  });

  it('takes a per-column limit over the global one', async () => {
    const rows = twoMissing();
    rows[9]![1] = '';
    const spec = smallSpec({ validation: { maxMissingRate: 0, columns: { x1: { maxMissingRate: 0.05 } } } });
    const report = validateDataset(await evidenceOfRows(rows), spec, NOW);
    expect(check(report, 'missing_values', 'x1').passed).toBe(true);
    expect(check(report, 'missing_values', 'x2')).toMatchObject({ passed: false, detail: '1 of 40 missing (2.50%); at most 0.00% allowed' });
    expect(report.passed).toBe(false);
    // A tighter per-column limit also wins over a looser global one.
    const strict = smallSpec({ validation: { maxMissingRate: 0.5, columns: { x1: { maxMissingRate: 0.01 } } } });
    expect(check(validateDataset(await evidenceOfRows(rows), strict, NOW), 'missing_values', 'x1').passed).toBe(false);
  });

  it('checks a non-feature column given a limit in validation.columns', async () => {
    const rows = withColumn(goodRows(), (i) => (i === 4 ? '' : 'ok'));
    const spec = smallSpec({ validation: { columns: { notes: { maxMissingRate: 0 } } } });
    const report = validateDataset(await evidenceOfRows(rows, ['x1', 'x2', 'label', 'notes']), spec, NOW);
    expect(check(report, 'missing_values', 'notes')).toMatchObject({ passed: false, detail: '1 of 40 missing (2.50%); at most 0.00% allowed' });
  });

  it('only warns with severity warn, and says so in the summary', async () => {
    const report = validateDataset(await evidenceOfRows(threeMissing()), smallSpec({ validation: { severity: { missing_values: 'warn' } } }), NOW);
    expect(check(report, 'missing_values', 'x1')).toMatchObject({ passed: false, severity: 'warn' });
    expect(report.passed).toBe(true);
    expect(report.summary).toMatch(/blocking checks passed; warnings: missing_values\[x1\] \(3 of 40 missing/);
  });
});

describe('validateDataset: value_ranges', () => {
  it('passes values within the range', async () => {
    const report = validateDataset(await evidenceOfRows(goodRows()), smallSpec({ validation: { columns: { x1: { min: 0, max: 39 } } } }), NOW);
    expect(check(report, 'value_ranges', 'x1')).toMatchObject({ passed: true, severity: 'block', detail: 'values span 0..39; allowed 0..39' });
  });

  it('blocks a max above the range, naming it', async () => {
    const report = validateDataset(await evidenceOfRows(goodRows()), smallSpec({ validation: { columns: { x1: { max: 30 } } } }), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'value_ranges', 'x1')).toMatchObject({ passed: false, detail: 'values span 0..39; allowed -inf..30: max 39 is above 30' });
    expect(report.summary).toMatch(/value_ranges\[x1\] \(values span 0\.\.39; allowed -inf\.\.30: max 39 is above 30\)/);
  });

  it('blocks a min below the range, and names both ends when both are out', async () => {
    const low = validateDataset(await evidenceOfRows(goodRows()), smallSpec({ validation: { columns: { x1: { min: 5 } } } }), NOW);
    expect(check(low, 'value_ranges', 'x1')).toMatchObject({ passed: false, detail: 'values span 0..39; allowed 5..+inf: min 0 is below 5' });
    const both = validateDataset(await evidenceOfRows(goodRows()), smallSpec({ validation: { columns: { x2: { min: 1, max: 10 } } } }), NOW);
    expect(check(both, 'value_ranges', 'x2').detail).toBe('values span 0..19.5; allowed 1..10: min 0 is below 1 and max 19.5 is above 10');
  });

  it('blocks a range on a column that is not numeric', async () => {
    const rows = withColumn(goodRows(), (i) => `c${i % 3}`);
    const spec = smallSpec({ validation: { columns: { grade: { min: 0 } } } });
    const report = validateDataset(await evidenceOfRows(rows, ['x1', 'x2', 'label', 'grade']), spec, NOW);
    expect(check(report, 'value_ranges', 'grade')).toMatchObject({ passed: false, detail: 'a range (0..+inf) is expected but the column is string' });
  });
});

describe('validateDataset: categories', () => {
  const colors = (i: number) => (i % 10 === 3 ? 'purple' : ['red', 'green', 'blue'][i % 3]!);
  const header = ['x1', 'x2', 'label', 'color'];

  it('blocks a value outside the allowed categories, naming it with its count', async () => {
    const spec = smallSpec({ validation: { columns: { color: { categories: ['red', 'green', 'blue'] } } } });
    const report = validateDataset(await evidenceOfRows(withColumn(goodRows(), colors), header), spec, NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'categories', 'color')).toMatchObject({
      passed: false,
      severity: 'block',
      detail: '4 value(s) outside the allowed categories: "purple" (4)',
    });
    expect(report.summary).toMatch(/categories\[color\] \(4 value\(s\) outside the allowed categories: "purple" \(4\)\)/);
  });

  it('passes when every value is allowed', async () => {
    const spec = smallSpec({ validation: { columns: { color: { categories: ['red', 'green', 'blue', 'purple', 'unused'] } } } });
    const report = validateDataset(await evidenceOfRows(withColumn(goodRows(), colors), header), spec, NOW);
    expect(check(report, 'categories', 'color')).toMatchObject({ passed: true, detail: 'all values among the 5 allowed' });
    expect(report.passed).toBe(true);
  });

  it('blocks a column with more distinct values than the profile counts', async () => {
    const rows = withColumn(goodRows(1_200), (i) => `id-${i}`);
    const spec = smallSpec({ validation: { columns: { color: { categories: ['red'] } } } });
    const report = validateDataset(await evidenceOfRows(rows, header), spec, NOW);
    expect(check(report, 'categories', 'color')).toMatchObject({ passed: false, detail: expect.stringMatching(/^too many distinct values to all be among the 1 allowed/) });
  });
});

describe('validateDataset: duplicate_rows', () => {
  const withRepeats = () => {
    const rows = goodRows();
    return [...rows, [...rows[0]!], [...rows[0]!]];
  };

  it('warns about repeated rows by default', async () => {
    const evidence = await evidenceOfRows(withRepeats());
    expect(evidence.profile.duplicateRows).toBe(2);
    const report = validateDataset(evidence, smallSpec(), NOW);
    expect(check(report, 'duplicate_rows')).toMatchObject({ passed: false, severity: 'warn', detail: '2 row(s) repeat an earlier row' });
    expect(report.passed).toBe(true);
    expect(report.summary).toMatch(/blocking checks passed; warnings: duplicate_rows \(2 row\(s\) repeat an earlier row\)$/);
  });

  it('blocks repeated rows with severity block', async () => {
    const report = validateDataset(await evidenceOfRows(withRepeats()), smallSpec({ validation: { severity: { duplicate_rows: 'block' } } }), NOW);
    expect(check(report, 'duplicate_rows')).toMatchObject({ passed: false, severity: 'block' });
    expect(report.passed).toBe(false);
    expect(report.summary).toMatch(/^1 of 11 checks failed: duplicate_rows \(2 row\(s\) repeat an earlier row\)$/);
  });

  it('says when the count covers only the rows checked', async () => {
    const a = await evidenceOfRows(goodRows(40).slice(0, 20));
    const b = await evidenceOfRows(goodRows(40).slice(20));
    const merged = { ...a, rowCount: 40, profile: mergeProfiles(a.profile, b.profile) };
    const report = validateDataset(merged, smallSpec(), NOW);
    expect(check(report, 'duplicate_rows')).toMatchObject({ passed: true, detail: '0 row(s) repeat an earlier row (among the rows checked)' });
  });
});

describe('validateDataset: duplicate_rows past the exact table', () => {
  it('adds the estimate for the whole file and its bound to the detail', async () => {
    const evidence = await evidenceOfRows(goodRows(40));
    const profile = { ...evidence.profile, duplicatesComplete: false, duplicatesEstimate: { method: 'hyperloglog' as const, duplicateRows: 120, bound: 35, registers: 16_384 } };
    const report = validateDataset({ ...evidence, profile }, smallSpec(), NOW);
    expect(check(report, 'duplicate_rows')).toMatchObject({
      passed: true,
      detail: '0 row(s) repeat an earlier row (among the rows checked); about 120 ± 35 in the whole file (estimated)',
    });
  });
});

describe('validateDataset: row_count', () => {
  it('blocks too few rows for gate.minRows held-out rows, and passes at the limit', async () => {
    const short = validateDataset(await evidenceOfRows(goodRows(19)), smallSpec(), NOW);
    expect(short.passed).toBe(false);
    expect(failedNames(short)).toEqual(['row_count']);
    expect(check(short, 'row_count').detail).toBe('19 rows; at least 20 needed (5 held-out rows at test fraction 0.25)');
    expect(short.summary).toBe('1 of 11 checks failed: row_count (19 rows; at least 20 needed (5 held-out rows at test fraction 0.25))');
    expect(validateDataset(await evidenceOfRows(goodRows(20)), smallSpec(), NOW).passed).toBe(true);
  });

  it('takes a higher validation.minRows', async () => {
    const report = validateDataset(await evidenceOfRows(goodRows(40)), smallSpec({ validation: { minRows: 50 } }), NOW);
    expect(check(report, 'row_count')).toMatchObject({ passed: false, detail: '40 rows; at least 50 needed (5 held-out rows at test fraction 0.25, validation.minRows 50)' });
  });

  it('blocks more rows than validation.maxRows', async () => {
    const report = validateDataset(await evidenceOfRows(goodRows(40)), smallSpec({ validation: { maxRows: 30 } }), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'row_count')).toMatchObject({ passed: false, detail: '40 rows; at most 30 accepted (validation.maxRows)' });
    expect(check(validateDataset(await evidenceOfRows(goodRows(30)), smallSpec({ validation: { maxRows: 30 } }), NOW), 'row_count').passed).toBe(true);
  });
});

describe('validateDataset: freshness', () => {
  it('warns about data older than validation.maxAge', async () => {
    const report = validateDataset(await evidenceOfRows(goodRows(), undefined, before(8 * DAY)), smallSpec({ validation: { maxAge: '7 days' } }), NOW);
    expect(check(report, 'freshness')).toMatchObject({
      passed: false,
      severity: 'warn',
      detail: `arrived ${before(8 * DAY)}, 8.0 days ago; at most 7 days allowed`,
    });
    expect(report.passed).toBe(true);
    expect(report.summary).toMatch(/warnings: freshness \(arrived/);
  });

  it('passes data younger than validation.maxAge', async () => {
    const report = validateDataset(await evidenceOfRows(goodRows(), undefined, before(6 * DAY)), smallSpec({ validation: { maxAge: '7 days' } }), NOW);
    expect(check(report, 'freshness')).toMatchObject({ passed: true, detail: `arrived ${before(6 * DAY)}, 6.0 days ago; at most 7 days allowed` });
  });

  it('takes the limit from a rate schedule when maxAge is absent', async () => {
    const spec = smallSpec({ schedule: 'rate(1 day)', dataset: 'small-data' });
    const stale = validateDataset(await evidenceOfRows(goodRows(), undefined, before(2 * DAY)), spec, NOW);
    expect(check(stale, 'freshness')).toMatchObject({ passed: false, detail: `arrived ${before(2 * DAY)}, 2.0 days ago; at most 1 day allowed` });
    const fresh = validateDataset(await evidenceOfRows(goodRows(), undefined, before(DAY / 2)), spec, NOW);
    expect(check(fresh, 'freshness')).toMatchObject({ passed: true, detail: `arrived ${before(DAY / 2)}, 12.0 hours ago; at most 1 day allowed` });
    // maxAge wins over the schedule.
    const explicit = smallSpec({ schedule: 'rate(1 day)', dataset: 'small-data', validation: { maxAge: '3 days' } });
    expect(check(validateDataset(await evidenceOfRows(goodRows(), undefined, before(2 * DAY)), explicit, NOW), 'freshness').passed).toBe(true);
  });

  it('has no freshness check without maxAge or a rate schedule', async () => {
    const old = await evidenceOfRows(goodRows(), undefined, before(400 * DAY));
    expect(has(validateDataset(old, smallSpec(), NOW), 'freshness')).toBe(false);
    expect(has(validateDataset(old, smallSpec({ schedule: 'cron(0 3 * * ? *)', dataset: 'small-data' }), NOW), 'freshness')).toBe(false);
  });
});

describe('validateDataset: labels', () => {
  it('blocks missing labels, with the count and share', async () => {
    const rows = goodRows();
    rows[6]![2] = '';
    const report = validateDataset(await evidenceOfRows(rows), smallSpec(), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'missing_labels')).toMatchObject({ passed: false, severity: 'block', column: 'label', detail: '1 of 40 rows have no label (2.50%)' });
    expect(check(report, 'target_classes').passed).toBe(true);
    expect(report.summary).toMatch(/missing_labels\[label\] \(1 of 40 rows have no label \(2\.50%\)\)/);
  });

  it('blocks a single class', async () => {
    const rows = goodRows().map(([x1, x2]) => [x1!, x2!, '1']);
    const report = validateDataset(await evidenceOfRows(rows), smallSpec(), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'target_classes')).toMatchObject({ passed: false, severity: 'block', detail: 'binary classification needs exactly 2 classes in "label", found 1 (1: 40)' });
    expect(has(report, 'class_balance')).toBe(false);
    expect(report.summary).toMatch(/target_classes\[label\]/);
  });

  it('blocks three classes', async () => {
    const rows = goodRows().map(([x1, x2], i) => [x1!, x2!, String(i % 3)]);
    const report = validateDataset(await evidenceOfRows(rows), smallSpec(), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'target_classes').detail).toBe('binary classification needs exactly 2 classes in "label", found 3 (0: 14, 1: 13, 2: 13)');
  });

  it('blocks when the positive label does not occur, and passes with the right positiveLabel', async () => {
    const rows = goodRows().map(([x1, x2], i) => [x1!, x2!, i % 2 ? 'yes' : 'no']);
    const evidence = await evidenceOfRows(rows);
    const report = validateDataset(evidence, smallSpec(), NOW);
    expect(report.passed).toBe(false);
    expect(check(report, 'target_classes').detail).toBe('the positive label "1" does not occur in "label" (no: 20, yes: 20)');
    expect(validateDataset(evidence, smallSpec({ positiveLabel: 'yes' }), NOW).passed).toBe(true);
  });

  it('blocks a target with too many distinct values to count', async () => {
    const rows = goodRows(80).map(([x1, x2], i) => [x1!, x2!, String(i * 1.5)]);
    const evidence = await evidenceOfRows(rows);
    expect(evidence.profile.target?.kind).toBe('distribution');
    const report = validateDataset(evidence, smallSpec(), NOW);
    expect(check(report, 'target_classes')).toMatchObject({ passed: false, detail: expect.stringMatching(/too many distinct values \(is the task regression\?\)/) });
  });

  it('warns when the rarest class is below minClassFraction', async () => {
    const rows = goodRows().map(([x1, x2], i) => [x1!, x2!, i === 7 ? '1' : '0']);
    const evidence = await evidenceOfRows(rows);
    // 1 of 40 is 2.5%: above the default 1%...
    expect(check(validateDataset(evidence, smallSpec(), NOW), 'class_balance').passed).toBe(true);
    // ...below 5%.
    const report = validateDataset(evidence, smallSpec({ validation: { minClassFraction: 0.05 } }), NOW);
    expect(check(report, 'class_balance')).toMatchObject({
      passed: false,
      severity: 'warn',
      detail: 'rarest class "1" has 2.50% of labelled rows; at least 5.00% required',
    });
    expect(report.passed).toBe(true);
    expect(report.summary).toMatch(/warnings: class_balance\[label\] \(rarest class "1" has 2\.50%/);
  });
});

describe('validateDataset: the summary', () => {
  it('lists each blocking failure as name[column] (detail), and the count', async () => {
    const rows = goodRows(10).map(([x1, , label], i) => [x1!, `t${i}`, label!]);
    const report = validateDataset(await evidenceOfRows(rows), smallSpec(), NOW);
    expect(report.summary).toBe(
      '2 of 11 checks failed: column_types[x2] (the model expects numeric, the dataset has string); row_count (10 rows; at least 20 needed (5 held-out rows at test fraction 0.25))',
    );
  });

  it('does not list warnings among the blocking failures', async () => {
    const rows = withColumn(goodRows(10), (i) => `n${i}`);
    const report = validateDataset(await evidenceOfRows(rows, ['x1', 'x2', 'label', 'notes']), smallSpec(), NOW);
    expect(report.summary).toMatch(/^1 of \d+ checks failed: row_count /);
    expect(report.summary).not.toMatch(/extra_columns/);
  });
});

describe('validateDataset: checks per task', () => {
  const regressionSpec = () => smallSpec({ task: 'regression', training: { algorithm: 'ridge', testFraction: 0.25 } });
  const multiclassSpec = () => smallSpec({ task: 'multiclass_classification', training: { algorithm: 'gradient_boosting', testFraction: 0.25 } });
  const names = (report: ValidationReport) => report.checks.map((c) => (c.column ? `${c.name}[${c.column}]` : c.name));

  it('regression: checks the target is numeric and present, and skips the class checks', async () => {
    const rows = goodRows().map(([x1, x2], i) => [x1!, x2!, (i * 1.5).toFixed(1)]);
    const report = validateDataset(await evidenceOfRows(rows), regressionSpec(), NOW);
    expect(report.passed).toBe(true);
    expect(names(report)).toEqual([
      'required_columns',
      'extra_columns',
      'column_types[x1]',
      'column_types[x2]',
      'column_types[label]',
      'missing_values[x1]',
      'missing_values[x2]',
      'duplicate_rows',
      'row_count',
      'missing_labels[label]',
    ]);
  });

  it('regression: blocks a text target and a missing target value, naming the target', async () => {
    const text = goodRows().map(([x1, x2], i) => [x1!, x2!, `v${i}`]);
    const textReport = validateDataset(await evidenceOfRows(text), regressionSpec(), NOW);
    expect(check(textReport, 'column_types', 'label')).toMatchObject({ passed: false, severity: 'block', detail: 'the model expects numeric, the dataset has string' });
    expect(textReport.passed).toBe(false);

    const gap = goodRows().map(([x1, x2], i) => [x1!, x2!, i === 5 ? '' : String(i * 2)]);
    const gapReport = validateDataset(await evidenceOfRows(gap), regressionSpec(), NOW);
    expect(check(gapReport, 'missing_labels', 'label')).toMatchObject({ passed: false, severity: 'block', detail: '1 of 40 rows have no target value' });
    expect(gapReport.passed).toBe(false);
  });

  it('multiclass: passes three classes and blocks a single one', async () => {
    const three = goodRows().map(([x1, x2], i) => [x1!, x2!, String(i % 3)]);
    const report = validateDataset(await evidenceOfRows(three), multiclassSpec(), NOW);
    expect(check(report, 'target_classes')).toMatchObject({ passed: true, detail: '3 classes (0: 14, 1: 13, 2: 13)' });
    expect(report.passed).toBe(true);
    const one = goodRows().map(([x1, x2]) => [x1!, x2!, 'a']);
    const single = validateDataset(await evidenceOfRows(one), multiclassSpec(), NOW);
    expect(check(single, 'target_classes')).toMatchObject({ passed: false, detail: 'classification needs at least 2 classes in "label", found 1 (a: 40)' });
  });

  it('a categorical feature takes a text column (no type check) and may miss up to maxMissingRate', async () => {
    const rows = goodRows().map(([x1, , label], i) => [x1!, i === 3 ? '' : `level-${i % 3}`, label!]);
    const spec = smallSpec({ features: [{ name: 'x1', type: 'numeric' }, { name: 'x2', type: 'categorical' }] });
    const report = validateDataset(await evidenceOfRows(rows), spec, NOW);
    expect(has(report, 'column_types') && report.checks.some((c) => c.name === 'column_types' && c.column === 'x2')).toBe(false);
    expect(check(report, 'missing_values', 'x2')).toMatchObject({ passed: true, detail: '1 of 40 missing (2.50%); at most 5.00% allowed' });
    expect(report.passed).toBe(true);
  });
});
