/**
 * Retraining with guardrails: what a schedule, a drift check or a performance decay must pass
 * before a run starts, and the flow that records every decision. A manual `train` never comes
 * here (exempt from cooldown and budget). In guardrail order:
 *   1. the trigger is enabled (`retraining.triggers`; a schedule also needs the spec's `schedule`);
 *   2. cooldown: no automatic run started within `retraining.cooldown`;
 *   3. budget: fewer than `budget.perDay` / `budget.perWeek` automatic runs in the rolling day / week;
 *   4. new data: the newest dataset version that arrived since the last training, not quarantined
 *      for the model (schedule: a version of the spec's dataset; drift and performance: a version
 *      built from the prediction log joined with its feedback, through the data gate);
 *   5. enough new labelled rows (`retraining.minNewLabels`);
 *   6. one run at a time: the model's lock item is claimed with a conditional write on the revision
 *      read at step 2, so of concurrent triggers exactly one starts a run; the others read the
 *      winner and are suppressed as `concurrent`.
 * The run then starts through the one path (planRun, then the pipeline), so it faces the data gate,
 * the champion gate and the approval policy like any other. Pure decisions first, the flow below.
 */
import { z } from 'zod';
import type { DriftCheckRecord } from '../../contract/drift.js';
import { TriggerCheckSchema, type MonitorAnswer, type OpenAlarm, type SuppressionReason, type TriggerDecision } from '../../contract/retraining.js';
import type { DatasetFromLogsAnswer } from '../../contract/datasets.js';
import { buildDatasetFromLogs, type DatasetFromLogsSettings, type DatasetFromLogsStores } from '../data/dataset-from-logs.js';
import type { DatasetVersion } from '../data/dataset-version.js';
import { quarantineFor } from '../data/training-version.js';
import { MlopsError, NotFoundError, parseOrThrow } from '../errors.js';
import { durationMs, RETRAINING_TRIGGERS, type ModelSpec, type RetrainingPolicy, type RetrainingTrigger } from '../training/model-spec.js';
import { MAX_WINDOW_DAYS } from './drift-check.js';
import { modelAlarmPrefix } from './system-monitoring.js';
import { MODEL_NAME, newRunId, type RunRecord, type TrainingRequest } from '../training/run.js';
import { planRun, SYSTEM_ACTORS, type RunPlanStores } from '../training/start-run.js';

/** What invokes the retrain-trigger function: a retraining schedule (`trigger: schedule`) or DriftCheck (drift, performance, with the check). */
export const RetrainTriggerEventSchema = z
  .object({ kind: z.literal('retrain-trigger'), model: MODEL_NAME, trigger: z.enum(RETRAINING_TRIGGERS), check: TriggerCheckSchema.optional() })
  .strict();
export type RetrainTriggerEvent = z.infer<typeof RetrainTriggerEventSchema>;

/**
 * What a drift check hands the guardrails (DriftCheck invokes the retrain-trigger function
 * asynchronously): a decay (`performance.decayed`, judged on realized labels) triggers `performance`,
 * else drift (`status: drift`, already after `consecutiveWindows`) triggers `drift`; nothing otherwise.
 * One event per check: the guardrails would suppress a second one as concurrent anyway.
 */
