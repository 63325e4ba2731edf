import type { ParsedCsv } from './csv.js';
import { DataValidationError } from './errors.js';
import type { ModelSpec } from './model-spec.js';

export type ColumnType = 'numeric' | 'string';
export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}

const isMissing = (value: string) => value.trim() === '';
/** A finite decimal number: `Number('')`, `Number('0x1')` and `1e400` (Infinity) are not what a CSV means. */
const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
export const isNumeric = (value: string) => NUMBER.test(value) && Number.isFinite(Number(value));

/** Column types as the data shows them: numeric when every present value is a number. */
export function inferSchema(csv: ParsedCsv): { columns: ColumnSchema[] } {
  return {
    columns: csv.header.map((name, index) => {
      const values = csv.rows.map((row) => row[index] ?? '');
      const present = values.filter((value) => !isMissing(value));
      return { name, type: present.length > 0 && present.every(isNumeric) ? 'numeric' : 'string', nullable: present.length < values.length };
    }),
  };
}

export type Severity = 'block' | 'warn';
export interface ValidationCheck {
  readonly name: string;
  readonly severity: Severity;
  readonly passed: boolean;
  readonly detail: string;
  readonly column?: string;
}
export interface ValidationReport {
  readonly passed: boolean;
  readonly rowCount: number;
  readonly checks: ValidationCheck[];
  readonly summary: string;
}

const MAX_EXAMPLES = 3;
const examples = (lines: number[]) =>
  `line${lines.length > 1 ? 's' : ''} ${lines.slice(0, MAX_EXAMPLES).join(', ')}${lines.length > MAX_EXAMPLES ? ` and ${lines.length - MAX_EXAMPLES} more` : ''}`;
/** Data rows start on line 2 of the file (line 1 is the header). */
const lineOf = (rowIndex: number) => rowIndex + 2;

/**
 * The data validation gate: checks a parsed dataset against what the model expects. Blocking
 * failures stop the pipeline; warnings are reported and let it go on.
 */
export function validateDataset(csv: ParsedCsv, spec: ModelSpec): ValidationReport {
  const checks: ValidationCheck[] = [];
  const columnIndex = new Map(csv.header.map((name, index) => [name, index]));
  const required = [...spec.features.map((f) => f.name), spec.target];
  const missingColumns = required.filter((name) => !columnIndex.has(name));
  checks.push({
    name: 'required_columns',
    severity: 'block',
    passed: missingColumns.length === 0,
    detail: missingColumns.length === 0 ? `all ${required.length} required columns present` : `missing column${missingColumns.length > 1 ? 's' : ''}: ${missingColumns.join(', ')}`,
  });

  for (const feature of spec.features) {
    const index = columnIndex.get(feature.name);
    if (index === undefined) continue;
    const missing: number[] = [];
    const notNumbers: number[] = [];
    csv.rows.forEach((row, rowIndex) => {
      const value = row[index] ?? '';
      if (isMissing(value)) missing.push(lineOf(rowIndex));
      else if (!isNumeric(value)) notNumbers.push(lineOf(rowIndex));
    });
    checks.push({
      name: 'numeric_features',
      severity: 'block',
      column: feature.name,
      passed: notNumbers.length === 0,
      detail: notNumbers.length === 0 ? 'every value is a number' : `${notNumbers.length} value(s) are not numbers, on ${examples(notNumbers)}`,
    });
    checks.push({
      name: 'missing_values',
      severity: 'block',
      column: feature.name,
      passed: missing.length === 0,
      detail: missing.length === 0 ? 'no missing values' : `${missing.length} missing value(s), on ${examples(missing)}`,
    });
  }

  const targetIndex = columnIndex.get(spec.target);
  if (targetIndex !== undefined) {
    const counts = new Map<string, number>();
    const missingLabels: number[] = [];
    csv.rows.forEach((row, rowIndex) => {
      const label = (row[targetIndex] ?? '').trim();
      if (label === '') missingLabels.push(lineOf(rowIndex));
      else counts.set(label, (counts.get(label) ?? 0) + 1);
    });
    const classes = [...counts.keys()].sort();
    const extra = classes.filter((label) => label !== spec.positiveLabel);
    const balance = classes.map((label) => `${label}: ${counts.get(label)}`).join(', ');
    let detail: string;
    if (missingLabels.length > 0) detail = `${missingLabels.length} row(s) have no label, on ${examples(missingLabels)}`;
    else if (classes.length !== 2) detail = `binary classification needs exactly 2 classes in "${spec.target}", found ${classes.length} (${balance || 'none'})`;
    else if (extra.length !== 1) detail = `the positive label "${spec.positiveLabel}" does not occur in "${spec.target}" (${balance})`;
    else detail = `2 classes (${balance})`;
    checks.push({
      name: 'target_classes',
      severity: 'block',
      column: spec.target,
      passed: missingLabels.length === 0 && classes.length === 2 && extra.length === 1,
      detail,
    });
  }

  checks.push({
    name: 'min_rows',
    severity: 'block',
    passed: csv.rows.length >= spec.gate.minRows / spec.training.testFraction,
    detail: `${csv.rows.length} rows; at least ${Math.ceil(spec.gate.minRows / spec.training.testFraction)} needed for ${spec.gate.minRows} held-out rows at test fraction ${spec.training.testFraction}`,
  });

  const seen = new Map<string, number>();
  const duplicates: number[] = [];
  csv.rows.forEach((row, rowIndex) => {
    const key = JSON.stringify(row);
    if (seen.has(key)) duplicates.push(lineOf(rowIndex));
    else seen.set(key, rowIndex);
  });
  checks.push({
    name: 'duplicate_rows',
    severity: 'warn',
    passed: duplicates.length === 0,
    detail: duplicates.length === 0 ? 'no duplicate rows' : `${duplicates.length} row(s) repeat an earlier row, on ${examples(duplicates)}`,
  });

  const blocking = checks.filter((check) => !check.passed && check.severity === 'block');
  const warnings = checks.filter((check) => !check.passed && check.severity === 'warn');
  const describe = (check: ValidationCheck) => `${check.name}${check.column ? `[${check.column}]` : ''} (${check.detail})`;
  const summary =
    blocking.length > 0
      ? `${blocking.length} of ${checks.length} checks failed: ${blocking.map(describe).join('; ')}`
      : `all ${checks.length - warnings.length} blocking checks passed${warnings.length ? `; warnings: ${warnings.map(describe).join('; ')}` : ''}`;
  return { passed: blocking.length === 0, rowCount: csv.rows.length, checks, summary };
}

/** Features as numbers and the target as 0/1, for a dataset that passed validation. */
export function toTrainingTable(csv: ParsedCsv, spec: ModelSpec): { x: number[][]; y: number[] } {
  const indexOf = (name: string) => {
    const index = csv.header.indexOf(name);
    if (index < 0) throw new DataValidationError(`column "${name}" is not in the dataset`, { field: name });
    return index;
  };
  const featureIndices = spec.features.map((feature) => indexOf(feature.name));
  const targetIndex = indexOf(spec.target);
  return {
    x: csv.rows.map((row) => featureIndices.map((index) => Number(row[index]))),
    y: csv.rows.map((row) => ((row[targetIndex] ?? '').trim() === spec.positiveLabel ? 1 : 0)),
  };
}
