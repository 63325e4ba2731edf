import './lambda-env.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { onnxScorer } from '../../../lambdas/aws/onnx-sessions.js';
import { createRng } from '../../../lambdas/core/random.js';
import { PredictionLogRecordSchema, RequestIndexEntrySchema, type PredictionLogRecord, type RequestIndexEntry } from '../../../lambdas/core/serving/records.js';
import { sha256Hex } from '../../../lambdas/core/sha256.js';
import type { ModelSpec } from '../../../lambdas/core/training/model-spec.js';
import { trainModel } from '../../../lambdas/core/training/train-model.js';
import { MAX_PREDICT_BODY_BYTES, type ServingStores } from '../../../lambdas/core/serving/serve.js';
import { createHandler } from '../../../lambdas/predict/handler.js';
import { MemoryObjects, MemoryRegistry, modelVersion } from '../fakes.js';
import { mixedDataset, mixedSpec } from '../helpers.js';
import { answerOf, apiEvent, type ErrorBody } from './api-event.js';

const spec = mixedSpec('binary_classification', 'logistic_regression');
const STALENESS_MS = 2000;
const START = Date.parse('2024-03-01T12:00:00.000Z');
const row = { age: 40, income: 52000, debt: 0.3, plan: 'plus' };
let first: string;
let second: string;

beforeAll(() => {
  const table = mixedDataset('binary_classification', 200);
  first = trainModel(table, spec).artifactText;
  second = trainModel(table, mixedSpec('binary_classification', 'gradient_boosting')).artifactText;
});

/** A warm predict function over memory: a clock the test moves, the log's hand-offs, the request index, the counted failures. */
function serving(options: { failLog?: boolean; failIndex?: boolean; seed?: number } = {}) {
  const objects = new MemoryObjects();
  const registry = new MemoryRegistry();
  const sends: PredictionLogRecord[][] = [];
  const index: RequestIndexEntry[] = [];
  const failures: { what: string; model: string }[] = [];
  const clock = { ms: START };
  const stores: ServingStores = {
    registry,
    artifacts: objects,
    onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
    log: {
      send: async (records) => {
        if (options.failLog) throw new Error('ServiceUnavailableException: slow down');
        sends.push(records.map((record) => PredictionLogRecordSchema.parse(record)));
      },
    },
    requestIndex: {
      record: async (entry) => {
        if (options.failIndex) throw new Error('ProvisionedThroughputExceededException');
        index.push(RequestIndexEntrySchema.parse(entry));
      },
    },
    failures: { failed: (what, model) => void failures.push({ what, model }) },
  };
  const handler = createHandler(stores, { sdk: 'test', stalenessMs: STALENESS_MS, clock: () => new Date(clock.ms), random: createRng(options.seed ?? 5) });
  const records = () => sends.flat();
  return { objects, registry, handler, sends, records, index, failures, clock };
}

/** A model with production at version 1 (and more versions when asked), in a fresh serving set-up. */
async function withModel(setup: ReturnType<typeof serving>, modelSpec: ModelSpec = spec, versions = 1) {
  await setup.registry.putModel(modelSpec, 'test');
  for (let v = 1; v <= versions; v += 1) setup.registry.addVersion(modelVersion(modelSpec, v, setup.objects.store(`s3://models/${modelSpec.name}/v${v}.json`, v % 2 === 1 ? first : second)));
  setup.registry.pointAlias(modelSpec.name, 'production', 1);
  return setup;
}

let requestCount = 0;
const predict = (model: string, body: unknown, options: { requestId?: string; routingKey?: string } = {}) => {
  const requestId = options.requestId ?? `req-${(requestCount += 1)}`;
  return {
    ...apiEvent('POST', '/models/{model}/predict', { params: { model }, body }),
    headers: options.routingKey === undefined ? {} : { 'X-Mlops-Routing-Key': options.routingKey },
    requestContext: { requestId },
  } as ReturnType<typeof apiEvent>;
};

