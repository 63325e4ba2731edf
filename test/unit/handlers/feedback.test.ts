import './lambda-env.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../../lambdas/feedback/handler.js';
import {
  labelKeyText,
  MAX_FEEDBACK_BODY_BYTES,
  normalizeLabel,
  type FeedbackAnswer,
  type FeedbackStores,
  type IndexedRequest,
  type LabelKey,
} from '../../../lambdas/core/serving/feedback.js';
import { loadModelFile } from '../../../lambdas/core/serving/model-file.js';
import type { FeedbackRecord } from '../../../lambdas/core/serving/records.js';
import { trainModel } from '../../../lambdas/core/training/train-model.js';
import { MemoryObjects, MemoryRegistry, modelVersion } from '../fakes.js';
import { mixedDataset, mixedSpec } from '../helpers.js';
import { ALICE, answerOf, apiEvent, type ErrorBody } from './api-event.js';

const NOW = new Date('2024-03-01T12:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const LATER = NOW_S + 86_400;
const spec = mixedSpec('binary_classification', 'logistic_regression');
const regression = mixedSpec('regression', 'linear_regression', { name: 'price-model' });
let binaryFile: string;
let numericClassFile: string;
let regressionFile: string;

beforeAll(() => {
  const table = mixedDataset('binary_classification', 200);
  binaryFile = trainModel(table, spec).artifactText;
  // Classes "0" and "1": a number sent as a label must match them as text.
  const numeric = { ...table, rows: table.rows.map((row) => [...row.slice(0, -1), row.at(-1) === 'yes' ? '1' : '0']) };
  numericClassFile = trainModel(numeric, { ...spec, positiveLabel: '1' }).artifactText;
  regressionFile = trainModel(mixedDataset('regression', 200), regression).artifactText;
});

/** The request index table in memory: entries by request id, label marks by `requestId#row`. */
class MemoryRequestIndex {
  readonly entries = new Map<string, IndexedRequest>();
  readonly marks = new Map<string, number>();
  /** Marks written by someone else between this call's check and its mark (a concurrent sender). */
  readonly racing = new Set<string>();
  reads = 0;

  add(requestId: string, fields: Partial<IndexedRequest> = {}): this {
    this.entries.set(requestId, { requestId, model: spec.name, version: 1, arm: 'production', rows: 1, at: NOW.toISOString(), logged: true, expiresAt: LATER, ...fields });
    return this;
  }

  async findRequests(ids: readonly string[]): Promise<Map<string, IndexedRequest>> {
    this.reads += 1;
    return new Map(ids.flatMap((id) => (this.entries.has(id) ? [[id, this.entries.get(id)!] as const] : [])));
  }

  async labelled(keys: readonly LabelKey[]): Promise<boolean[]> {
    return keys.map((key) => this.marks.has(labelKeyText(key)));
  }

  async markLabelled(key: LabelKey, expiresAt: number): Promise<boolean> {
    const text = labelKeyText(key);
    if (this.racing.has(text)) this.marks.set(text, expiresAt);
    if (this.marks.has(text)) return false;
    this.marks.set(text, expiresAt);
    return true;
  }
}

class MemoryStream {
  readonly records: FeedbackRecord[] = [];
  failing = false;

  async send(records: readonly FeedbackRecord[]): Promise<void> {
    if (this.failing) throw new Error('ServiceUnavailableException');
    this.records.push(...records);
  }
}

function feedback() {
  const objects = new MemoryObjects();
  const registry = new MemoryRegistry();
  const index = new MemoryRequestIndex();
  const stream = new MemoryStream();
  const stores: FeedbackStores = { registry, modelFile: (artifact) => loadModelFile(objects, artifact), requestIndex: index, feedback: stream };
  return { objects, registry, index, stream, handler: createHandler(stores, { clock: () => NOW }) };
}

async function withBinaryModel() {
  const parts = feedback();
  await parts.registry.putModel(spec, 'test');
  parts.registry
    .addVersion(modelVersion(spec, 1, parts.objects.store('s3://models/v1.json', binaryFile)))
    .addVersion(modelVersion(spec, 2, parts.objects.store('s3://models/v2.json', numericClassFile)));
  return parts;
}

const send = (model: string, body: unknown, extra: Record<string, unknown> = {}) =>
  ({ ...apiEvent('POST', '/models/{model}/feedback', { params: { model }, body }), ...extra }) as ReturnType<typeof apiEvent>;

describe('the Feedback handler', () => {
  it('turns one label into a feedback record with the version and arm the index recorded, the signed caller and the time, and marks it', async () => {
    const { index, stream, handler } = await withBinaryModel();
    index.add('req-1', { version: 1, arm: 'canary', expiresAt: LATER + 5 });

    const { status, body } = answerOf<FeedbackAnswer>(await handler(send(spec.name, { requestId: 'req-1', label: ' yes ' })));
    expect(status).toBe(200);
    expect(body).toEqual({ model: spec.name, accepted: 1, unknown: [], duplicates: [], invalid: [], counts: { received: 1, accepted: 1, unknown: 0, duplicates: 0, invalid: 0 } });
    expect(stream.records).toEqual([{ requestId: 'req-1', row: 0, model: spec.name, version: 1, arm: 'canary', label: 'yes', at: NOW.toISOString(), actor: ALICE }]);
    // The mark lives as long as the request id is known.
    expect(index.marks).toEqual(new Map([['req-1#0', LATER + 5]]));
  });

  it('reports unknown, duplicate and invalid labels of a batch by index and stores the good ones (200)', async () => {
    const { index, stream, handler } = await withBinaryModel();
    index
      .add('req-rows', { rows: 3 })
      .add('req-sampled', { logged: false })
      .add('req-other', { model: 'other-model' })
      .add('req-expired', { expiresAt: NOW_S - 1 })
      .add('req-old', {});
    index.marks.set('req-old#0', LATER);
    const labels = [
      { requestId: 'req-rows', row: 2, label: 'no' },
      { requestId: 'req-sampled', label: 'yes' },
      { requestId: 'never-issued', label: 'yes' },
      { requestId: 'req-other', label: 'yes' },
      { requestId: 'req-expired', label: 'yes' },
      { requestId: 'req-old', label: 'no' },
      { requestId: 'req-rows', row: 2, label: 'yes' },
      { requestId: 'req-rows', row: 3, label: 'yes' },
      { requestId: 'req-rows', row: 1, label: 'maybe' },
      { requestId: 'req-rows', row: 0, label: 'yes', extra: 1 },
      { requestId: 'req-rows', row: 0.5, label: 'yes' },
      { requestId: 'req-rows', row: 0, label: { nested: true } },
    ];
    const { status, body } = answerOf<FeedbackAnswer>(await handler(send(spec.name, { labels })));
    expect(status).toBe(200);
    expect(body.accepted).toBe(2);
    expect(body.unknown).toEqual([
      { index: 2, requestId: 'never-issued', row: 0 },
      { index: 3, requestId: 'req-other', row: 0 },
      { index: 4, requestId: 'req-expired', row: 0 },
    ]);
    expect(body.duplicates).toEqual([
      { index: 5, requestId: 'req-old', row: 0 },
      { index: 6, requestId: 'req-rows', row: 2 },
    ]);
    expect(body.invalid.map(({ index, field }) => [index, field])).toEqual([
      [7, 'row'],
      [8, 'label'],
      [9, '(root)'],
      [10, 'row'],
      [11, 'label'],
    ]);
    expect(body.invalid[0]!.problem).toMatch(/has 3 row\(s\)/);
    expect(body.invalid[1]!.problem).toMatch(/"maybe" is not a class of version 1 \(classes: "no", "yes"\)/);
    expect(body.counts).toEqual({ received: 12, accepted: 2, unknown: 3, duplicates: 2, invalid: 5 });
    expect(stream.records.map((r) => [r.requestId, r.row, r.label])).toEqual([
      ['req-rows', 2, 'no'],
      ['req-sampled', 0, 'yes'],
    ]);
    // One batched look-up for the whole body, not one read per label.
    expect(index.reads).toBe(1);
  });

  it('accepts a label for a request the log sampled out: the index knows every answered request', async () => {
    const { index, stream, handler } = await withBinaryModel();
    index.add('req-sampled', { logged: false });
    const { status, body } = answerOf<FeedbackAnswer>(await handler(send(spec.name, { labels: [{ requestId: 'req-sampled', row: 0, label: 'no' }] })));
    expect(status).toBe(200);
    expect(body.counts).toMatchObject({ accepted: 1, unknown: 0 });
    expect(stream.records).toHaveLength(1);
  });

  it('checks a label against the classes of the version that answered, numbers and booleans read as text like the trainer reads a target', async () => {
    const { index, stream, handler } = await withBinaryModel();
    index.add('v2-a', { version: 2 }).add('v2-b', { version: 2 }).add('v2-c', { version: 2 }).add('v1-a', { version: 1 });
    const labels = [
      { requestId: 'v2-a', label: 1 },
      { requestId: 'v2-b', label: '0' },
      { requestId: 'v2-c', label: 'yes' },
      { requestId: 'v1-a', label: 1 },
    ];
    const { body } = answerOf<FeedbackAnswer>(await handler(send(spec.name, { labels })));
    expect(stream.records.map((r) => [r.requestId, r.version, r.label])).toEqual([
      ['v2-a', 2, '1'],
      ['v2-b', 2, '0'],
    ]);
    expect(body.invalid).toEqual([
      { index: 2, field: 'label', problem: '"yes" is not a class of version 2 (classes: "0", "1")' },
      { index: 3, field: 'label', problem: '"1" is not a class of version 1 (classes: "no", "yes")' },
    ]);
    expect(normalizeLabel(true, { task: 'binary_classification', classes: ['false', 'true'], version: 1 })).toEqual({ ok: true, value: 'true' });
  });

  it('takes a finite number (or decimal text) for a regression model and stores it as a number', async () => {
    const { objects, registry, index, stream, handler } = feedback();
    await registry.putModel(regression, 'test');
    registry.addVersion(modelVersion(regression, 1, objects.store('s3://models/r1.json', regressionFile)));
    index.add('r-1', { model: regression.name }).add('r-2', { model: regression.name }).add('r-3', { model: regression.name });
    const labels = [
      { requestId: 'r-1', label: 41.5 },
      { requestId: 'r-2', label: '17.25' },
      { requestId: 'r-3', label: 'high' },
    ];
    const { body } = answerOf<FeedbackAnswer>(await handler(send(regression.name, { labels })));
    expect(stream.records.map((r) => r.label)).toEqual([41.5, 17.25]);
    expect(body.invalid).toEqual([{ index: 2, field: 'label', problem: 'a regression label is a finite number' }]);
  });

  it('refuses a regression label that is not a number with 400 and its field, storing and marking nothing', async () => {
    const { objects, registry, index, stream, handler } = feedback();
    await registry.putModel(regression, 'test');
    registry.addVersion(modelVersion(regression, 1, objects.store('s3://models/r1.json', regressionFile)));
    index.add('r-1', { model: regression.name });
    for (const label of ['high', '', true, null, '1e400']) {
      const answer = answerOf<ErrorBody & FeedbackAnswer>(await handler(send(regression.name, { requestId: 'r-1', label })));
      expect(answer.status, JSON.stringify(label)).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'label' });
    }
    expect(stream.records).toHaveLength(0);
    // Nothing was marked: the same request takes a good label afterwards.
    expect(answerOf<FeedbackAnswer>(await handler(send(regression.name, { requestId: 'r-1', label: 3.5 }))).body.accepted).toBe(1);
  });

  it('refuses a body of which nothing is stored with 400 and the report; a resent stored batch is 200 with its duplicates', async () => {
    const { index, stream, handler } = await withBinaryModel();
    index.add('req-1');

    const unknownOnly = answerOf<ErrorBody & FeedbackAnswer>(await handler(send(spec.name, { labels: [{ requestId: 'nope', label: 'yes' }, { requestId: 'nada', label: 'no' }] })));
    expect(unknownOnly.status).toBe(400);
    expect(unknownOnly.body.error).toMatchObject({ code: 'UNKNOWN_REQUEST_ID', field: 'labels.0.requestId' });
    expect(unknownOnly.body.counts).toMatchObject({ received: 2, unknown: 2 });

    const invalidOnly = answerOf<ErrorBody & FeedbackAnswer>(await handler(send(spec.name, { requestId: 'req-1', label: 'maybe' })));
    expect(invalidOnly.status).toBe(400);
    expect(invalidOnly.body.error).toMatchObject({ code: 'INVALID_INPUT', field: 'label' });
    expect(invalidOnly.body.invalid).toHaveLength(1);

    const batch = { labels: [{ requestId: 'req-1', label: 'yes' }] };
    expect(answerOf<FeedbackAnswer>(await handler(send(spec.name, batch))).body.accepted).toBe(1);
    const resent = answerOf<FeedbackAnswer>(await handler(send(spec.name, batch)));
    expect(resent).toMatchObject({ status: 200, body: { accepted: 0, duplicates: [{ index: 0, requestId: 'req-1', row: 0 }] } });
    expect(stream.records).toHaveLength(1);
  });

  it('answers 503 when the feedback stream refuses, marks nothing, and takes the same labels when they are sent again', async () => {
    const { index, stream, handler } = await withBinaryModel();
    index.add('req-1');
    stream.failing = true;
    const failed = answerOf<ErrorBody>(await handler(send(spec.name, { requestId: 'req-1', label: 'yes' })));
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('FEEDBACK_NOT_STORED');
    expect(index.marks.size).toBe(0);

    stream.failing = false;
    expect(answerOf<FeedbackAnswer>(await handler(send(spec.name, { requestId: 'req-1', label: 'yes' }))).body.accepted).toBe(1);
  });

  it('reports a label as a duplicate when a concurrent sender marked it first', async () => {
    const { index, handler } = await withBinaryModel();
    index.add('req-1').add('req-2');
    index.racing.add('req-2#0');
    const { body } = answerOf<FeedbackAnswer>(await handler(send(spec.name, { labels: [{ requestId: 'req-1', label: 'yes' }, { requestId: 'req-2', label: 'no' }] })));
    expect(body).toMatchObject({ accepted: 1, duplicates: [{ index: 1, requestId: 'req-2', row: 0 }] });
  });
});

