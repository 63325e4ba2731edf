// A subscriber to the registry events, as a user would make one: an SQS queue and a rule on the
// platform's bus (docs/DELIVERY.md, "Registry events"). The demo shows what its run published; the
// e2e test checks it.
import { DeleteRuleCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { RegistryEventDetail } from '../lambdas/contract/events.js';

/** An event as the rule's SQS target receives it: EventBridge's envelope around the detail. */
export interface ReceivedEvent {
  source: string;
  'detail-type': string;
  time: string;
  detail: RegistryEventDetail;
}

/** Creates the queue and the rule (`name` for both) for events matching `pattern` on `busName`. */
export async function registryEventQueue(busName: string, name: string, pattern: Record<string, unknown>) {
  const sqs = new SQSClient({});
  const events = new EventBridgeClient({});
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const queueArn = Attributes!.QueueArn!;
  const { RuleArn } = await events.send(new PutRuleCommand({ Name: name, EventBusName: busName, EventPattern: JSON.stringify(pattern) }));
  // EventBridge may send to the queue only for this rule (a queue policy, as on AWS).
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': RuleArn } } }] };
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }));
  await events.send(new PutTargetsCommand({ Rule: name, EventBusName: busName, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  const received: ReceivedEvent[] = [];
  return {
    /** Every event read so far, repeats included (delivery is at least once). */
    received,
    /** Reads the queue until `done` says so or `timeoutMs` passed; answers what was read so far. */
    async receiveUntil(done: (received: readonly ReceivedEvent[]) => boolean, timeoutMs: number): Promise<ReceivedEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (!done(received) && Date.now() < deadline) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        received.push(...Messages.map((message) => JSON.parse(message.Body ?? '{}') as ReceivedEvent));
        if (Messages.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
      return received;
    },
    async remove(): Promise<void> {
      await events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: busName, Ids: ['queue'] }));
      await events.send(new DeleteRuleCommand({ Name: name, EventBusName: busName }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    },
  };
}
