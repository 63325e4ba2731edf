import type { Task } from '../training/model-spec.js';
import type { Arm } from '../serving/records.js';
import type { CheckWindow } from '../serving/rollout-evidence.js';
import { EXACT_COUNTS_LIMIT, type MonitoredFeature, type WindowSummary } from './drift.js';

/**
 * The SQL of the drift check's Athena path (core/monitoring/drift-athena.ts runs it): a window of the
 * `predictions` Glue table (lib/prediction-log.ts) aggregated as DriftAccumulator would stream it.
 *
 * Three queries, started together:
 * - `summary`: one row; per column its missing, absent and wrong-typed rows, min/max, distinct clean
 *   values, and against the reference the new-category and out-of-range rows; the rows with a
 *   schema violation; the requests; the outputs and the unreadable ones.
 * - `values`: exact counts per (column, value), only for columns with at most EXACT_COUNTS_LIMIT
 *   distinct values (as the accumulator drops its counts past it).
 * - `sample`: per column the clean values whose md5(seed#column#requestId#row) is among the
 *   `sampleSize` smallest: a seeded bottom-k sample, uniform and reproducible like the reservoir but
 *   not the same draw. Sent as JSON arrays of SAMPLE_CHUNK values, so the answer is a few pages.
 *
 * Columns are numbered: features 0..n-1 in the spec's order, the prediction n.
 *
 * Two dialects, only where the engines differ. `trino` is Athena's (engine 3) over the Glue columns:
 * `inputs array<map<string,string>>`, `outputs array<string>` (JSON text). `duckdb` is the emulator's:
 * it reads the table's files with read_json_auto and ignores the Glue columns, so `inputs` is a struct
 * array typed by inference (a key another row has but this one lacks is NULL, as a JSON null) and
 * each value is read back through to_json with its JSON type.
 */

export type SqlDialect = 'trino' | 'duckdb';
export const SQL_DIALECTS = ['trino', 'duckdb'] as const;

/** Sample values per result cell. */
export const SAMPLE_CHUNK = 500;

/** A single-quoted SQL string literal. */
export const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** A double literal both engines read back exactly (shortest round-trip form). */
function sqlDouble(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  const text = String(value);
  return /[.eE]/.test(text) ? `DOUBLE '${text}'` : `DOUBLE '${text}.0'`;
}

interface Cell {
  /** The clean value (double for numeric columns, varchar for categorical), NULL when missing or wrong-typed. */
  clean: string;
  missing: string;
  absent: string;
  wrong: string;
  /** The raw value as JSON text (for wrong-type examples). */
  raw: string;
}

const DUCK_NUMBERS = `('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT')`;

/** How each engine reads feature `name` of row `r`. */
function featureCell(dialect: SqlDialect, feature: MonitoredFeature): Cell {
  const key = sqlString(feature.name);
  if (dialect === 'trino') {
    // element_at: a missing key is NULL (the subscript would fail); the JSON SerDe hands every value over as text.
    const raw = `element_at(t.r, ${key})`;
    const absent = `coalesce(NOT contains(map_keys(t.r), ${key}), true)`;
    if (feature.type === 'numeric') {
      const number = `try_cast(${raw} AS double)`;
      return {
        clean: `CASE WHEN is_finite(${number}) THEN ${number} END`,
        missing: `(${raw} IS NULL OR (${number} IS NOT NULL AND NOT is_finite(${number})))`,
        absent,
        wrong: `(${raw} IS NOT NULL AND ${number} IS NULL)`,
        raw: `json_format(CAST(${raw} AS JSON))`,
      };
    }
    return { clean: raw, missing: `(${raw} IS NULL)`, absent, wrong: 'false', raw: `json_format(CAST(${raw} AS JSON))` };
  }
  const json = `json_extract(to_json(t.r), ${sqlString(`$."${feature.name.replace(/"/g, '\\"')}"`)})`;
  const type = `coalesce(json_type(${json}), 'NULL')`;
  const missing = `(${type} = 'NULL')`;
  if (feature.type === 'numeric') {
    return {
      clean: `CASE WHEN ${type} IN ${DUCK_NUMBERS} THEN CAST(${json} AS DOUBLE) END`,
      missing,
      absent: `(${json} IS NULL)`,
      wrong: `(${type} NOT IN ${DUCK_NUMBERS} AND ${type} <> 'NULL')`,
      raw: `CAST(${json} AS VARCHAR)`,
    };
  }
  return {
    // Serving accepts a number for a categorical feature, read as its text.
    clean: `CASE WHEN ${type} = 'VARCHAR' THEN json_extract_string(${json}, '$') WHEN ${type} IN ${DUCK_NUMBERS} THEN CAST(${json} AS VARCHAR) END`,
    missing,
    absent: `(${json} IS NULL)`,
    wrong: `(${type} NOT IN ${DUCK_NUMBERS} AND ${type} NOT IN ('VARCHAR', 'NULL'))`,
    raw: `CAST(${json} AS VARCHAR)`,
  };
}

