import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { requireEnv } from '../aws/env.js';
import { RegistryEventBus } from '../aws/event-bus.js';
import type { RegistryEventDetail } from '../contract/events.js';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../core/environments.js';
import { parseOrThrow } from '../core/errors.js';
import { eventFromRegistryItem } from '../core/registry/registry-events.js';

const logger = new Logger({ serviceName: 'publish-events' });

/** A DynamoDB Streams batch, as far as publishing needs it: new items (the mapping's filter passes inserts only). */
const StreamBatchSchema = z.object({
  Records: z.array(
    z.looseObject({
      eventID: z.string(),
      eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
      dynamodb: z.looseObject({ NewImage: z.record(z.string(), z.unknown()).optional() }),
    }),
  ),
});

export interface PublishEventsDeps {
  readonly environment: EnvironmentName;
  readonly bus: Pick<RegistryEventBus, 'publish'>;
}

/**
 * Publishes the events a batch of the registry table's stream commits stand for. Any failure is
 * rethrown: the event source mapping retries the batch, so a missed publish is published later
 * (at least once; consumers drop repeats by `eventId`).
 */
export function createHandler({ environment, bus }: PublishEventsDeps) {
  return async (event: unknown): Promise<{ published: number }> => {
    const batch = parseOrThrow(StreamBatchSchema, event, 'event');
    const events: RegistryEventDetail[] = [];
    for (const record of batch.Records) {
      if (record.eventName !== 'INSERT' || !record.dynamodb.NewImage) continue;
      const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
      const detail = eventFromRegistryItem(item, environment);
      if (detail) events.push(detail);
    }
    await bus.publish(events);
    logger.info('published registry events', { published: events.length, records: batch.Records.length, types: events.map((e) => e.type) });
    return { published: events.length };
  };
}

export const handler = createHandler({
  environment: z.enum(ENVIRONMENT_NAMES).parse(requireEnv('ENVIRONMENT_NAME')),
  bus: new RegistryEventBus(new EventBridgeClient({}), requireEnv('EVENT_BUS_NAME')),
});
