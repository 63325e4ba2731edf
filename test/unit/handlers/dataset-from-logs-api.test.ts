import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import { DatasetFromLogsAnswerSchema } from '../../../lambdas/contract/datasets.js';
import { logPrefix } from '../../../lambdas/core/serving/records.js';
import { createHandler, type DatasetsApiStores } from '../../../lambdas/datasets-api/handler.js';
import { MemoryObjects, MemoryRegistry, MemoryStepFunctions, MemoryTracking } from '../fakes.js';
import { mixedSpec } from '../helpers.js';
import { MemoryLogs } from '../rollout-fakes.js';
import { answerOf, apiEvent, type ErrorBody } from './api-event.js';

const REGISTRATION_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:registration';
const BOB = 'arn:aws:iam::000000000000:user/bob';
const ROUTE = '/models/{model}/datasets/from-logs';

async function api(specOverrides: Record<string, unknown> = {}) {
  const objects = new MemoryObjects();
  const tracking = new MemoryTracking();
  const registry = new MemoryRegistry();
  const stepFunctions = new MemoryStepFunctions();
  const logs = new MemoryLogs();
  const spec = mixedSpec('binary_classification', 'logistic_regression', { dataset: 'loans-data', ...specOverrides });
  await registry.putModel(spec, BOB);
  // One labelled request a minute old (the route's window ends now minus the buffer, 0 here).
  const at = new Date(Date.now() - 60_000).toISOString();
  const date = at.slice(0, 10);
  logs.put(`${logPrefix('predictions', spec.name, 1, date)}a`, [
    { requestId: 'r1', at, model: spec.name, version: 1, arm: 'production', inputs: [{ age: 30, income: 1000, debt: 0.3, plan: 'pro' }], outputs: [{ label: 'yes' }], latencyMs: 1 },
  ]);
  logs.put(`${logPrefix('feedback', spec.name, 1, date)}f`, [{ requestId: 'r1', row: 0, model: spec.name, version: 1, arm: 'production', label: 'no', at, actor: BOB }]);
  const stores: DatasetsApiStores = { tracking, registry, objects, reports: objects.reports(), stepFunctions, logs };
  const handler = createHandler(stores, { datasetsBucket: 'datasets', registrationStateMachineArn: REGISTRATION_ARN, maxDatasetBytes: 1_000_000, logBufferSeconds: 0 });
  return { objects, stepFunctions, handler, spec };
}

describe('POST /models/{model}/datasets/from-logs', () => {
  it('builds the file under uploads/ and starts the same registration state machine as an upload, owned by the signed caller', async () => {
    const { handler, stepFunctions, objects, spec } = await api();
    const answer = answerOf(await handler(apiEvent('POST', ROUTE, { params: { model: spec.name }, body: { window: '1h', logsOnly: true }, actor: BOB })));
    expect(answer.status).toBe(202);
    const body = DatasetFromLogsAnswerSchema.parse(answer.body);
    expect(body).toMatchObject({ status: 'RUNNING', dataset: { name: 'loans-data', rows: 1 }, lineage: { labelledRows: 1, actor: BOB, base: null } });
    const [start] = stepFunctions.started;
    expect(start).toMatchObject({ stateMachineArn: REGISTRATION_ARN, name: body.registrationId, input: { name: 'loans-data', sha256: body.dataset.version, owner: BOB, lineage: body.lineage } });
    expect(body.registrationId).toMatch(new RegExp(`^loans-data-${body.dataset.version.slice(0, 8)}-[a-f0-9]{6}$`));
    const uploadUri = (start!.input as { uploadUri: string }).uploadUri;
    expect(uploadUri.startsWith('s3://datasets/uploads/loans-data/')).toBe(true);
    expect(new TextDecoder().decode(objects.objects.get(uploadUri))).toBe('age,income,debt,plan,target\n30,1000,0.3,pro,no\n');
  });

  it('answers refusals as 4xx with their code and field, and starts nothing', async () => {
    const { handler, stepFunctions, spec } = await api({ logging: { drop: ['income'] } });
    const call = async (model: string, body: unknown) => answerOf<ErrorBody>(await handler(apiEvent('POST', ROUTE, { params: { model }, body })));
    expect(await call(spec.name, {})).toMatchObject({ status: 409, body: { error: { code: 'FEATURES_NOT_LOGGED', field: 'logging' } } });
    expect(await call('Bad Name', {})).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', field: 'model' } } });
    expect(await call('no-such-model', {})).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await call(spec.name, { window: '1h', extra: true })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT' } } });
    const other = await api();
    expect(answerOf<ErrorBody>(await other.handler(apiEvent('POST', ROUTE, { params: { model: other.spec.name }, body: { from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' } })))).toMatchObject({
      status: 409,
      body: { error: { code: 'NO_LABELLED_ROWS', field: 'from' } },
    });
    expect(stepFunctions.started).toEqual([]);
    expect(other.stepFunctions.started).toEqual([]);
  });
});
