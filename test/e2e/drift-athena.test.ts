import { AthenaClient } from '@aws-sdk/client-athena';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { athenaQueries } from '../../lambdas/aws/athena-queries.js';
import { createS3Client } from '../../lambdas/aws/clients.js';
import { ObjectStore } from '../../lambdas/aws/object-store.js';
import { readWindowInAthena } from '../../lambdas/core/monitoring/drift-athena.js';
import { checkDrift, DEFAULT_DRIFT_SAMPLE_SIZE, DriftAccumulator, type ColumnSummary, type WindowSummary } from '../../lambdas/core/monitoring/drift.js';
import { createRng } from '../../lambdas/core/random.js';
import { formatS3Uri } from '../../lambdas/core/s3-uri.js';
import type { PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { streamArm, windowDates, type CheckWindow, type LogObjects } from '../../lambdas/core/serving/rollout-evidence.js';
import { MonitoringPolicySchema } from '../../lambdas/core/training/model-spec.js';
import { useLocalEndpoint } from '../../lib/client/local-environment.js';
import { uniqueName } from './fixtures.js';

// The drift check's Athena path on the emulator, forced with a threshold of 1 byte on a small window:
// its summary (DuckDB SQL through the emulator's Athena, the Athena client, the merge) against the
// streaming path's on the same logged records, and checkDrift's verdicts on both. The window holds
// fewer clean values than the sample size, so both samples are every value and the statistics agree;
// on a larger window the bottom-k sample is another draw than the reservoir. The Trino SQL that runs
// on AWS is pinned by test/unit/drift-sql.test.ts, not run here.

const outputs = inject('stackOutputs');
const features = [
  { name: 'athena_x', type: 'numeric' as const },
  { name: 'athena_y', type: 'numeric' as const },
  { name: 'athena_plan', type: 'categorical' as const },
  { name: 'athena_flag', type: 'categorical' as const },
];
const PLANS = ['basic', 'plus', 'pro', 'team'];

/** A row like the reference, or shifted: athena_x moves by 3 and a new plan appears. */
function row(random: () => number, shifted: boolean): Record<string, unknown> {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return {
    athena_x: normal() + (shifted ? 3 : 0),
    athena_y: random() < 0.05 ? null : Math.round(normal() * 1000) / 100,
    athena_plan: shifted && random() < 0.2 ? 'enterprise' : PLANS[Math.floor(random() * PLANS.length)],
    athena_flag: random() < 0.5 ? 'yes' : 'no',
  };
}

const byValue = (a: [string | number, number], b: [string | number, number]) => (typeof a[0] === 'number' && typeof b[0] === 'number' ? a[0] - b[0] : String(a[0]) < String(b[0]) ? -1 : 1);
const sorted = (values: readonly (string | number)[]) => [...values].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1));
/** What both paths must agree on for a column (the sample as a multiset: both hold every value here). */
const comparable = (column: ColumnSummary | null) =>
  column && {
    ...column,
    counts: column.counts && [...column.counts].sort(byValue),
    sample: sorted(column.sample),
    wrongTypeExamples: column.wrongTypeExamples.length,
    againstReference: column.againstReference && { ...column.againstReference, newCategories: sorted(column.againstReference.newCategories), outOfRangeExamples: column.againstReference.outOfRangeExamples.length > 0 },
  };

