import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mergeWindowResults, readWindowInAthena, type QueryAnswer, type WindowQueries } from '../../lambdas/core/monitoring/drift-athena.js';
import { DriftAccumulator, EXACT_COUNTS_LIMIT, type ColumnSummary, type MonitoredFeature, type WindowSummary } from '../../lambdas/core/monitoring/drift.js';
import { SAMPLE_CHUNK, type WindowQueryInput } from '../../lambdas/core/monitoring/drift-sql.js';
import { createRng } from '../../lambdas/core/random.js';
import { logPrefix, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { referenceOf as versionReference, runDriftCheck, type DriftCheckStores } from '../../lambdas/core/monitoring/drift-check.js';
import { monitoredFeatures } from '../../lambdas/core/monitoring/drift.js';
import { predictRows } from '../../lambdas/core/serving/predict.js';
import { trainRun } from '../../lambdas/core/training/train-run.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { MemoryChecks, MemoryObjects, MemoryRegistry, MemoryRuns, modelVersion, runContext } from './fakes.js';
import { mixedDataset, mixedSpec, parseArtifact } from './helpers.js';

// The merge of the Athena path: the three answers, as Athena hands them over (text cells, NULL as
// null), made here by a small evaluator of what the queries compute (core/monitoring/drift-sql.ts),
// must give the summary DriftAccumulator streams from the same records: every count exactly. The
// sample is another uniform draw (bottom-k by md5, not the reservoir): equal to it only while a column
// has no more values than the sample size. test/e2e/drift-athena.test.ts runs the real SQL.

const features: MonitoredFeature[] = [
  { name: 'x', type: 'numeric' },
  { name: 'plan', type: 'categorical' },
];

type Cell = { clean: string | number | null; missing: boolean; absent: boolean; wrong: boolean; raw: string | undefined };
function cellOf(row: Record<string, unknown>, feature: MonitoredFeature): Cell {
  const absent = !Object.hasOwn(row, feature.name);
  const v = row[feature.name];
  const missing = v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v));
  const ok = feature.type === 'numeric' ? typeof v === 'number' : typeof v === 'string' || typeof v === 'number';
  const clean = missing || !ok ? null : feature.type === 'numeric' ? (v as number) : String(v);
  return { clean, missing, absent, wrong: !missing && !ok, raw: v === undefined ? undefined : JSON.stringify(v) };
}

