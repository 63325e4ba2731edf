import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertsProps {
  /** @default - no e-mail subscription */
  readonly email?: string;
  /**
   * Refuse requests that do not use TLS (a resource policy denying aws:SecureTransport false).
   * Off only on the emulator, which serves plain HTTP and, with AUTH=true, would refuse every role.
   * @default true
   */
  readonly tlsOnly?: boolean;
  /**
   * What happens to the topic's key when the stack is deleted (deleting it schedules its deletion).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The SNS topic that failed runs, failed gates, and the models' CloudWatch alarms (errors, latency, drift, decay) publish to. */
export class Alerts extends Construct {
  public readonly topic: sns.Topic;
  /** The topic's customer managed key: CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key (its policy cannot admit them). */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlertsProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'serverless-mlops alerts topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    // Alarms of this account only (confused deputy).
    const fromAlarmsHere = { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` } };
    this.key.addToResourcePolicy(new iam.PolicyStatement({ principals: [cloudWatch], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'], conditions: fromAlarmsHere }));
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'serverless-mlops alerts',
      masterKey: this.key,
      enforceSSL: props.tlsOnly ?? true,
    });
    this.topic.addToResourcePolicy(new iam.PolicyStatement({ principals: [cloudWatch], actions: ['sns:Publish'], resources: [this.topic.topicArn], conditions: fromAlarmsHere }));
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