export function retrainTriggerFor(check: DriftCheckRecord): RetrainTriggerEvent | undefined {
  const trigger = check.performance?.decayed === true ? 'performance' : check.status === 'drift' ? 'drift' : undefined;
  if (!trigger) return undefined;
  return { kind: 'retrain-trigger', model: check.model, trigger, check: { checkId: check.checkId, reportUri: check.reportUri, ...(check.htmlReportUri ? { htmlReportUri: check.htmlReportUri } : {}) } };
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** An automatic run the lock remembers: cooldown and budget count these. */
export interface PaceStart {
  readonly runId: string;
  readonly trigger: RetrainingTrigger;
  readonly at: string;
}

/** The model's lock item: the automatic runs of the last week, and a revision every claim moves on by one. */
export interface RetrainPace {
  readonly starts: readonly PaceStart[];
  readonly revision: number;
}

export const EMPTY_PACE: RetrainPace = { starts: [], revision: 0 };

export interface Suppression {
  readonly reason: SuppressionReason;
  readonly message: string;
}

type Evidence = TriggerDecision['evidence'];

/** Guardrail 1: the trigger is one the spec allows. */
export function checkTriggerEnabled(policy: RetrainingPolicy, trigger: RetrainingTrigger): Suppression | undefined {
  if (policy.triggers.includes(trigger)) return undefined;
  return { reason: 'disabled', message: `${trigger} triggers are off for this model (retraining.triggers: ${policy.triggers.join(', ') || 'none'})` };
}

const newestStart = (pace: RetrainPace) => [...pace.starts].sort((a, b) => b.at.localeCompare(a.at))[0];

/** Guardrail 2: the last automatic run started at least `cooldown` ago. */
export function checkCooldown(pace: RetrainPace, policy: RetrainingPolicy, now: Date): { evidence: NonNullable<Evidence['cooldown']>; suppression?: Suppression } {
  const last = newestStart(pace);
  if (!last) return { evidence: { period: policy.cooldown, lastStartedAt: null, until: null } };
  const until = new Date(Date.parse(last.at) + durationMs(policy.cooldown));
  const evidence = { period: policy.cooldown, lastStartedAt: last.at, until: until.toISOString() };
  if (now < until) {
    return { evidence, suppression: { reason: 'cooldown', message: `run ${last.runId} (${last.trigger}) started at ${last.at}; the ${policy.cooldown} cooldown lasts until ${until.toISOString()}` } };
  }
  return { evidence };
}

/** Guardrail 3: fewer automatic runs than the budget in the rolling day and week before `now`. */
export function checkBudget(pace: RetrainPace, policy: RetrainingPolicy, now: Date): { evidence: NonNullable<Evidence['budget']>; suppression?: Suppression } {
  const since = (ms: number) => pace.starts.filter((start) => Date.parse(start.at) > now.getTime() - ms).length;
  const evidence = { perDay: policy.budget.perDay, perWeek: policy.budget.perWeek, startedInDay: since(DAY_MS), startedInWeek: since(WEEK_MS) };
  if (evidence.startedInDay >= policy.budget.perDay) {
    return { evidence, suppression: { reason: 'budget-day', message: `${evidence.startedInDay} automatic run(s) started in the last 24 hours; the budget is ${policy.budget.perDay} a day` } };
  }
  if (evidence.startedInWeek >= policy.budget.perWeek) {
    return { evidence, suppression: { reason: 'budget-week', message: `${evidence.startedInWeek} automatic run(s) started in the last 7 days; the budget is ${policy.budget.perWeek} a week` } };
  }
  return { evidence };
}

/**
 * Guardrail 4 (schedule): the newest version that arrived after `since` (the last training's start;
 * none: any version) and is not quarantined for `model`. Quarantined ones count as none and are named.
 */
export function newDatasetVersion(versions: readonly DatasetVersion[], model: string, since: string | null): { version?: DatasetVersion; quarantined: string[] } {
  const arrived = versions.filter((v) => since === null || v.arrivedAt > since).sort((a, b) => b.arrivedAt.localeCompare(a.arrivedAt) || b.version.localeCompare(a.version));
  const quarantined: string[] = [];
  for (const version of arrived) {
    const quarantine = quarantineFor(version, model);
    if (!quarantine) return { version, quarantined };
    quarantined.push(`${version.version.slice(0, 12)} (${quarantine.reason})`);
  }
  return { quarantined };
}

/** Guardrail 5: at least `minNewLabels` new labelled rows. */
export function checkNewLabels(count: number, policy: RetrainingPolicy, counted: string): { evidence: NonNullable<Evidence['newLabels']>; suppression?: Suppression } {
  const evidence = { count, min: policy.minNewLabels, counted };
  if (count < policy.minNewLabels) return { evidence, suppression: { reason: 'too-few-labels', message: `${count} new labelled row(s) (${counted}); retraining.minNewLabels is ${policy.minNewLabels}` } };
  return { evidence };
}

/** The lock after a claim: the new start added, starts older than a week (beyond any budget) dropped, the revision moved on. */
export function claimedPace(pace: RetrainPace, start: PaceStart, now: Date): RetrainPace {
  const kept = pace.starts.filter((s) => Date.parse(s.at) > now.getTime() - WEEK_MS);
  return { starts: [...kept, start], revision: pace.revision + 1 };
}

/** The lock with a start taken back (its execution could not start): the claim is undone, the revision moves on. */
export function releasedPace(pace: RetrainPace, runId: string): RetrainPace {
  return { starts: pace.starts.filter((s) => s.runId !== runId), revision: pace.revision + 1 };
}

/** The model's lock item (the registry table in AWS: lambdas/aws/retrain-triggers.ts). */
export interface RetrainLock {
  /** The lock as stored; EMPTY_PACE when the model has none yet. */
  read(model: string): Promise<RetrainPace>;
  /** Writes `next` only if the stored lock is still at `seen.revision` (none stored: revision 0); false when another trigger wrote first. */
  claim(model: string, seen: RetrainPace, next: RetrainPace): Promise<boolean>;
}

export interface TriggerDecisionRecords {
  put(decision: TriggerDecision): Promise<void>;
  /** Newest first. */
  list(model: string, limit: number): Promise<TriggerDecision[]>;
}

/** A dataset version built from the prediction log joined with its feedback (drift and performance triggers). */
export interface LogDataset {
  /** The registered version (through the data gate); none when the window held nothing to learn from. */
  readonly version?: DatasetVersion;
  /** Labelled rows the window held. */
  readonly labelled: number;
  /** What was read, for the record. */
  readonly detail: string;
}

/** Builds a dataset version from the log of `model` since the last training (`since`; none: the builder's default window) up to `until`. */
export type LogDatasetBuilder = (input: { model: string; since: Date | null; until: Date; actor: string; suffix: string }) => Promise<LogDataset>;

/**
 * The trigger's log builder: `mlops dataset from-logs`' own flow (core/data/dataset-from-logs.ts) over
 * the window from the last training to now (at most MAX_WINDOW_DAYS, ending the log's buffer before
 * now), registered inline through the data gate (`stores.register`). A refusal (no labelled rows,
 * features not logged, ...) is no new data, with its reason; the same rows registered before count
 * as new only if that version arrived after the last training. The version is registered before
 * minNewLabels is judged: one with too few labels stays, for a later manual train.
 */
export function logDatasetBuilder(stores: DatasetFromLogsStores, settings: DatasetFromLogsSettings): LogDatasetBuilder {
  return async ({ model, since, until, actor, suffix }) => {
    const to = until.getTime() - settings.bufferSeconds * 1000;
    const from = since === null ? undefined : Math.max(since.getTime(), to - MAX_WINDOW_DAYS * DAY_MS);
    if (from !== undefined && from >= to) return { labelled: 0, detail: `no log since the last training (${since!.toISOString()})` };
    const request = from === undefined ? {} : { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    let answer: DatasetFromLogsAnswer;
    try {
      answer = await buildDatasetFromLogs(stores, settings, { model, request, actor, now: until, suffix });
    } catch (error) {
      if (error instanceof MlopsError) return { labelled: 0, detail: `${error.code}: ${error.message}` };
      throw error;
    }
    const { window, labelledRows, base } = answer.lineage;
    const detail = `${answer.status} ${answer.dataset.name}@${answer.dataset.version.slice(0, 12)}: ${labelledRows} labelled row(s) logged ${window.from} .. ${window.to}${base ? ` on top of ${base.rows} base row(s)` : ''}`;
    if (answer.status === 'RUNNING') return { labelled: labelledRows, detail: `${detail}; registration still running` };
    const version = await stores.datasets.getDatasetVersion(answer.dataset.name, answer.dataset.version);
    const fresh = since === null || version.arrivedAt > since.toISOString();
    return { ...(fresh ? { version } : {}), labelled: labelledRows, detail: fresh ? detail : `${detail}; the same rows were registered before the last training` };
  };
}

export interface RetrainStores {
  findModel(model: string): Promise<{ spec: ModelSpec } | undefined>;
  lock: RetrainLock;
  decisions: TriggerDecisionRecords;
  /** The newest run of the model that trained (mode `train`, any trigger, any status). */
  lastTraining(model: string): Promise<RunRecord | undefined>;
  datasetVersions(name: string): Promise<DatasetVersion[]>;
  fromLogs: LogDatasetBuilder;
  /** planRun's reads: the run is checked exactly as `POST /models/{model}/runs` checks one. */
  plan: RunPlanStores;
  /** Starts the training pipeline with the execution named `runId` (lambdas/aws/step-functions.ts startTrainingRun). */
  startRun(request: TrainingRequest, runId: string): Promise<{ executionArn: string }>;
  /** Tells the owner (the alerts topic). */
  notify(decision: TriggerDecision): Promise<void>;
}

export interface RetrainInput {
  readonly event: unknown;
  readonly now: Date;
  /** Random hex: the decision id's and the run id's suffix. */
  readonly suffix: string;
  /** Told when the owner could not be notified: the decision stands and is recorded either way. */
  readonly onNotifyFailed?: (error: unknown) => void;
}

export type RetrainOutcome = { decision: TriggerDecision } | { skipped: string };

const decisionId = (now: Date, suffix: string) => `${now.toISOString().replace(/[-:.]/g, '')}-${suffix}`;

/**
 * One trigger through the guardrails: records the decision (started with its run, or suppressed and
 * why, with what each guardrail saw) and notifies the owner (not for `concurrent`: the winner did).
 * Skipped without a record only when the model does not exist.
 */
export async function runRetrainTrigger(stores: RetrainStores, input: RetrainInput): Promise<RetrainOutcome> {
  const event = parseOrThrow(RetrainTriggerEventSchema, input.event, 'retrain trigger event');
  const { model, trigger, check } = event;
  const found = await stores.findModel(model);
  if (!found) return { skipped: `model ${model} is not registered` };
  const { spec } = found;
  const policy = spec.retraining;
  const { now } = input;
  const triggerId = decisionId(now, input.suffix);
  const actor = SYSTEM_ACTORS[trigger];
  const evidence: Evidence = {};
  let dataset: TriggerDecision['dataset'];

  const decide = async (fields: Pick<TriggerDecision, 'outcome' | 'message'> & Partial<TriggerDecision>): Promise<RetrainOutcome> => {
    const decision: TriggerDecision = {
      triggerId,
      model,
      trigger,
      ...(check ? { check } : {}),
      ...(dataset ? { dataset } : {}),
      evidence,
      actor,
      ...(spec.owner ? { owner: spec.owner } : {}),
      decidedAt: now.toISOString(),
      ...fields,
    };
    await stores.decisions.put(decision);
    if (decision.reason !== 'concurrent') {
      try {
        await stores.notify(decision);
      } catch (error) {
        input.onNotifyFailed?.(error);
      }
    }
    return { decision };
  };
  const suppress = (suppression: Suppression) => decide({ outcome: 'suppressed', ...suppression });

  if (trigger === 'schedule' && !spec.schedule) return suppress({ reason: 'not-scheduled', message: `the spec of ${model} has no schedule (a schedule left from an earlier spec)` });
  const disabled = checkTriggerEnabled(policy, trigger);
  if (disabled) return suppress(disabled);

  const pace = await stores.lock.read(model);
  const cooldown = checkCooldown(pace, policy, now);
  evidence.cooldown = cooldown.evidence;
  if (cooldown.suppression) return suppress(cooldown.suppression);
  const budget = checkBudget(pace, policy, now);
  evidence.budget = budget.evidence;
  if (budget.suppression) return suppress(budget.suppression);

  const last = await stores.lastTraining(model);
  evidence.lastTraining = last ? { runId: last.runId, startedAt: last.startedAt, dataset: { name: last.dataset.name, version: last.dataset.version } } : null;
  const since = last?.startedAt ?? null;
  let labels: { count: number; counted: string };
  let version: DatasetVersion | undefined;
  if (trigger === 'schedule') {
    // A schedule retrains on its dataset's versions; a spec with a schedule always names one.
    const found = newDatasetVersion(await stores.datasetVersions(spec.dataset!), model, since);
    evidence.newData = { source: 'dataset', since, quarantined: found.quarantined };
    version = found.version;
    // Every row of a registered training version carries its label (the data gate blocks missing labels): its rows are the new labels.
    labels = { count: version?.rowCount ?? 0, counted: 'rows of the new dataset version' };
  } else {
    const built = await stores.fromLogs({ model, since: since === null ? null : new Date(since), until: now, actor, suffix: input.suffix });
    const quarantine = built.version ? quarantineFor(built.version, model) : undefined;
    evidence.newData = { source: 'prediction-log', since, quarantined: built.version && quarantine ? [`${built.version.version.slice(0, 12)} (${quarantine.reason})`] : [], detail: built.detail };
    version = quarantine ? undefined : built.version;
    labels = { count: built.labelled, counted: 'labelled rows of the prediction log since the last training' };
  }
  if (!version) {
    const quarantined = evidence.newData.quarantined.length > 0 ? `; quarantined for ${model}: ${evidence.newData.quarantined.join(', ')}` : '';
    const where = trigger === 'schedule' ? `dataset ${spec.dataset}` : 'the prediction log';
    return suppress({ reason: 'no-new-data', message: `no new data in ${where} since ${since ? `the last training (${since})` : 'ever'}${quarantined}: retraining would learn nothing new` });
  }
  dataset = { name: version.name, version: version.version, chosen: `newest version of ${version.name} arrived since the last training (${version.arrivedAt})` };
  const newLabels = checkNewLabels(labels.count, policy, labels.counted);
  evidence.newLabels = newLabels.evidence;
  if (newLabels.suppression) return suppress(newLabels.suppression);

  // The run is checked like any other before the lock is taken: a run that cannot start takes no turn.
  const triggeredBy = { triggerId, ...(check ? { checkId: check.checkId, reportUri: check.reportUri } : {}) };
  let request: TrainingRequest;
  try {
    ({ request } = await planRun(stores.plan, model, { mode: 'train', dataset: { name: version.name, version: version.version } }, actor, { trigger, triggeredBy }));
  } catch (error) {
    if (error instanceof MlopsError) return suppress({ reason: 'rejected', message: `the run was refused: ${error.message}` });
    throw error;
  }

  const runId = newRunId(model, now, input.suffix);
  const claimed = claimedPace(pace, { runId, trigger, at: now.toISOString() }, now);
  if (!(await stores.lock.claim(model, pace, claimed))) {
    const winner = newestStart(await stores.lock.read(model));
    evidence.lock = { winner: winner?.runId ?? null };
    return suppress({ reason: 'concurrent', message: `another trigger took the retraining lock first${winner ? ` and started run ${winner.runId} (${winner.trigger})` : ''}` });
  }
  let executionArn: string;
  try {
    ({ executionArn } = await stores.startRun(request, runId));
  } catch (error) {
    // Give the turn back so the next trigger may start the run; the error goes up (the function's retries).
    await stores.lock.claim(model, claimed, releasedPace(claimed, runId));
    throw error;
  }
  evidence.lock = { winner: runId };
  return decide({ outcome: 'started', message: `started run ${runId} on ${version.name}@${version.version.slice(0, 12)} (${labels.count} new labelled rows)`, runId, executionArn });
}

/** What `mlops monitor` reads: the model, its latest checks and decisions, and its open alarms. */
export interface MonitorStores {
  findModel(model: string): Promise<{ spec: ModelSpec } | undefined>;
  checks: { list(model: string, limit: number): Promise<DriftCheckRecord[]> };
  decisions: Pick<TriggerDecisionRecords, 'list'>;
  /** Alarms in state ALARM whose names start with the prefix. */
  openAlarms(prefix: string): Promise<OpenAlarm[]>;
}

/** The model's latest drift checks, its open alarms (by modelAlarmPrefix) and its trigger history; NOT_FOUND for no such model. */
export async function monitorModel(stores: MonitorStores, input: { environment: string; model: string; limit: number }): Promise<MonitorAnswer> {
  const { model, limit } = input;
  if (!(await stores.findModel(model))) throw new NotFoundError(`model ${model} does not exist`, { field: 'model' });
  const alarmPrefix = modelAlarmPrefix(input.environment, model);
  const [checks, alarms, triggers] = await Promise.all([stores.checks.list(model, limit), stores.openAlarms(alarmPrefix), stores.decisions.list(model, limit)]);
  return { model, checks, alarms, alarmPrefix, triggers };
}
