import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/client/local-environment.js';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { signedFetch } from '../../lib/client/signed-fetch.js';
import { parseEnvironments } from '../../lib/config.js';
import { logPrefix, type FeedbackRecord, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { creditSpec, goodCsv, logRecords, mlops, platformClient, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

const tables = stackTables();

// Feedback on the emulator: labels sent with `mlops feedback` land beside the prediction log
// (feedback/model=<m>/version=<v>/date=<d>/ in the prediction-logs bucket), unknown and duplicate
// request ids are reported, and a request the log sampled out is still known.
// One model, version 1 in production; its spec's sampling is set to 0 for the last request.

const STALENESS_MS = parseEnvironments(JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.environments).local!.serving.routingStalenessSeconds * 1000;
const row = { age: 41, income: 48000, debt_ratio: 0.35, credit_lines: 4, late_payments: 1 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('feedback: labels for answered requests, beside the prediction log', () => {
  let platform: PlatformClient;
  let caller: string;
  const model = uniqueName('e2e-feedback');
  const dataset = uniqueName('e2e-feedback-data');
  const dir = mkdtempSync(join(tmpdir(), 'mlops-feedback-'));
  /** Request ids: one `inputs` request, one of three `instances`, and one the log sampled out. */
  let single: string;
  let three: string;
  let sampledOut: string;

  async function predictId(body: unknown): Promise<string> {
    const response = await platform.predict(model, JSON.stringify(body));
    expect(response.status).toBe(200);
    return (response.body as { requestId: string }).requestId;
  }

  beforeAll(async () => {
    platform = platformClient();
    const spec = creditSpec(model, dataset);
    await platform.createModel(spec);
    caller = (await platform.audit(model))[0]!.actor;
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(goodCsv()), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await tables.startExecution({ model, dataset: { name: dataset }, actor: 'e2e', release: true });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status).toBe('SUCCEEDED');

    single = await predictId({ inputs: row });
    three = await predictId({ instances: [row, { ...row, age: 30 }, { ...row, late_payments: 6 }] });
    // Sampling comes from the spec, read with the routing: past the staleness bound every function logs nothing.
    await platform.createModel({ ...spec, logging: { sampleRate: 0, drop: [], hash: [] } });
    await sleep(STALENESS_MS + 500);
    sampledOut = await predictId({ inputs: row });
  }, 300_000);

  it('takes a CSV file through `mlops feedback`, reporting the unknown id and the duplicate by line, and accepting the sampled-out request', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const { Item } = await doc.send(new GetCommand({ TableName: tables.outputs.RequestIndexTable, Key: { requestId: sampledOut } }));
    expect(Item).toMatchObject({ requestId: sampledOut, model, version: 1, logged: false });

    const file = join(dir, 'labels.csv');
    writeFileSync(
      file,
      [
        'requestId,row,label',
        `${single},,1`,
        `${three},0,0`,
        `${three},1,1`,
        `${three},2,1`,
        `${sampledOut},0,0`,
        'never-issued-0000,0,1',
        `${three},1,0`,
      ].join('\n') + '\n',
    );
    const { code, json } = await mlops('feedback', model, '--file', file);
    // An unknown id fails the command for scripts; the other labels are stored.
    expect(code).toBe(1);
    expect(json).toMatchObject({ model, requests: 1, counts: { received: 7, accepted: 5, unknown: 1, duplicates: 1, invalid: 0 } });
    expect(json.unknown).toEqual([{ line: 7, requestId: 'never-issued-0000', row: 0 }]);
    expect(json.duplicates).toEqual([{ line: 8, requestId: three, row: 1 }]);
  });

  it('lands the labels as JSON Lines under feedback/model=<m>/version=<v>/date=<d>/, next to the predictions of the same requests', async () => {
    const bucket = tables.outputs.PredictionLogsBucket;
    let labels: FeedbackRecord[] = [];
    for (let attempt = 0; attempt < 20 && labels.length < 5; attempt += 1) {
      labels = await logRecords<FeedbackRecord>(bucket, logPrefix('feedback', model, 1));
      if (labels.length < 5) await sleep(500);
    }
    const byKey = new Map(labels.map((record) => [`${record.requestId}#${record.row}`, record]));
    expect(labels).toHaveLength(5);
    expect(byKey.get(`${single}#0`)).toEqual({ requestId: single, row: 0, model, version: 1, arm: 'production', label: '1', at: expect.any(String), actor: caller });
    expect([0, 1, 2].map((r) => byKey.get(`${three}#${r}`)?.label)).toEqual(['0', '1', '1']);
    expect(byKey.get(`${sampledOut}#0`)?.label).toBe('0');

    const today = new Date().toISOString().slice(0, 10);
    const listed = await new S3Client({ forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: logPrefix('feedback', model, 1) }));
    for (const object of listed.Contents ?? []) expect(object.Key).toMatch(new RegExp(`^feedback/model=${model}/version=1/date=(${today}|\\d{4}-\\d{2}-\\d{2})/`));
    // The predictions of the same requests sit under the same model and version; the sampled-out one is not among them.
    const logged = await logRecords<PredictionLogRecord>(bucket, logPrefix('predictions', model, 1));
    const loggedIds = new Set(logged.map((record) => record.requestId));
    expect([loggedIds.has(single), loggedIds.has(three), loggedIds.has(sampledOut)]).toEqual([true, true, false]);
  });

  it('answers a resent file with duplicates only (nothing stored twice), and names a label that is not a class by its line', async () => {
    const file = join(dir, 'labels.jsonl');
    writeFileSync(file, [{ requestId: single, label: 1 }, { requestId: three, row: 2, label: 'maybe' }].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const { code, json } = await mlops('feedback', model, '--file', file);
    expect(code).toBe(1);
    expect(json.counts).toEqual({ received: 2, accepted: 0, unknown: 0, duplicates: 1, invalid: 1 });
    expect(json.invalid).toEqual([{ line: 2, field: 'label', problem: expect.stringMatching(/"maybe" is not a class of version 1/) }]);
    expect(await logRecords(tables.outputs.PredictionLogsBucket, logPrefix('feedback', model, 1))).toHaveLength(5);
  });

  it('refuses malformed bodies through API Gateway with a 4xx and a JSON error', async () => {
    const url = `${platform.endpoints.servingUrl}/models/${model}/feedback`;
    const post = (body: string, target = url) => signedFetch(target, { method: 'POST', body, region: platform.region });
    const cases: [string, Awaited<ReturnType<typeof post>>][] = [
      ['not JSON', await post('{"requestId": ')],
      ['extra field', await post(JSON.stringify({ requestId: single, label: '1', weight: 2 }))],
      ['1,001 labels', await post(JSON.stringify({ labels: Array.from({ length: 1001 }, (_, i) => ({ requestId: `r-${i}`, label: '1' })) }))],
      ['__proto__ key', await post(`{"requestId":"${single}","label":"1","__proto__":{"admin":true}}`)],
      ['unknown model', await post(JSON.stringify({ requestId: single, label: '1' }), `${platform.endpoints.servingUrl}/models/no-such-model-e2e/feedback`)],
      ['unknown id only', await post(JSON.stringify({ requestId: 'never-issued-0001', label: '1' }))],
    ];
    for (const [name, response] of cases) {
      expect({ name, status: response.status >= 400 && response.status < 500 }).toEqual({ name, status: true });
      expect((response.body as { error?: { code?: string } }).error?.code, name).toEqual(expect.any(String));
    }
    expect(cases.find(([name]) => name === 'unknown model')![1].status).toBe(404);
    expect((cases.find(([name]) => name === 'unknown id only')![1].body as { error: { code: string } }).error.code).toBe('UNKNOWN_REQUEST_ID');
  });
});
