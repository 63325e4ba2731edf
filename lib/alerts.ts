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
}

/** The SNS topic that failed runs, failed gates and (later) drift and alarms publish to. */
export class Alerts extends Construct {
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlertsProps = {}) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'serverless-mlops alerts',
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: props.tlsOnly ?? true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