/** What the three queries answer on these records (already those of the model, version, arm and window). */
function answersFor(input: WindowQueryInput, records: readonly PredictionLogRecord[]): { summary: QueryAnswer; values: QueryAnswer; sample: QueryAnswer } {
  const t = (v: number | string | null | undefined) => (v === null || v === undefined ? null : String(v));
  const columns: { type: 'numeric' | 'categorical'; values: { v: string | number; key: string }[]; ref: ColumnSummary | null | undefined }[] = [
    ...input.features.map((f) => ({ type: f.type, values: [] as { v: string | number; key: string }[], ref: input.reference.columns.find((c) => c.name === f.name) })),
    { type: input.task === 'multiclass_classification' ? ('categorical' as const) : ('numeric' as const), values: [], ref: input.reference.prediction },
  ];
  const row: Record<string, string | null> = { requests: t(records.length) };
  const cells = input.features.map(() => [] as Cell[]);
  let rows = 0;
  let violating = 0;
  let outputs = 0;
  for (const record of records) {
    record.inputs.forEach((r, i) => {
      rows += 1;
      let violated = false;
      input.features.forEach((f, k) => {
        const cell = cellOf(r, f);
        cells[k]!.push(cell);
        violated ||= cell.absent || cell.wrong;
        if (cell.clean !== null) columns[k]!.values.push({ v: cell.clean, key: `${input.seed}#${k}#${record.requestId}#${i + 1}` });
      });
      if (violated) violating += 1;
    });
    if (record.error) continue;
    record.outputs.forEach((o, i) => {
      outputs += 1;
      const p = (o as { probability?: unknown }).probability;
      if (typeof p === 'number' && Number.isFinite(p)) columns[input.features.length]!.values.push({ v: p, key: `${input.seed}#${input.features.length}#${record.requestId}#${i + 1}` });
    });
  }
  Object.assign(row, { rows_total: t(rows), violating_rows: t(violating), outputs: t(outputs), [`c${input.features.length}_values`]: t(columns[input.features.length]!.values.length) });
  columns.forEach((column, k) => {
    const c = `c${k}`;
    const values = column.values.map(({ v }) => v);
    if (k < input.features.length) {
      const cs = cells[k]!;
      Object.assign(row, {
        [`${c}_missing`]: t(cs.filter((x) => x.missing).length),
        [`${c}_absent`]: t(cs.filter((x) => x.absent).length),
        [`${c}_wrong`]: t(cs.filter((x) => x.wrong).length),
        [`${c}_wrong_example`]: t(cs.find((x) => x.wrong)?.raw),
      });
    }
    if (column.type === 'numeric') Object.assign(row, { [`${c}_min`]: t(values.length ? Math.min(...(values as number[])) : null), [`${c}_max`]: t(values.length ? Math.max(...(values as number[])) : null) });
    row[`${c}_distinct`] = t(new Set(values).size);
    if (column.type === 'categorical' && column.ref?.counts) {
      const known = new Set(column.ref.counts.map(([v]) => v));
      const fresh = values.filter((v) => !known.has(v));
      Object.assign(row, { [`${c}_new`]: t(fresh.length), [`${c}_new_example`]: t(fresh[0]) });
    }
    if (column.type === 'numeric' && column.ref && column.ref.min !== null && column.ref.max !== null) {
      const below = (values as number[]).filter((v) => v < column.ref!.min!);
      const above = (values as number[]).filter((v) => v > column.ref!.max!);
      Object.assign(row, { [`${c}_below`]: t(below.length), [`${c}_above`]: t(above.length), [`${c}_below_example`]: t(below.length ? Math.min(...below) : null), [`${c}_above_example`]: t(above.length ? Math.max(...above) : null) });
    }
  });
  const valueRows: Record<string, string | null>[] = [];
  const sampleRows: Record<string, string | null>[] = [];
  columns.forEach((column, k) => {
    const counts = new Map<string | number, number>();
    for (const { v } of column.values) counts.set(v, (counts.get(v) ?? 0) + 1);
    if (counts.size <= EXACT_COUNTS_LIMIT) for (const [v, n] of counts) valueRows.push({ col: t(k), num: column.type === 'numeric' ? t(v) : null, str: column.type === 'numeric' ? null : t(v), n: t(n) });
    const md5 = (key: string) => createHash('md5').update(key).digest('hex');
    const ranked = [...column.values].sort((a, b) => (md5(a.key) < md5(b.key) ? -1 : 1)).slice(0, input.sampleSize).map(({ v }) => v);
    for (let chunk = 0; chunk * SAMPLE_CHUNK < ranked.length; chunk += 1) {
      const part = ranked.slice(chunk * SAMPLE_CHUNK, (chunk + 1) * SAMPLE_CHUNK);
      sampleRows.push({ col: t(k), chunk: t(chunk), nums: JSON.stringify(part.map((v) => (column.type === 'numeric' ? v : null))), strs: JSON.stringify(part.map((v) => (column.type === 'numeric' ? null : v))) });
    }
  });
  // Athena's answers come in no particular order.
  return { summary: { queryId: 'q-summary', rows: [row] }, values: { queryId: 'q-values', rows: valueRows.reverse() }, sample: { queryId: 'q-sample', rows: sampleRows.reverse() } };
}

function recordsOf(rows: Record<string, unknown>[][], probability: () => number): PredictionLogRecord[] {
  return rows.map((inputs, i) => ({ requestId: `r${i}`, at: '2026-12-06T10:00:00.000Z', model: 'm', version: 1, arm: 'production', inputs, outputs: inputs.map(() => ({ label: '1', probability: probability() })), latencyMs: 1 }));
}

const referenceOf = (rows: Record<string, unknown>[]) => {
  const side = new DriftAccumulator({ features, task: 'binary_classification' });
  side.addRows(rows, rows.map((_, i) => ({ probability: (i % 10) / 10 })));
  return side.summary();
};

