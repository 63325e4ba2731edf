import { DataValidationError } from '../errors.js';
import { DEFAULT_MAX_MISSING_RATE, DEFAULT_SEVERITIES, durationMs, type DataCheckName, type ModelSpec } from '../training/model-spec.js';
import { judgeMissingRate } from './missing-rate.js';
import { exactValueCounts, parseDecimal, type ColumnProfile, type DatasetProfile, type DatasetSchema } from './profile.js';
import type { Cell } from './table-readers.js';

export type Severity = 'block' | 'warn';
export interface ValidationCheck {
  /** A spec check, or dataset_readable when the version's data or profile cannot be read. */
  readonly name: DataCheckName | 'dataset_readable';
  readonly severity: Severity;
  readonly passed: boolean;
  readonly detail: string;
  readonly column?: string;
  /** Missing-value checks: the rule judged (the spec field, or the default) and the rates. */
  readonly rule?: string;
  readonly rates?: MissingRates;
}
export interface MissingRates {
  readonly current: number;
  /** The absolute rule's limit. */
  readonly limit?: number;
  /** The rule against the reference: its rate, the change, the change's one-sided 95% lower bound and the tolerance. */
  readonly reference?: number;
  readonly change?: number;
  readonly lowerBound?: number;
  readonly tolerance?: number;
}
export interface ValidationReport {
  readonly passed: boolean;
  readonly rowCount: number;
  readonly checks: ValidationCheck[];
  readonly summary: string;
  /** What missingness was judged against; absent when there was no reference (only the absolute rule applied). */
  readonly reference?: MissingReferenceSource;
  /** Why a reference the model has could not be used. */
  readonly referenceProblem?: string;
}

/** Which trained version's dataset the missing rates are compared with. */
export interface MissingReferenceSource {
  /** production: the version the alias points at; latest: the newest version, when none is in production. */
  readonly alias: 'production' | 'latest';
  readonly version: number;
  readonly dataset: { readonly name: string; readonly version: string };
}
/** The reference with the profile of its dataset version. */
export interface MissingReference extends MissingReferenceSource {
  readonly profile: DatasetProfile;
}

/** What the gate judges: a dataset version's recorded schema and profile, and when it arrived. */
export interface DatasetEvidence {
  readonly rowCount: number;
  readonly arrivedAt: string;
  readonly schema: DatasetSchema;
  readonly profile: DatasetProfile;
}

const percent = (share: number) => `${(share * 100).toFixed(share > 0 && share < 0.001 ? 4 : 2)}%`;
const list = (values: string[], max = 5) => `${values.slice(0, max).join(', ')}${values.length > max ? ` and ${values.length - max} more` : ''}`;

/**
 * The data validation gate: judges a dataset version against what the model expects, from the
 * profile computed once at registration (so it reads kilobytes, not the data). Each check's
 * severity comes from the spec; blocking failures stop the pipeline, warnings are reported.
 */
