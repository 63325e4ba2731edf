import type { EnvironmentName } from '../environments.js';
import { MlopsError } from '../errors.js';
import type { Alerts, RunUpdates } from '../stores.js';
import type { ModelSpec } from '../training/model-spec.js';
import type { ArtifactRef, RunContext } from '../training/run.js';
import { approvalRequired, checkExpected, type SettableAlias } from './alias-rules.js';
import type { ApprovalOutput, ApprovalRecords } from './approval.js';
import type { Alias, ModelVersion } from './records.js';

/**
 * The release path's registry steps, Register and Promote, over small store interfaces (the
 * handlers give them RegistryStore and TrackingStore; the unit tests in-memory fakes). Each step's
 * registry change is one conditional transaction, its commit point: a fault before it leaves the
 * registry, the aliases and the audit log exactly as they were; a step retried after it finds its
 * work done (idempotent per run) and answers as the first attempt would have.
 */

/** What Register and Promote use of the registry (RegistryStore implements it). */
export interface ReleaseRegistry extends Pick<ApprovalRecords, 'recordDecision'> {
  registerVersion(input: {
    version: Omit<ModelVersion, 'version' | 'createdAt' | 'status' | 'approval'>;
    reason: string;
  }): Promise<{ version: ModelVersion; created: boolean }>;
  findAlias(model: string, alias: 'production' | 'previous'): Promise<Alias | undefined>;
  moveAlias(input: { model: string; alias: SettableAlias; version: number; expectedVersion?: number | null; actor: string; reason: string }): Promise<{ alias: Alias; before: Alias | null }>;
}

/** The environment's release settings, read once by the handler. */
export interface ReleaseSettings {
  environment: EnvironmentName;
  productionRequiresApproval: boolean;
  codeVersion: string;
}

/** Points a step's fault switch (local only) can fire at; a flow calls them where they are. */
export interface CommitHooks {
  beforeCommit?: () => Promise<void>;
  afterCommit?: () => Promise<void>;
}

export interface RegisterInput {
  run: RunContext;
  spec: Pick<ModelSpec, 'approval'>;
  artifact: ArtifactRef;
  /** The reference sample Train stored, when it did (not for external training or transfers). */
  reference?: ArtifactRef | undefined;
  metrics: Record<string, number>;
  gate: { reportUri: string; summary: string; champion: { version: number } | null };
}

export interface RegisterAnswer {
  version: number;
  created: boolean;
  needsApproval: boolean;
  judgedAgainst: number | null;
  release: boolean;
}

/**
 * Register: creates the model version (once per run) and points `candidate` at it; a promotion's
 * version already exists. Says whether production may move by itself or needs a person.
 */
export async function registerRun(
  stores: { registry: Pick<ReleaseRegistry, 'registerVersion'>; runs: RunUpdates },
  settings: ReleaseSettings,
  input: RegisterInput,
  hooks: CommitHooks = {},
): Promise<RegisterAnswer> {
  const { run, spec, gate } = input;
  const needsApproval = approvalRequired(settings.environment, settings.productionRequiresApproval, spec.approval);
  const judgedAgainst = gate.champion?.version ?? null;
  if (run.mode === 'promote' && run.promotion) {
    // A rollout's gate (`release: false`) only judges the version against production: the run ends here.
    if (!run.release) await stores.runs.updateRun(run.runId, { modelVersion: run.promotion.version, status: 'SUCCEEDED', endedAt: new Date().toISOString() });
    return { version: run.promotion.version, created: false, needsApproval, judgedAgainst, release: run.release };
  }
  await hooks.beforeCommit?.();
  const { version, created } = await stores.registry.registerVersion({
    version: {
      model: run.model,
      runId: run.runId,
      artifact: input.artifact,
      ...(input.reference ? { reference: input.reference } : {}),
      dataset: run.dataset,
      metrics: input.metrics,
      gateReportUri: gate.reportUri,
      gateSummary: gate.summary,
      judgedAgainst,
      codeVersion: run.transfer?.source.codeVersion ?? settings.codeVersion,
      ...(run.transfer ? { promotedFrom: run.transfer.source } : {}),
      createdBy: run.actor,
    },
    reason: run.transfer ? `promoted from ${run.transfer.source.environment} v${run.transfer.source.version}: ${run.transfer.reason}` : `run ${run.runId} passed its gate`,
  });
  await hooks.afterCommit?.();
  // A registration without a release is where the run ends.
  await stores.runs.updateRun(run.runId, { modelVersion: version.version, ...(run.release ? {} : { status: 'SUCCEEDED' as const, endedAt: new Date().toISOString() }) });
  return { version: version.version, created, needsApproval, judgedAgainst, release: run.release };
}

