import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EnvironmentName } from '../lambdas/core/environments.js';
import { AUDIT_PREFIX, DRIFT_CHECK_PREFIX } from '../lambdas/core/registry/keys.js';
import { PlatformFunction } from './platform-function.js';

export interface RegistryEventsProps {
  /** The registry table; it must have a stream with new images (Registry does). */
  readonly registryTable: dynamodb.ITable;
  readonly environmentName: EnvironmentName;
  /** Where the alarm on events that could not be published goes. */
  readonly alertTopic: sns.ITopic;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Refuse requests to the dead-letter queue that do not use TLS. Off only on the emulator (plain HTTP).
   * @default true
   */
  readonly tlsOnly?: boolean;
}

/**
 * The registry's events (lambdas/contract/events.ts): an EventBridge bus, and a function that
 * publishes to it what the registry table's stream commits (audit events and drift verdicts).
 * The stream is read from its start and a failed batch is retried (halved on each failure, so one
 * bad record cannot hold the others back); what still fails after the retries leaves a pointer in
 * the dead-letter queue, and an alarm says so. The audit log keeps every change either way (`GET /events`).
 */
export class RegistryEvents extends Construct {
  public readonly bus: events.EventBus;
  public readonly publisher: PlatformFunction;
  /** Stream batches that could not be published after every retry (their positions, not their items), and events webhooks could not deliver. */
  public readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: RegistryEventsProps) {
    super(scope, id);
    if (!props.registryTable.tableStreamArn) throw new Error('RegistryEvents: registryTable has no stream; enable one with new images');
    this.bus = new events.EventBus(this, 'Bus', { description: `serverless-mlops registry events (${props.environmentName})` });
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: props.tlsOnly ?? true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    this.publisher = new PlatformFunction(this, 'Publisher', {
      handlerDir: 'publish-events',
      description: 'Publishes registry changes (audit events, drift verdicts) from the registry stream to the event bus',
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      memorySize: 256,
      environment: { EVENT_BUS_NAME: this.bus.eventBusName, ENVIRONMENT_NAME: props.environmentName },
    });
    this.bus.grantPutEventsTo(this.publisher.function);
    // Only new audit events and drift checks stand for a change; the filter keeps the rest from invoking the function.
    const newItemsUnder = (...prefixes: string[]) =>
      lambda.FilterCriteria.filter({
        eventName: lambda.FilterRule.isEqual('INSERT'),
        dynamodb: { Keys: { sk: { S: prefixes.flatMap((prefix) => lambda.FilterRule.beginsWith(prefix)) } } },
      });
    this.publisher.function.addEventSource(
      new DynamoEventSource(props.registryTable, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(0),
        bisectBatchOnError: true,
        retryAttempts: 10,
        maxRecordAge: Duration.days(1),
        onFailure: new SqsDlq(this.deadLetters),
        filters: [newItemsUnder(AUDIT_PREFIX, DRIFT_CHECK_PREFIX)],
      }),
    );
    new cloudwatch.Alarm(this, 'Unpublished', {
      alarmDescription: `Registry events of ${props.environmentName} could not be published, or a webhook could not take them, after every retry; the changes are in the audit log (mlops events tail --since).`,
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new actions.SnsAction(props.alertTopic));
  }
}
