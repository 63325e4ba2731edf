import './lambda-env.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { onnxScorer } from '../../../lambdas/aws/onnx-sessions.js';
import type { ServingStores } from '../../../lambdas/core/serving/serve.js';
import { trainModel } from '../../../lambdas/core/training/train-model.js';
import { createHandler } from '../../../lambdas/predict/handler.js';
import { MemoryObjects, MemoryRegistry, modelVersion } from '../fakes.js';
import { mixedDataset, mixedSpec } from '../helpers.js';
import { answerOf, apiEvent, type ErrorBody } from './api-event.js';

const spec = mixedSpec('binary_classification', 'logistic_regression');
const NOW = new Date('2024-03-01T12:00:00.000Z');
const row = { age: 40, income: 52000, debt: 0.3, plan: 'plus' };
let first: string;
let second: string;

beforeAll(() => {
  const table = mixedDataset('binary_classification', 200);
  first = trainModel(table, spec).artifactText;
  second = trainModel(table, mixedSpec('binary_classification', 'gradient_boosting')).artifactText;
});

function serving() {
  const objects = new MemoryObjects();
  const registry = new MemoryRegistry();
  const stores: ServingStores = {
    registry,
    artifacts: objects,
    onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
    logs: { put: (key, json) => objects.put('prediction-logs', key, json) },
  };
  return { objects, registry, handler: createHandler(stores, { sdk: 'test', clock: () => NOW }) };
}

const predict = (model: string, body: unknown, requestId = 'req-1') =>
  ({ ...apiEvent('POST', '/models/{model}/predict', { params: { model }, body }), requestContext: { requestId } }) as ReturnType<typeof apiEvent>;

describe('the Predict handler', () => {
  it('serves production\'s prediction and logs the request with its version; an alias move takes effect on the next request', async () => {
    const { objects, registry, handler } = serving();
    await registry.putModel(spec, 'test');
    registry.addVersion(modelVersion(spec, 1, objects.store('s3://models/v1.json', first))).pointAlias(spec.name, 'production', 1);

    const single = await handler(predict(spec.name, { inputs: row }));
    expect(single.headers).toMatchObject({ 'x-request-id': 'req-1', 'x-mlops-sdk': 'test' });
    const { status, body } = answerOf<{ version: number; prediction: { label: string; probability: number } }>(single);
    expect(status).toBe(200);
    expect(body).toMatchObject({ model: spec.name, version: 1, requestId: 'req-1' });
    expect(['yes', 'no']).toContain(body.prediction.label);
    const log = await objects.json(`s3://prediction-logs/predictions/model=${spec.name}/date=2024-03-01/req-1.json`);
    expect(log).toMatchObject({ requestId: 'req-1', model: spec.name, version: 1, arm: 'production', at: NOW.toISOString(), inputs: [row], outputs: [body.prediction] });

    registry.addVersion(modelVersion(spec, 2, objects.store('s3://models/v2.json', second))).pointAlias(spec.name, 'production', 2);
    const batch = answerOf<{ version: number; predictions: unknown[] }>(await handler(predict(spec.name, { instances: [row, row] }, 'req-2')));
    expect(batch.body).toMatchObject({ version: 2 });
    expect(batch.body.predictions).toHaveLength(2);
  });

  it('answers 404 for an unknown model and for one without production, 400 for a body that is not JSON or misses a feature', async () => {
    const { objects, registry, handler } = serving();
    const codeOf = async (event: ReturnType<typeof apiEvent>) => {
      const { status, body } = answerOf<ErrorBody & { error: { fields?: unknown } }>(await handler(event));
      return { status, code: body.error.code, fields: body.error.fields };
    };
    expect(await codeOf(predict('nobody', { inputs: row }))).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect(await codeOf(predict('Not A Name!', { inputs: row }))).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    await registry.putModel(spec, 'test');
    expect(await codeOf(predict(spec.name, { inputs: row }))).toMatchObject({ status: 404, code: 'NO_PRODUCTION_VERSION' });

    registry.addVersion(modelVersion(spec, 1, objects.store('s3://models/v1.json', first))).pointAlias(spec.name, 'production', 1);
    expect(await codeOf(predict(spec.name, '{not json'))).toMatchObject({ status: 400, code: 'INVALID_JSON' });
    const { age: _age, ...withoutAge } = row;
    expect(await codeOf(predict(spec.name, { inputs: withoutAge }))).toEqual({ status: 400, code: 'INVALID_REQUEST', fields: [{ field: 'inputs.age', problem: 'required' }] });
    expect([...objects.objects.keys()].some((uri) => uri.startsWith('s3://prediction-logs/'))).toBe(false);
  });
});
