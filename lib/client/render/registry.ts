import { z } from 'zod';
import { AliasSchema, type Alias, type AuditEvent, type DatasetLineage, type ModelSummary, type ModelVersion, type VersionLineage } from '../../../lambdas/core/registry/records.js';
import type { ModelDetail } from '../platform-client.js';
import { aliasList, formatMetrics, formatTime, headlineMetrics, renderTree, short, v, type TreeNode } from './common.js';

/** Human output of the registry commands: models, versions, alias moves, lineage and the audit log. */

// ---------------------------------------------------------------------------------------------
// models list / models show

export function formatModelList(models: ModelSummary[]): string {
  if (models.length === 0) return 'no models (create one with: mlops models create --spec <file>)';
  const width = Math.max(24, ...models.map((m) => m.name.length + 1));
  return models
    .map((m) => `${m.name.padEnd(width)} ${m.task.padEnd(26)} ${(m.latestVersion ? `${m.latestVersion} version(s)` : 'no versions').padEnd(14)} ${aliasList(m.aliases).padEnd(40)} updated ${formatTime(m.updatedAt)}`)
    .join('\n');
}

function aliasLine(alias: Alias): string {
  return `${alias.alias.padEnd(11)} ${v(alias.version).padEnd(5)} weight ${String(alias.weight).padEnd(5)} since ${formatTime(alias.updatedAt)} by ${alias.updatedBy}`;
}

export function formatModel(detail: ModelDetail): string {
  const { spec } = detail;
  const aliasesOf = (version: number) => detail.aliases.filter((a) => a.version === version).map((a) => a.alias);
  const lines = [
    `model     ${detail.name}`,
    `task      ${spec.task}, target ${spec.target}, ${spec.training.algorithm}, ${spec.features.length} feature(s)`,
  ];
  if (spec.dataset) lines.push(`dataset   ${spec.dataset}${spec.schedule ? `, retrained ${spec.schedule}` : ''}`);
  if (spec.approval.requiredIn.length) lines.push(`approval  required in ${spec.approval.requiredIn.join(', ')} (and wherever the environment requires it)`);
  lines.push(`created   ${formatTime(detail.createdAt)}, updated ${formatTime(detail.updatedAt)}`);
  lines.push('aliases', ...(detail.aliases.length ? detail.aliases.map((a) => `  ${aliasLine(a)}`) : ['  none']));
  lines.push(`versions  ${detail.latestVersion}`);
  // Newest first, like the other lists.
  for (const version of [...detail.versions].sort((a, b) => b.version - a.version)) {
    const aliases = aliasesOf(version.version);
    lines.push(
      `  ${v(version.version).padEnd(5)} ${version.status.padEnd(16)} ${formatTime(version.createdAt)}  ${version.dataset.name}@${short(version.dataset.version)}  ${formatMetrics(headlineMetrics(version.metrics))}${aliases.length ? `  [${aliases.join(', ')}]` : ''}`,
    );
  }
  if (detail.versions.length === 0) lines.push('  none yet (mlops train <model>)');
  return lines.join('\n');
}

function approvalLine(approval: NonNullable<ModelVersion['approval']>): string {
  const requested = `requested ${formatTime(approval.requestedAt)} by ${approval.requestedBy} (run ${approval.runId})`;
  if (approval.state === 'PENDING') return `PENDING, ${requested}, expires ${formatTime(approval.expiresAt)}`;
  const decided = approval.decidedAt ? ` ${formatTime(approval.decidedAt)}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}` : '';
  return `${approval.state}${decided}${approval.reason ? `: "${approval.reason}"` : ''}; ${requested}`;
}

