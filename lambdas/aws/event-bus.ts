import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { RegistryEventDetail } from '../contract/events.js';
import { eventEntry } from '../core/registry/registry-events.js';

/** PutEvents takes at most ten entries a call. */
const ENTRIES_PER_CALL = 10;

/** Some events were not accepted: thrown so the stream batch is retried (consumers drop the repeats by eventId). */
export class EventsNotPublishedError extends Error {
  override readonly name = 'EventsNotPublishedError';
}

/** The platform's EventBridge bus, as the registry events' publisher uses it. */
export class RegistryEventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  /** Publishes every event, ten a call, in order; throws when any entry was refused. */
  async publish(events: RegistryEventDetail[]): Promise<void> {
    for (let start = 0; start < events.length; start += ENTRIES_PER_CALL) {
      const chunk = events.slice(start, start + ENTRIES_PER_CALL);
      const answer = await this.client.send(new PutEventsCommand({ Entries: chunk.map((event) => eventEntry(event, this.eventBusName)) }));
      if ((answer.FailedEntryCount ?? 0) > 0) {
        const failures = (answer.Entries ?? [])
          .map((entry, i) => (entry.ErrorCode ? `${chunk[i]?.eventId}: ${entry.ErrorCode} ${entry.ErrorMessage ?? ''}`.trim() : undefined))
          .filter(Boolean);
        throw new EventsNotPublishedError(`${answer.FailedEntryCount} of ${chunk.length} registry events were not accepted by ${this.eventBusName}: ${failures.join('; ')}`);
      }
    }
  }
}
