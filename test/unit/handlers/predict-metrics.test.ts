import './lambda-env.js';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { onnxScorer } from '../../../lambdas/aws/onnx-sessions.js';
import type { ServingStores } from '../../../lambdas/core/serving/serve.js';
import { trainModel } from '../../../lambdas/core/training/train-model.js';
import { createHandler, servingMetrics, type RequestObservation } from '../../../lambdas/predict/handler.js';
import { MemoryObjects, MemoryRegistry, modelVersion } from '../fakes.js';
import { mixedDataset, mixedSpec } from '../helpers.js';
import { apiEvent } from './api-event.js';

const spec = mixedSpec('binary_classification', 'logistic_regression');
const row = { age: 40, income: 52000, debt: 0.3, plan: 'plus' };
let artifact: string;
beforeAll(() => {
  artifact = trainModel(mixedDataset('binary_classification', 200), spec).artifactText;
});

const predict = (model: string, body: unknown) => ({ ...apiEvent('POST', '/models/{model}/predict', { params: { model }, body }), headers: {} }) as ReturnType<typeof apiEvent>;

/** A predict function over memory that records what it observes. */
function serving(options: { failRegistry?: boolean } = {}) {
  const objects = new MemoryObjects();
  const registry = new MemoryRegistry();
  if (options.failRegistry) registry.readRouting = async () => { throw new Error('ProvisionedThroughputExceededException'); };
  const stores: ServingStores = {
    registry,
    artifacts: objects,
    onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
    log: { send: async () => {} },
    requestIndex: { record: async () => {} },
    failures: { failed: () => {} },
  };
  const observed: RequestObservation[] = [];
  const handler = createHandler(stores, { sdk: 'test', stalenessMs: 0, observe: (o) => void observed.push(o) });
  return { objects, registry, handler, observed };
}

describe('the serving metrics of the Predict handler', () => {
  it('observes a served request with its version and arm, and a refusal by an existing model without them', async () => {
    const setup = serving();
    await setup.registry.putModel(spec, 'test');
    expect((await setup.handler(predict(spec.name, { inputs: row }))).statusCode).toBe(404);
    setup.registry.addVersion(modelVersion(spec, 1, setup.objects.store('s3://models/v1.json', artifact))).pointAlias(spec.name, 'production', 1);
    expect((await setup.handler(predict(spec.name, { inputs: row }))).statusCode).toBe(200);
    expect(setup.observed).toEqual([
      { model: spec.name, serverError: false, latencyMs: expect.any(Number) },
      { model: spec.name, served: { version: 1, arm: 'production' }, serverError: false, latencyMs: expect.any(Number) },
    ]);
  });

  it('counts a registry failure as a server error of the model, and observes no request naming an unknown model (no dimension from arbitrary input)', async () => {
    const failing = serving({ failRegistry: true });
    expect((await failing.handler(predict(spec.name, { inputs: row }))).statusCode).toBe(500);
    expect(failing.observed).toEqual([{ model: spec.name, serverError: true, latencyMs: expect.any(Number) }]);

    const setup = serving();
    await setup.handler(predict('nobody-here', { inputs: row }));
    await setup.handler(predict('Not A Name!', { inputs: row }));
    await setup.handler(predict(spec.name, '{not json'));
    expect(setup.observed).toEqual([]);
  });
});

describe('servingMetrics (EMF)', () => {
  afterEach(() => vi.restoreAllMocks());

  /** The EMF lines Powertools writes for the observations. */
  function emf(observations: RequestObservation[]) {
    const lines: string[] = [];
    // Powertools writes EMF through its own Console on stdout.
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      if (String(chunk).startsWith('{"_aws"')) lines.push(String(chunk));
      return true;
    });
    const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const metrics = new Metrics({ namespace: 'serverless-mlops', serviceName: 'predict', defaultDimensions: { environment: 'dev' }, logger: quiet });
    const observe = servingMetrics(metrics);
    for (const o of observations) observe(o);
    return lines.map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] } });
  }

  it('writes one line per request: per model and per model, version and arm, Errors 0 or 1, latency in ms, a cold start once', () => {
    const [first, second, failed] = emf([
      { model: 'churn', served: { version: 3, arm: 'canary' }, serverError: false, latencyMs: 12.5 },
      { model: 'churn', served: { version: 2, arm: 'production' }, serverError: false, latencyMs: 8 },
      { model: 'churn', serverError: true, latencyMs: 30 },
    ]);
    const directive = first!._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('serverless-mlops');
    expect(directive.Dimensions.map((set) => [...set].sort())).toEqual([
      ['environment', 'model', 'service'],
      ['arm', 'environment', 'model', 'service', 'version'],
    ]);
    expect(Object.fromEntries(directive.Metrics.map((m) => [m.Name, m.Unit]))).toEqual({ Invocations: 'Count', Errors: 'Count', Latency: 'Milliseconds', ColdStart: 'Count' });
    expect(first).toMatchObject({ environment: 'dev', service: 'predict', model: 'churn', version: '3', arm: 'canary', Invocations: 1, Errors: 0, Latency: 12.5, ColdStart: 1 });
    expect(second).toMatchObject({ version: '2', arm: 'production', Errors: 0 });
    expect(second!.ColdStart).toBeUndefined();
    expect(failed!._aws.CloudWatchMetrics[0]!.Dimensions).toHaveLength(1);
    expect(failed).toMatchObject({ model: 'churn', Errors: 1, Invocations: 1 });
    expect(failed!.version).toBeUndefined();
  });
});