/** The model's output as the check compares it (binary: probability; multiclass: label; regression: value), NULL when unreadable. */
function outputValue(dialect: SqlDialect, task: Task): string {
  const field = task === 'binary_classification' ? 'probability' : task === 'multiclass_classification' ? 'label' : 'value';
  if (dialect === 'trino') {
    const text = `json_extract_scalar(o.v, '$.${field}')`;
    if (field === 'label') return text;
    return `CASE WHEN is_finite(try_cast(${text} AS double)) THEN try_cast(${text} AS double) END`;
  }
  const json = `json_extract(to_json(o.v), '$.${field}')`;
  if (field === 'label') return `CASE WHEN json_type(${json}) = 'VARCHAR' THEN json_extract_string(${json}, '$') END`;
  return `CASE WHEN json_type(${json}) IN ${DUCK_NUMBERS} THEN CAST(${json} AS DOUBLE) END`;
}

/** A hex md5 of a varchar expression (Trino's is upper case, DuckDB's lower: the order of the digests is the same). */
const md5 = (dialect: SqlDialect, text: string) => (dialect === 'trino' ? `to_hex(md5(to_utf8(${text})))` : `md5(${text})`);
/** Any one non-null value of the group. */
const anyValue = (dialect: SqlDialect, expression: string) => (dialect === 'trino' ? `arbitrary(${expression})` : `any_value(${expression})`);
/** A JSON array of the group's values, in `order`. */
const jsonArray = (dialect: SqlDialect, expression: string, order: string) =>
  dialect === 'trino' ? `json_format(CAST(array_agg(${expression} ORDER BY ${order}) AS JSON))` : `CAST(to_json(list(${expression} ORDER BY ${order})) AS VARCHAR)`;
const countIf = (condition: string) => `count_if(${condition})`;
/** Whether the record is of a failed request (DuckDB infers no `error` column when no file has one: read through to_json). */
const failed = (dialect: SqlDialect) => (dialect === 'trino' ? '(p.error IS NOT NULL)' : `(coalesce(json_type(json_extract(to_json(p), '$.error')), 'NULL') <> 'NULL')`);
/** Integer division (DuckDB's `/` divides as doubles). */
const intDiv = (dialect: SqlDialect, a: string, b: number) => (dialect === 'trino' ? `${a} / ${b}` : `${a} // ${b}`);
const time = (dialect: SqlDialect, expression: string) => (dialect === 'trino' ? `from_iso8601_timestamp(${expression})` : `CAST(${expression} AS TIMESTAMPTZ)`);

export interface WindowQueryInput {
  readonly dialect: SqlDialect;
  readonly model: string;
  readonly version: number;
  readonly arm: Arm;
  readonly window: CheckWindow;
  /** The days the window's records may be filed under (windowDates): the partition predicate. */
  readonly dates: readonly string[];
  readonly features: readonly MonitoredFeature[];
  readonly task: Task;
  /** The reference side's summary: new categories and out-of-range values are counted against it. */
  readonly reference: WindowSummary;
  readonly sampleSize: number;
  readonly seed: number;
}

