/**
 * The retraining guardrails' records and answers (routes in routes.ts, RETRAIN_ROUTES): the
 * retrain-trigger function writes TriggerDecision records and answers with these schemas, and the
 * client parses the answers with the same ones. `mlops monitor` lists the model's open alarms by
 * modelAlarmPrefix (core/monitoring/system-monitoring.ts, where the alarms are named).
 */
import { z } from 'zod';
import { DriftCheckRecordSchema } from './drift.js';
import { RETRAINING_TRIGGERS } from '../core/training/model-spec.js';
import { MODEL_NAME } from '../core/training/run.js';

/** A decision id: the time it was taken (sortable) and a random suffix, as drift check ids. */
export const TRIGGER_ID = z.string().regex(/^\d{8}T\d{9}Z-[a-f0-9]{6}$/, 'must be a trigger decision id such as 20261206T040500000Z-1a2b3c');

/**
 * Why a trigger started no run, one code each (docs/CLI.md lists them):
 * - `not-scheduled`: a schedule fired, but the stored spec has no `schedule` any more;
 * - `disabled`: the trigger is not in `retraining.triggers`;
 * - `cooldown`: an automatic run started less than `retraining.cooldown` ago;
 * - `concurrent`: another trigger took the model's lock at the same moment and started the run;
 * - `budget-day` / `budget-week`: `retraining.budget` automatic runs already started in the rolling day / week;
 * - `no-new-data`: no dataset version arrived since the last training (or every one is quarantined for the model);
 * - `too-few-labels`: fewer new labelled rows than `retraining.minNewLabels`;
 * - `rejected`: the run could not be planned (its dataset does not fit the spec, no dataset named).
 */
export const SUPPRESSION_REASONS = ['not-scheduled', 'disabled', 'cooldown', 'concurrent', 'budget-day', 'budget-week', 'no-new-data', 'too-few-labels', 'rejected'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** The drift check that fired a drift or performance trigger: its record and report. */
export const TriggerCheckSchema = z.object({ checkId: z.string(), reportUri: z.string(), htmlReportUri: z.string().optional() }).strict();
export type TriggerCheck = z.infer<typeof TriggerCheckSchema>;

/** One guardrail decision as recorded (the registry table, under the model) and listed. */
export const TriggerDecisionSchema = z.object({
  triggerId: TRIGGER_ID,
  model: MODEL_NAME,
  trigger: z.enum(RETRAINING_TRIGGERS),
  outcome: z.enum(['started', 'suppressed']),
  /** Suppressed only: the code of the first guardrail that stopped it. */
  reason: z.enum(SUPPRESSION_REASONS).optional(),
  /** The decision in a sentence. */
  message: z.string(),
  /** Started only: the run and its execution. */
  runId: z.string().optional(),
  executionArn: z.string().optional(),
  /** The dataset version the run trains on (started), or the one found (suppressed later). */
  dataset: z.object({ name: z.string(), version: z.string(), chosen: z.string() }).optional(),
  check: TriggerCheckSchema.optional(),
  /** What each guardrail saw, for the ones that were evaluated (in guardrail order). */
  evidence: z.object({
    cooldown: z.object({ period: z.string(), lastStartedAt: z.string().nullable(), until: z.string().nullable() }).optional(),
    budget: z.object({ perDay: z.number(), perWeek: z.number(), startedInDay: z.number(), startedInWeek: z.number() }).optional(),
    lastTraining: z.object({ runId: z.string(), startedAt: z.string(), dataset: z.object({ name: z.string(), version: z.string() }) }).nullable().optional(),
    newData: z
      .object({
        /** Where new data was looked for: a dataset's versions (schedule) or the prediction log (drift, performance). */
        source: z.enum(['dataset', 'prediction-log']),
        since: z.string().nullable(),
        /** Dataset versions arrived since the last training but quarantined for the model (count as none). */
        quarantined: z.array(z.string()),
        detail: z.string().optional(),
      })
      .optional(),
    newLabels: z.object({ count: z.number().int().nonnegative(), min: z.number().int().nonnegative(), counted: z.string() }).optional(),
    lock: z.object({ winner: z.string().nullable() }).optional(),
  }),
  /** Who fired it: system:schedule, system:drift or system:performance. */
  actor: z.string(),
  /** Whom the alert named (the spec's owner). */
  owner: z.string().optional(),
  decidedAt: z.string(),
});
export type TriggerDecision = z.infer<typeof TriggerDecisionSchema>;

/** `GET /models/{model}/triggers`: the latest decisions, newest first. */
export const TriggerListSchema = z.object({ model: MODEL_NAME, triggers: z.array(TriggerDecisionSchema) });
export type TriggerList = z.infer<typeof TriggerListSchema>;

/** An alarm of the model in state ALARM. */
export const OpenAlarmSchema = z.object({ name: z.string(), reason: z.string(), since: z.string().nullable(), metric: z.string().nullable() });
export type OpenAlarm = z.infer<typeof OpenAlarmSchema>;

/** `GET /models/{model}/monitor`: what `mlops monitor` shows. */
export const MonitorAnswerSchema = z.object({
  model: MODEL_NAME,
  checks: z.array(DriftCheckRecordSchema),
  alarms: z.array(OpenAlarmSchema),
  /** The prefix alarms were listed by (modelAlarmPrefix). */
  alarmPrefix: z.string(),
  triggers: z.array(TriggerDecisionSchema),
});
export type MonitorAnswer = z.infer<typeof MonitorAnswerSchema>;
