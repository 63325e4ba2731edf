import { z } from 'zod';
import { ConflictError, MlopsError, parseOrThrow } from '../errors.js';
import { DURATION, durationMs, RolloutPolicySchema, type ModelSpec, type RolloutPolicy } from '../training/model-spec.js';
import { MODEL_NAME, type TrainingRequest } from '../training/run.js';
import { checkPromotable, parseWeight } from './alias-rules.js';
import type { Alias, AuditAction, ModelVersion } from './records.js';

/**
 * Automatic rollouts (`mlops rollout start`): the registry side, free of the AWS SDK. A rollout is
 * one item per model in the registry table (RolloutRecord) and an execution of the rollout state
 * machine (lib/rollout.ts). Every change a rollout makes (aliases, its own state) is one
 * RolloutChange: the store applies it as one conditional transaction with its audit events,
 * conditioned on the rollout still being the one that runs, so an aborted rollout whose execution
 * could not be stopped in time changes nothing.
 */

export const ROLLOUT_STATES = ['RUNNING', 'PROMOTED', 'ROLLED_BACK', 'HELD', 'ABORTED', 'FAILED'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
/** gate: Evaluate+Gate against production; shadow; canary (at steps[stepIndex]); promote: the release path's Promote. */
export const ROLLOUT_PHASES = ['gate', 'shadow', 'canary', 'promote'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];
export const CHECK_DECISIONS = ['advance', 'extend', 'rollback', 'hold'] as const;
export type CheckDecision = (typeof CHECK_DECISIONS)[number];

/**
 * The actor of the decisions a rollout takes on its own (step, extend, hold, roll back, promote's
 * clean-up): not a person, so it is not dressed as one; each reason names the rollout and who
 * started it, and `rollout.started` carries the starter as its actor.
 */
export const ROLLOUT_ACTOR = 'system:rollout';

/** `POST /models/{model}/rollouts`: the version, and overrides of the spec's rollout policy for this rollout only. */
export const RolloutStartRequestSchema = z
  .object({
    version: z.number().int().positive(),
    steps: z.array(z.number()).min(1).max(20).optional(),
    bake: DURATION.optional(),
    shadowFirst: DURATION.optional(),
    reason: z.string().min(1).max(1000).optional(),
  })
  .strict();
export type RolloutStartRequest = z.infer<typeof RolloutStartRequestSchema>;

/** `POST /models/{model}/rollout/abort`. */
export const RolloutAbortRequestSchema = z.object({ reason: z.string().min(1).max(1000).optional() }).strict();

/** What the last check saw and decided (the full output is the report at `reportUri`). */
export const RolloutCheckSummarySchema = z.object({
  at: z.string(),
  mode: z.enum(['shadow', 'canary']),
  decision: z.enum(CHECK_DECISIONS),
  reason: z.string(),
  reportUri: z.string(),
  window: z.object({ from: z.string(), to: z.string() }),
  /** The signals as checkRollout answered them (error rate, p99, distance, agreement, metric), small. */
  signals: z.unknown(),
});
export type RolloutCheckSummary = z.infer<typeof RolloutCheckSummarySchema>;

export const RolloutRecordSchema = z.object({
  model: MODEL_NAME,
  rolloutId: z.string(),
  version: z.number().int().positive(),
  /** Production when the rollout started: what the gate and the checks compare with. */
  production: z.number().int().positive(),
  executionArn: z.string(),
  state: z.enum(ROLLOUT_STATES),
  phase: z.enum(ROLLOUT_PHASES),
  /** The canary step being baked (an index into policy.steps). */
  stepIndex: z.number().int().min(0),
  /** The canary's weight now (0 in the gate and shadow phases). */
  weight: z.number().min(0).max(1),
  /** When the current phase or step began serving: the start of the window its check reads. */
  since: z.string(),
  /** How many times the current bake was extended for too little traffic. */
  extensions: z.number().int().min(0),
  /** The spec's rollout policy with this rollout's overrides. */
  policy: RolloutPolicySchema,
  gateRunId: z.string(),
  promoteRunId: z.string(),
  startedAt: z.string(),
  startedBy: z.string(),
  reason: z.string(),
  updatedAt: z.string(),
  endedAt: z.string().optional(),
  /** Why it ended, for the ended states. */
  outcome: z.string().optional(),
  lastCheck: RolloutCheckSummarySchema.optional(),
});
export type RolloutRecord = z.infer<typeof RolloutRecordSchema>;

/** What the rollout state machine's input carries: pointers, not data (the record is the state). */
export interface RolloutExecutionInput {
  rolloutId: string;
  model: string;
  version: number;
  gate: { name: string; input: TrainingRequest };
  promote: { name: string; input: TrainingRequest };
}

/** What each rollout step answers the state machine: where to go next, and how long to wait before the check. */
export interface RolloutProgress {
  next: 'bake' | 'promote' | 'end';
  waitSeconds: number;
  state: RolloutState;
}

/** One audited change of a rollout, applied by the store as one conditional transaction. */
export interface RolloutChange {
  /** The record as it will be; written only if the stored one is `expect.rolloutId` in one of `expect.states`. */
  record: RolloutRecord;
  expect: { rolloutId: string; states: readonly RolloutState[] } | 'no-running-rollout';
  /** Aliases to point (each only if it still is as read: `current`). */
  put: { alias: Alias; current: Alias | undefined }[];
  /** Aliases to take away (each only if it still points at the version read). */
  clear: Alias[];
  events: { action: AuditAction; actor: string; reason: string; version: number; before?: unknown; after?: unknown }[];
}

/** The registry calls the rollout flows make (RegistryStore implements them over DynamoDB). */
export interface RolloutRegistry {
  findRollout(model: string): Promise<RolloutRecord | undefined>;
  findAlias(model: string, alias: 'production' | 'canary' | 'shadow'): Promise<Alias | undefined>;
  /** Applies the change; false when the rollout was not as expected (another one runs, or it was stopped meanwhile). */
  changeRollout(change: RolloutChange): Promise<boolean>;
}

const ACTIVE: readonly RolloutState[] = ['RUNNING'];

/** The spec's rollout policy with a rollout's overrides, checked by the same rules (last step 1, increasing). */
export function rolloutPolicy(spec: Pick<ModelSpec, 'rollout'>, overrides: Pick<RolloutStartRequest, 'steps' | 'bake' | 'shadowFirst'>): RolloutPolicy {
  const merged = {
    ...spec.rollout,
    ...(overrides.steps ? { steps: overrides.steps } : {}),
    ...(overrides.bake ? { bake: overrides.bake } : {}),
    ...(overrides.shadowFirst ? { shadowFirst: overrides.shadowFirst } : {}),
  };
  return parseOrThrow(RolloutPolicySchema, merged, 'rollout policy');
}

/** How long a step waits before its check: the bake, plus the log's delivery buffer so the window has landed in S3. */
export function bakeWaitSeconds(policy: RolloutPolicy, phase: 'shadow' | 'canary', bufferSeconds: number): number {
  const bake = phase === 'shadow' ? durationMs(policy.shadowFirst!) : durationMs(policy.bake);
  return Math.ceil(bake / 1000) + bufferSeconds;
}

export interface StartRolloutInput {
  model: string;
  spec: ModelSpec;
  version: ModelVersion;
  production: Alias | undefined;
  current: RolloutRecord | undefined;
  request: RolloutStartRequest;
  actor: string;
  rolloutId: string;
  gateRunId: string;
  promoteRunId: string;
  executionArn: string;
  now: Date;
}

/**
 * Checks a rollout request (everything that can be refused now is, so a doomed rollout starts
 * nothing) and answers the change that records it and the state machine's input.
 */
export function planRollout(input: StartRolloutInput): { change: RolloutChange; execution: RolloutExecutionInput } {
  const { model, version, production, current, request, actor } = input;
  if (current?.state === 'RUNNING') {
    throw new MlopsError('ROLLOUT_RUNNING', `a rollout of ${model} version ${current.version} (${current.rolloutId}) is running: wait for it, or stop it with mlops rollout abort ${model}`, { field: 'model' });
  }
  checkPromotable(version, 'production');
  if (!production) {
    throw new MlopsError('NO_PRODUCTION', `${model} has no production version for a rollout to compare with: promote its first version with mlops promote`, { field: 'model' });
  }
  if (production.version === version.version) {
    throw new MlopsError('ALREADY_IN_ALIAS', `production already points at version ${version.version} of ${model}`, { field: 'version' });
  }
  const policy = rolloutPolicy(input.spec, request);
  // Every canary step's weight must be one a canary may have; the last (1) is the promotion.
  policy.steps.slice(0, -1).forEach((step) => parseWeight('canary', step));
  const at = input.now.toISOString();
  const reason = request.reason ?? `rollout of version ${version.version} started`;
  const record: RolloutRecord = {
    model,
    rolloutId: input.rolloutId,
    version: version.version,
    production: production.version,
    executionArn: input.executionArn,
    state: 'RUNNING',
    phase: 'gate',
    stepIndex: 0,
    weight: 0,
    since: at,
    extensions: 0,
    policy,
    gateRunId: input.gateRunId,
    promoteRunId: input.promoteRunId,
    startedAt: at,
    startedBy: actor,
    reason,
    updatedAt: at,
  };
  const promotion = (why: string): TrainingRequest => ({
    model,
    dataset: { name: version.dataset.name, version: version.dataset.version },
    mode: 'promote',
    trigger: 'promote',
    actor,
    release: why === 'promote',
    promotion: { version: version.version, reason: `rollout ${input.rolloutId}: ${why === 'promote' ? 'every step passed its checks' : 'gate against production'}`, expectedVersion: production.version },
  });
  return {
    change: {
      record,
      expect: 'no-running-rollout',
      put: [],
      clear: [],
      events: [
        {
          action: 'rollout.started',
          actor,
          reason,
          version: version.version,
          before: current ? { rolloutId: current.rolloutId, state: current.state } : null,
          after: { rolloutId: input.rolloutId, production: production.version, steps: policy.steps, bake: policy.bake, shadowFirst: policy.shadowFirst ?? null, executionArn: input.executionArn },
        },
      ],
    },
    execution: {
      rolloutId: input.rolloutId,
      model,
      version: version.version,
      gate: { name: input.gateRunId, input: promotion('gate') },
      promote: { name: input.promoteRunId, input: promotion('promote') },
    },
  };
}

const aliasAt = (record: RolloutRecord, alias: 'canary' | 'shadow', weight: number, at: string): Alias => ({
  model: record.model,
  alias,
  version: record.version,
  weight,
  updatedAt: at,
  updatedBy: ROLLOUT_ACTOR,
});

const by = (record: RolloutRecord) => `rollout ${record.rolloutId}, started by ${record.startedBy}`;

/** canary and shadow, where they still point at the rollout's version. */
async function rolloutAliases(registry: Pick<RolloutRegistry, 'findAlias'>, record: RolloutRecord): Promise<Alias[]> {
  const [canary, shadow] = await Promise.all([registry.findAlias(record.model, 'canary'), registry.findAlias(record.model, 'shadow')]);
  return [canary, shadow].filter((alias): alias is Alias => alias?.version === record.version);
}

const clearedEvent = (record: RolloutRecord, cleared: Alias[], actor: string, reason: string) =>
  cleared.length === 0
    ? []
    : [{ action: 'alias.cleared' as const, actor, reason, version: record.version, before: cleared, after: { rolloutId: record.rolloutId, cleared: cleared.map((alias) => alias.alias) } }];

/**
 * The change that ends a rollout (rolled back, held, promoted, failed, aborted): its record in the
 * final state with the outcome, the aliases in `clear` taken away, the decision's audit event and,
 * when aliases go, `alias.cleared`; committed only while the rollout is in one of `from`.
 */
function endingChange(
  record: RolloutRecord,
  end: {
    state: RolloutState;
    at: string;
    outcome: string;
    weight?: number;
    from: readonly RolloutState[];
    clear: Alias[];
    event: RolloutChange['events'][number];
    cleared: { actor: string; reason: string };
  },
): RolloutChange {
  return {
    record: { ...record, state: end.state, updatedAt: end.at, endedAt: end.at, outcome: end.outcome, ...(end.weight === undefined ? {} : { weight: end.weight }) },
    expect: { rolloutId: record.rolloutId, states: end.from },
    put: [],
    clear: end.clear,
    events: [end.event, ...clearedEvent(record, end.clear, end.cleared.actor, end.cleared.reason)],
  };
}

/**
 * The change that moves a rollout into a phase: shadow (the shadow alias set), a canary step (the
 * canary's weight set; the shadow, if any, taken away), or promote (no alias moves: the release
 * path's Promote moves production).
 */
async function enterPhase(
  registry: Pick<RolloutRegistry, 'findAlias'>,
  record: RolloutRecord,
  target: { phase: 'shadow' } | { phase: 'canary'; stepIndex: number } | { phase: 'promote' },
  event: { action: AuditAction; reason: string; after?: Record<string, unknown> },
  at: string,
): Promise<RolloutChange> {
  const next: RolloutRecord = { ...record, phase: target.phase, since: at, extensions: 0, updatedAt: at };
  const put: RolloutChange['put'] = [];
  const clear: Alias[] = [];
  if (target.phase === 'shadow') {
    put.push({ alias: aliasAt(record, 'shadow', 0, at), current: await registry.findAlias(record.model, 'shadow') });
  }
  if (target.phase === 'canary') {
    const weight = record.policy.steps[target.stepIndex]!;
    next.stepIndex = target.stepIndex;
    next.weight = weight;
    const canary = await registry.findAlias(record.model, 'canary');
    put.push({ alias: aliasAt(record, 'canary', weight, at), current: canary });
    const shadow = await registry.findAlias(record.model, 'shadow');
    if (shadow?.version === record.version) clear.push(shadow);
  }
  return {
    record: next,
    expect: { rolloutId: record.rolloutId, states: ACTIVE },
    put,
    clear,
    events: [
      { action: event.action, actor: ROLLOUT_ACTOR, reason: `${event.reason} (${by(record)})`, version: record.version, before: { phase: record.phase, weight: record.weight }, after: { rolloutId: record.rolloutId, phase: next.phase, weight: next.weight, ...event.after } },
      ...clearedEvent(record, clear, ROLLOUT_ACTOR, `shadow phase over, canary takes its place (${by(record)})`),
    ],
  };
}

/** The first canary step, or the promotion when the steps are just [1]. */
const firstStep = (record: RolloutRecord) => (record.policy.steps[0]! < 1 ? ({ phase: 'canary', stepIndex: 0 } as const) : ({ phase: 'promote' } as const));

/** What the state machine does after a change that moved the rollout to `record`. */
export function progressOf(record: RolloutRecord, bufferSeconds: number): RolloutProgress {
  if (record.state !== 'RUNNING') return { next: 'end', waitSeconds: 0, state: record.state };
  if (record.phase === 'promote') return { next: 'promote', waitSeconds: 0, state: record.state };
  if (record.phase === 'gate') throw new Error(`rollout ${record.rolloutId} is still in its gate phase`);
  return { next: 'bake', waitSeconds: bakeWaitSeconds(record.policy, record.phase, bufferSeconds), state: record.state };
}

/** The rollout named, if it still runs; undefined when it was stopped (aborted, rolled back by hand) meanwhile. */
async function running(registry: RolloutRegistry, model: string, rolloutId: string): Promise<RolloutRecord | undefined> {
  const record = await registry.findRollout(model);
  if (!record || record.rolloutId !== rolloutId) throw new MlopsError('ROLLOUT_NOT_FOUND', `${model} has no rollout ${rolloutId}`, { field: 'rolloutId' });
  return record.state === 'RUNNING' ? record : undefined;
}

/**
 * Applies a change; when the store refuses it (a concurrent abort or rollback got there first)
 * answers the rollout as it now stands, so the execution ends instead of failing.
 */
async function commit(registry: RolloutRegistry, change: RolloutChange, bufferSeconds: number): Promise<RolloutProgress> {
  if (await registry.changeRollout(change)) return progressOf(change.record, bufferSeconds);
  const now = await registry.findRollout(change.record.model);
  if (now && now.rolloutId === change.record.rolloutId && now.state !== 'RUNNING') return progressOf(now, bufferSeconds);
  throw new ConflictError(`rollout ${change.record.rolloutId} of ${change.record.model} changed while it was being advanced; the step is retried`, { field: 'rolloutId' });
}

export interface RolloutStepSettings {
  /** The prediction log's delivery buffer (LOG_BUFFER_SECONDS): added to every bake. */
  bufferSeconds: number;
}

/** After the gate passed: shadow first when the policy says so, else the first canary step (or the promotion). */
export async function beginRollout(registry: RolloutRegistry, settings: RolloutStepSettings, input: { model: string; rolloutId: string; now?: Date }): Promise<RolloutProgress> {
  const record = await running(registry, input.model, input.rolloutId);
  if (!record) return progressOf((await registry.findRollout(input.model))!, settings.bufferSeconds);
  // A retried Begin finds its work done.
  if (record.phase !== 'gate') return progressOf(record, settings.bufferSeconds);
  const at = (input.now ?? new Date()).toISOString();
  const gate = `version ${record.version} passed its gate against production version ${record.production} (run ${record.gateRunId})`;
  const target = record.policy.shadowFirst ? ({ phase: 'shadow' } as const) : firstStep(record);
  const what =
    target.phase === 'shadow' ? `shadow for ${record.policy.shadowFirst}` : target.phase === 'canary' ? `canary at ${record.policy.steps[0]}` : 'promotion through the release path (no canary steps)';
  const change = await enterPhase(registry, record, target, { action: 'rollout.stepped', reason: `${gate}: ${what}` }, at);
  return commit(registry, change, settings.bufferSeconds);
}

/** A check's verdict: what checkRollout decided, why (signal and value), and where its full output is. */
export interface CheckVerdict {
  decision: CheckDecision;
  reason: string;
  reportUri: string;
  window: { from: string; to: string };
  signals: unknown;
}

/**
 * Applies a check's verdict to a running rollout, as one audited change:
 * advance -> the next canary step (the shadow phase -> the first step), or the promotion after the last one below 1;
 * extend -> the same step bakes again (at most policy.maxBakeExtensions times, then hold);
 * rollback -> canary and shadow taken away, production untouched; hold -> the rollout stops where it is.
 */
export async function applyVerdict(
  registry: RolloutRegistry,
  settings: RolloutStepSettings,
  record: RolloutRecord,
  verdict: CheckVerdict,
  now: Date = new Date(),
): Promise<RolloutProgress> {
  const at = now.toISOString();
  const mode = record.phase === 'shadow' ? 'shadow' : 'canary';
  const where = mode === 'shadow' ? 'shadow' : `canary at ${record.weight}`;
  const lastCheck: RolloutCheckSummary = { at, mode, decision: verdict.decision, reason: verdict.reason, reportUri: verdict.reportUri, window: verdict.window, signals: verdict.signals };
  const evidence = { reportUri: verdict.reportUri, window: verdict.window, decision: verdict.decision };
  const checked = { ...record, lastCheck };
  let decision = verdict.decision;
  let reason = verdict.reason;
  if (decision === 'extend' && record.extensions >= record.policy.maxBakeExtensions) {
    decision = 'hold';
    reason = `${verdict.reason}; the bake was already extended ${record.extensions} times (maxBakeExtensions ${record.policy.maxBakeExtensions})`;
  }
  const ended = (state: RolloutState, action: AuditAction, clear: Alias[]): RolloutChange =>
    endingChange(checked, {
      state,
      at,
      outcome: reason,
      ...(clear.length ? { weight: 0 } : {}),
      from: ACTIVE,
      clear,
      event: { action, actor: ROLLOUT_ACTOR, reason: `${where}: ${reason} (${by(record)})`, version: record.version, before: { phase: record.phase, weight: record.weight }, after: { rolloutId: record.rolloutId, state, ...evidence } },
      cleared: { actor: ROLLOUT_ACTOR, reason: `rollout ${record.rolloutId} rolled back: ${reason}` },
    });
  switch (decision) {
    case 'rollback':
      return commit(registry, ended('ROLLED_BACK', 'rollout.rolled_back', await rolloutAliases(registry, record)), settings.bufferSeconds);
    case 'hold':
      // The canary keeps its weight: a person decides (mlops rollout abort, or start again).
      return commit(registry, ended('HELD', 'rollout.held', []), settings.bufferSeconds);
    case 'extend':
      return commit(
        registry,
        {
          record: { ...checked, extensions: record.extensions + 1, updatedAt: at },
          expect: { rolloutId: record.rolloutId, states: ACTIVE },
          put: [],
          clear: [],
          events: [
            {
              action: 'rollout.extended',
              actor: ROLLOUT_ACTOR,
              reason: `${where}: ${reason}; bake extended (${record.extensions + 1} of ${record.policy.maxBakeExtensions}) (${by(record)})`,
              version: record.version,
              after: { rolloutId: record.rolloutId, extensions: record.extensions + 1, ...evidence },
            },
          ],
        },
        settings.bufferSeconds,
      );
    case 'advance': {
      const target = mode === 'shadow' ? firstStep(record) : record.policy.steps[record.stepIndex + 1]! < 1 ? ({ phase: 'canary', stepIndex: record.stepIndex + 1 } as const) : ({ phase: 'promote' } as const);
      const what = target.phase === 'canary' ? `canary to ${record.policy.steps[target.stepIndex]}` : `promoting through the release path (run ${record.promoteRunId})`;
      const change = await enterPhase(registry, checked, target, { action: 'rollout.stepped', reason: `${where} passed its checks (${reason}): ${what}`, after: evidence }, at);
      return commit(registry, change, settings.bufferSeconds);
    }
  }
}

/** After the release path's Promote moved production: canary and shadow are taken away, the rollout ends PROMOTED. */
export async function finishRollout(registry: RolloutRegistry, settings: RolloutStepSettings, input: { model: string; rolloutId: string; now?: Date }): Promise<RolloutProgress> {
  const record = await running(registry, input.model, input.rolloutId);
  if (!record) return progressOf((await registry.findRollout(input.model))!, settings.bufferSeconds);
  const at = (input.now ?? new Date()).toISOString();
  const clear = await rolloutAliases(registry, record);
  const reason = `production moved to version ${record.version} through the release path (run ${record.promoteRunId})`;
  return commit(
    registry,
    endingChange(record, {
      state: 'PROMOTED',
      at,
      outcome: reason,
      weight: 1,
      from: ACTIVE,
      clear,
      event: { action: 'rollout.promoted', actor: ROLLOUT_ACTOR, reason: `${reason} (${by(record)})`, version: record.version, after: { rolloutId: record.rolloutId, runId: record.promoteRunId } },
      cleared: { actor: ROLLOUT_ACTOR, reason: `rollout ${record.rolloutId} promoted: canary and shadow are production now` },
    }),
    settings.bufferSeconds,
  );
}

/**
 * A step of the rollout failed (the gate refused the version, the promotion failed or was
 * rejected): canary and shadow are taken away, production stays, the rollout ends FAILED.
 */
export async function failRollout(
  registry: RolloutRegistry,
  settings: RolloutStepSettings,
  input: { model: string; rolloutId: string; error: string; cause: string; now?: Date },
  /** Why a release run failed, as its run record says (the execution's error only names the nested run). */
  runFailure: (runId: string) => Promise<{ error: string; reason: string } | undefined> = async () => undefined,
): Promise<RolloutProgress> {
  const record = await running(registry, input.model, input.rolloutId);
  if (!record) return progressOf((await registry.findRollout(input.model))!, settings.bufferSeconds);
  const at = (input.now ?? new Date()).toISOString();
  const clear = await rolloutAliases(registry, record);
  const step = record.phase === 'gate' ? 'the gate against production' : record.phase === 'promote' ? 'the promotion' : `the ${record.phase} phase`;
  const run = record.phase === 'gate' ? record.gateRunId : record.phase === 'promote' ? record.promoteRunId : undefined;
  const failure = run ? await runFailure(run).catch(() => undefined) : undefined;
  const reason = failure ? `${step} failed (run ${run}, ${failure.error}): ${failure.reason}` : `${step} failed (${input.error}): ${input.cause}`;
  return commit(
    registry,
    endingChange(record, {
      state: 'FAILED',
      at,
      outcome: reason,
      weight: 0,
      from: ACTIVE,
      clear,
      event: { action: 'rollout.failed', actor: ROLLOUT_ACTOR, reason: `${reason} (${by(record)})`, version: record.version, after: { rolloutId: record.rolloutId, phase: record.phase, error: input.error } },
      cleared: { actor: ROLLOUT_ACTOR, reason: `rollout ${record.rolloutId} failed: production stays` },
    }),
    settings.bufferSeconds,
  );
}

/**
 * A person stops a rollout (`rollout abort`, or a manual `rollback` during one): the rollout
 * ends ABORTED and canary and shadow are taken away, as the caller, with `alias.cleared`. Production
 * never moved, so it stays. A HELD rollout (its execution ended, its canary still serving) can be
 * aborted too. Answers the record as it was (undefined when there was nothing to stop).
 */
export async function planStop(
  registry: Pick<RolloutRegistry, 'findRollout' | 'findAlias'>,
  input: { model: string; actor: string; reason: string; now: Date },
): Promise<{ before: RolloutRecord; change: RolloutChange } | undefined> {
  const record = await registry.findRollout(input.model);
  if (!record || (record.state !== 'RUNNING' && record.state !== 'HELD')) return undefined;
  const at = input.now.toISOString();
  const clear = await rolloutAliases(registry, record);
  return {
    before: record,
    change: endingChange(record, {
      state: 'ABORTED',
      at,
      outcome: `stopped by ${input.actor}: ${input.reason}`,
      weight: 0,
      from: ['RUNNING', 'HELD'],
      clear,
      event: { action: 'rollout.aborted', actor: input.actor, reason: input.reason, version: record.version, before: { state: record.state, phase: record.phase, weight: record.weight }, after: { rolloutId: record.rolloutId, state: 'ABORTED' } },
      cleared: { actor: input.actor, reason: `rollout ${record.rolloutId} stopped: ${input.reason}; production stays at version ${record.production}` },
    }),
  };
}

/** Refusal of an abort when nothing runs. */
export function nothingToStop(model: string, record: RolloutRecord | undefined): MlopsError {
  return new MlopsError(
    'ROLLOUT_NOT_RUNNING',
    record ? `the last rollout of ${model} (${record.rolloutId}) already ended (${record.state}); nothing to abort` : `${model} has no rollout to abort`,
    { field: 'model' },
  );
}

/** The Step Functions side of the routes (StepFunctions in lambdas/aws over the rollout state machine and the pipeline). */
export interface RolloutExecutions {
  /** The ARN the rollout execution named `name` has, started or not. */
  rolloutArn(name: string): string;
  /** The ARN of the release path's run named `runId`. */
  pipelineArn(runId: string): string;
  start(name: string, input: RolloutExecutionInput): Promise<void>;
  /** Stops an execution if it runs; answers whether it did. */
  stop(executionArn: string, error: string, cause: string): Promise<boolean>;
  /** undefined when there is no such execution. */
  describe(executionArn: string): Promise<{ status: string; error?: string; cause?: string } | undefined>;
}

export interface RolloutRouteStores {
  registry: RolloutRegistry & {
    getModel(model: string): Promise<{ spec: ModelSpec }>;
    getVersion(model: string, version: number): Promise<ModelVersion>;
  };
  executions: RolloutExecutions;
}

export interface StopLog {
  warn(message: string, details: Record<string, unknown>): void;
}

/**
 * Stops the executions of a rollout that was recorded as stopped: its own, and the release run it
 * may be waiting on. A stop that fails is logged: every step the execution could still take is
 * conditioned on the rollout running, so it changes nothing.
 */
async function stopExecutions(executions: RolloutExecutions, record: RolloutRecord, cause: string, log: StopLog): Promise<void> {
  const arns = [record.executionArn, executions.pipelineArn(record.gateRunId), executions.pipelineArn(record.promoteRunId)];
  for (const arn of arns) {
    try {
      await executions.stop(arn, 'RolloutStopped', cause);
    } catch (error) {
      log.warn('could not stop a rollout execution', { executionArn: arn, error: String(error) });
    }
  }
}

/**
 * `POST /models/{model}/rollouts`: refuses what can be refused now (a rejected version, one
 * already in production, no production, another rollout running, a bad policy), records the
 * rollout (`rollout.started`, by the caller) and starts its execution. A recorded rollout whose
 * execution ended without recording an outcome (it timed out) no longer blocks: it is closed first.
 */
export async function startRollout(
  stores: RolloutRouteStores,
  input: { model: string; request: RolloutStartRequest; actor: string; now: Date; ids: { rolloutId: string; gateRunId: string; promoteRunId: string } },
  log: StopLog,
): Promise<{ record: RolloutRecord; execution: RolloutExecutionInput }> {
  const { registry, executions } = stores;
  const { model, now } = input;
  const [{ spec }, version, production] = await Promise.all([registry.getModel(model), registry.getVersion(model, input.request.version), registry.findAlias(model, 'production')]);
  let current = await registry.findRollout(model);
  if (current?.state === 'RUNNING') {
    const execution = await executions.describe(current.executionArn);
    if (execution && execution.status !== 'RUNNING') {
      const stale = await planStop(registry, { model, actor: ROLLOUT_ACTOR, reason: `its execution ended (${execution.status}) without recording an outcome`, now });
      if (stale) {
        const closed: RolloutChange = { ...stale.change, record: { ...stale.change.record, state: 'FAILED' }, events: stale.change.events.map((event) => (event.action === 'rollout.aborted' ? { ...event, action: 'rollout.failed' } : event)) };
        if (await registry.changeRollout(closed)) current = closed.record;
      }
    }
  }
  const { change, execution } = planRollout({
    model,
    spec,
    version,
    production,
    current,
    request: input.request,
    actor: input.actor,
    ...input.ids,
    executionArn: executions.rolloutArn(input.ids.rolloutId),
    now,
  });
  if (!(await registry.changeRollout(change))) {
    throw new MlopsError('ROLLOUT_RUNNING', `another rollout of ${model} started meanwhile: see mlops rollout status ${model}`, { field: 'model' });
  }
  try {
    await executions.start(input.ids.rolloutId, execution);
  } catch (error) {
    // Nothing runs: the record must not block the next rollout.
    const failedAt = new Date().toISOString();
    await registry.changeRollout({
      record: { ...change.record, state: 'FAILED', updatedAt: failedAt, endedAt: failedAt, outcome: `its execution could not start: ${String(error)}` },
      expect: { rolloutId: change.record.rolloutId, states: ['RUNNING'] },
      put: [],
      clear: [],
      events: [{ action: 'rollout.failed', actor: ROLLOUT_ACTOR, reason: `rollout ${change.record.rolloutId} could not start its execution`, version: change.record.version }],
    });
    throw error;
  }
  return { record: change.record, execution };
}

/**
 * `POST /models/{model}/rollout/abort`, and a manual rollback during a rollout: the rollout ends
 * ABORTED with canary and shadow cleared, as the caller; then its executions are stopped.
 * Production never moved, so it stays. Refused with ROLLOUT_NOT_RUNNING when nothing runs (or holds).
 */
export async function stopRollout(
  stores: RolloutRouteStores,
  input: { model: string; actor: string; reason: string; now: Date },
  log: StopLog,
): Promise<{ record: RolloutRecord; cleared: string[] }> {
  const { registry, executions } = stores;
  const plan = await planStop(registry, input);
  if (!plan) throw nothingToStop(input.model, await registry.findRollout(input.model));
  if (!(await registry.changeRollout(plan.change))) {
    throw new ConflictError(`the rollout of ${input.model} changed while it was being stopped (a step moved it, or it ended): look again (mlops rollout status) and retry`, { field: 'model' });
  }
  await stopExecutions(executions, plan.before, `stopped by ${input.actor}: ${input.reason}`, log);
  return { record: plan.change.record, cleared: plan.change.clear.map((alias) => alias.alias) };
}

/** Canary steps whose bake passed its check: the step index reached, plus the last one once promoted. */
export function stepsDone(record: RolloutRecord): number {
  if (record.state === 'PROMOTED' || record.phase === 'promote') return record.policy.steps.length - 1;
  if (record.phase === 'canary') return record.stepIndex;
  return 0;
}
