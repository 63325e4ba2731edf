import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import { DatasetProfileSchema } from '../../lambdas/core/data/profile.js';
import { creditSpec, goodCsv, platformClient, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

/** The stack's tables and buckets, read directly to assert what the API does not show. */
const tables = stackTables();

// Versioned datasets on the emulator: upload straight to S3 on presigned URLs, registration in its
// own state machine, the profile in S3, and the data validation gate inside the training pipeline.

const s3 = () => new S3Client({ forcePathStyle: true });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The same rows as Parquet, written by a real Parquet writer. */
function creditParquet(csv: string): Uint8Array {
  const [header, ...lines] = csv.trim().split('\n');
  const names = header!.split(',');
  const rows = lines.map((line) => line.split(','));
  const buffer = parquetWriteBuffer({
    columnData: names.map((name, c) => ({ name, data: rows.map((row) => Number(row[c])), type: 'DOUBLE' as const })),
    rowGroupSize: 300,
  });
  return new Uint8Array(buffer);
}

/** Drops a column from a CSV whose fields hold no commas. */
function withoutColumn(csv: string, column: string): string {
  const lines = csv.trim().split('\n');
  const index = lines[0]!.split(',').indexOf(column);
  return lines.map((line) => line.split(',').filter((_, i) => i !== index).join(',')).join('\n') + '\n';
}

describe('versioned datasets on the emulator', () => {
  let platform: PlatformClient;

  beforeAll(() => {
    platform = platformClient();
  });

  async function uploadsLeft(name: string): Promise<string[]> {
    const listed = await s3().send(new ListObjectsV2Command({ Bucket: tables.outputs.DatasetsBucket, Prefix: `uploads/${name}/` }));
    return (listed.Contents ?? []).map((object) => object.Key!);
  }

  async function rejection(name: string, bytes: Uint8Array, fileName = 'data.csv', extra: Partial<Parameters<PlatformClient['registerDataset']>[0]> = {}): Promise<MlopsError> {
    try {
      await platform.registerDataset({ name, bytes, fileName, owner: 'e2e', ...extra });
    } catch (error) {
      expect(error).toBeInstanceOf(MlopsError);
      return error as MlopsError;
    }
    throw new Error(`${fileName} was registered`);
  }

  it('registers a CSV under its sha256 with schema, profile and lineage fields; the same bytes again write nothing', async () => {
    const name = uniqueName('e2e-ds');
    const bytes = Buffer.from(goodCsv());

    const { dataset, created } = await platform.registerDataset({ name, bytes, fileName: 'applications.csv', owner: 'risk-team', target: 'defaulted' });

    expect(created).toBe(true);
    expect(dataset).toMatchObject({ name, version: sha256(bytes), format: 'csv', bytes: bytes.byteLength, rowCount: 800, owner: 'risk-team', source: 'applications.csv', quarantined: false });
    expect(dataset.uri).toBe(`s3://${tables.outputs.DatasetsBucket}/datasets/${name}/${sha256(bytes)}.csv`);
    expect(Date.now() - Date.parse(dataset.arrivedAt)).toBeLessThan(120_000);
    expect(dataset.schema).toMatchObject({ source: 'inferred', target: 'defaulted' });
    expect(dataset.schema.columns.map((c) => [c.name, c.type])).toEqual([
      ['age', 'numeric'],
      ['income', 'numeric'],
      ['debt_ratio', 'numeric'],
      ['credit_lines', 'numeric'],
      ['late_payments', 'numeric'],
      ['defaulted', 'numeric'],
    ]);
    // The stored object is the uploaded bytes, byte for byte.
    expect(sha256(await tables.objects.getBytes(dataset.uri))).toBe(dataset.version);
    // The profile in S3 is a valid profile of these rows, and the API serves the same one.
    const stored = DatasetProfileSchema.parse(JSON.parse(await tables.objects.getText(dataset.profileUri)));
    expect(stored.rows).toBe(800);
    expect(stored.target).toMatchObject({ column: 'defaulted', kind: 'classes' });
    expect(Object.values(stored.target!.classes!).reduce((a, b) => a + b, 0)).toBe(800);
    expect(await platform.getDatasetProfile(name, dataset.version)).toEqual(stored);
    expect(await uploadsLeft(name)).toEqual([]);

    const again = await platform.registerDataset({ name, bytes, fileName: 'copy.csv', owner: 'someone-else' });

    expect(again.created).toBe(false);
    expect(again.dataset).toEqual(dataset);
    expect((await platform.listDatasetVersions(name)).map((v) => v.version)).toEqual([dataset.version]);
    expect((await platform.listDatasets()).find((d) => d.name === name)).toMatchObject({ versionCount: 1, latestVersion: dataset.version });
    expect(await platform.getDatasetVersion(name)).toEqual(dataset);
  });

  it('registers Parquet and JSON Lines, and trains on a Parquet version', async () => {
    const csv = goodCsv();
    const parquetName = uniqueName('e2e-pq');
    const parquet = creditParquet(csv);
    const { dataset } = await platform.registerDataset({ name: parquetName, bytes: parquet, fileName: 'applications.parquet', owner: 'e2e', target: 'defaulted' });
    expect(dataset).toMatchObject({ format: 'parquet', rowCount: 800, version: sha256(parquet) });
    expect(dataset.uri.endsWith('.parquet')).toBe(true);

    const [header, ...lines] = csv.trim().split('\n');
    const names = header!.split(',');
    const jsonl = lines.map((line) => JSON.stringify(Object.fromEntries(line.split(',').map((v, i) => [names[i], Number(v)])))).join('\n');
    const json = await platform.registerDataset({ name: uniqueName('e2e-jl'), bytes: Buffer.from(jsonl), fileName: 'applications.jsonl', owner: 'e2e' });
    expect(json.dataset).toMatchObject({ format: 'jsonl', rowCount: 800 });

    const model = uniqueName('e2e-pq-model');
    await platform.createModel(creditSpec(model, parquetName));
    const { runId, executionArn } = await tables.startExecution({ model, dataset: { name: parquetName, version: dataset.version }, actor: 'e2e' });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500 });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.run).toMatchObject({ status: 'SUCCEEDED', modelVersion: 1, dataset: { name: parquetName, version: dataset.version } });
  });

  it('rejects every kind of bad file with a clear error and leaves no version and no upload behind', async () => {
    const name = uniqueName('e2e-bad');
    const good = goodCsv();
    const [header, ...rows] = good.trim().split('\n');
    const parquet = creditParquet(good);
    const cases: [string, Uint8Array, string, RegExp][] = [
      ['header only', Buffer.from(`${header}\n`), 'data.csv', /no data rows/],
      ['ragged row', Buffer.from(`${header}\n${rows[0]}\n1,2,3\n`), 'data.csv', /line 3 has 3 fields, the header has 6/],
      ['unterminated quote', Buffer.from(`${header}\n${rows[0]}\n"30,1,2,3,4,0\n`), 'data.csv', /unterminated quoted field starting on line 3/],
      ['non-UTF-8 bytes', Buffer.concat([Buffer.from(`${header}\n${rows[0]}\n`), Buffer.from([0x33, 0xff, 0x2c, 0x0a])]), 'data.csv', /not UTF-8 text: invalid byte 0xff/],
      ['a stray string in a numeric column', Buffer.from([header, ...rows.slice(0, 99), 'forty,1,2,3,4,0', ...rows.slice(99)].join('\n')), 'data.csv', /column "age": 1 value\(s\) not a number, on line 101.*--schema/],
      ['a 10 MB single line', Buffer.from(`${header}\n${'7'.repeat(10 * 1024 * 1024)}\n`), 'data.csv', /line 2 is longer than 1048576 characters/],
      ['a truncated Parquet file', parquet.subarray(0, parquet.byteLength - 200), 'data.parquet', /Parquet file is truncated or damaged/],
    ];
    for (const [label, bytes, fileName, message] of cases) {
      const error = await rejection(name, bytes, fileName);
      expect({ label, code: error.code }).toEqual({ label, code: 'DATA_VALIDATION_FAILED' });
      expect(error.message, label).toMatch(message);
    }

    const schemaBreak = await rejection(name, Buffer.from(good), 'data.csv', {
      schema: { columns: [{ name: 'age', type: 'numeric', min: 21 }], allowExtraColumns: true },
    });
    expect(schemaBreak.message).toMatch(/column "age": \d+ value\(s\) below the declared min 21, on lines/);

    const empty = await rejection(name, new Uint8Array(0));
    expect(empty).toMatchObject({ code: 'DATA_VALIDATION_FAILED', message: expect.stringMatching(/empty/) });

    const badSchema = await rejection(name, Buffer.from(good), 'data.csv', { schema: { columns: [{ name: 'age', type: 'numeric', min: 5, max: 1 }] } });
    expect(badSchema).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/schema\.columns\.0\.max/) });

    expect(await platform.listDatasetVersions(name)).toEqual([]);
    expect((await platform.listDatasets()).find((d) => d.name === name)).toBeUndefined();
    expect(await uploadsLeft(name)).toEqual([]);
  });

  it('registers a dataset whose name has the longest length allowed (63 characters)', async () => {
    const name = `${uniqueName('e2e-long')}-${'n'.repeat(63)}`.slice(0, 63);
    const { dataset } = await platform.registerDataset({ name, bytes: Buffer.from(goodCsv()), fileName: 'data.csv', owner: 'e2e' });
    expect(dataset).toMatchObject({ name, rowCount: 800 });
  });

  it('refuses a file over the size limit before any byte is uploaded', async () => {
    const response = await platform.api('POST', `/datasets/${uniqueName('e2e-big')}/uploads`, { sha256: 'a'.repeat(64), bytes: 6 * 1024 ** 3, format: 'csv' }).catch((error: unknown) => error);
    expect(response).toBeInstanceOf(MlopsError);
    expect(response).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/at most 5368709120/) });
  });

  it('runs the pipeline on a broken copy and a good copy: the broken one stops at ValidateData, quarantined, with no model version', async () => {
    const name = uniqueName('e2e-gate');
    const model = uniqueName('e2e-gate-model');
    await platform.createModel(creditSpec(model, name));
    const train = async (csv: string) => {
      const { dataset } = await platform.registerDataset({ name, bytes: Buffer.from(csv), fileName: 'data.csv', owner: 'e2e' });
      const { runId, executionArn } = await tables.startExecution({ model, dataset: { name, version: dataset.version }, actor: 'e2e' });
      return { dataset, ...(await platform.waitForRun(runId, executionArn, { pollMs: 500 })) };
    };

    const broken = await train(withoutColumn(goodCsv(), 'income'));

    expect(broken.status).toBe('FAILED');
    expect(broken.steps).toContain('ValidateData');
    expect(broken.steps).not.toContain('Train');
    expect(broken.run!.failure).toMatchObject({ step: 'ValidateData', reason: expect.stringMatching(/required_columns \(missing column: income\)/) });
    const report = JSON.parse(await tables.objects.getText(broken.run!.validationReportUri!)) as { passed: boolean; runId: string; checks: { name: string; passed: boolean }[] };
    expect(report).toMatchObject({ passed: false, runId: broken.run!.runId });
    expect(report.checks.find((c) => c.name === 'required_columns')?.passed).toBe(false);
    expect(await platform.getDatasetVersion(name, broken.dataset.version)).toMatchObject({ quarantined: true, quarantineReason: expect.stringMatching(/income/) });
    expect(await tables.registry.listVersions(model)).toEqual([]);

    // The same check, run alone against the broken version, gives the same verdict without a run.
    const alone = await platform.validateDataset(name, broken.dataset.version, model);
    expect(alone).toMatchObject({ passed: false, reportUri: expect.stringMatching(/^s3:\/\//) });

    const good = await train(goodCsv());

    expect(good.status).toBe('SUCCEEDED');
    expect(good.run!.validationSummary).toMatch(/^all \d+ blocking checks passed/);
    expect((await tables.registry.listVersions(model)).map((v) => v.version)).toEqual([1]);
    expect(await platform.getDatasetVersion(name, good.dataset.version)).toMatchObject({ quarantined: false });
  });
});