export function validateDataset(
  evidence: DatasetEvidence,
  spec: ModelSpec,
  now: Date,
  missingReference?: MissingReference | { problem: string },
): ValidationReport {
  const policy = spec.validation;
  const checks: ValidationCheck[] = [];
  const check: Check = (name, passed, detail, column, extra) => {
    const severity = policy.severity[name] ?? extra?.defaultSeverity ?? DEFAULT_SEVERITIES[name];
    if (severity === 'off') return;
    checks.push({ name, severity, passed, detail, ...(column !== undefined ? { column } : {}), ...(extra?.rule !== undefined && { rule: extra.rule, rates: extra.rates }) });
  };
  const profiles = new Map(evidence.profile.columns.map((column) => [column.name, column]));
  const featureNames = spec.features.map((feature) => feature.name);

  const required = [...featureNames, spec.target];
  const missingColumns = required.filter((name) => !profiles.has(name));
  check(
    'required_columns',
    missingColumns.length === 0,
    missingColumns.length === 0 ? `all ${required.length} required columns present` : `missing column${missingColumns.length > 1 ? 's' : ''}: ${missingColumns.join(', ')}`,
  );

  const known = new Set([...required, ...Object.keys(policy.columns)]);
  const extra = evidence.profile.columns.map((column) => column.name).filter((name) => !known.has(name));
  check('extra_columns', extra.length === 0, extra.length === 0 ? 'no columns beyond the model\'s' : `column(s) the model does not use: ${list(extra)}`);

  // Numeric features (and a regression target) need numbers; a categorical feature takes either.
  const numericColumns = [...spec.features.filter((f) => f.type === 'numeric').map((f) => f.name), ...(spec.task === 'regression' ? [spec.target] : [])];
  for (const name of numericColumns) {
    const column = profiles.get(name);
    if (!column) continue;
    check('column_types', column.type === 'numeric', column.type === 'numeric' ? 'numeric, as expected' : `the model expects numeric, the dataset has ${column.type}`, name);
  }

  // A feature the transforms impute may miss values up to the limit; one that is not imputed may miss none.
  // A limit the spec sets blocks; the default limit of an imputed feature only warns, since
  // imputation is there for missing values: what blocks is a rise against the reference.
  const notImputed = (feature: ModelSpec['features'][number]) => feature.type === 'numeric' && feature.impute === 'none';
  const missingLimits = new Map<string, { limit: number; rule: string }>(
    spec.features.map((feature) => {
      const column = policy.columns[feature.name]?.maxMissingRate;
      if (column !== undefined) return [feature.name, { limit: column, rule: `validation.columns.${feature.name}.maxMissingRate` }];
      if (notImputed(feature)) return [feature.name, { limit: 0, rule: 'impute "none"' }];
      if (policy.maxMissingRate !== undefined) return [feature.name, { limit: policy.maxMissingRate, rule: 'validation.maxMissingRate' }];
      return [feature.name, { limit: DEFAULT_MAX_MISSING_RATE, rule: 'default' }];
    }),
  );
  for (const [name, expectation] of Object.entries(policy.columns)) {
    if (expectation.maxMissingRate !== undefined && name !== spec.target) missingLimits.set(name, { limit: expectation.maxMissingRate, rule: `validation.columns.${name}.maxMissingRate` });
  }
  for (const [name, { limit, rule }] of missingLimits) {
    const column = profiles.get(name);
    if (!column || column.count === 0) continue;
    const rate = column.missing / column.count;
    const byDefault = rule === 'default';
    const passed = rate <= limit;
    check(
      'missing_values',
      passed,
      `${column.missing} of ${column.count} missing (${percent(rate)}); at most ${percent(limit)} allowed` +
        (byDefault && !passed ? ' by default (a warning: set validation.maxMissingRate to block)' : ''),
      name,
      { rule, rates: { current: rate, limit }, ...(!byDefault && { defaultSeverity: 'block' }) },
    );
  }
  const reference = missingReference && 'profile' in missingReference ? missingReference : undefined;
  if (reference) {
    const referenceColumns = new Map(reference.profile.columns.map((column) => [column.name, column]));
    const tolerance = policy.maxMissingRateIncrease;
    for (const [name, { limit }] of missingLimits) {
      const column = profiles.get(name);
      const before = referenceColumns.get(name);
      // A zero limit already fails on any missing value; a column the reference lacks has nothing to compare.
      if (limit === 0 || !column || column.count === 0 || !before || before.count === 0) continue;
      const judged = judgeMissingRate({ missing: before.missing, rows: before.count }, { missing: column.missing, rows: column.count }, tolerance);
      check(
        'missing_rate_increase',
        !judged.rose,
        `${percent(judged.current)} missing against ${percent(judged.reference)} in the reference (${reference.dataset.name}@${reference.dataset.version.slice(0, 12)}, ` +
          `version ${reference.version} ${reference.alias === 'production' ? 'in production' : 'newest'}): a change of ${judged.change >= 0 ? '+' : ''}${(judged.change * 100).toFixed(2)} points, ` +
          `at least ${(judged.lowerBound * 100).toFixed(2)} at 95% confidence; at most +${(tolerance * 100).toFixed(2)} allowed`,
        name,
        { rule: 'validation.maxMissingRateIncrease', rates: { current: judged.current, reference: judged.reference, change: judged.change, lowerBound: judged.lowerBound, tolerance } },
      );
    }
  }

  for (const [name, expectation] of Object.entries(policy.columns)) {
    const column = profiles.get(name);
    if (!column) continue;
    if (expectation.min !== undefined || expectation.max !== undefined) rangeCheck(check, column, expectation.min, expectation.max);
    if (expectation.categories) categoryCheck(check, column, expectation.categories);
  }

  const { duplicateRows, duplicatesComplete, duplicatesEstimate: estimate } = evidence.profile;
  check(
    'duplicate_rows',
    duplicateRows === 0,
    `${duplicateRows} row(s) repeat an earlier row${duplicatesComplete ? '' : ' (among the rows checked)'}` +
      (estimate ? `; about ${estimate.duplicateRows} ± ${estimate.bound} in the whole file (estimated)` : ''),
  );

  const minRows = Math.max(policy.minRows ?? 0, Math.ceil(spec.gate.minRows / spec.training.testFraction));
  const rows = evidence.rowCount;
  check(
    'row_count',
    rows >= minRows && rows <= policy.maxRows,
    rows < minRows
      ? `${rows} rows; at least ${minRows} needed (${spec.gate.minRows} held-out rows at test fraction ${spec.training.testFraction}${policy.minRows ? `, validation.minRows ${policy.minRows}` : ''})`
      : rows > policy.maxRows
        ? `${rows} rows; at most ${policy.maxRows} accepted (validation.maxRows)`
        : `${rows} rows, within ${minRows}..${policy.maxRows}`,
  );

  const maxAge = policy.maxAge ?? scheduleCadence(spec.schedule);
  if (maxAge) {
    const ageMs = now.getTime() - Date.parse(evidence.arrivedAt);
    const ageHours = ageMs / 3_600_000;
    check(
      'freshness',
      ageMs <= durationMs(maxAge),
      `arrived ${evidence.arrivedAt}, ${ageHours < 48 ? `${ageHours.toFixed(1)} hours` : `${(ageHours / 24).toFixed(1)} days`} ago; at most ${maxAge} allowed`,
    );
  }

  const target = profiles.get(spec.target);
  if (target && spec.task !== 'regression') labelChecks(check, target, spec);
  else if (target) check('missing_labels', target.missing === 0, `${target.missing} of ${target.count} rows have no target value`, spec.target);

  const blocking = checks.filter((c) => !c.passed && c.severity === 'block');
  const warnings = checks.filter((c) => !c.passed && c.severity === 'warn');
  const describe = (c: ValidationCheck) => `${c.name}${c.column ? `[${c.column}]` : ''} (${c.detail})`;
  const summary =
    blocking.length > 0
      ? `${blocking.length} of ${checks.length} checks failed: ${blocking.map(describe).join('; ')}`
      : `all ${checks.length - warnings.length} blocking checks passed${warnings.length ? `; warnings: ${warnings.map(describe).join('; ')}` : ''}`;
  return {
    passed: blocking.length === 0,
    rowCount: rows,
    checks,
    summary,
    ...(reference && { reference: { alias: reference.alias, version: reference.version, dataset: reference.dataset } }),
    ...(missingReference && 'problem' in missingReference && { referenceProblem: missingReference.problem }),
  };
}

