import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import type { RegistrationJob } from '../../../lambdas/core/data/dataset-api.js';
import { registerDataset } from '../../../lambdas/core/data/register-dataset.js';
import { sha256Hex } from '../../../lambdas/core/sha256.js';
import { createHandler, type DatasetsApiStores } from '../../../lambdas/datasets-api/handler.js';
import { MemoryObjects, MemoryRegistry, MemoryStepFunctions, MemoryTracking, registrationStores } from '../fakes.js';
import { mixedDataset, mixedSpec } from '../helpers.js';
import { MemoryLogs } from '../rollout-fakes.js';
import { ALICE, answerOf, apiEvent, type ErrorBody } from './api-event.js';

const REGISTRATION_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:registration';
const BOB = 'arn:aws:iam::000000000000:user/bob';
const table = mixedDataset('binary_classification', 120);
const csv = [table.header, ...table.rows].map((row) => row.join(',')).join('\n') + '\n';
const sha256 = sha256Hex(csv);

function api(maxDatasetBytes = 1_000_000) {
  const objects = new MemoryObjects();
  const tracking = new MemoryTracking();
  const registry = new MemoryRegistry();
  const stepFunctions = new MemoryStepFunctions();
  const stores: DatasetsApiStores = { tracking, registry, objects, reports: objects.reports(), stepFunctions, logs: new MemoryLogs() };
  const handler = createHandler(stores, { datasetsBucket: 'datasets', registrationStateMachineArn: REGISTRATION_ARN, maxDatasetBytes, logBufferSeconds: 0 });
  return { objects, tracking, registry, stepFunctions, handler };
}

/** Steps 1 to 3 of an upload, as the CLI takes them, signed by `actor`; answers the registration id. */
async function upload({ objects, handler }: ReturnType<typeof api>, actor = ALICE): Promise<string> {
  const started = answerOf<{ uploadId: string; uploadKey: string; parts: { partNumber: number }[] }>(
    await handler(apiEvent('POST', '/datasets/{name}/uploads', { params: { name: 'loans' }, body: { sha256, bytes: csv.length, format: 'csv' }, actor })),
  );
  expect(started.status).toBe(201);
  const parts = started.body.parts.map(({ partNumber }) => ({ partNumber, etag: objects.uploadPart(started.body.uploadId, partNumber, csv) }));
  const body = { uploadId: started.body.uploadId, uploadKey: started.body.uploadKey, parts, sha256, bytes: csv.length, format: 'csv' };
  const registering = answerOf<{ status: string; registrationId: string }>(await handler(apiEvent('POST', '/datasets/{name}/versions', { params: { name: 'loans' }, body, actor })));
  expect(registering.status).toBe(202);
  return registering.body.registrationId;
}

