import { z } from 'zod';
import { parseAliasName, parseWeight, type SettableAlias } from '../../lambdas/core/registry/alias-rules.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import { AliasSchema, type Alias, type AuditEvent, type DatasetLineage, type ModelSummary, type ModelVersion, type VersionLineage } from '../../lambdas/core/registry/records.js';
import { ALIASES, type AliasName } from '../../lambdas/core/registry/keys.js';
import { MODEL_NAME } from '../../lambdas/core/training/run.js';
import { DATASET_NAME, DATASET_VERSION } from '../../lambdas/core/data/dataset-version.js';
import { formatMetrics } from './format.js';
import type { ModelDetail, PipelineOutcome, VersionRef } from './platform-client.js';

/**
 * The registry commands' argument parsing and human output, free of the AWS SDK so they can be
 * tested alone. Every parser throws INVALID_INPUT naming the argument, before any call is made.
 */

// ---------------------------------------------------------------------------------------------
// Arguments

const MAX_REASON_CHARS = 1000;

const invalid = (field: string, message: string) => new MlopsError('INVALID_INPUT', message, { field });

/** A model name, as the registry accepts it. */
export function parseModelName(text: string, argument = 'model'): string {
  const parsed = MODEL_NAME.safeParse(text);
  if (!parsed.success) throw invalid(argument, `${argument} "${text}": ${parsed.error.issues[0]?.message ?? 'not a model name'}`);
  return parsed.data;
}

/** `3`: a version number, a positive integer. */
export function parseVersionNumber(text: string, argument = 'version'): number {
  const value = Number(text);
  if (!/^[1-9][0-9]*$/.test(text) || !Number.isSafeInteger(value)) {
    throw invalid(argument, `${argument} "${text}": expected a version number (a positive integer such as 3)`);
  }
  return value;
}

const isAliasName = (text: string): text is AliasName => (ALIASES as readonly string[]).includes(text);

/** A version number, or an alias name standing for the version it points at. */
export function parseVersionRef(text: string, argument = 'version'): VersionRef {
  if (isAliasName(text)) return text;
  if (/^[1-9][0-9]*$/.test(text)) return parseVersionNumber(text, argument);
  throw invalid(argument, `${argument} "${text}": expected a version number (a positive integer) or an alias (${ALIASES.join(', ')})`);
}

/** `model`, `model@3` or `model@production`. */
export function parseModelRef(text: string): { model: string; version?: VersionRef };
export function parseModelRef(text: string, options: { versionRequired: true }): { model: string; version: VersionRef };
export function parseModelRef(text: string, options: { versionRequired?: boolean } = {}): { model: string; version?: VersionRef } {
  const shape = options.versionRequired ? '<model>@<version> or <model>@<alias>' : '<model>, <model>@<version> or <model>@<alias>';
  const parts = text.split('@');
  if (parts.length > 2) throw invalid('model', `"${text}": expected ${shape}, with one @`);
  const [name, version] = parts as [string, string | undefined];
  if (name === '') throw invalid('model', `"${text}": the model name before @ is missing; expected ${shape}`);
  // The shape first: `m@` is a missing version, whatever the name.
  if (version === '') throw invalid('version', `"${text}": the version after @ is missing; expected ${shape} (${ALIASES.join(', ')})`);
  const model = parseModelName(name);
  if (version === undefined) {
    if (options.versionRequired) throw invalid('version', `"${text}": name a version; expected ${shape} (${ALIASES.join(', ')})`);
    return { model };
  }
  return { model, version: parseVersionRef(version) };
}

/** `name@<sha256>`, `name@latest` or `name` (the newest version). */
export function parseDatasetLineageRef(text: string): { name: string; version: string } {
  const parts = text.split('@');
  const [name, version] = parts as [string, string | undefined];
  const shape = '<name>@<sha256> or <name>@latest';
  const parsedName = DATASET_NAME.safeParse(name);
  if (parts.length > 2 || !parsedName.success) throw invalid('dataset', `--dataset "${text}": expected ${shape}${parsedName.success ? '' : ` (the name ${parsedName.error.issues[0]?.message})`}`);
  if (version === undefined || version === 'latest') return { name: parsedName.data, version: 'latest' };
  if (!DATASET_VERSION.safeParse(version).success) throw invalid('dataset.version', `--dataset "${text}": the version must be a sha256 (64 hex characters) or latest`);
  return { name: parsedName.data, version };
}

