import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ModelSpec } from '../lambdas/core/training/model-spec.js';
import type { TrainingRequest } from '../lambdas/core/training/run.js';
import { SYSTEM_ACTORS } from '../lambdas/core/training/start-run.js';

export interface SchedulesProps {
  readonly pipeline: sfn.IStateMachine;
  /** Declared models; each with a `schedule` and a `dataset` gets a rule. */
  readonly models: readonly ModelSpec[];
  /**
   * Refuse requests that do not use TLS (a resource policy denying aws:SecureTransport false).
   * Off only on the emulator, which serves plain HTTP and, with AUTH=true, would refuse every role.
   * @default true
   */
  readonly tlsOnly?: boolean;
}

/** EventBridge rules that start the training pipeline for each declared model on its schedule. */
export class Schedules extends Construct {
  public readonly rules: Record<string, events.Rule> = {};
  /** Start requests EventBridge could not deliver, kept 14 days for inspection. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: props.tlsOnly ?? true,
      retentionPeriod: Duration.days(14),
    });
    for (const spec of props.models) {
      if (!spec.schedule || !spec.dataset) continue;
      const request: TrainingRequest = {
        model: spec.name,
        dataset: { name: spec.dataset },
        trigger: 'schedule',
        actor: SYSTEM_ACTORS.schedule,
      };
      const rule = new events.Rule(this, `Retrain-${spec.name}`, {
        description: `Retrains ${spec.name} on the newest version of dataset ${spec.dataset}`,
        schedule: events.Schedule.expression(spec.schedule),
      });
      rule.addTarget(
        new targets.SfnStateMachine(props.pipeline, {
          input: events.RuleTargetInput.fromObject(request),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 3,
        }),
      );
      this.rules[spec.name] = rule;
    }
  }
}
