import './lambda-env.js';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { RegistryEventDetail } from '../../../lambdas/contract/events.js';
import { auditSk, modelPk, versionSk } from '../../../lambdas/core/registry/keys.js';
import { createHandler } from '../../../lambdas/publish-events/handler.js';

const at = '2026-12-06T09:00:00.000Z';
const auditItem = (eventId: string, action = 'version.registered') => ({
  pk: modelPk('churn'),
  sk: auditSk(at, eventId),
  model: 'churn',
  eventId,
  at,
  actor: 'system:pipeline',
  action,
  reason: 'trained',
  version: 1,
});
const record = (eventName: 'INSERT' | 'MODIFY' | 'REMOVE', item: Record<string, unknown>, n: number) => ({
  eventID: `e${n}`,
  eventName,
  dynamodb: { Keys: marshall({ pk: item.pk, sk: item.sk }), NewImage: marshall(item, { removeUndefinedValues: true }), SequenceNumber: String(n) },
});

function publisher(fail = false) {
  const published: RegistryEventDetail[][] = [];
  const handler = createHandler({
    environment: 'dev',
    bus: {
      publish: async (events) => {
        if (fail) throw new Error('PutEvents throttled');
        published.push(events);
      },
    },
  });
  return { published, handler };
}

describe('the registry events publisher', () => {
  it('publishes one event per committed audit event, in stream order, and nothing for other items', async () => {
    const { published, handler } = publisher();
    const answer = await handler({
      Records: [
        record('INSERT', auditItem('0-a'), 1),
        record('INSERT', { pk: modelPk('churn'), sk: versionSk(1), model: 'churn', version: 1 }, 2),
        record('INSERT', auditItem('1-b', 'alias.moved'), 3),
        record('MODIFY', auditItem('2-c'), 4),
      ],
    });
    expect(answer).toEqual({ published: 2 });
    expect(published).toHaveLength(1);
    expect(published[0]!.map((e) => [e.eventId, e.type, e.environment])).toEqual([
      ['0-a', 'version.registered', 'dev'],
      ['1-b', 'alias.moved', 'dev'],
    ]);
  });

  it('rethrows when the bus refuses, so the stream retries the batch', async () => {
    const { handler } = publisher(true);
    await expect(handler({ Records: [record('INSERT', auditItem('0-a'), 1)] })).rejects.toThrow(/throttled/);
  });

  it('refuses an event that is not a stream batch, naming the field', async () => {
    const { handler } = publisher();
    await expect(handler({ Records: [{ eventName: 'INSERT' }] })).rejects.toThrow(/Records\.0\.(eventID|dynamodb)/);
  });
});
