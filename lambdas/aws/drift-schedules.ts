import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand, type CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import { driftScheduleName, type DriftSchedules, type ScheduledDriftCheckEvent } from '../core/monitoring/drift-schedule.js';
import { requireEnv } from './env.js';

export interface DriftScheduleTarget {
  /** The stack's schedule group (DRIFT_SCHEDULE_GROUP). */
  group: string;
  /** The DriftCheck function (DRIFT_CHECK_FUNCTION_ARN). */
  functionArn: string;
  /** The role Scheduler invokes it with (DRIFT_SCHEDULER_ROLE_ARN): lambda:InvokeFunction on that function only. */
  roleArn: string;
}

/** The target of every drift schedule, from the environment of a function allowed to manage them (lib/model-schedules.ts). */
export const driftScheduleTargetFromEnv = (): DriftScheduleTarget => ({
  group: requireEnv('DRIFT_SCHEDULE_GROUP'),
  functionArn: requireEnv('DRIFT_CHECK_FUNCTION_ARN'),
  roleArn: requireEnv('DRIFT_SCHEDULER_ROLE_ARN'),
});

/** Drift schedules as EventBridge Scheduler schedules, one per model in the stack's group. */
export class SchedulerDriftSchedules implements DriftSchedules {
  constructor(
    private readonly client: SchedulerClient,
    private readonly target: DriftScheduleTarget,
  ) {}

  async put(model: string, expression: string): Promise<void> {
    const event: ScheduledDriftCheckEvent = { kind: 'scheduled-drift-check', model };
    const input: CreateScheduleCommandInput = {
      Name: driftScheduleName(model),
      GroupName: this.target.group,
      Description: `Drift check of ${model} (its spec's monitoring.schedule)`,
      ScheduleExpression: expression,
      // at(...) and cron(...) read in UTC, as the docs state.
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      // A one-time at() schedule stays after it fires, as the spec still names it; the next spec put replaces it.
      ActionAfterCompletion: 'NONE',
      Target: {
        Arn: this.target.functionArn,
        RoleArn: this.target.roleArn,
        Input: JSON.stringify(event),
        // A check that cannot be delivered within an hour is stale: the next one reads a fresh window.
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      },
    };
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ConflictException) && (error as { name?: string }).name !== 'ConflictException') throw error;
      await this.client.send(new UpdateScheduleCommand(input));
    }
  }

  async remove(model: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: driftScheduleName(model), GroupName: this.target.group }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException || (error as { name?: string }).name === 'ResourceNotFoundException') return;
      throw error;
    }
  }
}

export const createDriftSchedules = () => new SchedulerDriftSchedules(new SchedulerClient({}), driftScheduleTargetFromEnv());
