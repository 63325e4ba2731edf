import { z } from 'zod';
import { parseOrThrow } from '../errors.js';
import { PREDICTION_COLUMN, type ColumnSummary, type MonitoredFeature, type WindowSummary } from './drift.js';
import { sampleQuery, summaryQuery, valuesQuery, type SqlDialect, type WindowQueryInput } from './drift-sql.js';
import { logObjectsUnder, type CheckWindow, type LogObjects } from '../serving/rollout-evidence.js';

/**
 * The drift check's Athena path: the window's summary (the WindowSummary DriftAccumulator streams)
 * from three queries over the partitioned log (core/monitoring/drift-sql.ts), so checkDrift runs
 * unchanged. What equals the streaming path and what does not:
 * - the same: rows, missing, absent, wrong types (on DuckDB; on AWS the JSON SerDe hands values over
 *   as text, so a numeric string counts as a number there), min/max, exact counts up to
 *   EXACT_COUNTS_LIMIT distinct values, new-category and out-of-range rows, schema-violating rows;
 * - different: the sample for KS, Wasserstein and binning is a seeded bottom-k sample (md5 of seed,
 *   column, request id and row), as uniform as the reservoir but another draw, so those statistics
 *   differ within sampling error once a column has more clean values than the sample size (below it
 *   both hold every value); examples (wrong types, new categories, out-of-range) are at most one or
 *   two per column, not the first five seen.
 */

/** A query's answer: its id and its rows by column name (Athena's text values; null for SQL NULL). */
export interface QueryAnswer {
  queryId: string;
  rows: Record<string, string | null>[];
}

/** Runs one query to its end (core never sees the SDK: lambdas/aws/athena-queries.ts implements it). */
export interface WindowQueries {
  run(sql: string): Promise<QueryAnswer>;
}

export interface AthenaWindow {
  summary: WindowSummary;
  /** Logged requests (records) in the window. */
  requests: number;
  queryIds: { summary: string; values: string; sample: string };
}