const streamed = (records: PredictionLogRecord[], reference: WindowSummary, sampleSize = 10_000) => {
  const side = new DriftAccumulator({ features, task: 'binary_classification', reference, sampleSize });
  side.addRecords(records);
  return side.summary();
};

const inputOf = (reference: WindowSummary, sampleSize = 10_000): WindowQueryInput => ({
  dialect: 'duckdb',
  model: 'm',
  version: 1,
  arm: 'production',
  window: { from: '2026-12-06T00:00:00.000Z', to: '2026-12-07T00:00:00.000Z' },
  dates: ['2026-12-06'],
  features,
  task: 'binary_classification',
  reference,
  sampleSize,
  seed: 1,
});

const byValue = (a: [string | number, number], b: [string | number, number]) => (typeof a[0] === 'number' && typeof b[0] === 'number' ? a[0] - b[0] : String(a[0]) < String(b[0]) ? -1 : 1);
const multiset = (values: readonly (string | number)[]) => [...values].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));
/** A column without what is picked rather than counted: examples, the sample's order, the counts' order. */
const counted = (column: ColumnSummary | null) =>
  column && {
    ...column,
    wrongTypeExamples: column.wrongTypeExamples.length > 0,
    counts: column.counts && [...column.counts].sort(byValue),
    sample: column.sample.length,
    againstReference: column.againstReference && { ...column.againstReference, newCategories: multiset(column.againstReference.newCategories).slice(0, 1), outOfRangeExamples: column.againstReference.outOfRangeExamples.length > 0 },
  };