/** One version's details; `via` is the alias it was asked for by. */
export function formatVersion(version: ModelVersion, via?: string): string {
  const judged =
    version.judgedAgainst === undefined ? '' : version.judgedAgainst === null ? ' (no production version to compare with)' : ` (against production ${v(version.judgedAgainst)})`;
  const lines = [
    `version   ${version.model} ${v(version.version)}${via ? ` (${via})` : ''}`,
    `status    ${version.status}`,
    `run       ${version.runId}`,
    `dataset   ${version.dataset.name}@${version.dataset.version}`,
    `artifact  ${version.artifact.uri} sha256=${short(version.artifact.sha256)}`,
    `metrics   ${formatMetrics(version.metrics)}`,
    `gate      ${version.gateSummary ?? '-'}${judged}`,
    `report    ${version.gateReportUri}`,
  ];
  if (version.approval) lines.push(`approval  ${approvalLine(version.approval)}`);
  if (version.codeVersion) lines.push(`code      ${version.codeVersion}`);
  lines.push(`created   ${formatTime(version.createdAt)} by ${version.createdBy}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// promote (other aliases) / rollback / approve / reject

export function formatMove(model: string, answer: { alias: Alias; before: Alias | null }): string {
  const { alias, before } = answer;
  return `${alias.alias} of ${model}: ${v(before?.version)} -> ${v(alias.version)}, weight ${alias.weight}${before && before.weight !== alias.weight ? ` (was ${before.weight})` : ''}`;
}

export function formatRollback(model: string, answer: { production: Alias; before: Alias; rollout?: { rolloutId: string; version: number; cleared: string[] } | undefined }): string {
  if (answer.rollout) {
    const { rollout } = answer;
    return [
      `rollout ${rollout.rolloutId} of ${model} ${v(rollout.version)} stopped${rollout.cleared.length ? `; cleared ${rollout.cleared.join(', ')}` : ''}`,
      `production never moved: it stays at ${v(answer.production.version)}`,
    ].join('\n');
  }
  return [
    `production of ${model} rolled back: ${v(answer.before.version)} -> ${v(answer.production.version)}`,
    `previous is cleared: going back again takes an explicit promotion (mlops promote ${model} ${answer.before.version} --to production)`,
  ].join('\n');
}

export function formatDecision(answer: { status: 'APPROVED' | 'REJECTED'; version: ModelVersion }): string {
  const { version } = answer;
  const runId = version.approval?.runId;
  const reason = version.approval?.reason ? `: "${version.approval.reason}"` : '';
  if (answer.status === 'APPROVED') {
    return `approved ${version.model} ${v(version.version)}${reason}${runId ? `\nrelease run ${runId} resumes and moves production to ${v(version.version)}` : ''}`;
  }
  return `rejected ${version.model} ${v(version.version)}${reason}\nit will never serve${runId ? `; release run ${runId} ends without moving production` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// lineage

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function runLabel(run: Record<string, unknown> | null): string {
  if (!run) return 'run  (no run record)';
  const mode = text(run.mode);
  const trigger = text(run.trigger);
  const actor = text(run.actor);
  const startedAt = text(run.startedAt);
  return [
    `run  ${text(run.runId) ?? '?'}`,
    mode && `mode ${mode}`,
    trigger && `trigger ${trigger}`,
    text(run.algorithm),
    actor && `by ${actor}`,
    startedAt && `at ${formatTime(startedAt)}`,
  ]
    .filter(Boolean)
    .join('  ');
}

function moveLabel(move: VersionLineage['moves'][number]): string {
  const weight = move.weight === null ? '' : `  weight ${move.weight}`;
  const rollback = move.action === 'alias.rolled_back' ? ' (rollback)' : '';
  return `${formatTime(move.at)}  ${move.alias}: ${v(move.from)} -> ${v(move.to)}${rollback}${weight}  by ${move.actor}  "${move.reason}"`;
}

/** dataset -> run -> version -> where it serves now and every alias move. */
export function formatVersionLineage(lineage: VersionLineage): string {
  const { dataset } = lineage;
  const facts = [dataset.rowCount !== undefined ? `${dataset.rowCount} rows` : undefined, dataset.arrivedAt ? `arrived ${formatTime(dataset.arrivedAt)}` : undefined].filter(Boolean);
  const versionChildren: TreeNode[] = [{ label: `artifact  ${lineage.artifact.uri} sha256=${short(lineage.artifact.sha256)}` }, { label: `gate report  ${lineage.gateReportUri}` }];
  if (lineage.approval) versionChildren.push({ label: `approval  ${approvalLine(lineage.approval)}` });
  if (lineage.promotedFrom) {
    const origin = lineage.promotedFrom;
    versionChildren.push({ label: `promoted from  ${origin.environment}: ${origin.model} ${v(origin.version)}, run ${origin.runId}` });
  }
  versionChildren.push({
    label: lineage.aliases.length ? 'serves as' : 'serves as  nothing now',
    children: lineage.aliases.map((a) => ({ label: `${a.alias}  weight ${a.weight}  since ${formatTime(a.since)} by ${a.by}` })),
  });
  versionChildren.push({ label: lineage.moves.length ? 'alias moves' : 'alias moves  none', children: lineage.moves.map((m) => ({ label: moveLabel(m) })) });
  return renderTree({
    label: `dataset  ${dataset.name}@${dataset.version}${facts.length ? `  ${facts.join(', ')}` : ''}`,
    children: [
      {
        label: runLabel(lineage.run),
        children: [{ label: `version  ${lineage.model} ${v(lineage.version)}  ${lineage.status}`, children: versionChildren }],
      },
    ],
  });
}

/** A dataset version -> the model versions trained on it, and where each serves now. */
export function formatDatasetLineage(lineage: DatasetLineage): string {
  const { dataset } = lineage;
  if (lineage.models.length === 0) return `dataset  ${dataset.name}@${dataset.version}\nno model version was trained on it`;
  return renderTree({
    label: `dataset  ${dataset.name}@${dataset.version}`,
    children: lineage.models.map((m) => ({
      label: `${m.model} ${v(m.version)}  ${m.status}  run ${m.runId}  ${formatTime(m.createdAt)}${m.aliases.length ? `  [${m.aliases.join(', ')}]` : ''}`,
    })),
  });
}

// ---------------------------------------------------------------------------------------------
// audit

const RolledBackSchema = z.object({ production: AliasSchema });
const StatusSchema = z.object({ status: z.string() });
const RegisteredSchema = z.object({ runId: z.string() });
const SpecSchema = z.object({ task: z.string(), training: z.object({ algorithm: z.string() }) });
const ClearedSchema = z.object({ cleared: z.array(z.string()) });
const RolloutEventSchema = z.object({ rolloutId: z.string(), weight: z.number().optional(), reportUri: z.string().optional() });

/** What changed, in a few words: `production: v3 -> v5 (weight 1)`, `status: PENDING_APPROVAL -> APPROVED`. */
export function auditSummary(event: AuditEvent): string {
  switch (event.action) {
    case 'alias.moved': {
      const after = AliasSchema.safeParse(event.after);
      if (!after.success) return '';
      const before = AliasSchema.safeParse(event.before);
      return `${after.data.alias}: ${v(before.success ? before.data.version : null)} -> ${v(after.data.version)} (weight ${after.data.weight})`;
    }
    case 'alias.rolled_back': {
      const before = RolledBackSchema.safeParse(event.before);
      const after = RolledBackSchema.safeParse(event.after);
      return after.success ? `production: ${v(before.success ? before.data.production.version : null)} -> ${v(after.data.production.version)}` : '';
    }
    case 'approval.requested':
    case 'approval.granted':
    case 'approval.rejected':
    case 'approval.expired': {
      const before = StatusSchema.safeParse(event.before);
      const after = StatusSchema.safeParse(event.after);
      return after.success ? `status: ${before.success ? before.data.status : '-'} -> ${after.data.status}` : '';
    }
    case 'version.registered': {
      const after = RegisteredSchema.safeParse(event.after);
      return after.success ? `from run ${after.data.runId}` : '';
    }
    case 'model.created':
    case 'model.updated': {
      const before = SpecSchema.safeParse(event.before);
      const after = SpecSchema.safeParse(event.after);
      if (!after.success) return '';
      const describe = (spec: z.infer<typeof SpecSchema>) => `${spec.task}, ${spec.training.algorithm}`;
      return before.success && describe(before.data) !== describe(after.data) ? `spec: ${describe(before.data)} -> ${describe(after.data)}` : `spec: ${describe(after.data)}`;
    }
    case 'alias.cleared': {
      const cleared = ClearedSchema.safeParse(event.after);
      return cleared.success ? `cleared: ${cleared.data.cleared.join(', ')}` : '';
    }
    case 'rollout.started':
    case 'rollout.stepped':
    case 'rollout.extended':
    case 'rollout.held':
    case 'rollout.promoted':
    case 'rollout.rolled_back':
    case 'rollout.aborted':
    case 'rollout.failed': {
      const after = RolloutEventSchema.safeParse(event.after);
      if (!after.success) return '';
      const { rolloutId, weight, reportUri } = after.data;
      return [`rollout ${rolloutId}`, weight === undefined ? '' : `weight ${weight}`, reportUri ? `evidence ${reportUri}` : ''].filter(Boolean).join(', ');
    }
  }
}

/** One line per event, oldest first: time, actor, action, version, what changed, why. */
export function formatAudit(model: string, events: AuditEvent[]): string {
  if (events.length === 0) return `no audit events for ${model}`;
  const actorWidth = Math.min(40, Math.max(...events.map((e) => e.actor.length)));
  return events
    .map((e) => {
      const summary = auditSummary(e);
      return `${formatTime(e.at)}  ${e.actor.padEnd(actorWidth)}  ${e.action.padEnd(18)}  ${v(e.version).padEnd(5)}  ${summary ? `${summary}  ` : ''}"${e.reason}"`;
    })
    .join('\n');
}
