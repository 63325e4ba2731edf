import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import type { DatasetSchema } from '../../../lambdas/core/data/profile.js';
import type { RunRecord } from '../../../lambdas/core/training/run.js';
import { createHandler, type RunsApiStores } from '../../../lambdas/runs-api/handler.js';
import { datasetVersion, MemoryObjects, MemoryRegistry, MemoryStepFunctions, MemoryTracking } from '../fakes.js';
import { smallSpec } from '../helpers.js';
import { ALICE, answerOf, apiEvent, type ErrorBody } from './api-event.js';

const PIPELINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:training';
const BOB = 'arn:aws:iam::000000000000:user/bob';
const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const schema: DatasetSchema = {
  source: 'inferred',
  columns: [
    { name: 'x1', type: 'numeric', nullable: false },
    { name: 'x2', type: 'numeric', nullable: false },
    { name: 'label', type: 'string', nullable: false },
  ],
};
const spec = smallSpec({ dataset: 'small-data' });

function api() {
  const registry = new MemoryRegistry();
  const tracking = new MemoryTracking()
    .addDataset(datasetVersion({ name: 'small-data', version: OLD, schema, arrivedAt: '2024-01-01T00:00:00.000Z' }))
    .addDataset(datasetVersion({ name: 'small-data', version: NEW, schema, arrivedAt: '2024-02-01T00:00:00.000Z' }));
  const stepFunctions = new MemoryStepFunctions();
  const objects = new MemoryObjects();
  const stores: RunsApiStores = { registry, tracking, objects, stepFunctions };
  return { registry, tracking, stepFunctions, objects, handler: createHandler(stores, { trainingPipelineArn: PIPELINE_ARN, modelsBucket: 'models' }) };
}

function run(runId: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId,
    model: spec.name,
    status: 'SUCCEEDED',
    trigger: 'manual',
    actor: ALICE,
    dataset: { name: 'small-data', version: OLD, uri: `s3://datasets/datasets/small-data/${OLD}.csv` },
    specHash: 'h',
    codeVersion: 'c',
    algorithm: 'logistic_regression',
    parameters: { C: 1 },
    mode: 'train',
    seed: 42,
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:training:${runId}`,
    startedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const refusal = async (result: Promise<Parameters<typeof answerOf>[0]>) => {
  const { status, body } = answerOf<ErrorBody>(await result);
  return { status, code: body.error.code, field: body.error.field };
};

describe('the runs API handler', () => {
  it('starts a training as the signed caller on the newest dataset version, saying which it chose', async () => {
    const { registry, stepFunctions, handler } = api();
    await registry.putModel(spec, ALICE);
    const answer = answerOf<{ runId: string; executionArn: string }>(await handler(apiEvent('POST', '/models/{model}/runs', { params: { model: spec.name }, body: { params: { C: 0.5 } }, actor: BOB })));
    expect(answer).toMatchObject({ status: 202, body: { status: 'RUNNING', dataset: { name: 'small-data', version: NEW } } });
    expect(answer.body.runId).toMatch(/^small-model-\d{14}-[0-9a-f]{6}$/);
    expect(stepFunctions.started).toEqual([
      {
        stateMachineArn: PIPELINE_ARN,
        name: answer.body.runId,
        input: { model: spec.name, dataset: { name: 'small-data', version: NEW }, actor: BOB, release: true, mode: 'train', trigger: 'manual', params: { C: 0.5 } },
      },
    ]);
    expect(answer.body.executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:training:${answer.body.runId}`);
  });

  it('refuses a bad body or path naming the field, and starts nothing', async () => {
    const { registry, stepFunctions, handler } = api();
    await registry.putModel(spec, ALICE);
    const start = (body: unknown) => handler(apiEvent('POST', '/models/{model}/runs', { params: { model: spec.name }, body }));
    expect(await refusal(start({ mode: 'bogus' }))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'mode' });
    expect(await refusal(start({ dataset: { name: 'small-data', version: 'c'.repeat(64) } }))).toMatchObject({ status: 404, code: 'NOT_FOUND', field: 'dataset.version' });
    expect(await refusal(handler(apiEvent('POST', '/models/{model}/runs', { params: { model: 'Nope!' }, body: {} })))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'model' });
    expect(await refusal(handler(apiEvent('GET', '/runs/{runId}', { params: { runId: 'has spaces' } })))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'runId' });
    expect(await refusal(handler(apiEvent('GET', '/runs/{runId}', { params: { runId: 'never-started' } })))).toEqual({ status: 404, code: 'NOT_FOUND', field: 'runId' });
    expect(await refusal(handler(apiEvent('GET', '/runs', { query: { model: spec.name, status: 'DONE' } })))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'status' });
    expect(stepFunctions.started).toHaveLength(0);
  });

  it('shows a run with its execution\'s steps, lists a model\'s runs by status, and compares runs', async () => {
    const { tracking, stepFunctions, handler } = api();
    const first = run('small-model-1', { metrics: { auc: 0.8 } });
    const second = run('small-model-2', { status: 'FAILED', startedAt: '2024-01-02T00:00:00.000Z', metrics: { auc: 0.7 }, parameters: { C: 2 } });
    await tracking.createRun(first);
    await tracking.createRun(second);
    stepFunctions.executions.set(first.executionArn, { executionArn: first.executionArn, name: first.runId, status: 'SUCCEEDED', startedAt: first.startedAt, output: '{}', steps: ['StartRun', 'Train'] });

    const shown = answerOf(await handler(apiEvent('GET', '/runs/{runId}', { params: { runId: first.runId } })));
    expect(shown).toEqual({ status: 200, body: { run: first, execution: { executionArn: first.executionArn, status: 'SUCCEEDED', startedAt: first.startedAt, steps: ['StartRun', 'Train'] } } });

    const failed = answerOf(await handler(apiEvent('GET', '/runs', { query: { model: spec.name, status: 'FAILED' } })));
    expect(failed).toEqual({ status: 200, body: { runs: [second] } });

    const compared = answerOf(await handler(apiEvent('POST', '/runs/compare', { body: { runIds: [first.runId, second.runId] } })));
    expect(compared).toMatchObject({ status: 200, body: { runs: [first.runId, second.runId] } });
    expect(await refusal(handler(apiEvent('POST', '/runs/compare', { body: { runIds: [first.runId, first.runId] } })))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'runIds' });
  });
});