/** `--expect 3`, or `--expect none` (where allowed) for an alias that points nowhere yet. */
export function parseExpected(text: string, options: { allowNone: boolean }): number | null {
  if (options.allowNone && text === 'none') return null;
  if (/^[1-9][0-9]*$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  throw invalid(
    'expect',
    `--expect "${text}": expected the version the alias points at now (a positive integer)${options.allowNone ? ', or none when it points nowhere' : ''}`,
  );
}

/** `--weight 0.1`: a share of traffic between 0 and 1; which values an alias takes is checked with it. */
export function parseWeightOption(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid('weight', `--weight "${text}": expected a share of traffic between 0 and 1, such as 0.1`);
  }
  return value;
}

/** `--to <alias>`: an alias a person may set (INVALID_ALIAS, or ALIAS_MANAGED for previous, as the API answers). */
export function parseTargetAlias(text: string): SettableAlias {
  try {
    return parseAliasName(text);
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    throw new MlopsError(error.code, `--to "${text}": ${error.message}`, { field: 'to' });
  }
}

/** `--weight` for an alias: a number first, then a share the alias takes (a canary's is strictly between 0 and 1). */
export function parseWeightFor(alias: SettableAlias, text: string): number {
  const weight = parseWeightOption(text);
  try {
    return parseWeight(alias, weight);
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    throw new MlopsError(error.code, `--weight ${text}: ${error.message}`, { field: 'weight' });
  }
}

/** `--reason`: one to 1,000 characters, not only spaces. */
export function parseReason(text: string): string {
  const reason = text.trim();
  if (reason === '') throw invalid('reason', '--reason is empty: say why, in a sentence; it is recorded in the audit log');
  if (reason.length > MAX_REASON_CHARS) throw invalid('reason', `--reason is ${reason.length} characters long; at most ${MAX_REASON_CHARS}`);
  return reason;
}

// ---------------------------------------------------------------------------------------------
// Small pieces

/** `2026-01-02 03:04:05Z`: ISO time to the second, readable in a table. */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

const v = (version: number | null | undefined) => (version === null || version === undefined ? '-' : `v${version}`);
const short = (sha: string) => sha.slice(0, 12);

/** The metrics worth a glance in a list: accuracy and ROC AUC, or RMSE and R². */
export function headlineMetrics(metrics: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!metrics) return undefined;
  const keys = metrics.rmse !== undefined ? ['rmse', 'r2'] : ['accuracy', 'rocAuc', 'f1'];
  return Object.fromEntries(keys.filter((k) => metrics[k] !== undefined).map((k) => [k, metrics[k]!]));
}

/** `production v3, candidate v5`, in ALIASES order. */
function aliasList(aliases: Partial<Record<AliasName, number>>): string {
  const parts = ALIASES.filter((name) => aliases[name] !== undefined).map((name) => `${name} ${v(aliases[name])}`);
  return parts.length ? parts.join(', ') : 'no aliases';
}

/** A tree as indented lines, `├─`/`└─` before each child. */
export interface TreeNode {
  label: string;
  children?: TreeNode[];
}

export function renderTree(root: TreeNode): string {
  const lines = [root.label];
  const walk = (children: TreeNode[], indent: string) => {
    children.forEach((child, index) => {
      const last = index === children.length - 1;
      lines.push(`${indent}${last ? '└─ ' : '├─ '}${child.label}`);
      walk(child.children ?? [], `${indent}${last ? '   ' : '│  '}`);
    });
  };
  walk(root.children ?? [], '');
  return lines.join('\n');
}