type Check = (
  name: DataCheckName,
  passed: boolean,
  detail: string,
  column?: string,
  extra?: { defaultSeverity?: 'block' | 'warn'; rule?: string; rates?: MissingRates },
) => void;

function rangeCheck(check: Check, column: ColumnProfile, min: number | undefined, max: number | undefined): void {
  const allowed = `${min ?? '-inf'}..${max ?? '+inf'}`;
  const summary = column.numeric;
  if (!summary) return check('value_ranges', false, `a range (${allowed}) is expected but the column is ${column.type}`, column.name);
  if (summary.count === 0) return check('value_ranges', true, 'no values', column.name);
  const low = min !== undefined && summary.min! < min;
  const high = max !== undefined && summary.max! > max;
  check(
    'value_ranges',
    !low && !high,
    `values span ${summary.min}..${summary.max}; allowed ${allowed}${low ? `: min ${summary.min} is below ${min}` : ''}${high ? `${low ? ' and' : ':'} max ${summary.max} is above ${max}` : ''}`,
    column.name,
  );
}

function categoryCheck(check: Check, column: ColumnProfile, categories: readonly string[]): void {
  const allowed = new Set(categories);
  const counts = exactValueCounts(column);
  if (counts) {
    const unknown = Object.entries(counts).filter(([value]) => !allowed.has(value));
    return check(
      'categories',
      unknown.length === 0,
      unknown.length === 0
        ? `all values among the ${allowed.size} allowed`
        : `${unknown.reduce((sum, [, n]) => sum + n, 0)} value(s) outside the allowed categories: ${list(unknown.map(([value, n]) => `${JSON.stringify(value)} (${n})`))}`,
      column.name,
    );
  }
  // Past the sketch's capacity the column has more distinct values than it keeps, so more than allowed.
  const heavy = (column.frequencies?.counters ?? []).filter(([value]) => !allowed.has(value)).map(([value]) => JSON.stringify(value));
  check(
    'categories',
    false,
    `too many distinct values to all be among the ${allowed.size} allowed${heavy.length ? `, e.g. ${list(heavy)}` : ''}`,
    column.name,
  );
}

