import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { FirehoseSink } from '../../lambdas/aws/firehose-sink.js';
import { RegistryStore } from '../../lambdas/aws/registry-store.js';
import { RequestIndexTable } from '../../lambdas/aws/request-index.js';
import { mixedSpec } from './helpers.js';

/** A client answering each command by name in turn, recording what it was sent. */
function fakeClient<T>(answers: ((input: Record<string, unknown>) => unknown)[]) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      const answer = answers[Math.min(sent.length, answers.length) - 1]!;
      return answer(command.input);
    },
  } as unknown as T;
  return { client, sent };
}

const decode = (records: unknown) => (records as { Data: Uint8Array }[]).map((record) => new TextDecoder().decode(record.Data));

describe('FirehoseSink', () => {
  it('sends a request\'s records in one PutRecordBatch, as newline-terminated JSON', async () => {
    const { client, sent } = fakeClient<FirehoseClient>([() => ({ FailedPutCount: 0, RequestResponses: [{}, {}] })]);
    await new FirehoseSink<{ arm: string }>(client, 'predictions').send([{ arm: 'production' }, { arm: 'shadow' }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.input.DeliveryStreamName).toBe('predictions');
    expect(decode(sent[0]!.input.Records)).toEqual(['{"arm":"production"}\n', '{"arm":"shadow"}\n']);
  });

  it('sends the records Firehose refused once more, and throws naming the loss when they are refused again', async () => {
    const refuseSecond = () => ({ FailedPutCount: 1, RequestResponses: [{ RecordId: 'a' }, { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' }] });
    const retried = fakeClient<FirehoseClient>([refuseSecond, () => ({ FailedPutCount: 0, RequestResponses: [{}] })]);
    await new FirehoseSink(retried.client, 'predictions').send([{ n: 1 }, { n: 2 }]);
    expect(retried.sent.map((call) => decode(call.input.Records))).toEqual([['{"n":1}\n', '{"n":2}\n'], ['{"n":2}\n']]);

    const lost = fakeClient<FirehoseClient>([refuseSecond, () => ({ FailedPutCount: 1, RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'still busy' }] })]);
    await expect(new FirehoseSink(lost.client, 'predictions').send([{ n: 1 }, { n: 2 }])).rejects.toThrow(/refused 1 of 2 records twice \(ServiceUnavailableException: still busy\)/);
    expect(lost.sent).toHaveLength(2);
  });

  it('splits more than 500 records into calls Firehose takes', async () => {
    const { client, sent } = fakeClient<FirehoseClient>([() => ({ FailedPutCount: 0 })]);
    await new FirehoseSink(client, 'feedback').send(Array.from({ length: 1001 }, (_, n) => ({ n })));
    expect(sent.map((call) => (call.input.Records as unknown[]).length)).toEqual([500, 500, 1]);
  });
});

describe('RequestIndexTable', () => {
  it('puts one item per request with expiresAt, the TTL in epoch seconds', async () => {
    const { client, sent } = fakeClient<DynamoDBDocumentClient>([() => ({})]);
    const entry = { requestId: 'req-1', model: 'm', version: 2, arm: 'canary' as const, rows: 1, at: '2024-03-01T12:00:00.000Z', logged: false };
    await new RequestIndexTable(client, 'index', () => new Date('2024-03-01T12:00:00.000Z')).record(entry, 30);
    expect(sent).toEqual([{ name: 'PutCommand', input: { TableName: 'index', Item: { ...entry, expiresAt: Date.parse('2024-03-01T12:00:00.000Z') / 1000 + 30 * 86_400 } } }]);
  });
});

describe('RegistryStore.readRouting', () => {
  const spec = mixedSpec('binary_classification', 'logistic_regression', { rollout: { shadowSample: 0.25 } });
  const meta = { pk: `MODEL#${spec.name}`, sk: 'META', spec, latestVersion: 3 };
  const alias = (name: string, version: number, weight: number) => ({ pk: `MODEL#${spec.name}`, sk: `ALIAS#${name}`, model: spec.name, alias: name, version, weight, updatedAt: 'x', updatedBy: 'y' });

  it('reads META and the serving aliases in one eventually consistent BatchGetItem, asking again for keys left unprocessed', async () => {
    const { client, sent } = fakeClient<DynamoDBDocumentClient>([
      (input) => ({ Responses: { registry: [meta, alias('production', 1, 1)] }, UnprocessedKeys: { registry: { Keys: (input.RequestItems as Record<string, { Keys: unknown[] }>).registry!.Keys.slice(2) } } }),
      () => ({ Responses: { registry: [alias('canary', 2, 0.2), alias('shadow', 3, 0)] } }),
    ]);
    const state = await new RegistryStore(client, 'registry').readRouting(spec.name);
    expect(state).toEqual({ model: spec.name, logging: spec.logging, shadowSample: 0.25, production: { version: 1 }, canary: { version: 2, weight: 0.2 }, shadow: { version: 3 } });
    const [first, second] = sent.map((call) => (call.input.RequestItems as Record<string, { Keys: { sk: string }[]; ConsistentRead?: boolean }>).registry!);
    expect(first!.Keys.map((key) => key.sk)).toEqual(['META', 'ALIAS#production', 'ALIAS#canary', 'ALIAS#shadow']);
    expect(first!.ConsistentRead).toBeUndefined();
    expect(second!.Keys.map((key) => key.sk)).toEqual(['ALIAS#canary', 'ALIAS#shadow']);
  });

  it('answers undefined for a model that does not exist', async () => {
    const { client } = fakeClient<DynamoDBDocumentClient>([() => ({ Responses: { registry: [] } })]);
    expect(await new RegistryStore(client, 'registry').readRouting('nobody')).toBeUndefined();
  });
});
