import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { parseCsv } from '../../lambdas/core/data/csv.js';
import { parseS3Uri } from '../../lambdas/core/s3-uri.js';
import { logPrefix } from '../../lambdas/core/serving/records.js';
import { sha256Hex } from '../../lambdas/core/sha256.js';
import { creditSpec, goodCsv, logRecords, mlops, platformClient, uniqueName } from './fixtures.js';

// `mlops dataset from-logs` on the emulator (LOG_BUFFER_SECONDS is 0 locally: its Firehose writes at once).
// One model trained on 800 rows and in production; five rows served in three requests, three of them
// labelled through the feedback route. The build joins them, registers the version through the
// registration state machine (the data gate every upload passes) and records the window's lineage.

const row = { age: 41, income: 48000, debt_ratio: 0.35, credit_lines: 4, late_payments: 1 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function objectText(uri: string): Promise<string> {
  const { bucket, key } = parseS3Uri(uri);
  return (await new S3Client({ forcePathStyle: true }).send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
}

describe('dataset from-logs: logged inputs joined with their feedback labels, as a new dataset version', () => {
  let platform: PlatformClient;
  let caller: string;
  const model = uniqueName('e2e-fromlogs');
  const hashed = uniqueName('e2e-fromlogs-hashed');
  const dataset = uniqueName('e2e-fromlogs-data');
  const baseVersion = sha256Hex(goodCsv());
  let trafficFrom = '';

  beforeAll(async () => {
    platform = platformClient();
    const spec = creditSpec(model, dataset);
    await Promise.all([platform.createModel(spec), platform.createModel({ ...creditSpec(hashed, dataset), logging: { sampleRate: 1, drop: [], hash: ['income'] } })]);
    caller = (await platform.audit(model))[0]!.actor;
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(goodCsv()), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await platform.startRun(model, { dataset: { name: dataset } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');

    trafficFrom = new Date(Date.now() - 1000).toISOString();
    const ids: string[] = [];
    for (const body of [{ inputs: row }, { instances: [{ ...row, age: 30 }, { ...row, age: 31 }, { ...row, age: 32, late_payments: 6 }] }, { inputs: { ...row, age: 77 } }]) {
      const response = await platform.predict(model, JSON.stringify(body));
      expect(response.status, response.text).toBe(200);
      ids.push((response.body as { requestId: string }).requestId);
    }
    const [single, three] = ids as [string, string];
    // The third request stays unlabelled; so does row 1 of the second.
    const answer = await platform.sendFeedback(model, [
      { requestId: single, label: 1 },
      { requestId: three, row: 0, label: 0 },
      { requestId: three, row: 2, label: 1 },
    ]);
    expect(answer.counts.accepted).toBe(3);
    for (let attempt = 0; attempt < 20; attempt += 1) {
      if ((await logRecords(inject('stackOutputs').PredictionLogsBucket, logPrefix('feedback', model, 1))).length >= 3) break;
      await sleep(500);
    }
  }, 300_000);

  it('adds the labelled rows to the rows production was trained on, through the data gate, with the window as lineage', async () => {
    const { code, json } = await mlops('dataset', 'from-logs', model, '--window', '1h');
    expect(code, JSON.stringify(json)).toBe(0);
    expect(json.build).toMatchObject({ status: 'RUNNING', model, dataset: { name: dataset, format: 'csv', rows: 803 }, emptyColumns: [] });
    expect(json.created).toBe(true);
    const version = json.dataset;
    expect(version).toMatchObject({ name: dataset, version: json.build.dataset.version, rowCount: 803, owner: caller, quarantined: false });
    expect(version.lineage).toEqual({
      source: 'prediction-log',
      model,
      window: json.build.lineage.window,
      arm: 'production',
      versions: [1],
      requests: 2,
      loggedRows: 5,
      labelledRows: 3,
      unlabelledRows: 2,
      duplicateLabels: 0,
      base: { name: dataset, version: baseVersion, rows: 800 },
      builtAt: expect.any(String),
      actor: caller,
    });

    // The file: the base's 800 rows as registered, then the labelled rows with their labels.
    const table = parseCsv(await objectText(version.uri));
    expect(table.header).toEqual(['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments', 'defaulted']);
    expect(table.rows.slice(0, 800)).toEqual(parseCsv(goodCsv()).rows);
    expect(table.rows.slice(800).map((cells) => [cells[0], cells[4], cells[5]]).sort()).toEqual([['30', '1', '0'], ['32', '6', '1'], ['41', '1', '1']]);

    // The model's data validation gate passes the new version (what the next training's ValidateData judges).
    const validated = await mlops('dataset', 'validate', `${dataset}@${version.version}`, '--model', model);
    expect(validated.code, JSON.stringify(validated.json)).toBe(0);
    expect(validated.json).toMatchObject({ passed: true, dataset: { name: dataset, version: version.version } });
  });

  it('--logs-only registers the labelled rows alone; the same window again is the version that exists', async () => {
    const first = await mlops('dataset', 'from-logs', model, '--from', trafficFrom, '--to', new Date().toISOString(), '--logs-only', '--name', `${dataset}-logs`);
    expect(first.code, JSON.stringify(first.json)).toBe(0);
    expect(first.json).toMatchObject({ created: true, dataset: { name: `${dataset}-logs`, rowCount: 3, lineage: { base: null, labelledRows: 3 } } });
    expect(parseCsv(await objectText(first.json.dataset.uri)).header).toEqual(['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments', 'defaulted']);

    const again = await mlops('dataset', 'from-logs', model, '--from', first.json.build.lineage.window.from, '--to', first.json.build.lineage.window.to, '--logs-only', '--name', `${dataset}-logs`);
    expect(again.code, JSON.stringify(again.json)).toBe(0);
    expect(again.json).toMatchObject({ created: false, build: { status: 'EXISTS' }, dataset: { version: first.json.dataset.version } });
    expect(await platform.listDatasetVersions(`${dataset}-logs`)).toHaveLength(1);
  });

  it('refuses, writing nothing: no labelled rows in the window, features the log hashes, a window in the future', async () => {
    const before = (await platform.listDatasetVersions(dataset)).length;
    const empty = await mlops('dataset', 'from-logs', model, '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z');
    expect(empty).toMatchObject({ code: 1, json: { error: { code: 'NO_LABELLED_ROWS', field: 'from' } } });
    const lost = await mlops('dataset', 'from-logs', hashed, '--window', '1h');
    expect(lost).toMatchObject({ code: 1, json: { error: { code: 'FEATURES_NOT_LOGGED', field: 'logging' } } });
    expect(lost.json.error.message).toContain('"income"');
    const future = await mlops('dataset', 'from-logs', model, '--from', new Date(Date.now() + 3_600_000).toISOString(), '--to', new Date(Date.now() + 7_200_000).toISOString());
    expect(future).toMatchObject({ code: 1, json: { error: { code: 'WINDOW_IN_FUTURE' } } });
    expect((await platform.listDatasetVersions(dataset)).length).toBe(before);
  });
});