const int = (row: Record<string, string | null>, name: string): number => {
  const text = row[name];
  if (text === null || text === undefined || text === '') return 0;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`Athena answered ${JSON.stringify(text)} for the count ${name}`);
  return value;
};
const num = (row: Record<string, string | null>, name: string): number | null => {
  const text = row[name];
  if (text === null || text === undefined || text === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
};
const text = (row: Record<string, string | null>, name: string): string | null => row[name] ?? null;

const SampleCellSchema = z.array(z.union([z.number(), z.string(), z.null()]));

/** Python's order (numbers numerically, strings by code point): the counts' order does not depend on the engine. */
const byValue = (a: [string | number, number], b: [string | number, number]) =>
  typeof a[0] === 'number' && typeof b[0] === 'number' ? a[0] - b[0] : String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0;

/** Merges the three answers into the summary DriftAccumulator would give (see the module's note for what differs). */
export function mergeWindowResults(input: WindowQueryInput, answers: { summary: QueryAnswer; values: QueryAnswer; sample: QueryAnswer }): AthenaWindow {
  const row = answers.summary.rows[0];
  if (!row) throw new Error(`the summary query ${answers.summary.queryId} answered no row`);
  const rows = int(row, 'rows_total');
  const columns: { name: string; type: 'numeric' | 'categorical' }[] = [...input.features, { name: PREDICTION_COLUMN, type: input.task === 'multiclass_classification' ? 'categorical' : 'numeric' }];

  const counts = columns.map(() => [] as [string | number, number][]);
  for (const value of answers.values.rows) {
    const col = int(value, 'col');
    const type = columns[col]?.type;
    if (!type) throw new Error(`the values query answered column ${col}, which the check does not have`);
    const key = type === 'numeric' ? num(value, 'num') : text(value, 'str');
    if (key === null) continue;
    counts[col]!.push([key, int(value, 'n')]);
  }
  const samples = columns.map(() => [] as { chunk: number; values: (string | number)[] }[]);
  for (const cell of answers.sample.rows) {
    const col = int(cell, 'col');
    const type = columns[col]?.type;
    if (!type) throw new Error(`the sample query answered column ${col}, which the check does not have`);
    const values = parseOrThrow(SampleCellSchema, JSON.parse(text(cell, type === 'numeric' ? 'nums' : 'strs') ?? '[]'), 'Athena sample cell');
    samples[col]!.push({ chunk: int(cell, 'chunk'), values: values.filter((v): v is string | number => v !== null).map((v) => (type === 'numeric' ? Number(v) : String(v))) });
  }
  const sampleOf = (col: number) => samples[col]!.sort((a, b) => a.chunk - b.chunk).flatMap((chunk) => chunk.values);

  const references = new Map(input.reference.columns.map((column) => [column.name, column]));
  const column = (col: number, reference: ColumnSummary | null | undefined, figures: { rows: number; missing: number; absent: number; wrongType: number; wrongTypeExamples: string[] }): ColumnSummary => {
    const { name, type } = columns[col]!;
    const c = `c${col}`;
    const distinct = int(row, `${c}_distinct`);
    const exact = distinct === counts[col]!.length ? counts[col]!.sort(byValue) : null;
    const summary: ColumnSummary = {
      name,
      type,
      ...figures,
      values: figures.rows - figures.missing - figures.wrongType,
      counts: exact,
      min: type === 'numeric' ? num(row, `${c}_min`) : null,
      max: type === 'numeric' ? num(row, `${c}_max`) : null,
      sample: sampleOf(col),
    };
    if (reference && reference.type === type) {
      const known = reference.counts ? new Set(reference.counts.map(([v]) => v)) : null;
      const newExamples = exact && known ? exact.filter(([v]) => !known.has(v)).map(([v]) => String(v)) : [text(row, `${c}_new_example`)].filter((v): v is string => v !== null);
      const outExamples = [num(row, `${c}_below_example`), num(row, `${c}_above_example`)].filter((v): v is number => v !== null);
      summary.againstReference = {
        newCategoryRows: type === 'categorical' && known ? int(row, `${c}_new`) : 0,
        newCategories: type === 'categorical' && known ? newExamples.slice(0, 5) : [],
        belowRange: int(row, `${c}_below`),
        aboveRange: int(row, `${c}_above`),
        outOfRangeExamples: outExamples,
      };
    }
    return summary;
  };

  const violations: { column: string; problem: string }[] = [];
  const features = input.features.map((feature: MonitoredFeature, i) => {
    const c = `c${i}`;
    const example = text(row, `${c}_wrong_example`);
    const figures = { rows, missing: int(row, `${c}_missing`), absent: int(row, `${c}_absent`), wrongType: int(row, `${c}_wrong`), wrongTypeExamples: example === null ? [] : [example.slice(0, 100)] };
    if (figures.absent > 0 && violations.length < 5) violations.push({ column: feature.name, problem: 'missing' });
    if (figures.wrongType > 0 && violations.length < 5) violations.push({ column: feature.name, problem: `expected ${feature.type === 'numeric' ? 'a number' : 'a string'}, got ${example ?? '?'}` });
    return column(i, references.get(feature.name), figures);
  });
  const outputs = int(row, 'outputs');
  const readable = int(row, `c${input.features.length}_values`);
  const prediction = outputs > 0 ? column(input.features.length, input.reference.prediction, { rows: readable, missing: 0, absent: 0, wrongType: 0, wrongTypeExamples: [] }) : null;
  return {
    summary: {
      task: input.task,
      rows,
      sampleSize: input.sampleSize,
      seed: input.seed,
      columns: features,
      prediction,
      unreadableOutputs: outputs - readable,
      schemaViolations: { rows: int(row, 'violating_rows'), examples: violations },
    },
    requests: int(row, 'requests'),
    queryIds: { summary: answers.summary.queryId, values: answers.values.queryId, sample: answers.sample.queryId },
  };
}

/** Runs the three queries together and merges their answers. */
export async function athenaWindowSummary(queries: WindowQueries, input: WindowQueryInput): Promise<AthenaWindow> {
  const [summary, values, sample] = await Promise.all([queries.run(summaryQuery(input)), queries.run(valuesQuery(input)), queries.run(sampleQuery(input))]);
  return mergeWindowResults(input, { summary, values, sample });
}

/** The Athena path's switch (DriftCheckSettings.athena): windows of more log bytes than `aboveBytes` are aggregated in Athena. */
export interface AthenaPathSettings {
  readonly aboveBytes: number;
  readonly dialect: SqlDialect;
}

/** The bytes of the log objects a window's read would stream (the same listing streamArm reads). */
export async function windowBytes(logs: LogObjects, model: string, version: number, window: CheckWindow, dates: readonly string[]): Promise<{ objects: number; bytes: number }> {
  const objects = await logObjectsUnder(logs, model, version, window, dates)('predictions');
  return { objects: objects.length, bytes: objects.reduce((total, object) => total + (object.size ?? 0), 0) };
}

/** What the report's `read` says of an Athena read. */
export interface AthenaRead {
  path: 'athena';
  objects: number;
  bytes: number;
  aboveBytes: number;
  queryIds: AthenaWindow['queryIds'];
  /** The sample KS, Wasserstein and binning ran on: a seeded bottom-k sample, not the streaming path's reservoir. */
  sample: string;
}

/**
 * The window through Athena when it is configured and the window's log is larger than
 * `settings.aboveBytes`; undefined otherwise (the caller streams it).
 */
export async function readWindowInAthena(
  queries: WindowQueries | undefined,
  settings: AthenaPathSettings | undefined,
  logs: LogObjects,
  query: Omit<WindowQueryInput, 'dialect'>,
): Promise<(AthenaWindow & { read: AthenaRead }) | undefined> {
  if (!queries || !settings) return undefined;
  const size = await windowBytes(logs, query.model, query.version, query.window, query.dates);
  if (size.bytes <= settings.aboveBytes) return undefined;
  const result = await athenaWindowSummary(queries, { ...query, dialect: settings.dialect });
  return {
    ...result,
    read: {
      path: 'athena',
      ...size,
      aboveBytes: settings.aboveBytes,
      queryIds: result.queryIds,
      sample: `seeded bottom-k sample of at most ${query.sampleSize} values a column (md5 of seed ${query.seed}, column, request id and row), drawn in Athena; not the streaming path's reservoir`,
    },
  };
}
