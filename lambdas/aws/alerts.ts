import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

/** Publishes an alert as JSON with a `kind` attribute subscribers can filter on. */
export async function publishAlert(sns: SNSClient, topicArn: string, subject: string, alert: { kind: string } & Record<string, unknown>): Promise<void> {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      // SNS subjects stop at 100 characters.
      Subject: subject.slice(0, 100),
      Message: JSON.stringify(alert, null, 2),
      MessageAttributes: { kind: { DataType: 'String', StringValue: alert.kind } },
    }),
  );
}