describe('drift check: the Athena path on the emulator (DuckDB) against the streaming path', () => {
  const model = uniqueName('e2e-athena');
  const version = 1;
  const random = createRng(20261206);
  const reference = new DriftAccumulator({ features, task: 'binary_classification' });
  let window: CheckWindow;
  let logs: LogObjects;
  let records: PredictionLogRecord[];

  beforeAll(async () => {
    useLocalEndpoint();
    // The reference: 600 rows, Evidently's small regime (KS, chi-square, Z).
    const referenceRows = Array.from({ length: 600 }, () => row(random, false));
    reference.addRows(referenceRows, referenceRows.map(() => ({ label: '1', probability: random() })));
    const start = Date.now();
    records = Array.from({ length: 300 }, (_, i): PredictionLogRecord => {
      const inputs = [row(random, true), row(random, true)];
      return {
        requestId: `req-${model}-${i}`,
        at: new Date(start - 60_000 + i).toISOString(),
        model,
        version,
        arm: i % 10 === 9 ? 'shadow' : 'production',
        inputs,
        outputs: inputs.map(() => ({ label: '1', probability: 0.2 + random() * 0.8, probabilities: {} })),
        latencyMs: 1,
      };
    });
    // A schema violation (a string where a number belongs) and a failed request (inputs count, no outputs).
    records[3]!.inputs[0]!.athena_x = 'oops';
    records[5] = { ...records[5]!, outputs: [], error: { code: 'SCORING_FAILED', message: 'e2e' } };
    const firehose = new FirehoseClient({});
    const put = await firehose.send(
      new PutRecordBatchCommand({ DeliveryStreamName: outputs.PredictionLogStream, Records: records.map((record) => ({ Data: new TextEncoder().encode(`${JSON.stringify(record)}\n`) })) }),
    );
    expect(put.FailedPutCount).toBe(0);
    window = { from: new Date(start - 120_000).toISOString(), to: new Date(Date.now() + 1000).toISOString() };
    const objects = new ObjectStore(createS3Client());
    logs = { list: (prefix) => objects.list(outputs.PredictionLogsBucket, prefix), stream: (key) => objects.stream(formatS3Uri(outputs.PredictionLogsBucket, key)) };
  });

  it('gives the summary the stream gives (counts, ranges, new categories, violations, every value as the sample) and the same verdicts', async () => {
    const referenceSummary = reference.summary();
    const dates = windowDates(window, new Date(Date.now() + 1000));
    const side = { model, version, arm: 'production' as const, window, dates, features, task: 'binary_classification' as const, reference: referenceSummary, sampleSize: DEFAULT_DRIFT_SAMPLE_SIZE, seed: 1 };

    // The streaming path, as runDriftCheck reads it (the emulator writes the records at once; poll briefly for them).
    let streamed: WindowSummary | undefined;
    let requests = 0;
    for (let attempt = 0; attempt < 50 && (streamed?.rows ?? 0) < 540; attempt += 1) {
      const current = new DriftAccumulator({ features, task: 'binary_classification', reference: referenceSummary });
      requests = 0;
      await streamArm(logs, model, { version, arm: 'production' }, window, dates, { objects: 0, lines: 0, badLines: 0 }, (record) => {
        requests += 1;
        current.addRecords([record]);
      });
      streamed = current.summary();
      if (streamed.rows < 540) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(streamed!.rows).toBe(540);

    // The Athena path, forced: any window is above 1 byte.
    const queries = athenaQueries(new AthenaClient({}), { workGroup: outputs.AthenaWorkGroup, database: outputs.GlueDatabase, timeoutMs: 60_000, pollMs: 100 });
    const athena = await readWindowInAthena(queries, { aboveBytes: 1, dialect: 'duckdb' }, logs, side);
    expect(athena).toBeDefined();
    expect(athena!.read.path).toBe('athena');
    expect(athena!.read.bytes).toBeGreaterThan(1);
    expect(Object.values(athena!.queryIds).every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(athena!.requests).toBe(requests);
    // And not forced: at or under the threshold the caller streams.
    expect(await readWindowInAthena(queries, { aboveBytes: athena!.read.bytes, dialect: 'duckdb' }, logs, side)).toBeUndefined();

    const viaAthena = athena!.summary;
    const stream = streamed!;
    expect({ ...viaAthena, columns: viaAthena.columns.map(comparable), prediction: comparable(viaAthena.prediction), schemaViolations: viaAthena.schemaViolations.rows }).toEqual({
      ...stream,
      columns: stream.columns.map(comparable),
      prediction: comparable(stream.prediction),
      schemaViolations: stream.schemaViolations.rows,
    });
    // The figures the fixture planted, so the comparison cannot pass on two empty summaries.
    const x = viaAthena.columns[0]!;
    expect(x.wrongType).toBe(1);
    expect(viaAthena.schemaViolations.rows).toBe(1);
    expect(viaAthena.columns[2]!.againstReference!.newCategories).toEqual(['enterprise']);
    expect(viaAthena.columns[1]!.missing).toBeGreaterThan(0);

    const policy = MonitoringPolicySchema.parse({});
    const verdicts = (current: WindowSummary) => checkDrift({ policy, task: 'binary_classification', reference: referenceSummary, current, window });
    const [a, s] = [verdicts(viaAthena), verdicts(stream)];
    expect(a.status).toBe(s.status);
    expect(a.features.map((f) => [f.column, f.method, f.drifted])).toEqual(s.features.map((f) => [f.column, f.method, f.drifted]));
    // The same values; only the order of summation differs (the counts' order).
    const close = (x: number | null, y: number | null) => (x === null || y === null ? x === y : Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y), 1e-300));
    a.features.forEach((f, i) => expect(close(f.statistic, s.features[i]!.statistic), `${f.column}: ${f.statistic} vs ${s.features[i]!.statistic}`).toBe(true));
    expect(a.features.filter((f) => f.drifted).map((f) => f.column)).toEqual(expect.arrayContaining(['athena_x', 'athena_plan']));
    expect(a.prediction?.drifted).toBe(s.prediction?.drifted);
    // Data quality: the same figures; the examples are picked differently (first seen vs the extremes).
    const quality = (report: typeof a) => ({
      ...report.dataQuality,
      schemaViolations: report.dataQuality.schemaViolations.rows,
      features: report.dataQuality.features.map((f) => ({ ...f, ...(f.outOfRange && { outOfRange: { ...f.outOfRange, examples: f.outOfRange.examples.length > 0 } }) })),
    });
    expect(quality(a)).toEqual(quality(s));
  }, 180_000);
});