/** The window's records: the partition predicates first (model, version, days), then the arm and the time. */
function recordsCte(input: WindowQueryInput): string {
  const { dialect, window } = input;
  return `w_records AS (
  SELECT p.requestId AS request_id, p.inputs AS inputs, p.outputs AS outputs, ${failed(dialect)} AS failed
  FROM predictions p
  WHERE p.model = ${sqlString(input.model)} AND p.version = ${input.version} AND p."date" IN (${input.dates.map(sqlString).join(', ')})
    AND p.arm = ${sqlString(input.arm)}
    AND ${time(dialect, 'p."at"')} >= ${time(dialect, sqlString(window.from))} AND ${time(dialect, 'p."at"')} <= ${time(dialect, sqlString(window.to))}
)`;
}

/** One row per logged input row, with each feature's cell as columns c<i>_clean, c<i>_missing... */
function cellsCte(input: WindowQueryInput): string {
  const columns = input.features.flatMap((feature, i) => {
    const cell = featureCell(input.dialect, feature);
    return [`${cell.clean} AS c${i}_clean`, `${cell.missing} AS c${i}_missing`, `${cell.absent} AS c${i}_absent`, `${cell.wrong} AS c${i}_wrong`, `${cell.raw} AS c${i}_raw`];
  });
  return `w_cells AS (
  SELECT w.request_id AS request_id, t.i AS i${columns.map((c) => `,\n    ${c}`).join('')}
  FROM w_records w CROSS JOIN UNNEST(w.inputs) WITH ORDINALITY AS t(r, i)
)`;
}

/** One row per output of a request that did not fail (a failed request's inputs count, it has no outputs). */
function outputsCte(input: WindowQueryInput): string {
  return `w_outputs AS (
  SELECT w.request_id AS request_id, o.i AS i, ${outputValue(input.dialect, input.task)} AS y
  FROM w_records w CROSS JOIN UNNEST(w.outputs) WITH ORDINALITY AS o(v, i)
  WHERE NOT w.failed
)`;
}

/** The figures counted against the reference column (as DriftAccumulatorOptions.reference makes the accumulator count them). */
function againstReference(dialect: SqlDialect, type: 'numeric' | 'categorical', value: string, reference: WindowSummary['columns'][number] | null | undefined, prefix: string): string[] {
  if (!reference || reference.type !== type) return [];
  if (type === 'categorical') {
    if (!reference.counts) return [];
    const known = reference.counts.map(([category]) => sqlString(String(category)));
    const fresh = known.length > 0 ? `${value} NOT IN (${known.join(', ')})` : `${value} IS NOT NULL`;
    return [`${countIf(`${value} IS NOT NULL AND ${fresh}`)} AS ${prefix}_new`, `${anyValue(dialect, `CASE WHEN ${fresh} THEN ${value} END`)} AS ${prefix}_new_example`];
  }
  if (reference.min === null || reference.max === null) return [];
  const [min, max] = [sqlDouble(reference.min), sqlDouble(reference.max)];
  return [
    `${countIf(`${value} < ${min}`)} AS ${prefix}_below`,
    `${countIf(`${value} > ${max}`)} AS ${prefix}_above`,
    `min(CASE WHEN ${value} < ${min} THEN ${value} END) AS ${prefix}_below_example`,
    `max(CASE WHEN ${value} > ${max} THEN ${value} END) AS ${prefix}_above_example`,
  ];
}

