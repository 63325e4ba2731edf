import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { SCHEDULE_KINDS } from '../lambdas/core/monitoring/model-schedules.js';

export interface ModelSchedulesProps {
  /** The DriftCheck function every drift schedule invokes. */
  readonly driftCheck: lambda.IFunction;
  /** The retraining guardrail function every retraining schedule invokes (never the pipeline itself). */
  readonly retrainTrigger: lambda.IFunction;
  readonly removalPolicy: RemovalPolicy;
  /**
   * The local emulator names every schedule `schedule/default/<name>` when it checks IAM, whatever
   * its group: managers there also get the same actions on `schedule/default/<kind>-*`.
   * @default false
   */
  readonly emulator?: boolean;
}

/**
 * The platform-managed EventBridge Scheduler schedules of the stack's models, both kinds: one
 * schedule group, and the role Scheduler invokes DriftCheck (`drift-<model>`) and the retraining
 * guardrails (`retrain-<model>`) with. The schedules themselves are not CloudFormation resources:
 * the registry API (and DeclareModels at deploy) create, replace and delete them as each spec's
 * `monitoring.schedule` and `schedule` say (core/monitoring/model-schedules.ts), so a model created
 * after deploy gets its schedules at once. Deleting the group deletes them.
 */
export class ModelSchedules extends Construct {
  public readonly group: scheduler.ScheduleGroup;
  /** Assumed by Scheduler: lambda:InvokeFunction on the two target functions, nothing else. */
  public readonly role: iam.Role;
  private readonly driftCheck: lambda.IFunction;
  private readonly retrainTrigger: lambda.IFunction;
  private readonly emulator: boolean;

  constructor(scope: Construct, id: string, props: ModelSchedulesProps) {
    super(scope, id);
    this.driftCheck = props.driftCheck;
    this.retrainTrigger = props.retrainTrigger;
    this.emulator = props.emulator ?? false;
    this.group = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: props.removalPolicy });
    this.role = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler invokes the DriftCheck and retraining guardrail functions with this role (model schedules)',
      // Only Scheduler acting for this account may assume it (confused deputy).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
    });
    // The functions' ARNs themselves: no versions or aliases (grantInvoke would add ARN:*); schedules target them unqualified.
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.driftCheck.functionArn, props.retrainTrigger.functionArn] }));
  }

  /**
   * Lets `fn` create, replace and delete model schedules in the group, passing the scheduler role and
   * no other, and gives it the environment lambdas/aws/model-schedules.ts reads.
   */
  allowManaging(fn: lambda.Function): void {
    fn.addEnvironment('MODEL_SCHEDULE_GROUP', this.group.scheduleGroupName);
    fn.addEnvironment('DRIFT_CHECK_FUNCTION_ARN', this.driftCheck.functionArn);
    fn.addEnvironment('RETRAIN_TRIGGER_FUNCTION_ARN', this.retrainTrigger.functionArn);
    fn.addEnvironment('MODEL_SCHEDULER_ROLE_ARN', this.role.roleArn);
    this.group.grantWriteSchedules(fn);
    this.group.grantDeleteSchedules(fn);
    this.role.grantPassRole(fn.grantPrincipal);
    if (this.emulator) {
      const resources = SCHEDULE_KINDS.map((kind) =>
        Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `default/${kind}-*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
      );
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'], resources }));
    }
  }
}
