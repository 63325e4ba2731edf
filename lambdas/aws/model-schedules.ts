import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand, type CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import type { ScheduledDriftCheckEvent } from '../core/monitoring/drift-schedule.js';
import { scheduleName, type ModelSchedules, type ScheduleKind } from '../core/monitoring/model-schedules.js';
import type { RetrainTriggerEvent } from '../core/monitoring/retraining.js';
import { requireEnv } from './env.js';

export interface ModelScheduleTargets {
  /** The stack's schedule group (MODEL_SCHEDULE_GROUP). */
  group: string;
  /** The function each kind invokes: DriftCheck (DRIFT_CHECK_FUNCTION_ARN), the retraining guardrails (RETRAIN_TRIGGER_FUNCTION_ARN). */
  functionArns: Record<ScheduleKind, string>;
  /** The role Scheduler invokes them with (MODEL_SCHEDULER_ROLE_ARN): lambda:InvokeFunction on those two functions only. */
  roleArn: string;
}

/** The targets of every schedule, from the environment of a function allowed to manage them (lib/model-schedules.ts). */
export const modelScheduleTargetsFromEnv = (): ModelScheduleTargets => ({
  group: requireEnv('MODEL_SCHEDULE_GROUP'),
  functionArns: { drift: requireEnv('DRIFT_CHECK_FUNCTION_ARN'), retrain: requireEnv('RETRAIN_TRIGGER_FUNCTION_ARN') },
  roleArn: requireEnv('MODEL_SCHEDULER_ROLE_ARN'),
});

/** What each kind of schedule sends its function. */
function scheduleInput(kind: ScheduleKind, model: string): { event: ScheduledDriftCheckEvent | RetrainTriggerEvent; description: string } {
  if (kind === 'drift') return { event: { kind: 'scheduled-drift-check', model }, description: `Drift check of ${model} (its spec's monitoring.schedule)` };
  return { event: { kind: 'retrain-trigger', model, trigger: 'schedule' }, description: `Retraining trigger of ${model} (its spec's schedule), through the guardrails` };
}

/** The model schedules as EventBridge Scheduler schedules, one per model and kind in the stack's group. */
export class SchedulerModelSchedules implements ModelSchedules {
  constructor(
    private readonly client: SchedulerClient,
    private readonly targets: ModelScheduleTargets,
  ) {}

  async put(kind: ScheduleKind, model: string, expression: string): Promise<void> {
    const { event, description } = scheduleInput(kind, model);
    const input: CreateScheduleCommandInput = {
      Name: scheduleName(kind, model),
      GroupName: this.targets.group,
      Description: description,
      ScheduleExpression: expression,
      // at(...) and cron(...) read in UTC, as the docs state.
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      // A one-time at() schedule stays after it fires, as the spec still names it; the next spec put replaces it.
      ActionAfterCompletion: 'NONE',
      Target: {
        Arn: this.targets.functionArns[kind],
        RoleArn: this.targets.roleArn,
        Input: JSON.stringify(event),
        // An event that cannot be delivered within an hour is stale: the next one reads fresh state.
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

  async remove(kind: ScheduleKind, model: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: scheduleName(kind, model), GroupName: this.targets.group }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException || (error as { name?: string }).name === 'ResourceNotFoundException') return;
      throw error;
    }
  }
}

export const createModelSchedules = () => new SchedulerModelSchedules(new SchedulerClient({}), modelScheduleTargetsFromEnv());