describe('malformed feedback requests', () => {
  const deep = (depth: number) => `{"requestId":"req-1","label":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const labelsOf = (n: number) => ({ labels: Array.from({ length: n }, (_, i) => ({ requestId: `req-${i}`, label: 'yes' })) });
  const corpus: [string, ReturnType<typeof send>, number, string][] = [
    ['not JSON', send(spec.name, '{"requestId": '), 400, 'INVALID_JSON'],
    ['an empty body', send(spec.name, ''), 400, 'INVALID_JSON'],
    ['a JSON array', send(spec.name, '[]'), 400, 'INVALID_INPUT'],
    ['JSON null', send(spec.name, 'null'), 400, 'INVALID_INPUT'],
    ['a JSON string', send(spec.name, '"yes"'), 400, 'INVALID_INPUT'],
    ['a number request id', send(spec.name, { requestId: 7, label: 'yes' }), 400, 'INVALID_INPUT'],
    ['a missing label', send(spec.name, { requestId: 'req-1' }), 400, 'INVALID_INPUT'],
    ['a null label', send(spec.name, { requestId: 'req-1', label: null }), 400, 'INVALID_INPUT'],
    ['an empty label', send(spec.name, { requestId: 'req-1', label: '' }), 400, 'INVALID_INPUT'],
    ['a 257-character label', send(spec.name, { requestId: 'req-1', label: 'y'.repeat(257) }), 400, 'INVALID_INPUT'],
    ['a string row', send(spec.name, { requestId: 'req-1', row: '0', label: 'yes' }), 400, 'INVALID_INPUT'],
    ['a negative row', send(spec.name, { requestId: 'req-1', row: -1, label: 'yes' }), 400, 'INVALID_INPUT'],
    ['an extra field', send(spec.name, { requestId: 'req-1', label: 'yes', weight: 2 }), 400, 'INVALID_INPUT'],
    ['an extra field beside labels', send(spec.name, { labels: [{ requestId: 'req-1', label: 'yes' }], note: 'x' }), 400, 'INVALID_INPUT'],
    ['labels that are not a list', send(spec.name, { labels: { requestId: 'req-1', label: 'yes' } }), 400, 'INVALID_INPUT'],
    ['an empty list of labels', send(spec.name, { labels: [] }), 400, 'INVALID_INPUT'],
    ['1,001 labels', send(spec.name, labelsOf(1001)), 400, 'INVALID_INPUT'],
    ['labels that are not objects', send(spec.name, { labels: ['yes', 1, null] }), 400, 'INVALID_INPUT'],
    ['a request id with a "#"', send(spec.name, { requestId: 'req-1#0', label: 'yes' }), 400, 'INVALID_INPUT'],
    ['a 129-character request id', send(spec.name, { requestId: 'r'.repeat(129), label: 'yes' }), 400, 'INVALID_INPUT'],
    ['an oversized body', send(spec.name, JSON.stringify({ requestId: 'req-1', label: 'y'.repeat(MAX_FEEDBACK_BODY_BYTES) })), 413, 'REQUEST_TOO_LARGE'],
    ['deep nesting', send(spec.name, deep(100_000)), 400, 'INVALID_INPUT'],
    ['a __proto__ key', send(spec.name, '{"requestId":"req-1","label":"yes","__proto__":{"admin":true}}'), 400, 'INVALID_INPUT'],
    ['a constructor key', send(spec.name, '{"requestId":"req-1","label":"yes","constructor":{"prototype":{}}}'), 400, 'INVALID_INPUT'],
    ['a __proto__ key in a batch label', send(spec.name, '{"labels":[{"requestId":"req-1","label":"yes","__proto__":{"row":0}}]}'), 400, 'INVALID_INPUT'],
    ['a __proto__ key beside labels', send(spec.name, '{"labels":[{"requestId":"req-1","label":"yes"}],"__proto__":{}}'), 400, 'INVALID_INPUT'],
    ['invalid UTF-8 (base64 body)', send(spec.name, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64'), { isBase64Encoded: true }), 400, 'INVALID_JSON'],
    ['a lone surrogate in the request id', send(spec.name, '{"requestId":"req-\\ud800","label":"yes"}'), 400, 'INVALID_JSON'],
    ['a lone surrogate as the label', send(spec.name, '{"requestId":"req-1","label":"\\udfff"}'), 400, 'INVALID_JSON'],
    ['an unknown model', send('no-such-model', { requestId: 'req-1', label: 'yes' }), 404, 'NOT_FOUND'],
    ['a model name that is not a name', send('Not A Model!', { requestId: 'req-1', label: 'yes' }), 400, 'INVALID_INPUT'],
    ['a wrong method', { ...send(spec.name, { requestId: 'req-1', label: 'yes' }), httpMethod: 'GET' } as ReturnType<typeof send>, 404, 'NOT_FOUND'],
  ];

  it.each(corpus)('answers %s with a 4xx and a JSON error naming its code', async (_, event, status, code) => {
    const { index, stream, handler } = await withBinaryModel();
    index.add('req-1');
    const result = await handler(event);
    const answer = answerOf<ErrorBody>(result);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(answer.status).toBe(status);
    expect(answer.body.error).toMatchObject({ code, message: expect.any(String) });
    expect(answer.body.error.message.length).toBeLessThan(2000);
    // A body or path at fault is named; a route that does not exist has no field to name.
    if (answer.status !== 404) expect(answer.body.error.field).toEqual(expect.any(String));
    expect(stream.records).toEqual([]);
  });
});