type Served = { model: string; version: number; arm: string; requestId: string; prediction: { label: string; probability: number } };
const served = async (handler: ReturnType<typeof serving>['handler'], model: string, options: { routingKey?: string; requestId?: string } = {}) => {
  const result = await handler(predict(model, { inputs: row }, options));
  const { status, body } = answerOf<Served>(result);
  expect(status).toBe(200);
  expect(result.headers).toMatchObject({ 'x-mlops-model': body.model, 'x-mlops-version': String(body.version), 'x-mlops-arm': body.arm });
  return body;
};

/** Half-width of a 99% binomial interval for a share p of n. */
const interval99 = (p: number, n: number) => 2.576 * Math.sqrt((p * (1 - p)) / n);

describe('the Predict handler', () => {
  it('answers from production with model, version and arm in headers and body, logs one record and indexes the request', async () => {
    const { handler, sends, index } = await withModel(serving());

    const single = await handler(predict(spec.name, { inputs: row }, { requestId: 'req-1' }));
    expect(single.headers).toMatchObject({ 'x-request-id': 'req-1', 'x-mlops-sdk': 'test', 'x-mlops-model': spec.name, 'x-mlops-version': '1', 'x-mlops-arm': 'production' });
    const { status, body } = answerOf<Served>(single);
    expect(status).toBe(200);
    expect(body).toMatchObject({ model: spec.name, version: 1, arm: 'production', requestId: 'req-1' });
    expect(['yes', 'no']).toContain(body.prediction.label);
    expect(sends).toEqual([[expect.objectContaining({ requestId: 'req-1', model: spec.name, version: 1, arm: 'production', at: new Date(START).toISOString(), inputs: [row], outputs: [body.prediction] })]]);
    expect(sends[0]![0]!.routingKeyHash).toBeUndefined();
    expect(index).toEqual([{ requestId: 'req-1', model: spec.name, version: 1, arm: 'production', rows: 1, at: new Date(START).toISOString(), logged: true }]);

    const batch = answerOf<{ predictions: unknown[] }>(await handler(predict(spec.name, { instances: [row, row] })));
    expect(batch.body.predictions).toHaveLength(2);
    expect(index.at(-1)).toMatchObject({ rows: 2 });
  });

  it('answers 404 for an unknown model and for one without production, 400 for a bad body or routing key, and logs none of them', async () => {
    const setup = serving();
    const { objects, registry, handler, sends, index } = setup;
    const codeOf = async (event: ReturnType<typeof apiEvent>) => {
      const { status, body } = answerOf<ErrorBody & { error: { fields?: unknown } }>(await handler(event));
      return { status, code: body.error.code, fields: body.error.fields };
    };
    expect(await codeOf(predict('nobody', { inputs: row }))).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect(await codeOf(predict('Not A Name!', { inputs: row }))).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    await registry.putModel(spec, 'test');
    setup.clock.ms += STALENESS_MS;
    expect(await codeOf(predict(spec.name, { inputs: row }))).toMatchObject({ status: 404, code: 'NO_PRODUCTION_VERSION' });

    registry.addVersion(modelVersion(spec, 1, objects.store('s3://models/v1.json', first))).pointAlias(spec.name, 'production', 1);
    setup.clock.ms += STALENESS_MS;
    expect(await codeOf(predict(spec.name, '{not json'))).toMatchObject({ status: 400, code: 'INVALID_JSON' });
    const { age: _age, ...withoutAge } = row;
    expect(await codeOf(predict(spec.name, { inputs: withoutAge }))).toEqual({ status: 400, code: 'INVALID_REQUEST', fields: [{ field: 'inputs.age', problem: 'required' }] });
    expect(await codeOf(predict(spec.name, { inputs: row }, { routingKey: 'k'.repeat(257) }))).toMatchObject({ status: 400, code: 'INVALID_REQUEST', fields: [{ field: 'x-mlops-routing-key' }] });
    expect(sends).toEqual([]);
    expect(index).toEqual([]);
  });

  it('sends the canary its weight of distinct routing keys, keeps each key on one arm, and a raised weight keeps every canary key', async () => {
    const setup = await withModel(serving(), spec, 2);
    setup.registry.pointAlias(spec.name, 'canary', 2, 0.2);
    const keys = Array.from({ length: 1500 }, (_, i) => `user-${i}`);

    const arms = new Map<string, string>();
    for (const key of keys) arms.set(key, (await served(setup.handler, spec.name, { routingKey: key })).arm);
    const onCanary = keys.filter((key) => arms.get(key) === 'canary');
    expect(Math.abs(onCanary.length / keys.length - 0.2)).toBeLessThan(interval99(0.2, keys.length));
    // The canary's answers come from its version; the log and the index say the same.
    expect(setup.index.filter((entry) => entry.arm === 'canary').every((entry) => entry.version === 2)).toBe(true);
    expect(setup.records().filter((record) => record.arm === 'canary')).toHaveLength(onCanary.length);

    // One key, twenty calls, one arm.
    for (const key of [onCanary[0]!, keys.find((key) => arms.get(key) === 'production')!]) {
      const seen = new Set<string>();
      for (let call = 0; call < 20; call += 1) seen.add((await served(setup.handler, spec.name, { routingKey: key })).arm);
      expect([...seen]).toEqual([arms.get(key)]);
    }

    // Raising the weight only adds keys to the canary.
    setup.registry.pointAlias(spec.name, 'canary', 2, 0.5);
    setup.clock.ms += STALENESS_MS;
    const raised = new Map<string, string>();
    for (const key of keys) raised.set(key, (await served(setup.handler, spec.name, { routingKey: key })).arm);
    expect(onCanary.filter((key) => raised.get(key) !== 'canary')).toEqual([]);
    const share = keys.filter((key) => raised.get(key) === 'canary').length / keys.length;
    expect(Math.abs(share - 0.5)).toBeLessThan(interval99(0.5, keys.length));
  });

  it('splits requests without a routing key at random by the weight, and hashes a given key into the log', async () => {
    const setup = await withModel(serving({ seed: 9 }), spec, 2);
    setup.registry.pointAlias(spec.name, 'canary', 2, 0.3);
    const n = 1000;
    let canary = 0;
    for (let i = 0; i < n; i += 1) if ((await served(setup.handler, spec.name)).arm === 'canary') canary += 1;
    expect(Math.abs(canary / n - 0.3)).toBeLessThan(interval99(0.3, n));
    expect(setup.records().every((record) => record.routingKeyHash === undefined)).toBe(true);

    await served(setup.handler, spec.name, { routingKey: 'alice@example.com', requestId: 'keyed' });
    expect(setup.records().find((record) => record.requestId === 'keyed')!.routingKeyHash).toBe(sha256Hex('alice@example.com'));
  });

  it('scores the shadow on the same request, logs it under its own version with arm shadow, and never answers with it', async () => {
    const setup = await withModel(serving(), spec, 3);
    setup.registry.pointAlias(spec.name, 'shadow', 2, 0);
    const answers = [];
    for (let i = 0; i < 20; i += 1) answers.push(await served(setup.handler, spec.name, { routingKey: `user-${i}` }));
    expect(answers.every((answer) => answer.arm === 'production' && answer.version === 1)).toBe(true);
    // One hand-off per request, holding both arms' records.
    expect(setup.sends).toHaveLength(20);
    for (const records of setup.sends) {
      expect(records.map((record) => [record.arm, record.version])).toEqual([['production', 1], ['shadow', 2]]);
      expect(records[1]).toMatchObject({ requestId: records[0]!.requestId, inputs: records[0]!.inputs, routingKeyHash: records[0]!.routingKeyHash });
      expect(records[1]!.outputs).toHaveLength(1);
      expect(records[1]!.error).toBeUndefined();
    }
    // The index knows only the answering arm.
    expect(setup.index.every((entry) => entry.arm === 'production')).toBe(true);
  });

  it('scores the shadow on its share of requests only (rollout.shadowSample), and samples the log once per request for every arm', async () => {
    const sampled = mixedSpec('binary_classification', 'logistic_regression', { name: 'sampled-model', rollout: { shadowSample: 0.5 }, logging: { sampleRate: 0.4, drop: ['income'], hash: ['plan'] } });
    const setup = await withModel(serving({ seed: 21 }), sampled, 2);
    setup.registry.pointAlias(sampled.name, 'shadow', 2, 0);
    const n = 1000;
    for (let i = 0; i < n; i += 1) await served(setup.handler, sampled.name);

    // Every request is indexed, sampled or not; the log holds the sampled ones, each with all its arms.
    expect(setup.index).toHaveLength(n);
    const logged = setup.index.filter((entry) => entry.logged).map((entry) => entry.requestId);
    expect(Math.abs(logged.length / n - 0.4)).toBeLessThan(interval99(0.4, n));
    expect(setup.sends.map((records) => records[0]!.requestId)).toEqual(logged);
    const withShadow = setup.sends.filter((records) => records.some((record) => record.arm === 'shadow')).length;
    expect(Math.abs(withShadow / logged.length - 0.5)).toBeLessThan(interval99(0.5, logged.length));

    // PII: income dropped, plan hashed, in every arm's record.
    for (const record of setup.records()) expect(record.inputs).toEqual([{ age: row.age, debt: row.debt, plan: sha256Hex(row.plan) }]);
  });

  it('answers from production when the canary or the shadow cannot load, and logs their failures as error records of their arms', async () => {
    const setup = await withModel(serving(), spec, 1);
    // Versions whose artifacts are gone (2) or corrupt (3).
    setup.registry.addVersion(modelVersion(spec, 2, { uri: 's3://models/missing.json', sha256: 'a'.repeat(64) }));
    setup.registry.addVersion(modelVersion(spec, 3, { ...setup.objects.store('s3://models/v3.json', second), sha256: 'b'.repeat(64) }));
    setup.registry.pointAlias(spec.name, 'canary', 2, 0.5).pointAlias(spec.name, 'shadow', 3, 0);

    const answers = [];
    for (let i = 0; i < 40; i += 1) answers.push(await served(setup.handler, spec.name, { routingKey: `user-${i}` }));
    expect(answers.every((answer) => answer.arm === 'production' && answer.version === 1)).toBe(true);

    const canaryErrors = setup.records().filter((record) => record.arm === 'canary');
    const shadowErrors = setup.records().filter((record) => record.arm === 'shadow');
    // About half the keys fell on the canary; each of those requests logged the canary's failure.
    expect(canaryErrors.length).toBeGreaterThan(5);
    expect(canaryErrors.every((record) => record.version === 2 && record.outputs.length === 0 && record.error?.code === 'MODEL_UNAVAILABLE')).toBe(true);
    expect(shadowErrors).toHaveLength(40);
    expect(shadowErrors.every((record) => record.version === 3 && record.error?.code === 'MODEL_UNAVAILABLE' && /sha256/.test(record.error.message))).toBe(true);
    expect(setup.records().filter((record) => record.arm === 'production' && !record.error)).toHaveLength(40);
  });

  it('answers 503 MODEL_UNAVAILABLE when production cannot load, keeps serving other models, and tries the version again after the window', async () => {
    const setup = await withModel(serving());
    const other = mixedSpec('binary_classification', 'logistic_regression', { name: 'other-model' });
    await withModel(setup, other);
    // Production's file is corrupt: its bytes do not match the recorded sha256.
    setup.objects.store(`s3://models/${spec.name}/v1.json`, second);

    const broken = await setup.handler(predict(spec.name, { inputs: row }));
    expect(broken.statusCode).toBe(503);
    expect(answerOf<ErrorBody>(broken).body.error).toMatchObject({ code: 'MODEL_UNAVAILABLE', message: expect.stringMatching(/version 1 .*sha256/) });
    expect(broken.headers).toMatchObject({ 'x-mlops-model': spec.name });
    expect(await served(setup.handler, other.name)).toMatchObject({ model: other.name, version: 1, arm: 'production' });
    expect(setup.records().filter((record) => record.model === spec.name)).toEqual([expect.objectContaining({ arm: 'production', version: 1, error: expect.objectContaining({ code: 'MODEL_UNAVAILABLE' }) })]);

    // Fixed in place: still refused within the window (one load attempt per window), served after it.
    setup.objects.store(`s3://models/${spec.name}/v1.json`, first);
    expect((await setup.handler(predict(spec.name, { inputs: row }))).statusCode).toBe(503);
    setup.clock.ms += STALENESS_MS;
    expect(await served(setup.handler, spec.name)).toMatchObject({ version: 1, arm: 'production' });
  });

  it('still answers 200 when the log or the request index refuses the hand-off, and counts each failure per model', async () => {
    const logDown = await withModel(serving({ failLog: true }));
    expect(await served(logDown.handler, spec.name)).toMatchObject({ version: 1 });
    expect(logDown.failures).toEqual([{ what: 'prediction-log', model: spec.name }]);
    expect(logDown.index).toHaveLength(1);

    const indexDown = await withModel(serving({ failIndex: true }));
    expect(await served(indexDown.handler, spec.name)).toMatchObject({ version: 1 });
    expect(indexDown.failures).toEqual([{ what: 'request-index', model: spec.name }]);
    expect(indexDown.sends).toHaveLength(1);
  });

  it('answers a JSON 500 when the registry cannot be read, and reads it again on the next request', async () => {
    const setup = await withModel(serving());
    const readRouting = setup.registry.readRouting.bind(setup.registry);
    setup.registry.readRouting = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    const failed = await setup.handler(predict(spec.name, { inputs: row }, { requestId: 'req-down' }));
    expect(failed.statusCode).toBe(500);
    expect(answerOf<ErrorBody>(failed).body.error).toEqual({ code: 'INTERNAL', message: 'internal error; quote request id req-down' });
    setup.registry.readRouting = readRouting;
    expect(await served(setup.handler, spec.name)).toMatchObject({ version: 1 });
  });

  it('reads the registry once per model per staleness window, concurrent requests included, and sees an alias move after the window', async () => {
    const setup = await withModel(serving(), spec, 2);
    await Promise.all(Array.from({ length: 10 }, () => served(setup.handler, spec.name)));
    for (let i = 0; i < 20; i += 1) {
      await served(setup.handler, spec.name);
      setup.clock.ms += 50;
    }
    expect(setup.registry.routingReads).toBe(1);

    // Production moves; a warm function keeps its answer until the window ends, then reads once more.
    setup.registry.pointAlias(spec.name, 'production', 2);
    setup.clock.ms = START + STALENESS_MS - 1;
    expect((await served(setup.handler, spec.name)).version).toBe(1);
    setup.clock.ms = START + STALENESS_MS;
    expect((await served(setup.handler, spec.name)).version).toBe(2);
    expect(setup.registry.routingReads).toBe(2);
  });
});