describe('the Athena path: merging the answers into the streaming summary', () => {
  const reference = referenceOf([{ x: 1, plan: 'a' }, { x: 5, plan: 'b' }, { x: 3, plan: 'a' }]);

  it('counts what the accumulator counts, rows, missing, absent keys, wrong types, exact counts, ranges, new categories, violations and outputs, and holds every value while they fit the sample', () => {
    const rows = [
      [{ x: 2, plan: 'a' }, { x: 7, plan: 'c' }],
      [{ x: null, plan: 'b' }],
      [{ plan: 'a' }, { x: 'oops', plan: 'c' }],
      [{ x: -1, plan: 4 }, { x: 2, plan: true }],
    ];
    const records = recordsOf(rows, createRng(3));
    records[2] = { ...records[2]!, outputs: [], error: { code: 'SCORING_FAILED', message: 'x' } };
    const stream = streamed(records, reference);
    const merged = mergeWindowResults(inputOf(reference), answersFor(inputOf(reference), records));
    expect(merged.requests).toBe(4);
    expect(merged.queryIds).toEqual({ summary: 'q-summary', values: 'q-values', sample: 'q-sample' });
    const view = (s: WindowSummary) => ({ ...s, columns: s.columns.map(counted), prediction: counted(s.prediction), schemaViolations: s.schemaViolations.rows });
    expect(view(merged.summary)).toEqual(view(stream));
    // Both hold every value (fewer than the sample size): the same multiset.
    merged.summary.columns.forEach((column, i) => expect(multiset(column.sample)).toEqual(multiset(stream.columns[i]!.sample)));
    // The planted problems, so the comparison cannot pass on empty summaries.
    const [x, plan] = merged.summary.columns;
    expect([x!.missing, x!.absent, x!.wrongType, x!.values]).toEqual([2, 1, 1, 4]);
    expect(x!.againstReference).toMatchObject({ belowRange: 1, aboveRange: 1, outOfRangeExamples: [-1, 7] });
    expect(plan!.againstReference).toMatchObject({ newCategoryRows: 3, newCategories: ['4', 'c'] });
    expect(merged.summary.schemaViolations).toEqual({
      rows: 3,
      examples: [
        { column: 'x', problem: 'missing' },
        { column: 'x', problem: 'expected a number, got "oops"' },
        { column: 'plan', problem: 'expected a string, got true' },
      ],
    });
    expect(merged.summary.prediction?.values).toBe(5);
  });

  it('drops the exact counts past EXACT_COUNTS_LIMIT distinct values, as the accumulator does, keeping the new-category rows exact', () => {
    const rows = Array.from({ length: EXACT_COUNTS_LIMIT + 5 }, (_, i) => [{ x: i % 7, plan: `p${i}` }]);
    const records = recordsOf(rows, () => 0.5);
    const merged = mergeWindowResults(inputOf(reference), answersFor(inputOf(reference), records));
    const stream = streamed(records, reference);
    expect(merged.summary.columns[1]!.counts).toBeNull();
    expect(stream.columns[1]!.counts).toBeNull();
    expect(merged.summary.columns[0]!.counts).toEqual([...stream.columns[0]!.counts!].sort(byValue));
    expect(merged.summary.columns[1]!.againstReference!.newCategoryRows).toBe(stream.columns[1]!.againstReference!.newCategoryRows);
    expect(merged.summary.columns[1]!.againstReference!.newCategories).toHaveLength(1);
  });

  it('takes the bottom-k sample in chunk order, sampleSize values a column: a different uniform draw than the reservoir', () => {
    const random = createRng(11);
    const rows = Array.from({ length: 3000 }, () => [{ x: random(), plan: 'a' }]);
    const records = recordsOf(rows, random);
    const input = inputOf(reference, 1200);
    const answers = answersFor(input, records);
    const merged = mergeWindowResults(input, answers);
    const stream = streamed(records, reference, 1200);
    const x = merged.summary.columns[0]!;
    expect(x.sample).toHaveLength(1200);
    expect(x.sample).toEqual(answers.sample.rows.filter((r) => r.col === '0').sort((a, b) => Number(a.chunk) - Number(b.chunk)).flatMap((r) => JSON.parse(r.nums!) as number[]));
    expect(multiset(x.sample)).not.toEqual(multiset(stream.columns[0]!.sample));
    // Everything counted is still exact.
    expect([x.values, x.min, x.max]).toEqual([stream.columns[0]!.values, stream.columns[0]!.min, stream.columns[0]!.max]);
  });

  it('runs only past the threshold, and only when Athena is wired', async () => {
    const ran: string[] = [];
    const records = recordsOf([[{ x: 1, plan: 'a' }]], () => 0.5);
    const queries: WindowQueries = {
      run: async (sql) => {
        ran.push(sql);
        const answers = answersFor(inputOf(reference), records);
        return sql.includes('w_ranked') ? answers.sample : sql.includes('w_sized') ? answers.values : answers.summary;
      },
    };
    const logs = { list: async () => [{ key: 'predictions/model=m/version=1/date=2026-12-06/a', size: 600, lastModified: new Date('2026-12-06T10:00:00Z') }], stream: () => (async function* () {})() };
    const { dialect: _dialect, ...query } = inputOf(reference);
    expect(await readWindowInAthena(undefined, { aboveBytes: 1, dialect: 'trino' }, logs, query)).toBeUndefined();
    expect(await readWindowInAthena(queries, undefined, logs, query)).toBeUndefined();
    expect(await readWindowInAthena(queries, { aboveBytes: 600, dialect: 'trino' }, logs, query)).toBeUndefined();
    expect(ran).toHaveLength(0);
    const read = await readWindowInAthena(queries, { aboveBytes: 599, dialect: 'trino' }, logs, query);
    expect(ran).toHaveLength(3);
    expect(ran.every((sql) => sql.includes('element_at'))).toBe(true);
    expect(read?.read).toMatchObject({ path: 'athena', objects: 1, bytes: 600, aboveBytes: 599, queryIds: { summary: 'q-summary', values: 'q-values', sample: 'q-sample' } });
    expect(read?.read.sample).toMatch(/bottom-k/);
  });
});

