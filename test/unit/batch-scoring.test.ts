import { beforeAll, describe, expect, it } from 'vitest';
import { finishJob, prepareJob, scoreChunk, type BatchStores } from '../../lambdas/core/batch/batch-scoring.js';
import { ManifestSchema, resultKey, type BatchJob } from '../../lambdas/core/batch/job.js';
import { parseCsv } from '../../lambdas/core/data/csv.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import { sha256Hex } from '../../lambdas/core/sha256.js';
import { loadModelFile } from '../../lambdas/core/serving/model-file.js';
import { predict } from '../../lambdas/core/serving/predict.js';
import { serializeArtifact, type ModelArtifact } from '../../lambdas/core/training/artifact.js';
import { trainModel } from '../../lambdas/core/training/train-model.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { creditSpec } from './helpers.js';

/** S3 in memory: objects by URI. */
class MemoryFiles {
  readonly objects = new Map<string, Uint8Array>();
  async *stream(uri: string) {
    const bytes = this.bytes(uri);
    // Small reads, so records straddle chunks as they do from S3.
    for (let i = 0; i < bytes.length; i += 97) yield bytes.subarray(i, i + 97);
  }
  async file(uri: string) {
    const bytes = this.bytes(uri);
    return { byteLength: bytes.byteLength, slice: (start: number, end?: number) => bytes.slice(start, end).buffer as ArrayBuffer };
  }
  async getText(uri: string) {
    return Buffer.from(this.bytes(uri)).toString('utf8');
  }
  async getBytes(uri: string) {
    return this.bytes(uri);
  }
  async put(bucket: string, key: string, body: string | Uint8Array) {
    this.objects.set(`s3://${bucket}/${key}`, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
    return `s3://${bucket}/${key}`;
  }
  text(uri: string): string {
    return Buffer.from(this.bytes(uri)).toString('utf8');
  }
  private bytes(uri: string): Uint8Array {
    const bytes = this.objects.get(uri);
    if (!bytes) throw new MlopsError('NOT_FOUND', `object ${uri} does not exist`);
    return bytes;
  }
}

let artifact: ModelArtifact;
let artifactText: string;
beforeAll(() => {
  artifact = trainModel(parseCsv(makeCreditDataset(600, 3)), creditSpec({ validation: {} })).artifact;
  artifactText = serializeArtifact(artifact);
});

function setUp(input: string, format: BatchJob['format'], overrides: Partial<BatchJob> = {}) {
  const files = new MemoryFiles();
  const artifactUri = 's3://models/models/credit/v1.json';
  files.objects.set(artifactUri, Buffer.from(artifactText, 'utf8'));
  const inputUri = `s3://reports/batch-jobs/uploads/credit/in.${format}`;
  files.objects.set(inputUri, Buffer.from(input, 'utf8'));
  const stores: BatchStores = {
    files,
    modelFile: (ref) => loadModelFile(files, ref),
    onnx: () => {
      throw new Error('not an imported model');
    },
  };
  const job: BatchJob = {
    jobId: 'credit-20260101000000-abc123',
    model: 'credit',
    version: 1,
    versionRef: 'production',
    artifact: { uri: artifactUri, sha256: sha256Hex(Buffer.from(artifactText, 'utf8')) },
    format,
    input: inputUri,
    output: 's3://reports/batch-jobs/credit-20260101000000-abc123/output.csv',
    errors: 's3://reports/batch-jobs/credit-20260101000000-abc123/output.errors.jsonl',
    bucket: 'reports',
    maxErrorRate: 0.01,
    chunkRows: 10,
    actor: 'arn:aws:iam::000000000000:user/alice',
    requestedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
  return { files, stores, job };
}

/** Prepare, every chunk (in reverse, as a Map may finish them), Finish. */
async function runJob(stores: BatchStores, files: MemoryFiles, job: BatchJob) {
  const prepared = await prepareJob(stores, job);
  if (prepared.status !== 'PREPARED') throw new Error(`refused: ${JSON.stringify(prepared)}`);
  const manifest = ManifestSchema.parse(JSON.parse(files.text(`s3://${job.bucket}/${prepared.manifestKey}`)));
  for (const chunk of [...manifest].reverse()) await scoreChunk(stores, job, chunk);
  return { prepared, manifest, result: await finishJob(stores, job) };
}

describe('a batch job, step by step, in memory', () => {
  const source = parseCsv(makeCreditDataset(25, 9));
  const csvOf = (rows: string[][]) => [source.header, ...rows].map((cells) => cells.join(',')).join('\n') + '\n';

  it('scores every good row as predict() does, keeps row order across chunks, and lists the bad rows by line', async () => {
    const rows = source.rows.map((cells, i) => (i === 12 ? [cells[0]!, 'lots', ...cells.slice(2)] : cells));
    const { files, stores, job } = setUp(csvOf(rows) + '1,2\n', 'csv', { maxErrorRate: 0.1 });
    const { prepared, manifest, result } = await runJob(stores, files, job);

    expect(prepared).toMatchObject({ chunks: 3, rows: 26 });
    expect(manifest.map((chunk) => chunk.rows)).toEqual([10, 10, 6]);
    expect(result).toMatchObject({ status: 'SUCCEEDED', counts: { rows: 26, scored: 24, bad: 2 }, output: job.output, errors: job.errors });

    const output = parseCsv(files.text(job.output));
    expect(output.header).toEqual([...source.header, 'prediction', 'probability_0', 'probability_1']);
    const good = rows.filter((_, i) => i !== 12);
    expect(output.rows.map((cells) => cells.slice(0, source.header.length))).toEqual(good);
    good.forEach((cells, i) => {
      const expected = predict(artifact, Object.fromEntries(artifact.features.map((f) => [f.name, Number(cells[source.header.indexOf(f.name)])])));
      if (!('probabilities' in expected)) throw new Error('expected a classification');
      expect(output.rows[i]!.slice(-3)).toEqual([expected.label, String(expected.probabilities['0']), String(expected.probabilities['1'])]);
    });

    const errors = files.text(job.errors).trim().split('\n').map((line) => JSON.parse(line));
    expect(errors).toEqual([
      { line: 14, field: 'income', problem: 'expected a number, got string' },
      { line: 27, field: '(row)', problem: 'has 2 fields, the header has 6' },
    ]);
  });

  it('fails the job above the threshold, still writing the output, the errors and the result', async () => {
    const rows = source.rows.map((cells, i) => (i < 2 ? ['old', ...cells.slice(1)] : cells));
    const { files, stores, job } = setUp(csvOf(rows), 'csv');
    const { result } = await runJob(stores, files, job);
    expect(result).toMatchObject({ status: 'FAILED', counts: { rows: 25, scored: 23, bad: 2 }, error: { code: 'TOO_MANY_BAD_ROWS' } });
    expect(result.error!.message).toMatch(/2 of 25 rows are bad \(8\.00%\), above the 1\.00% allowed/);
    expect(JSON.parse(files.text(`s3://reports/${resultKey(job.jobId)}`))).toEqual(result);
    expect(parseCsv(files.text(job.output)).rows).toHaveLength(23);
  });

  it('keeps JSON Lines as JSON Lines, values typed as they came', async () => {
    const lines = source.rows.slice(0, 5).map((cells) => JSON.stringify(Object.fromEntries(source.header.map((name, i) => [name, Number(cells[i])]))));
    const { files, stores, job } = setUp(`${lines.join('\n')}\n`, 'jsonl', { output: 's3://reports/batch-jobs/j/out.jsonl', errors: 's3://reports/batch-jobs/j/out.errors.jsonl' });
    const { result } = await runJob(stores, files, job);
    expect(result.counts).toEqual({ rows: 5, scored: 5, bad: 0 });
    const records = files.text(job.output).trim().split('\n').map((line) => JSON.parse(line));
    expect(records.map((record) => record.age)).toEqual(source.rows.slice(0, 5).map((cells) => Number(cells[0])));
    expect(Object.keys(records[0]!)).toEqual([...source.header, 'prediction', 'probability_0', 'probability_1']);
    expect(files.text(job.errors)).toBe('');
  });

  it('refuses an input without a feature column or with a column the output adds, writing no plan', async () => {
    const missing = setUp('age,income\n40,50000\n', 'csv');
    expect(await prepareJob(missing.stores, missing.job)).toEqual({ status: 'REJECTED', error: { code: 'MISSING_FEATURES', message: expect.stringMatching(/debt_ratio, credit_lines, late_payments/) } });
    const clash = setUp(csvOf(source.rows.slice(0, 2)).replace('defaulted', 'prediction'), 'csv');
    expect(await prepareJob(clash.stores, clash.job)).toMatchObject({ status: 'REJECTED', error: { code: 'COLUMN_CONFLICT' } });
    expect([...clash.files.objects.keys()].some((uri) => uri.endsWith('plan.json'))).toBe(false);
  });

  it('refuses a file that is not a table with its code, and scores nothing with a model file that fails its sha256', async () => {
    const broken = setUp('a,b\n1,"never closed\n', 'csv');
    expect(await prepareJob(broken.stores, broken.job)).toMatchObject({ status: 'REJECTED', error: { code: 'DATA_VALIDATION_FAILED', message: expect.stringMatching(/unterminated/) } });
    const tampered = setUp(csvOf(source.rows.slice(0, 2)), 'csv');
    tampered.files.objects.set(tampered.job.artifact.uri, Buffer.from(artifactText.replace('"task"', ' "task"'), 'utf8'));
    await expect(prepareJob(tampered.stores, tampered.job)).rejects.toMatchObject({ code: 'ARTIFACT_MISMATCH' });
  });

  it('fails Prepare when a chunk cannot be written, instead of planning a chunk that is not there', async () => {
    const { files, stores, job } = setUp(csvOf(source.rows), 'csv');
    const put = files.put.bind(files);
    files.put = async (bucket, key, body) => {
      if (key.endsWith('000001.json')) throw new Error('SlowDown');
      return put(bucket, key, body);
    };
    await expect(prepareJob(stores, job)).rejects.toThrow('SlowDown');
    expect([...files.objects.keys()].some((uri) => uri.endsWith('manifest.json'))).toBe(false);
  });

  it('checks the files steps hand each other against their schemas', async () => {
    const { files, stores, job } = setUp(csvOf(source.rows.slice(0, 3)), 'csv');
    const prepared = await prepareJob(stores, job);
    if (prepared.status !== 'PREPARED') throw new Error('refused');
    const [chunk] = ManifestSchema.parse(JSON.parse(files.text(`s3://reports/${prepared.manifestKey}`)));
    files.objects.set(`s3://reports/${chunk!.chunkKey}`, Buffer.from('{"index":0,"rows":[{"at":0,"cells":[]}]}'));
    await expect(scoreChunk(stores, job, chunk!)).rejects.toMatchObject({ code: 'BATCH_FILE_INVALID', message: expect.stringMatching(/chunk file .* rows\.0\.at/) });
  });
});
