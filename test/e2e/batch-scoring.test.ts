import { DescribeMapRunCommand, ListMapRunsCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { parseCsv } from '../../lambdas/core/data/csv.js';
import { bufferFile } from '../../lambdas/core/data/table-readers.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { creditSpec, goodCsv, mlops, platformClient, uniqueName } from './fixtures.js';

// Batch scoring on the emulator: `mlops score` uploads a local file, runs the batch state machine
// (Prepare -> Distributed Map of ScoreChunk over an S3 ItemReader -> Finish) and downloads the
// predictions and the errors file. One credit model, trained and released once (v1 in production).

const FEATURES = ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'];

describe('batch scoring through mlops score', () => {
  let platform: PlatformClient;
  const model = uniqueName('e2e-batch');
  const dataset = uniqueName('e2e-batch-data');
  const dir = mkdtempSync(join(tmpdir(), 'mlops-batch-'));
  // 120 rows; the 38th data row (line 39: the header is line 1) has a bad age.
  const source = parseCsv(makeCreditDataset(120, 5));
  const BAD_INDEX = 37;
  const badLine = BAD_INDEX + 2;

  beforeAll(async () => {
    platform = platformClient();
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(goodCsv()), fileName: 'data.csv', owner: 'e2e' });
    await platform.createModel(creditSpec(model, dataset));
    const run = await platform.startRun(model, { release: true });
    const outcome = await platform.waitForRun(run.runId, run.executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status).toBe('SUCCEEDED');
  }, 300_000);

  /** Online predictions of rows (as the source's text), from the serving API. */
  async function online(rows: string[][]): Promise<{ label: string; probabilities: Record<string, number> }[]> {
    const instances = rows.map((cells) => Object.fromEntries(FEATURES.map((name) => [name, Number(cells[source.header.indexOf(name)])])));
    const response = await platform.predict(model, JSON.stringify({ instances }));
    expect(response.status).toBe(200);
    return (response.body as { predictions: { label: string; probabilities: Record<string, number> }[] }).predictions;
  }

  it('scores a local CSV file with a bad row: predictions in row order, as online, and an errors file naming the bad line', async () => {
    const rows = source.rows.map((cells, i) => (i === BAD_INDEX ? ['forty', ...cells.slice(1)] : cells));
    const input = join(dir, 'applicants.csv');
    writeFileSync(input, [source.header, ...rows].map((cells) => cells.join(',')).join('\n') + '\n');
    const output = join(dir, 'scored.csv');

    const scored = await mlops('score', model, '--input', input, '--output', output, '--chunk-rows', '50');
    expect(scored.code).toBe(0);
    expect(scored.json).toMatchObject({
      status: 'SUCCEEDED',
      counts: { rows: 120, scored: 119, bad: 1 },
      job: { model, version: 1, versionRef: 'production', format: 'csv', maxErrorRate: 0.01, chunkRows: 50 },
      localOutput: output,
      localErrors: join(dir, 'scored.errors.jsonl'),
    });
    // The actor is the signed caller, not a name the client sent.
    expect(scored.json.job.actor).toMatch(/^arn:aws:(iam|sts)::\d{12}:/);

    const result = parseCsv(readFileSync(output, 'utf8'));
    expect(result.header).toEqual([...source.header, 'prediction', 'probability_0', 'probability_1']);
    const good = rows.filter((_, i) => i !== BAD_INDEX);
    // Row order kept across three chunks: every input column comes back in place.
    expect(result.rows.map((cells) => cells.slice(0, source.header.length))).toEqual(good);

    const sample = [0, 60, 118];
    const predictions = await online(sample.map((i) => good[i]!));
    sample.forEach((i, k) => {
      const cells = result.rows[i]!;
      expect(cells.at(-3)).toBe(predictions[k]!.label);
      expect(Number(cells.at(-2))).toBeCloseTo(predictions[k]!.probabilities['0']!, 12);
      expect(Number(cells.at(-1))).toBeCloseTo(predictions[k]!.probabilities['1']!, 12);
    });

    const errors = readFileSync(join(dir, 'scored.errors.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(errors).toEqual([{ line: badLine, field: 'age', problem: expect.stringMatching(/number/) }]);

    // The chunks ran as a Distributed Map: one map run, one child execution per chunk (120 rows / 50).
    const sfn = new SFNClient({});
    const { stateMachines = [] } = await sfn.send(new ListStateMachinesCommand({}));
    const machine = stateMachines.find((candidate) => candidate.name?.includes('BatchScoring'));
    const executionArn = `${machine!.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${scored.json.jobId}`;
    const { mapRuns = [] } = await sfn.send(new ListMapRunsCommand({ executionArn }));
    expect(mapRuns).toHaveLength(1);
    const mapRun = await sfn.send(new DescribeMapRunCommand({ mapRunArn: mapRuns[0]!.mapRunArn! }));
    expect(mapRun).toMatchObject({ status: 'SUCCEEDED', maxConcurrency: 10, itemCounts: { total: 3, succeeded: 3, failed: 0 } });
  });

  it('keeps JSON Lines as JSON Lines, and fails a job whose bad rows pass the threshold (output still written)', async () => {
    const header = source.header;
    const lines = source.rows.slice(0, 30).map((cells) => JSON.stringify(Object.fromEntries(header.map((name, i) => [name, Number(cells[i])]))));
    lines.splice(4, 0, '{"age": 40, "income": ');
    const input = join(dir, 'applicants.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);

    const passing = await mlops('score', `${model}@1`, '--input', input, '--output', join(dir, 'scored.jsonl'), '--max-error-rate', '0.05');
    expect(passing).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', counts: { rows: 31, scored: 30, bad: 1 }, job: { format: 'jsonl', versionRef: 1 } } });
    const records = readFileSync(join(dir, 'scored.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(records).toHaveLength(30);
    expect(records[0]).toEqual({ ...JSON.parse(lines[0]!), prediction: expect.any(String), probability_0: expect.any(Number), probability_1: expect.any(Number) });
    expect(records.map((record) => record.age)).toEqual(source.rows.slice(0, 30).map((cells) => Number(cells[0])));
    expect(JSON.parse(readFileSync(join(dir, 'scored.errors.jsonl'), 'utf8'))).toMatchObject({ line: 5, field: '(line)', problem: expect.stringMatching(/not valid JSON/) });

    const failing = await mlops('score', model, '--input', input, '--output', join(dir, 'strict.jsonl'), '--max-error-rate', '0');
    expect(failing).toMatchObject({ code: 1, json: { status: 'FAILED', counts: { bad: 1 }, error: { code: 'TOO_MANY_BAD_ROWS' } } });
    expect(readFileSync(join(dir, 'strict.jsonl'), 'utf8').trim().split('\n')).toHaveLength(30);
  });

  it('keeps Parquet as Parquet', async () => {
    const rows = source.rows.slice(0, 20);
    const columnData = source.header.map((name, i) => ({ name, data: rows.map((cells) => Number(cells[i])), type: 'DOUBLE' as const }));
    const input = join(dir, 'applicants.parquet');
    writeFileSync(input, new Uint8Array(parquetWriteBuffer({ columnData })));
    const output = join(dir, 'scored.parquet');
    const scored = await mlops('score', model, '--input', input, '--output', output);
    expect(scored).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', counts: { rows: 20, scored: 20, bad: 0 }, job: { format: 'parquet' } } });
    const records = await parquetReadObjects({ file: bufferFile(new Uint8Array(readFileSync(output))) });
    expect(records.map((record) => record.income)).toEqual(rows.map((cells) => Number(cells[1])));
    const predictions = await online([rows[3]!]);
    expect(records[3]!.prediction).toBe(predictions[0]!.label);
    expect(records[3]!.probability_1).toBeCloseTo(predictions[0]!.probabilities['1']!, 12);
  });

  it('refuses a version or alias that does not exist, an unsupported format, an input it may not read and an unknown job, with codes', async () => {
    writeFileSync(join(dir, 'x.csv'), `${source.header.join(',')}\n${source.rows[0]!.join(',')}\n`);
    expect(await mlops('score', `${model}@7`, '--input', join(dir, 'x.csv'), '--no-wait')).toMatchObject({ code: 1, json: { error: { code: 'NOT_FOUND' } } });
    expect(await mlops('score', `${model}@canary`, '--input', join(dir, 'x.csv'), '--no-wait')).toMatchObject({ code: 1, json: { error: { code: 'NOT_FOUND', field: 'alias' } } });
    const upload = await platform.uploadBatchInput(model, join(dir, 'x.csv'), 'csv');
    await expect(platform.startBatchJob(model, { input: { uploadKey: upload.uploadKey }, format: 'xlsx' })).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT', field: 'format' });
    await expect(platform.startBatchJob(model, { input: { uri: 's3://someone-elses-bucket/data.csv' } })).rejects.toMatchObject({ code: 'INPUT_NOT_READABLE' });
    await expect(platform.getBatchJob('no-such-job')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
