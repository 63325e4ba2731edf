import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createS3Client } from '../../lambdas/aws/clients.js';
import {
  FeedbackRecordSchema,
  logPrefix,
  PredictionLogRecordSchema,
  type FeedbackRecord,
  type PredictionLogRecord,
} from '../../lambdas/core/serving/records.js';
import { useLocalEndpoint } from '../../lib/client/local-environment.js';
import { uniqueName } from './fixtures.js';

// The serving stack's log infrastructure on the emulator, without the functions: records put to the
// Firehose streams land under the partitioned prefixes at once (the emulator does not buffer), and the
// Glue table answers an Athena query through the stack's workgroup (DuckDB in the emulator's venv).

const outputs = inject('stackOutputs');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const today = () => new Date().toISOString().slice(0, 10);
const line = (record: unknown) => new TextEncoder().encode(`${JSON.stringify(record)}\n`);

/** Runs a query in the stack's workgroup and returns its rows as objects (header row first in Athena's answer). */
async function query(sql: string): Promise<Record<string, string | undefined>[]> {
  const athena = new AthenaClient({});
  const { QueryExecutionId } = await athena.send(
    new StartQueryExecutionCommand({ QueryString: sql, QueryExecutionContext: { Database: outputs.GlueDatabase }, WorkGroup: outputs.AthenaWorkGroup }),
  );
  for (let attempt = 0; attempt < 100; attempt++) {
    const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    const { State, StateChangeReason } = QueryExecution?.Status ?? {};
    if (State === 'SUCCEEDED') break;
    if (State === 'FAILED' || State === 'CANCELLED') throw new Error(`query ${State}: ${StateChangeReason}`);
    await sleep(100);
  }
  const { ResultSet } = await athena.send(new GetQueryResultsCommand({ QueryExecutionId }));
  const [header, ...rows] = ResultSet?.Rows ?? [];
  const names = (header?.Data ?? []).map((cell) => cell.VarCharValue ?? '');
  return rows.map((row) => Object.fromEntries(names.map((name, i) => [name, row.Data?.[i]?.VarCharValue])));
}

describe('serving infrastructure: prediction log, feedback, Glue and Athena', () => {
  const firehose = new FirehoseClient({});
  const s3 = createS3Client();
  const model = uniqueName('e2e-log');
  const prediction: PredictionLogRecord = PredictionLogRecordSchema.parse({
    requestId: `req-${model}`,
    at: new Date().toISOString(),
    model,
    version: 7,
    arm: 'canary',
    routingKeyHash: 'ab'.repeat(32),
    inputs: [{ age: 41, city: 'Lyon' }],
    outputs: [{ label: '1', probability: 0.8, probabilities: { '0': 0.2, '1': 0.8 } }],
    latencyMs: 2.5,
  });
  const label: FeedbackRecord = FeedbackRecordSchema.parse({
    requestId: prediction.requestId,
    row: 0,
    model,
    version: 7,
    arm: 'canary',
    label: '1',
    at: new Date().toISOString(),
    actor: 'e2e',
  });

  /** The keys under a prefix, polled briefly: the emulator writes at once, but the PUT runs on its event loop. */
  async function keysUnder(prefix: string): Promise<string[]> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: outputs.PredictionLogsBucket, Prefix: prefix }));
      const keys = (listed.Contents ?? []).map((object) => object.Key!);
      if (keys.length > 0) return keys;
      await sleep(100);
    }
    return [];
  }

  beforeAll(async () => {
    useLocalEndpoint();
    const put = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: outputs.PredictionLogStream, Records: [{ Data: line(prediction) }] }));
    expect(put.FailedPutCount).toBe(0);
    const feedback = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: outputs.FeedbackStream, Records: [{ Data: line(label) }] }));
    expect(feedback.FailedPutCount).toBe(0);
  });

  it('lands a prediction record under predictions/model=<m>/version=<v>/date=<day>/, as one JSON line', async () => {
    const keys = await keysUnder(logPrefix('predictions', model, 7, today()));
    expect(keys).toHaveLength(1);
    const object = await s3.send(new GetObjectCommand({ Bucket: outputs.PredictionLogsBucket, Key: keys[0] }));
    const text = await object.Body!.transformToString();
    expect(text.endsWith('\n')).toBe(true);
    expect(PredictionLogRecordSchema.parse(JSON.parse(text))).toEqual(prediction);
  });

  it('lands a label under feedback/model=<m>/version=<v>/date=<day>/, next to the log', async () => {
    const keys = await keysUnder(logPrefix('feedback', model, 7, today()));
    expect(keys).toHaveLength(1);
    const object = await s3.send(new GetObjectCommand({ Bucket: outputs.PredictionLogsBucket, Key: keys[0] }));
    expect(FeedbackRecordSchema.parse(JSON.parse(await object.Body!.transformToString()))).toEqual(label);
  });

  it('sends a record whose partition keys are missing to the error prefix, not into the log', async () => {
    const put = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: outputs.PredictionLogStream, Records: [{ Data: line({ requestId: `bad-${model}` }) }] }));
    expect(put.FailedPutCount).toBe(0);
    const keys = await keysUnder(`errors/predictions/processing-failed/date=${today()}/`);
    const bodies = await Promise.all(
      keys.map(async (Key) => (await s3.send(new GetObjectCommand({ Bucket: outputs.PredictionLogsBucket, Key }))).Body!.transformToString()),
    );
    const ours = bodies.map((body) => JSON.parse(body) as { rawData: string }).filter((error) => Buffer.from(error.rawData, 'base64').toString().includes(`bad-${model}`));
    expect(ours).toHaveLength(1);
  });

  it('answers an Athena query over the Glue tables, partition columns included, joined by request id', async () => {
    const rows = await query(
      `SELECT p.requestId AS requestid, p.arm AS arm, p.version AS version, p.latencyMs AS latency, f.label AS label
       FROM predictions p JOIN feedback f ON p.requestId = f.requestId
       WHERE p.model = '${model}' AND p.version = 7 AND f.model = '${model}' AND f.version = 7`,
    );
    expect(rows).toEqual([{ requestid: prediction.requestId, arm: 'canary', version: '7', latency: '2.5', label: '1' }]);
  });
});