/** The one-row summary query. */
export function summaryQuery(input: WindowQueryInput): string {
  const { dialect, features } = input;
  const references = new Map(input.reference.columns.map((column) => [column.name, column]));
  const perFeature = features.flatMap((feature, i) => {
    const c = `c${i}`;
    return [
      `${countIf(`${c}_missing`)} AS ${c}_missing`,
      `${countIf(`${c}_absent`)} AS ${c}_absent`,
      `${countIf(`${c}_wrong`)} AS ${c}_wrong`,
      `${anyValue(dialect, `CASE WHEN ${c}_wrong THEN ${c}_raw END`)} AS ${c}_wrong_example`,
      ...(feature.type === 'numeric' ? [`min(${c}_clean) AS ${c}_min`, `max(${c}_clean) AS ${c}_max`] : []),
      `count(DISTINCT ${c}_clean) AS ${c}_distinct`,
      ...againstReference(dialect, feature.type, `${c}_clean`, references.get(feature.name), c),
    ];
  });
  const violated = features.length > 0 ? features.map((_, i) => `c${i}_absent OR c${i}_wrong`).join(' OR ') : 'false';
  const p = `c${features.length}`;
  const predictionType = input.task === 'multiclass_classification' ? 'categorical' : 'numeric';
  const perOutput = [
    `count(*) AS outputs`,
    `count(y) AS ${p}_values`,
    ...(predictionType === 'numeric' ? [`min(y) AS ${p}_min`, `max(y) AS ${p}_max`] : []),
    `count(DISTINCT y) AS ${p}_distinct`,
    ...againstReference(dialect, predictionType, 'y', input.reference.prediction, p),
  ];
  return `WITH ${recordsCte(input)},
${cellsCte(input)},
${outputsCte(input)}
SELECT *
FROM (SELECT count(*) AS requests FROM w_records) q
CROSS JOIN (
  SELECT count(*) AS rows_total, ${countIf(violated)} AS violating_rows${perFeature.map((c) => `,\n    ${c}`).join('')}
  FROM w_cells
) f
CROSS JOIN (
  SELECT ${perOutput.join(',\n    ')}
  FROM w_outputs
) o`;
}

/** Every clean value as (column, num, str, request_id, i): the long form the values and sample queries group. */
function valuesCte(input: WindowQueryInput): string {
  const numeric = (type: string) => type === 'numeric';
  const features = input.features.map(
    (feature, i) => `SELECT ${i} AS col, ${numeric(feature.type) ? `c${i}_clean` : 'CAST(NULL AS double)'} AS num, ${numeric(feature.type) ? 'CAST(NULL AS varchar)' : `c${i}_clean`} AS str, request_id, i FROM w_cells WHERE c${i}_clean IS NOT NULL`,
  );
  const predictionNumeric = input.task !== 'multiclass_classification';
  const prediction = `SELECT ${input.features.length} AS col, ${predictionNumeric ? 'y' : 'CAST(NULL AS double)'} AS num, ${predictionNumeric ? 'CAST(NULL AS varchar)' : 'y'} AS str, request_id, i FROM w_outputs WHERE y IS NOT NULL`;
  return `w_values AS (
  ${[...features, prediction].join('\n  UNION ALL\n  ')}
)`;
}

/** Exact counts per column and value, for the columns with at most EXACT_COUNTS_LIMIT distinct values. */
export function valuesQuery(input: WindowQueryInput): string {
  return `WITH ${recordsCte(input)},
${cellsCte(input)},
${outputsCte(input)},
${valuesCte(input)},
w_counts AS (
  SELECT col, num, str, count(*) AS n FROM w_values GROUP BY col, num, str
),
w_sized AS (
  SELECT col, num, str, n, count(*) OVER (PARTITION BY col) AS distinct_values FROM w_counts
)
SELECT col, num, str, n FROM w_sized WHERE distinct_values <= ${EXACT_COUNTS_LIMIT}`;
}

/** The seeded bottom-k sample per column, as JSON arrays of SAMPLE_CHUNK values. */
export function sampleQuery(input: WindowQueryInput): string {
  const { dialect } = input;
  const key = `CAST(${input.seed} AS varchar) || '#' || CAST(col AS varchar) || '#' || request_id || '#' || CAST(i AS varchar)`;
  return `WITH ${recordsCte(input)},
${cellsCte(input)},
${outputsCte(input)},
${valuesCte(input)},
w_ranked AS (
  SELECT col, num, str, row_number() OVER (PARTITION BY col ORDER BY ${md5(dialect, key)}) AS k FROM w_values
)
SELECT col, ${intDiv(dialect, '(k - 1)', SAMPLE_CHUNK)} AS chunk, ${jsonArray(dialect, 'num', 'k')} AS nums, ${jsonArray(dialect, 'str', 'k')} AS strs
FROM w_ranked
WHERE k <= ${input.sampleSize}
GROUP BY col, ${intDiv(dialect, '(k - 1)', SAMPLE_CHUNK)}`;
}
