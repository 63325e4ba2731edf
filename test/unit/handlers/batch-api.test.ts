import { beforeEach, describe, expect, it } from 'vitest';
import './lambda-env.js';
import { createHandler } from '../../../lambdas/batch-api/handler.js';
import { BatchJobAnswerSchema } from '../../../lambdas/contract/batch.js';
import type { ExecutionDescription } from '../../../lambdas/aws/step-functions.js';
import { MemoryObjects, MemoryRegistry, MemoryStepFunctions, modelVersion } from '../fakes.js';
import { creditSpec } from '../helpers.js';
import { ALICE, answerOf, apiEvent, type ErrorBody } from './api-event.js';

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:batch';

/** Step Functions in memory that also answers an execution's input (the job record). */
class JobStepFunctions extends MemoryStepFunctions {
  override async describe(executionArn: string, options: { withInput?: boolean } = {}): Promise<ExecutionDescription> {
    const description = await super.describe(executionArn);
    const started = this.started.find((start) => executionArn.endsWith(`:${start.name}`));
    return { ...description, ...(options.withInput && started ? { input: JSON.stringify(started.input) } : {}) };
  }
}

describe('batch API handler', () => {
  let objects: MemoryObjects;
  let registry: MemoryRegistry;
  let stepFunctions: JobStepFunctions;
  let handler: ReturnType<typeof createHandler>;
  const spec = creditSpec({ name: 'credit' });
  const upload = 'batch-jobs/uploads/credit/abc-1234.csv';

  beforeEach(async () => {
    objects = new MemoryObjects();
    registry = new MemoryRegistry();
    stepFunctions = new JobStepFunctions();
    await registry.putModel(spec, ALICE);
    const artifact = objects.store('s3://models/models/credit/v1.json', '{}');
    registry.addVersion(modelVersion(spec, 1, artifact)).addVersion(modelVersion(spec, 2, artifact, { status: 'REJECTED' })).pointAlias('credit', 'production', 1);
    objects.store(`s3://reports/${upload}`, 'a,b\n1,2\n');
    objects.store('s3://datasets/datasets/loans/abc.parquet', 'PAR1');
    handler = createHandler({ registry, objects, stepFunctions }, { stateMachineArn: MACHINE, batchBucket: 'reports', datasetsBucket: 'datasets', clock: () => new Date('2026-01-02T03:04:05Z') });
  });

  const start = async (body: unknown) => answerOf(await handler(apiEvent('POST', '/models/{model}/batch-jobs', { params: { model: 'credit' }, body })));

  it('starts a job on the production version by default, with the signed caller as actor, the job record as the execution input', async () => {
    const answer = await start({ input: { uploadKey: upload } });
    expect(answer.status).toBe(202);
    const body = BatchJobAnswerSchema.parse(answer.body);
    expect(body.job).toMatchObject({
      model: 'credit',
      version: 1,
      versionRef: 'production',
      format: 'csv',
      input: `s3://reports/${upload}`,
      output: `s3://reports/batch-jobs/${body.jobId}/output.csv`,
      errors: `s3://reports/batch-jobs/${body.jobId}/output.errors.jsonl`,
      maxErrorRate: 0.01,
      chunkRows: 5000,
      actor: ALICE,
    });
    expect(body.jobId).toMatch(/^credit-20260102030405-[0-9a-f]{6}$/);
    expect(stepFunctions.started).toEqual([{ stateMachineArn: MACHINE, name: body.jobId, input: { job: body.job } }]);
  });

  it('reads a registered dataset file as input, and takes a version number, a threshold and an output under batch-jobs/', async () => {
    const answer = await start({ version: 1, input: { uri: 's3://datasets/datasets/loans/abc.parquet' }, output: 's3://reports/batch-jobs/mine/scored.parquet', maxErrorRate: 0.2, chunkRows: 100 });
    expect(answer.status).toBe(202);
    expect(BatchJobAnswerSchema.parse(answer.body).job).toMatchObject({ version: 1, versionRef: 1, format: 'parquet', output: 's3://reports/batch-jobs/mine/scored.parquet', errors: 's3://reports/batch-jobs/mine/scored.errors.jsonl', maxErrorRate: 0.2, chunkRows: 100 });
  });

  it.each([
    [{ version: 'canary', input: { uploadKey: upload } }, 404, 'NOT_FOUND', 'alias'],
    [{ version: 9, input: { uploadKey: upload } }, 404, 'NOT_FOUND', 'version'],
    [{ version: 2, input: { uploadKey: upload } }, 409, 'VERSION_REJECTED', 'version'],
    [{ version: 'latest', input: { uploadKey: upload } }, 400, 'INVALID_INPUT', 'version'],
    [{ input: { uploadKey: upload }, format: 'xlsx' }, 400, 'UNSUPPORTED_FORMAT', 'format'],
    [{ input: { uri: 's3://reports/batch-jobs/x/in.txt' } }, 404, 'NOT_FOUND', 'input'],
    [{ input: { uri: 's3://elsewhere/in.csv' } }, 400, 'INPUT_NOT_READABLE', 'input.uri'],
    [{ input: { uploadKey: 'batch-jobs/uploads/other/abc.csv' } }, 400, 'INVALID_INPUT', 'input.uploadKey'],
    [{ input: { uploadKey: upload }, output: 's3://elsewhere/out.csv' }, 400, 'OUTPUT_NOT_WRITABLE', 'output'],
    [{ input: { uploadKey: upload }, output: 's3://reports/batch-jobs/out.jsonl' }, 400, 'UNSUPPORTED_FORMAT', 'output'],
    [{ input: { uploadKey: upload }, maxErrorRate: 2 }, 400, 'INVALID_INPUT', 'maxErrorRate'],
    [{ input: { uploadKey: upload }, extra: true }, 400, 'INVALID_INPUT', undefined],
  ])('refuses %j with %i %s, starting nothing', async (body, status, code, field) => {
    const answer = await start(body);
    expect(answer.status).toBe(status);
    expect((answer.body as ErrorBody).error).toMatchObject({ code, ...(field ? { field } : {}) });
    expect(stepFunctions.started).toEqual([]);
  });

  it('refuses an unsupported format for the upload', async () => {
    const answer = answerOf(await handler(apiEvent('POST', '/models/{model}/batch-jobs/uploads', { params: { model: 'credit' }, body: { sha256: 'a'.repeat(64), bytes: 10, format: 'xlsx' } })));
    expect(answer.status).toBe(400);
    const ok = answerOf(await handler(apiEvent('POST', '/models/{model}/batch-jobs/uploads', { params: { model: 'credit' }, body: { sha256: 'a'.repeat(64), bytes: 10, format: 'jsonl' } })));
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ uploadKey: expect.stringMatching(/^batch-jobs\/uploads\/credit\/a{64}-[0-9a-f]{8}\.jsonl$/) });
  });

  it('reports a running job, then its result, counts and downloads once Finish stored them; an unknown job is 404', async () => {
    const { jobId } = BatchJobAnswerSchema.parse((await start({ input: { uploadKey: upload } })).body);
    const arn = `${MACHINE.replace(':stateMachine:', ':execution:')}:${jobId}`;
    const show = async () => answerOf(await handler(apiEvent('GET', '/batch-jobs/{jobId}', { params: { jobId } })));
    stepFunctions.executions.set(arn, { ...stepFunctions.executions.get(arn)!, steps: ['PrepareInput', 'Prepared?', 'ScoreChunks'] });
    expect((await show()).body).toMatchObject({ jobId, status: 'RUNNING', step: 'ScoreChunks', job: { model: 'credit' } });

    const output = `s3://reports/batch-jobs/${jobId}/output.csv`;
    const result = { status: 'FAILED', counts: { rows: 10, scored: 8, bad: 2 }, errorRate: 0.2, output, errors: output.replace('.csv', '.errors.jsonl'), error: { code: 'TOO_MANY_BAD_ROWS', message: '2 of 10 rows are bad' } };
    objects.store(`s3://reports/batch-jobs/${jobId}/result.json`, JSON.stringify(result));
    stepFunctions.executions.set(arn, { ...stepFunctions.executions.get(arn)!, status: 'FAILED', error: 'TOO_MANY_BAD_ROWS', cause: '2 of 10 rows are bad', stoppedAt: '2026-01-02T03:05:00.000Z' });
    const ended = await show();
    expect(ended.body).toMatchObject({ status: 'FAILED', counts: result.counts, errorRate: 0.2, error: result.error, downloads: { output: expect.stringContaining(`/batch-jobs/${jobId}/output.csv`) } });

    const missing = answerOf(await handler(apiEvent('GET', '/batch-jobs/{jobId}', { params: { jobId: 'nope' } })));
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', field: 'jobId' } } });
  });

  it('reports a job Prepare refused with its code and message, without downloads', async () => {
    const { jobId } = BatchJobAnswerSchema.parse((await start({ input: { uploadKey: upload } })).body);
    const arn = `${MACHINE.replace(':stateMachine:', ':execution:')}:${jobId}`;
    stepFunctions.executions.set(arn, { ...stepFunctions.executions.get(arn)!, status: 'FAILED', error: 'MISSING_FEATURES', cause: 'the input has no column for feature(s) age' });
    const answer = answerOf(await handler(apiEvent('GET', '/batch-jobs/{jobId}', { params: { jobId } })));
    expect(answer.body).toMatchObject({ status: 'FAILED', error: { code: 'MISSING_FEATURES', message: expect.stringMatching(/age/) } });
    expect(answer.body).not.toHaveProperty('downloads');
  });
});