describe('runDriftCheck with the Athena path', () => {
  const spec: ModelSpec = mixedSpec('binary_classification', 'logistic_regression', { monitoring: { referenceSampleSize: 150 } });
  const table = mixedDataset('binary_classification', 400, 11);

  it('aggregates a window past the threshold in Athena, says so in the report, and judges as the streaming path does', async () => {
    const objects = new MemoryObjects();
    const registry = new MemoryRegistry();
    await registry.putModel(spec, 'alice');
    const trained = await trainRun(
      { datasets: { loadTable: async () => table }, onnx: () => { throw new Error('no import'); }, models: { put: (key, text) => objects.put('models', key, text) }, runs: new MemoryRuns() },
      { run: runContext(spec), spec },
    );
    registry.addVersion(modelVersion(spec, 1, trained.artifact, { reference: trained.reference }));
    registry.pointAlias(spec.name, 'production', 1);
    // 300 shifted rows in three requests, one file.
    const artifact = parseArtifact(new TextDecoder().decode(objects.objects.get(trained.artifact.uri)!));
    const shifted = mixedDataset('binary_classification', 300, 31);
    const col = (name: string) => shifted.header.indexOf(name);
    const rows = shifted.rows.map((r) => ({ age: Number(r[col('age')]), income: r[col('income')] === '' ? null : Number(r[col('income')]), debt: Number(r[col('debt')]) + 0.5, plan: r[col('plan')] === '' ? null : r[col('plan')]! }));
    const records: PredictionLogRecord[] = [0, 100, 200].map((start) => {
      const inputs = rows.slice(start, start + 100);
      return { requestId: `q-${start}`, at: '2026-12-06T02:00:00.000Z', model: spec.name, version: 1, arm: 'production', inputs, outputs: predictRows(artifact, inputs), latencyMs: 1 };
    });
    const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const key = `${logPrefix('predictions', spec.name, 1, '2026-12-06')}file`;
    const logs = { list: async (prefix: string) => (key.startsWith(prefix) ? [{ key, size: text.length }] : []), stream: async function* () { yield new TextEncoder().encode(text); } };
    const stores: DriftCheckStores = {
      registry,
      artifacts: objects,
      datasets: { sampleRows: async () => { throw new Error('the version has its reference'); } },
      onnx: () => { throw new Error('no import'); },
      logs,
      reports: objects.reports(),
      checks: new MemoryChecks(),
    };
    // Athena's answers on these records, with the reference the check builds.
    const reference = await versionReference(stores, await registry.getVersion(spec.name, 1), spec);
    const { features } = monitoredFeatures(spec);
    const referenceSide = new DriftAccumulator({ features, task: spec.task });
    referenceSide.addRows(reference.rows, reference.outputs);
    const answers = answersFor({ ...inputOf(referenceSide.summary()), features, model: spec.name }, records);
    const sent: string[] = [];
    const athena: WindowQueries = { run: async (sql) => (sent.push(sql), sql.includes('w_ranked') ? answers.sample : sql.includes('w_sized') ? answers.values : answers.summary) };
    const run = (athenaOn: boolean) =>
      runDriftCheck({ ...stores, ...(athenaOn && { athena }) }, { bufferSeconds: 0, ...(athenaOn && { athena: { aboveBytes: 1, dialect: 'trino' as const } }) }, { model: spec.name, request: { window: '3h' }, actor: 'alice', now: new Date('2026-12-06T04:00:00.000Z'), suffix: athenaOn ? 'a1a1a1' : 'b2b2b2' });

    const viaAthena = await run(true);
    const streamed = await run(false);
    expect(sent).toHaveLength(3);
    expect(viaAthena.report.read).toMatchObject({ path: 'athena', objects: 1, bytes: text.length, aboveBytes: 1, requests: 3, rows: 300, queryIds: { summary: 'q-summary', values: 'q-values', sample: 'q-sample' } });
    expect(String((viaAthena.report.read as { sample: string }).sample)).toMatch(/bottom-k sample/);
    expect(streamed.report.read).toMatchObject({ path: 'stream', objects: 1, requests: 3, rows: 300 });
    expect(viaAthena.check.driftedFeatures).toEqual(streamed.check.driftedFeatures);
    expect(viaAthena.check.driftedFeatures).toContain('debt');
    expect([viaAthena.check.status, viaAthena.check.rows, viaAthena.check.predictionDrift]).toEqual([streamed.check.status, streamed.check.rows, streamed.check.predictionDrift]);
  });
});