describe('malformed predict requests', () => {
  /** An event as API Gateway would pass it: the body exactly as given (a string is sent as is), base64 when asked. */
  const event = (body: unknown, options: { model?: string; base64?: boolean; method?: string; resource?: string; routingKey?: string } = {}) => {
    const text = body === null ? null : typeof body === 'string' ? body : JSON.stringify(body);
    return {
      ...apiEvent(options.method ?? 'POST', options.resource ?? '/models/{model}/predict', { params: { model: options.model ?? spec.name } }),
      body: options.base64 && text !== null ? Buffer.from(text, 'latin1').toString('base64') : text,
      isBase64Encoded: options.base64 ?? false,
      headers: options.routingKey === undefined ? {} : { 'x-mlops-routing-key': options.routingKey },
    } as ReturnType<typeof apiEvent>;
  };
  const base64 = (bytes: number[]) => ({ ...event(''), body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true }) as ReturnType<typeof apiEvent>;
  const inputs = (fields: Record<string, unknown>) => ({ inputs: { ...row, ...fields } });
  /** `row` as JSON text with `extra` spliced in as raw text before the closing brace. */
  const rowWith = (extra: string) => JSON.stringify(row).replace(/}$/, `,${extra}}`);
  const { age: _age, ...withoutAge } = row;
  const depth = 100_000;
  const deepArray = `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const deepObject = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const rows = (n: number) => ({ instances: Array.from({ length: n }, () => row) });
  const padded = (bytes: number) => JSON.stringify({ inputs: row, pad: 'x'.repeat(bytes) });

  const corpus: [string, ReturnType<typeof apiEvent>, number, string][] = [
    // The body as text: the one body reader (lambdas/aws/http-api.ts readJsonBody).
    ['not JSON', event('{"inputs": {"age": 4'), 400, 'INVALID_JSON'],
    ['an empty body', event(''), 400, 'INVALID_JSON'],
    ['no body at all', event(null), 400, 'INVALID_JSON'],
    ['a body of white space', event(' \n\t '), 400, 'INVALID_JSON'],
    ['NaN spelled in JSON', event(`{"inputs":${JSON.stringify(row).replace('40', 'NaN')}}`), 400, 'INVALID_JSON'],
    ['Infinity spelled in JSON', event(`{"inputs":${JSON.stringify(row).replace('52000', 'Infinity')}}`), 400, 'INVALID_JSON'],
    ['-Infinity spelled in JSON', event(`{"inputs":${JSON.stringify(row).replace('52000', '-Infinity')}}`), 400, 'INVALID_JSON'],
    ['single quotes', event(`{'inputs': {'age': 40}}`), 400, 'INVALID_JSON'],
    ['a trailing comma', event(`{"inputs":${JSON.stringify(row).replace(/}$/, ',}')}}`), 400, 'INVALID_JSON'],
    ['a comment', event(`/* hi */ ${JSON.stringify({ inputs: row })}`), 400, 'INVALID_JSON'],
    ['two JSON documents', event(`${JSON.stringify({ inputs: row })}${JSON.stringify({ inputs: row })}`), 400, 'INVALID_JSON'],
    ['a byte order mark', event(`\ufeff${JSON.stringify({ inputs: row })}`), 400, 'INVALID_JSON'],
    ['invalid UTF-8 (base64 body)', base64([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 400, 'INVALID_JSON'],
    ['an overlong UTF-8 encoding (base64 body)', base64([...Buffer.from('{"inputs":{"plan":"'), 0xc0, 0xaf, ...Buffer.from('"}}')]), 400, 'INVALID_JSON'],
    ['a UTF-8-encoded surrogate (base64 body)', base64([...Buffer.from('{"inputs":{"plan":"'), 0xed, 0xa0, 0x80, ...Buffer.from('"}}')]), 400, 'INVALID_JSON'],
    ['a lone high surrogate escaped in a value', event(`{"inputs":${JSON.stringify(row).replace('"plus"', '"plus\\ud800"')}}`), 400, 'INVALID_JSON'],
    ['a lone low surrogate escaped in a key', event(`{"inputs":${rowWith('"\\udc00x":1')}}`), 400, 'INVALID_JSON'],
    ['a lone surrogate in the text itself', event(`{"inputs":${JSON.stringify(row).replace('"plus"', '"plus\ud800"')}}`), 400, 'INVALID_JSON'],
    ['an oversized body', event(padded(MAX_PREDICT_BODY_BYTES)), 413, 'REQUEST_TOO_LARGE'],
    ['an oversized base64 body', event(padded(MAX_PREDICT_BODY_BYTES), { base64: true }), 413, 'REQUEST_TOO_LARGE'],
    ['an oversized body of multi-byte characters (short in UTF-16)', event(JSON.stringify({ inputs: { ...row, plan: '\u00e9'.repeat(MAX_PREDICT_BODY_BYTES / 2 + 1) } })), 413, 'REQUEST_TOO_LARGE'],
    // The body as a request: the model's schema (core/serving/predict.ts).
    ['a JSON array', event([row]), 400, 'INVALID_REQUEST'],
    ['JSON null', event('null'), 400, 'INVALID_REQUEST'],
    ['a JSON string', event('"predict this"'), 400, 'INVALID_REQUEST'],
    ['a JSON number', event('42'), 400, 'INVALID_REQUEST'],
    ['neither inputs nor instances', event({}), 400, 'INVALID_REQUEST'],
    ['both inputs and instances', event({ inputs: row, instances: [row] }), 400, 'INVALID_REQUEST'],
    ['an empty instances list', event({ instances: [] }), 400, 'INVALID_REQUEST'],
    ['too many rows (1,001)', event(rows(1001)), 400, 'INVALID_REQUEST'],
    ['inputs as an array (an array where an object goes)', event({ inputs: [row] }), 400, 'INVALID_REQUEST'],
    ['instances as an object', event({ instances: row }), 400, 'INVALID_REQUEST'],
    ['an instance that is a number', event({ instances: [row, 1] }), 400, 'INVALID_REQUEST'],
    ['an instance that is null', event({ instances: [null] }), 400, 'INVALID_REQUEST'],
    ['an instance that is an array', event({ instances: [[40, 52000, 0.3, 'plus']] }), 400, 'INVALID_REQUEST'],
    ['inputs that are null', event({ inputs: null }), 400, 'INVALID_REQUEST'],
    ['an extra top-level field', event({ inputs: row, model: 'other-model' }), 400, 'INVALID_REQUEST'],
    ['an extra feature', event(inputs({ zip: '12345' })), 400, 'INVALID_REQUEST'],
    ['an extra feature in one instance', event({ instances: [row, { ...row, zip: 1 }] }), 400, 'INVALID_REQUEST'],
    ['a missing feature', event({ inputs: withoutAge }), 400, 'INVALID_REQUEST'],
    ['no features at all', event({ inputs: {} }), 400, 'INVALID_REQUEST'],
    ['a number as a string', event(inputs({ age: '40' })), 400, 'INVALID_REQUEST'],
    ['a boolean for a number', event(inputs({ age: true })), 400, 'INVALID_REQUEST'],
    ['an object for a number', event(inputs({ income: { value: 52000 } })), 400, 'INVALID_REQUEST'],
    ['an array for a number', event(inputs({ debt: [0.3] })), 400, 'INVALID_REQUEST'],
    ['null where not nullable', event(inputs({ age: null })), 400, 'INVALID_REQUEST'],
    ['a huge number (1e400)', event(`{"inputs":${JSON.stringify(row).replace('52000', '1e400')}}`), 400, 'INVALID_REQUEST'],
    ['a huge negative number (-1e400)', event(`{"inputs":${JSON.stringify(row).replace('40', '-1e400')}}`), 400, 'INVALID_REQUEST'],
    ['a boolean for a category', event(inputs({ plan: false })), 400, 'INVALID_REQUEST'],
    ['an object for a category', event(inputs({ plan: { name: 'plus' } })), 400, 'INVALID_REQUEST'],
    ['an array for a category', event(inputs({ plan: ['plus'] })), 400, 'INVALID_REQUEST'],
    ['deep nesting (100,000 arrays) as a feature', event(`{"inputs":${rowWith(`"age":${deepArray}`).replace('"age":40,', '')}}`), 400, 'INVALID_REQUEST'],
    ['deep nesting (100,000 objects) as inputs', event(`{"inputs":${deepObject}}`), 400, 'INVALID_REQUEST'],
    ['deep nesting (100,000 arrays) as the body', event(deepArray), 400, 'INVALID_REQUEST'],
    ['deep nesting (100,000 objects) inside an instance', event(`{"instances":[${rowWith(`"nested":${deepObject}`)}]}`), 400, 'INVALID_REQUEST'],
    // Prototype keys: JSON.parse makes them own data keys; the strict schema refuses them by name.
    ['a __proto__ key beside inputs', event(`{"inputs":${JSON.stringify(row)},"__proto__":{"admin":true}}`), 400, 'INVALID_REQUEST'],
    ['a __proto__ key among the features', event(`{"inputs":${rowWith('"__proto__":{"admin":true}')}}`), 400, 'INVALID_REQUEST'],
    ['a __proto__ key in an instance', event(`{"instances":[${rowWith('"__proto__":{"age":1}')}]}`), 400, 'INVALID_REQUEST'],
    ['a __proto__ key holding the inputs', event(`{"__proto__":{"inputs":${JSON.stringify(row)}}}`), 400, 'INVALID_REQUEST'],
    ['a constructor key beside inputs', event(`{"inputs":${JSON.stringify(row)},"constructor":{"prototype":{"admin":true}}}`), 400, 'INVALID_REQUEST'],
    ['a constructor key among the features', event(`{"inputs":${rowWith('"constructor":{"prototype":{"admin":true}}')}}`), 400, 'INVALID_REQUEST'],
    ['a prototype key among the features', event(`{"inputs":${rowWith('"prototype":{"admin":true}')}}`), 400, 'INVALID_REQUEST'],
    ['a toString key among the features', event(`{"inputs":${rowWith('"toString":1')}}`), 400, 'INVALID_REQUEST'],
    // The path, the route and the headers.
    ['an unknown model', event({ inputs: row }, { model: 'no-such-model' }), 404, 'MODEL_NOT_FOUND'],
    ['a model named like a prototype key', event({ inputs: row }, { model: 'constructor' }), 404, 'MODEL_NOT_FOUND'],
    ['an invalid model name', event({ inputs: row }, { model: 'Not A Name!' }), 404, 'MODEL_NOT_FOUND'],
    ['a model name of __proto__', event({ inputs: row }, { model: '__proto__' }), 404, 'MODEL_NOT_FOUND'],
    ['an empty model name', event({ inputs: row }, { model: '' }), 404, 'MODEL_NOT_FOUND'],
    ['a model name too long', event({ inputs: row }, { model: `m${'a'.repeat(300)}` }), 404, 'MODEL_NOT_FOUND'],
    ['a routing key too long', event({ inputs: row }, { routingKey: 'k'.repeat(257) }), 400, 'INVALID_REQUEST'],
    ['a wrong method (GET)', event(null, { method: 'GET' }), 404, 'NOT_FOUND'],
    ['a wrong method (PUT)', event({ inputs: row }, { method: 'PUT' }), 404, 'NOT_FOUND'],
    ['another route', event({ inputs: row }, { resource: '/models/{model}/feedback' }), 404, 'NOT_FOUND'],
  ];

  it('has at least 50 cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50);
    expect(new Set(corpus.map(([name]) => name)).size).toBe(corpus.length);
  });

  it.each(corpus)('answers %s with a 4xx and a JSON error naming its code', async (_, request, status, code) => {
    const { handler, sends, index, failures } = await withModel(serving());
    const result = await handler(request);
    const answer = answerOf<ErrorBody & { requestId: string; error: { fields?: unknown } }>(result);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json' });
    expect({ status: answer.status, code: answer.body.error.code }).toEqual({ status, code });
    expect(answer.body.error.message).toEqual(expect.any(String));
    expect(answer.body.error.message.length).toBeLessThan(2000);
    expect(answer.body.requestId).toEqual(expect.any(String));
    // The input at fault is named (the model for an unknown one); a route that does not exist has none to name.
    if (code !== 'NOT_FOUND') expect(answer.body.error.field).toEqual(expect.any(String));
    if (code === 'MODEL_NOT_FOUND') expect(answer.body.error.field).toBe('model');
    if (code === 'INVALID_REQUEST') expect(answer.body.error.fields).toEqual(expect.arrayContaining([{ field: answer.body.error.field, problem: expect.any(String) }]));
    // Nothing was served, logged or indexed, and no prototype was touched.
    expect([sends, index, failures]).toEqual([[], [], []]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('age');
  });

  it('names the field at fault for a prototype key and for a bad value', async () => {
    const { handler } = await withModel(serving());
    const fieldsOf = async (request: ReturnType<typeof apiEvent>) => answerOf<{ error: { fields: { field: string; problem: string }[] } }>(await handler(request)).body.error.fields;
    expect(await fieldsOf(event(`{"inputs":${rowWith('"__proto__":{"admin":true}')}}`))).toEqual([{ field: 'inputs', problem: expect.stringMatching(/__proto__.*not a feature of this model/) }]);
    expect(await fieldsOf(event(`{"inputs":${JSON.stringify(row).replace('52000', '1e400')}}`))).toEqual([{ field: 'inputs.income', problem: 'expected a finite number' }]);
    expect(await fieldsOf(event(inputs({ age: '40' })))).toEqual([{ field: 'inputs.age', problem: 'expected a number, got string' }]);
  });

  it('still serves a body just under the limit, and one with well-formed escapes', async () => {
    const { handler } = await withModel(serving());
    const body = JSON.stringify({ instances: Array.from({ length: 1000 }, () => row) });
    expect(body.length).toBeLessThan(MAX_PREDICT_BODY_BYTES);
    expect((await handler(event(body))).statusCode).toBe(200);
    const escaped = `{"inputs":${JSON.stringify(row).replace('"plus"', '"plus\\u00e9\\ud83d\\ude00"')}}`;
    expect((await handler(event(escaped))).statusCode).toBe(200);
    expect((await handler(event(JSON.stringify({ inputs: row }), { base64: true }))).statusCode).toBe(200);
  });
});