describe('the datasets API handler', () => {
  it('takes an upload to a registration whose owner is the signed caller, and answers its outcome', async () => {
    const parts = api();
    const registrationId = await upload(parts, BOB);
    const [start] = parts.stepFunctions.started;
    expect(start).toMatchObject({ stateMachineArn: REGISTRATION_ARN, name: registrationId, input: { name: 'loans', sha256, owner: BOB, source: 'upload', format: 'csv' } });

    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:registration:${registrationId}`;
    const status = () => parts.handler(apiEvent('GET', '/datasets/{name}/registrations/{registrationId}', { params: { name: 'loans', registrationId } }));
    expect(answerOf(await status()).body).toEqual({ registrationId, status: 'RUNNING' });

    // What the registration state machine does with the job: the RegisterDataset flow over the same memory.
    const output = await registerDataset(registrationStores(parts.objects, parts.tracking), start!.input as RegistrationJob, { maxBytes: 1_000_000, now: new Date('2024-03-01T00:00:00.000Z') });
    parts.stepFunctions.executions.set(executionArn, { executionArn, name: registrationId, status: 'SUCCEEDED', startedAt: '2024-03-01T00:00:00.000Z', output: JSON.stringify(output) });
    const done = answerOf<{ status: string; created: boolean; dataset: { version: string; owner: string } }>(await status());
    expect(done.body).toMatchObject({ status: 'SUCCEEDED', created: true, dataset: { version: sha256, owner: BOB } });

    // The same bytes again answer at once, without an upload.
    const again = answerOf(await parts.handler(apiEvent('POST', '/datasets/{name}/uploads', { params: { name: 'loans' }, body: { sha256, bytes: csv.length, format: 'csv' } })));
    expect(again).toMatchObject({ status: 200, body: { status: 'EXISTS', dataset: { version: sha256 } } });
    const latest = answerOf(await parts.handler(apiEvent('GET', '/datasets/{name}/versions/{version}', { params: { name: 'loans', version: 'latest' } })));
    expect(latest).toMatchObject({ status: 200, body: { name: 'loans', version: sha256, rowCount: 120 } });
  });

  it('answers a failed registration with its platform code', async () => {
    const parts = api();
    const registrationId = await upload(parts);
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:registration:${registrationId}`;
    parts.stepFunctions.executions.set(executionArn, { executionArn, name: registrationId, status: 'FAILED', startedAt: 'x', error: 'DATA_VALIDATION_FAILED', cause: 'the file is empty' });
    const failed = answerOf(await parts.handler(apiEvent('GET', '/datasets/{name}/registrations/{registrationId}', { params: { name: 'loans', registrationId } })));
    expect(failed.body).toEqual({ registrationId, status: 'FAILED', error: { code: 'DATA_VALIDATION_FAILED', message: 'the file is empty' } });
  });

  it('refuses bad bodies and paths with a 4xx naming the field, and starts nothing', async () => {
    const { handler, stepFunctions } = api(100);
    const refusal = async (event: ReturnType<typeof apiEvent>) => {
      const { status, body } = answerOf<ErrorBody>(await handler(event));
      return { status, code: body.error.code, field: body.error.field };
    };
    const uploads = (body: unknown) => apiEvent('POST', '/datasets/{name}/uploads', { params: { name: 'loans' }, body });
    expect(await refusal(uploads({ sha256, format: 'csv' }))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'bytes' });
    expect(await refusal(uploads({ sha256, bytes: csv.length, format: 'csv' }))).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'bytes' });
    expect(await refusal(uploads('{'))).toEqual({ status: 400, code: 'INVALID_JSON', field: 'body' });
    const versions = apiEvent('POST', '/datasets/{name}/versions', { params: { name: 'loans' }, body: { uploadId: 'u', uploadKey: 'uploads/other/x', parts: [{ partNumber: 1, etag: 'e' }], sha256, bytes: 1, format: 'csv' } });
    expect(await refusal(versions)).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'uploadKey' });
    expect(await refusal(apiEvent('GET', '/datasets/{name}/versions/{version}', { params: { name: 'loans', version: 'nope' } }))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'version' });
    expect(await refusal(apiEvent('GET', '/datasets/{name}/versions', { params: { name: 'Loans!' } }))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'name' });
    expect(await refusal(apiEvent('GET', '/datasets/{name}/versions/{version}', { params: { name: 'loans', version: sha256 } }))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(stepFunctions.started).toHaveLength(0);
  });

  it('validates a registered version for a model on request and stores the report, quarantining nothing', async () => {
    const parts = api();
    const registrationId = await upload(parts);
    await registerDataset(registrationStores(parts.objects, parts.tracking), parts.stepFunctions.started[0]!.input as RegistrationJob, { maxBytes: 1_000_000, now: new Date() });
    expect(registrationId).toMatch(/^loans-/);
    const spec = mixedSpec('binary_classification', 'logistic_regression', { validation: { maxMissingRate: 0.01 } });
    await parts.registry.putModel(spec, ALICE);
    const validate = (model: string) => parts.handler(apiEvent('POST', '/datasets/{name}/versions/{version}/validate', { params: { name: 'loans', version: 'latest' }, body: { model } }));
    const { status, body } = answerOf<{ passed: boolean; reportUri: string; model: string }>(await validate(spec.name));
    expect(status).toBe(200);
    expect(body).toMatchObject({ model: spec.name, passed: false, dataset: { name: 'loans', version: sha256 } });
    expect(body.reportUri).toMatch(new RegExp(`^s3://reports/validation/${spec.name}/adhoc/loans-${sha256.slice(0, 12)}-`));
    expect(await parts.objects.json(body.reportUri)).toMatchObject({ trigger: 'manual', passed: false });
    expect((await parts.tracking.getDatasetVersion('loans', sha256)).quarantinedFor).toEqual([]);
    expect(answerOf<ErrorBody>(await validate('no-such-model'))).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', field: 'model' } } });
  });
});
