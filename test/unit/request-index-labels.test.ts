import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { RequestIndexTable } from '../../lambdas/aws/request-index.js';

/** A document client answering every command with `answer`, recording what it was sent. */
function fakeDoc(answer: (name: string, input: Record<string, any>, call: number) => unknown) {
  const sent: { name: string; input: Record<string, any> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, any> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return answer(command.constructor.name, command.input, sent.length);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

const entry = (requestId: string) => ({ requestId, model: 'churn', version: 1, arm: 'production', rows: 2, at: '2024-03-01T12:00:00.000Z', logged: true, expiresAt: 1_800_000_000 });
const keysOf = (input: Record<string, any>): string[] => input.RequestItems.index.Keys.map((key: { requestId: string }) => key.requestId);

describe('RequestIndexTable: what feedback reads and writes', () => {
  it('reads many ids with BatchGetItem, 100 keys a call, once each, and asks again for the unprocessed ones', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `req-${i}`);
    const { client, sent } = fakeDoc((_, input, call) => {
      // req-7 was never recorded (or is gone).
      const keys = keysOf(input).filter((id) => id !== 'req-7');
      // The first call leaves its last key unprocessed (throttling); the retry reads it.
      if (call === 1) return { Responses: { index: keys.slice(0, -1).map(entry) }, UnprocessedKeys: { index: { Keys: [{ requestId: keys.at(-1) }] } } };
      return { Responses: { index: keys.map(entry) } };
    });
    const found = await new RequestIndexTable(client, 'index').findRequests([...ids, 'req-0']);
    expect(sent.map((call) => keysOf(call.input).length)).toEqual([100, 100, 50, 1]);
    expect(found.size).toBe(249);
    expect(found.has('req-7')).toBe(false);
    expect(found.get('req-99')).toEqual(entry('req-99'));
    // A label sent right after its prediction must find it: strongly consistent reads.
    expect(sent.every((call) => call.input.RequestItems.index.ConsistentRead === true)).toBe(true);
  });

  it('tells which (request, row) pairs carry a LABEL# mark, in the order asked', async () => {
    const { client, sent } = fakeDoc(() => ({ Responses: { index: [{ requestId: 'LABEL#req-2#1', expiresAt: 1 }] } }));
    const marked = await new RequestIndexTable(client, 'index').labelled([{ requestId: 'req-1', row: 0 }, { requestId: 'req-2', row: 1 }, { requestId: 'req-2', row: 0 }]);
    expect(marked).toEqual([false, true, false]);
    expect(keysOf(sent[0]!.input)).toEqual(['LABEL#req-1#0', 'LABEL#req-2#1', 'LABEL#req-2#0']);
  });

  it('marks a pair with a conditional put expiring with its request, and answers false when the mark exists', async () => {
    const { client, sent } = fakeDoc((_, __, call) => {
      if (call === 2) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
      if (call === 3) throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
      return {};
    });
    const table = new RequestIndexTable(client, 'index');
    expect(await table.markLabelled({ requestId: 'req-1', row: 3 }, 1_800_000_000)).toBe(true);
    expect(sent[0]).toEqual({
      name: 'PutCommand',
      input: { TableName: 'index', Item: { requestId: 'LABEL#req-1#3', expiresAt: 1_800_000_000 }, ConditionExpression: 'attribute_not_exists(requestId)' },
    });
    expect(await table.markLabelled({ requestId: 'req-1', row: 3 }, 1_800_000_000)).toBe(false);
    await expect(table.markLabelled({ requestId: 'req-1', row: 4 }, 1_800_000_000)).rejects.toThrow(/slow down/);
  });
});
