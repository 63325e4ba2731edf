import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface ModelSchedulesProps {
  /** The DriftCheck function every drift schedule invokes. */
  readonly driftCheck: lambda.IFunction;
  readonly removalPolicy: RemovalPolicy;
  /**
   * The local emulator names every schedule `schedule/default/<name>` when it checks IAM, whatever
   * its group: managers there also get the same actions on `schedule/default/drift-*`.
   * @default false
   */
  readonly emulator?: boolean;
}

/**
 * The platform-managed EventBridge Scheduler schedules of the stack's models: one schedule group,
 * and the role Scheduler invokes the DriftCheck function with. The schedules themselves are not
 * CloudFormation resources: the registry API (and DeclareModels at deploy) create, replace and
 * delete one per model as its spec's `monitoring.schedule` says (core/monitoring/drift-schedule.ts),
 * so a model created after deploy gets its schedule at once. Deleting the group deletes them.
 * Retraining schedules (`schedule`) are still EventBridge rules from `cdk deploy` (lib/schedules.ts).
 */
export class ModelSchedules extends Construct {
  public readonly group: scheduler.ScheduleGroup;
  /** Assumed by Scheduler: lambda:InvokeFunction on the DriftCheck function, nothing else. */
  public readonly role: iam.Role;
  private readonly driftCheck: lambda.IFunction;
  private readonly emulator: boolean;

  constructor(scope: Construct, id: string, props: ModelSchedulesProps) {
    super(scope, id);
    this.driftCheck = props.driftCheck;
    this.emulator = props.emulator ?? false;
    this.group = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: props.removalPolicy });
    this.role = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler invokes the DriftCheck function with this role (model drift schedules)',
      // Only Scheduler acting for this account may assume it (confused deputy).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
    });
    // The function's ARN itself: no versions or aliases (grantInvoke would add ARN:*); schedules target it unqualified.
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.driftCheck.functionArn] }));
  }

  /**
   * Lets `fn` create, replace and delete drift schedules in the group, passing the scheduler role and
   * no other, and gives it the environment lambdas/aws/drift-schedules.ts reads.
   */
  allowManaging(fn: lambda.Function): void {
    fn.addEnvironment('DRIFT_SCHEDULE_GROUP', this.group.scheduleGroupName);
    fn.addEnvironment('DRIFT_CHECK_FUNCTION_ARN', this.driftCheck.functionArn);
    fn.addEnvironment('DRIFT_SCHEDULER_ROLE_ARN', this.role.roleArn);
    this.group.grantWriteSchedules(fn);
    this.group.grantDeleteSchedules(fn);
    this.role.grantPassRole(fn.grantPrincipal);
    if (this.emulator) {
      const resource = Stack.of(this).formatArn({ service: 'scheduler', resource: 'schedule', resourceName: 'default/drift-*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'], resources: [resource] }));
    }
  }
}
