import { describe, expect, it } from 'vitest';
import { DriftAccumulator, EXACT_COUNTS_LIMIT } from '../../lambdas/core/monitoring/drift.js';
import { SAMPLE_CHUNK, sampleQuery, summaryQuery, valuesQuery, type SqlDialect, type WindowQueryInput } from '../../lambdas/core/monitoring/drift-sql.js';

// The Athena path's SQL text. The Trino variant runs only on AWS (the emulator's Athena is DuckDB):
// these tests pin what it must say; test/e2e/drift-athena.test.ts runs the DuckDB variant.

const features = [
  { name: 'age', type: 'numeric' as const },
  { name: "it's", type: 'categorical' as const },
];
const reference = (() => {
  const side = new DriftAccumulator({ features, task: 'binary_classification' });
  side.addRows(
    [
      { age: 30, "it's": 'a' },
      { age: 50.5, "it's": "o'b" },
    ],
    [{ probability: 0.25 }, { probability: 0.75 }],
  );
  return side.summary();
})();
const input = (dialect: SqlDialect, overrides: Partial<WindowQueryInput> = {}): WindowQueryInput => ({
  dialect,
  model: 'churn',
  version: 3,
  arm: 'production',
  window: { from: '2026-12-05T10:00:00.000Z', to: '2026-12-06T10:00:00.000Z' },
  dates: ['2026-12-05', '2026-12-06'],
  features,
  task: 'binary_classification',
  reference,
  sampleSize: 10_000,
  seed: 7,
  ...overrides,
});
const squash = (sql: string) => sql.replace(/\s+/g, ' ');