/** What to type to decide a waiting approval; `--env` is named unless it is the default. */
export function decisionCommand(decision: 'approve' | 'reject', model: string, version: number | string, env: string): string {
  return `mlops${env === 'local' ? '' : ` --env ${env}`} ${decision} ${model} ${version} --reason "<why>"`;
}

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
// promote / rollback / approve / reject

export type ReleaseStatus = 'RELEASED' | 'WAITING_FOR_APPROVAL' | 'FAILED' | 'RUNNING';

/** What `mlops promote <model> <version> --to production` prints with --json. */
export interface ReleaseReport {
  status: ReleaseStatus;
  model: string;
  runId: string;
  executionArn: string;
  version: number;
  /** States the execution entered, in order (absent with --no-wait). */
  steps?: string[];
  failure?: { step: string; error: string; reason: string };
  /** Where production points once released. */
  production?: Alias;
}

/**
 * A release run's outcome as the promote command reports it. An execution that ended without
 * succeeding is FAILED, with the run record's failure, or one made from the execution status when
 * the run recorded none (timed out, aborted).
 */
export function releaseReport(
  model: string,
  version: number,
  started: { runId: string; executionArn: string },
  outcome: PipelineOutcome | undefined,
  production?: Alias,
): ReleaseReport {
  const base = { model, runId: started.runId, executionArn: started.executionArn, version };
  if (!outcome) return { status: 'RUNNING', ...base };
  const steps = outcome.steps;
  if (outcome.status === 'SUCCEEDED') return { status: 'RELEASED', ...base, steps, ...(production ? { production } : {}) };
  if (outcome.status === 'WAITING_FOR_APPROVAL') return { status: 'WAITING_FOR_APPROVAL', ...base, steps };
  if (outcome.status === 'RUNNING') return { status: 'RUNNING', ...base, steps };
  const failure = outcome.run?.failure ?? {
    step: steps.at(-1) ?? 'unknown',
    error: `EXECUTION_${outcome.status}`,
    reason: `the release execution ended ${outcome.status} without recording a failure`,
  };
  return { status: 'FAILED', ...base, steps, failure };
}

export function formatRelease(report: ReleaseReport, env: string): string {
  const subject = `${report.model} ${v(report.version)}`;
  switch (report.status) {
    case 'RUNNING':
      return [
        `release run ${report.runId} started: ${subject} -> production (evaluate, gate, approval where required)`,
        `follow it with: mlops${env === 'local' ? '' : ` --env ${env}`} runs show ${report.runId}`,
      ].join('\n');
    case 'RELEASED': {
      const now = report.production?.version ?? report.version;
      const moved = now === report.version ? '' : ` (it has moved since the release put ${v(report.version)} there)`;
      return `released: production of ${report.model} is now ${v(now)}${moved} (run ${report.runId})`;
    }
    case 'WAITING_FOR_APPROVAL':
      return waitingForApproval(report.model, report.version, report.runId, env);
    case 'FAILED':
      return [
        `release of ${subject} FAILED at ${report.failure!.step}: ${report.failure!.error}`,
        `  ${report.failure!.reason}`,
        `production did not move (run ${report.runId})`,
      ].join('\n');
  }
}

/** The lines that tell a person a release waits for them, and what to type. */
export function waitingForApproval(model: string, version: number | undefined, runId: string, env: string): string {
  const ref = version ?? '<version>';
  return [
    `waiting for approval: ${model} ${version === undefined ? 'the new version' : v(version)} goes to production once someone approves it (run ${runId})`,
    `  approve: ${decisionCommand('approve', model, ref, env)}`,
    `  reject:  ${decisionCommand('reject', model, ref, env)}`,
  ].join('\n');
}

export function formatMove(model: string, answer: { alias: Alias; before: Alias | null }): string {
  const { alias, before } = answer;
  return `${alias.alias} of ${model}: ${v(before?.version)} -> ${v(alias.version)}, weight ${alias.weight}${before && before.weight !== alias.weight ? ` (was ${before.weight})` : ''}`;
}

export function formatRollback(model: string, answer: { production: Alias; before: Alias }): string {
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
