import { Duration, SecretValue } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REGISTRY_EVENT_SOURCE, registryEventPattern, type RegistryEventFilter } from '../lambdas/contract/events.js';

export interface RegistryWebhookProps {
  /** The platform's registry events bus (RegistryEvents). */
  readonly bus: events.IEventBus;
  /** Which events are sent (types, and optionally models and one alias). */
  readonly filter: RegistryEventFilter;
  /** Where each event's `detail` is POSTed (https). */
  readonly url: string;
  /** The API key sent with each call, from Secrets Manager (never in the template). */
  readonly apiKey: { readonly header: string; readonly value: SecretValue };
  /** Where events that could not be delivered after EventBridge's retries go. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * Calls per second at most.
   * @default 10
   */
  readonly rateLimitPerSecond?: number;
}

/** registryEventPattern in CDK's spelling (`detailType` for `detail-type`). */
function cdkPattern(filter: RegistryEventFilter): events.EventPattern {
  const { detail } = registryEventPattern(filter) as { detail?: Record<string, unknown> };
  return { source: [REGISTRY_EVENT_SOURCE], detailType: [...filter.types], ...(detail ? { detail } : {}) };
}

/**
 * Registry events to a webhook: a rule on the platform's bus (the documented pattern,
 * registryEventPattern) whose target is an EventBridge API destination. The body is the event's
 * `detail` (the versioned schema); EventBridge retries for a day and then dead-letters.
 * The typical use: staging's production moves notify the system that promotes to prod.
 */
export class RegistryWebhook extends Construct {
  public readonly rule: events.Rule;
  public readonly destination: events.ApiDestination;

  constructor(scope: Construct, id: string, props: RegistryWebhookProps) {
    super(scope, id);
    if (!props.url.startsWith('https://')) throw new Error(`RegistryWebhook ${id}: url must be https://, got ${props.url}`);
    const connection = new events.Connection(this, 'Connection', {
      description: `registry events webhook ${id}`,
      authorization: events.Authorization.apiKey(props.apiKey.header, props.apiKey.value),
    });
    this.destination = new events.ApiDestination(this, 'Destination', {
      connection,
      endpoint: props.url,
      httpMethod: events.HttpMethod.POST,
      rateLimitPerSecond: props.rateLimitPerSecond ?? 10,
    });
    this.rule = new events.Rule(this, 'Rule', {
      description: `registry events (${props.filter.types.join(', ')}) to ${props.url}`,
      eventBus: props.bus,
      eventPattern: cdkPattern(props.filter),
      targets: [
        new targets.ApiDestination(this.destination, {
          event: events.RuleTargetInput.fromEventPath('$.detail'),
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: props.deadLetterQueue,
        }),
      ],
    });
  }
}