describe('drift SQL, Trino (Athena on AWS)', () => {
  const summary = squash(summaryQuery(input('trino')));
  const values = squash(valuesQuery(input('trino')));
  const sample = squash(sampleQuery(input('trino')));

  it('reads only the partitions of the model, version and days, then the arm and the window', () => {
    for (const sql of [summary, values, sample]) {
      expect(sql).toContain(`FROM predictions p WHERE p.model = 'churn' AND p.version = 3 AND p."date" IN ('2026-12-05', '2026-12-06') AND p.arm = 'production'`);
      expect(sql).toContain(`from_iso8601_timestamp(p."at") >= from_iso8601_timestamp('2026-12-05T10:00:00.000Z') AND from_iso8601_timestamp(p."at") <= from_iso8601_timestamp('2026-12-06T10:00:00.000Z')`);
      expect(sql).toContain('CROSS JOIN UNNEST(w.inputs) WITH ORDINALITY AS t(r, i)');
      // A failed request's inputs count; its outputs do not.
      expect(sql).toContain('(p.error IS NOT NULL) AS failed');
      expect(sql).toContain('WHERE NOT w.failed');
    }
  });

  it('reads a feature with element_at (a missing key is NULL, not an error), tells absent keys by map_keys, and numbers by try_cast and is_finite', () => {
    expect(summary).toContain(`element_at(t.r, 'age')`);
    expect(summary).toContain(`coalesce(NOT contains(map_keys(t.r), 'age'), true) AS c0_absent`);
    expect(summary).toContain(`CASE WHEN is_finite(try_cast(element_at(t.r, 'age') AS double)) THEN try_cast(element_at(t.r, 'age') AS double) END AS c0_clean`);
    expect(summary).toContain(`(element_at(t.r, 'age') IS NOT NULL AND try_cast(element_at(t.r, 'age') AS double) IS NULL) AS c0_wrong`);
    // Quotes in a feature name are doubled, never closing the literal.
    expect(summary).toContain(`element_at(t.r, 'it''s') AS c1_clean`);
    // The output: JSON text in the Glue table; binary reads P(positive).
    expect(summary).toContain(`try_cast(json_extract_scalar(o.v, '$.probability') AS double)`);
  });

  it('counts per column the missing, absent, wrong-typed, distinct and violating rows, and against the reference the new categories and the out-of-range values', () => {
    for (const column of ['c0_missing', 'c0_absent', 'c0_wrong', 'c0_min', 'c0_max', 'c0_distinct', 'c1_missing', 'c1_distinct', 'c2_values', 'c2_distinct', 'requests', 'rows_total', 'outputs']) {
      expect(summary).toMatch(new RegExp(`AS ${column}\\b`));
    }
    expect(summary).toContain('count_if(c0_absent OR c0_wrong OR c1_absent OR c1_wrong) AS violating_rows');
    expect(summary).toContain('count(DISTINCT c0_clean) AS c0_distinct');
    expect(summary).toContain(`count_if(c1_clean IS NOT NULL AND c1_clean NOT IN ('a', 'o''b')) AS c1_new`);
    expect(summary).toContain(`count_if(c0_clean < DOUBLE '30.0') AS c0_below`);
    expect(summary).toContain(`count_if(c0_clean > DOUBLE '50.5') AS c0_above`);
    expect(summary).toContain(`count_if(y < DOUBLE '0.25') AS c2_below`);
    expect(summary).toContain('arbitrary(CASE WHEN c0_wrong THEN c0_raw END)');
  });

  it('keeps exact value counts only for columns of at most EXACT_COUNTS_LIMIT distinct values', () => {
    expect(values).toContain('SELECT col, num, str, count(*) AS n FROM w_values GROUP BY col, num, str');
    expect(values).toContain(`WHERE distinct_values <= ${EXACT_COUNTS_LIMIT}`);
    // Features 0 and 1, the prediction 2.
    expect(values).toContain('SELECT 0 AS col, c0_clean AS num, CAST(NULL AS varchar) AS str');
    expect(values).toContain('SELECT 1 AS col, CAST(NULL AS double) AS num, c1_clean AS str');
    expect(values).toContain('SELECT 2 AS col, y AS num');
  });

  it('draws the seeded bottom-k sample by md5 of seed, column, request id and row, in chunks of JSON arrays', () => {
    expect(sample).toContain(`row_number() OVER (PARTITION BY col ORDER BY to_hex(md5(to_utf8(CAST(7 AS varchar) || '#' || CAST(col AS varchar) || '#' || request_id || '#' || CAST(i AS varchar))))) AS k`);
    expect(sample).toContain('WHERE k <= 10000');
    expect(sample).toContain(`(k - 1) / ${SAMPLE_CHUNK} AS chunk`);
    expect(sample).toContain('json_format(CAST(array_agg(num ORDER BY k) AS JSON)) AS nums');
    expect(squash(sampleQuery(input('trino', { sampleSize: 500, seed: 1 })))).toContain('WHERE k <= 500');
  });

  it('uses no DuckDB-only function', () => {
    for (const sql of [summary, values, sample]) {
      expect(sql).not.toMatch(/to_json\(|json_type\(|any_value\(|\blist\(|\/\/|TIMESTAMPTZ/);
    }
  });

  it('names the multiclass label and the regression value as the prediction', () => {
    expect(summaryQuery(input('trino', { task: 'multiclass_classification', reference: { ...reference, prediction: null } }))).toContain(`json_extract_scalar(o.v, '$.label') AS y`);
    expect(summaryQuery(input('trino', { task: 'regression', reference: { ...reference, prediction: null } }))).toContain(`json_extract_scalar(o.v, '$.value')`);
  });
});

describe('drift SQL, DuckDB (the emulator)', () => {
  const sqls = [summaryQuery(input('duckdb')), valuesQuery(input('duckdb')), sampleQuery(input('duckdb'))].map(squash);

  it('reads values through to_json with their JSON type (the struct read_json_auto infers may lack a key), and md5 and // as DuckDB has them', () => {
    expect(sqls[0]).toContain(`json_extract(to_json(t.r), '$."age"')`);
    expect(sqls[0]).toContain('any_value(');
    expect(sqls[0]).toContain(`CAST(p."at" AS TIMESTAMPTZ) >= CAST('2026-12-05T10:00:00.000Z' AS TIMESTAMPTZ)`);
    expect(sqls[2]).toContain(`ORDER BY md5(CAST(7 AS varchar)`);
    expect(sqls[2]).toContain(`(k - 1) // ${SAMPLE_CHUNK} AS chunk`);
    for (const sql of sqls) expect(sql).not.toMatch(/element_at|to_utf8|from_iso8601|json_extract_scalar|arbitrary\(/);
  });
});