function labelChecks(check: Check, target: ColumnProfile, spec: ModelSpec): void {
  const rate = target.count > 0 ? target.missing / target.count : 0;
  check('missing_labels', target.missing === 0, `${target.missing} of ${target.count} rows have no label (${percent(rate)})`, spec.target);

  const counts = exactValueCounts(target);
  if (!counts) {
    check('target_classes', false, `classification needs a countable set of classes; "${spec.target}" has too many distinct values (is the task regression?)`, spec.target);
    return;
  }
  const classes = Object.keys(counts).sort();
  const balance = classes.map((label) => `${label}: ${counts[label]}`).join(', ');
  let detail: string;
  let classesOk: boolean;
  if (spec.task === 'binary_classification') {
    classesOk = classes.length === 2 && classes.includes(spec.positiveLabel);
    if (classes.length !== 2) detail = `binary classification needs exactly 2 classes in "${spec.target}", found ${classes.length} (${balance || 'none'})`;
    else if (!classes.includes(spec.positiveLabel)) detail = `the positive label "${spec.positiveLabel}" does not occur in "${spec.target}" (${balance})`;
    else detail = `2 classes (${balance})`;
  } else {
    classesOk = classes.length >= 2;
    detail = classesOk ? `${classes.length} classes (${balance})` : `classification needs at least 2 classes in "${spec.target}", found ${classes.length} (${balance || 'none'})`;
  }
  check('target_classes', classesOk, detail, spec.target);

  const labelled = Object.values(counts).reduce((sum, n) => sum + n, 0);
  if (classes.length >= 2 && labelled > 0) {
    const [rarest, rareCount] = Object.entries(counts).sort((a, b) => a[1] - b[1])[0]!;
    const share = rareCount / labelled;
    const limit = spec.validation.minClassFraction;
    check('class_balance', share >= limit, `rarest class "${rarest}" has ${percent(share)} of labelled rows; at least ${percent(limit)} required`, spec.target);
  }
}

/** A `rate(N unit)` schedule implies how fresh the data should be; a cron schedule does not. */
function scheduleCadence(schedule: string | undefined): string | undefined {
  const match = schedule?.match(/^rate\((\d+ \w+)\)$/);
  return match?.[1];
}