export interface PromoteInput {
  run: Pick<RunContext, 'runId' | 'model' | 'actor'> & { promotion?: { reason: string; expectedVersion?: number | null | undefined } | undefined; transfer?: { reason: string } | undefined };
  registration: { version: number; judgedAgainst: number | null };
  /** What the approver handed back through WaitForApproval, when the release needed a person. */
  approval?: (Omit<ApprovalOutput, 'decidedAt'> & { decidedAt?: string | undefined }) | undefined;
  now?: Date;
}

export type PromoteAnswer = { moved: true; production: Alias; before: Alias | null } | { moved: false; error: string; message: string };

/**
 * Promote, the release path's last step: production moves to the version only if it still points
 * where it did when the gate compared against it (and where the caller expected it), in one
 * conditional transaction with its audit event. The approver, when there is one, is the actor of
 * the move (the run keeps its starter), and the approval is recorded first if the API could not
 * (see decideApproval). A retry after the move committed finds production at the version and
 * answers moved, without a second move. A refused move is answered, not thrown, so its code
 * reaches the execution's error unchanged.
 */
export async function promoteRun(
  stores: { registry: Pick<ReleaseRegistry, 'moveAlias' | 'findAlias' | 'recordDecision'>; runs: RunUpdates },
  input: PromoteInput,
  hooks: CommitHooks = {},
): Promise<PromoteAnswer> {
  const { run, registration, approval } = input;
  const now = input.now ?? new Date();
  const actor = approval?.approvedBy ?? run.actor;
  const reason = approval ? `approved by ${approval.approvedBy}: ${approval.reason}` : (run.promotion?.reason ?? run.transfer?.reason ?? `run ${run.runId} passed its gate`);
  try {
    if (approval) {
      await stores.registry.recordDecision({
        model: run.model,
        version: registration.version,
        runId: run.runId,
        decision: 'approve',
        actor: approval.approvedBy,
        reason: approval.reason,
        at: approval.decidedAt ?? now.toISOString(),
      });
    }
    const current = await stores.registry.findAlias(run.model, 'production');
    let moved: { alias: Alias; before: Alias | null };
    if (current?.version === registration.version) {
      // A retry after the move committed: production is where this release put it.
      moved = { alias: current, before: (await stores.registry.findAlias(run.model, 'previous')) ?? null };
    } else {
      // The gate's verdict holds only against the version it compared with.
      checkExpected('production', registration.judgedAgainst, run.promotion?.expectedVersion);
      await hooks.beforeCommit?.();
      moved = await stores.registry.moveAlias({ model: run.model, alias: 'production', version: registration.version, expectedVersion: registration.judgedAgainst, actor, reason });
      await hooks.afterCommit?.();
    }
    await stores.runs.updateRun(run.runId, { status: 'SUCCEEDED', endedAt: now.toISOString() });
    return { moved: true, production: moved.alias, before: moved.before };
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    return { moved: false, error: error.code, message: error.message };
  }
}

/**
 * WaitForApproval (invoked with a task token): marks the version as waiting, keeps the token with
 * it for `mlops approve|reject`, and tells people what waits. Returns the alert it published.
 */
export async function requestApproval(
  stores: {
    registry: {
      requestApproval(input: { model: string; version: number; runId: string; taskToken: string; expiresAt: string; actor: string }): Promise<ModelVersion>;
    };
    alerts: Alerts;
  },
  settings: { environment: string; timeoutSeconds: number },
  input: {
    run: Pick<RunContext, 'runId' | 'model' | 'actor'>;
    taskToken: string;
    registration: { version: number; judgedAgainst: number | null };
    gate: { summary: string; reportUri: string };
    now?: Date;
  },
): Promise<{ kind: string } & Record<string, unknown>> {
  const { run, registration, gate } = input;
  const now = input.now ?? new Date();
  const expiresAt = new Date(now.getTime() + settings.timeoutSeconds * 1000).toISOString();
  const version = await stores.registry.requestApproval({ model: run.model, version: registration.version, runId: run.runId, taskToken: input.taskToken, expiresAt, actor: run.actor });
  const env = settings.environment;
  const alert = {
    environment: env,
    kind: 'approval-requested',
    model: run.model,
    version: registration.version,
    runId: run.runId,
    replaces: registration.judgedAgainst,
    expiresAt: version.approval?.expiresAt ?? expiresAt,
    gate: gate.summary,
    gateReportUri: gate.reportUri,
    approve: `mlops --env ${env} approve ${run.model} ${registration.version} --reason "..."`,
    reject: `mlops --env ${env} reject ${run.model} ${registration.version} --reason "..."`,
  };
  await stores.alerts.publish(`[mlops ${env}] ${run.model} v${registration.version} waits for approval to go to production`, alert);
  return alert;
}
