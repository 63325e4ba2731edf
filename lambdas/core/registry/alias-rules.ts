import { ConflictError, InputValidationError, MlopsError } from '../errors.js';
import type { EnvironmentName } from '../environments.js';
import type { ApprovalPolicy } from '../training/model-spec.js';
import type { Alias, ModelVersion } from './records.js';
import { ALIASES, type AliasName } from './keys.js';

/**
 * The registry's alias rules, free of the AWS SDK: which moves are allowed, and what state a move,
 * a rollback or an approval decision leaves. The registry store applies each plan as one
 * conditional DynamoDB transaction.
 */

/** `previous` is kept by the registry (the production version before the current one); nobody sets it. */
export const SETTABLE_ALIASES = ['production', 'candidate', 'canary', 'shadow'] as const satisfies readonly AliasName[];
export type SettableAlias = (typeof SETTABLE_ALIASES)[number];

/** Traffic share an alias takes when the caller names none. */
export const DEFAULT_WEIGHTS: Record<AliasName, number> = { production: 1, previous: 0, candidate: 0, canary: 0.1, shadow: 0 };

export function parseAliasName(value: string): SettableAlias {
  if ((SETTABLE_ALIASES as readonly string[]).includes(value)) return value as SettableAlias;
  if (value === 'previous') {
    throw new MlopsError('ALIAS_MANAGED', 'the "previous" alias is kept by the registry: it is where production was before its last move (use mlops rollback to go back to it)', { field: 'alias' });
  }
  throw new MlopsError('INVALID_ALIAS', `"${value}" is not an alias; use one of ${SETTABLE_ALIASES.join(', ')}`, { field: 'alias' });
}

export function parseWeight(alias: SettableAlias, weight: number | undefined): number {
  const value = weight ?? DEFAULT_WEIGHTS[alias];
  if (alias === 'production' && value !== 1) throw new InputValidationError('production takes all the traffic that no canary takes: its weight is 1', { field: 'weight' });
  if (alias === 'canary' && !(value > 0 && value < 1)) throw new InputValidationError(`a canary's weight is a share of traffic between 0 and 1 (exclusive); got ${value}`, { field: 'weight' });
  if ((alias === 'shadow' || alias === 'candidate') && value !== 0) throw new InputValidationError(`a ${alias} serves no traffic: its weight is 0`, { field: 'weight' });
  return value;
}

/** Whether a new production version needs a person's approval here: the environment's policy, or the model's own. */
export function approvalRequired(environment: EnvironmentName, environmentRequiresApproval: boolean, policy: ApprovalPolicy): boolean {
  return environmentRequiresApproval || policy.requiredIn.includes(environment);
}

export interface MoveRequest {
  readonly alias: SettableAlias;
  readonly version: ModelVersion;
  /** Where the alias points now, as read. */
  readonly current: Alias | undefined;
  /** Where production points now, as read (null: nowhere); a canary or shadow must have been gated against it. */
  readonly production: number | null;
  /** The caller's view of where the alias points (null: nowhere); a different state is a conflict. */
  readonly expectedVersion?: number | null;
  readonly weight?: number;
  readonly actor: string;
  readonly at: string;
}

export interface MovePlan {
  readonly alias: Alias;
  /** Production's old version becomes `previous` when production moves. */
  readonly previous?: Alias;
}

/** Whether a version may be asked to move into an alias at all: a rejected version never serves, and one waiting for approval waits. */
export function checkPromotable(version: ModelVersion, alias: SettableAlias): void {
  if (version.status === 'REJECTED') {
    throw new MlopsError('VERSION_REJECTED', `version ${version.version} of ${version.model} was rejected${version.approval?.decidedBy ? ` by ${version.approval.decidedBy}` : ''} and cannot serve`, { field: 'version' });
  }
  if (alias === 'production' && version.status === 'PENDING_APPROVAL') {
    throw new MlopsError('APPROVAL_PENDING', `version ${version.version} of ${version.model} already waits for approval to go to production: approve or reject it (mlops approve|reject ${version.model} ${version.version})`, { field: 'version' });
  }
}

/**
 * Checks a move against the rules and returns the alias state it leaves; throws a coded error
 * otherwise. Production only moves this way at the end of the release path (gate, then approval
 * where required), which has already checked that the version may be promoted.
 */
export function planMove(request: MoveRequest): MovePlan {
  const { alias, version, current } = request;
  if (version.status === 'REJECTED') checkPromotable(version, alias);
  if (current?.version === version.version) {
    throw new MlopsError('ALREADY_IN_ALIAS', `${alias} already points at version ${version.version} of ${version.model}`, { field: 'version' });
  }
  checkExpected(alias, current?.version ?? null, request.expectedVersion);
  const weight = parseWeight(alias, request.weight);
  if (alias === 'canary' || alias === 'shadow') checkGatedAgainstProduction(version, alias, request.production);
  const moved: Alias = { model: version.model, alias, version: version.version, weight, updatedAt: request.at, updatedBy: request.actor };
  if (alias !== 'production' || !current) return { alias: moved };
  return { alias: moved, previous: { ...current, alias: 'previous', weight: 0, updatedAt: request.at, updatedBy: request.actor } };
}

/**
 * A canary or shadow serves beside production, so it must have passed its gate against the version
 * production is now (or there is no production); a version judged against an older production, or
 * against none, is refused: `mlops rollout start` judges it again first.
 */
export function checkGatedAgainstProduction(version: Pick<ModelVersion, 'model' | 'version' | 'judgedAgainst'>, alias: 'canary' | 'shadow', production: number | null): void {
  if (production === null) return;
  if (version.version === production) {
    throw new MlopsError('ALREADY_IN_ALIAS', `version ${version.version} of ${version.model} is production already: it cannot be the ${alias} beside itself`, { field: 'version' });
  }
  if (version.judgedAgainst !== production) {
    const judged = version.judgedAgainst ? `against version ${version.judgedAgainst}` : 'against no production version';
    throw new MlopsError(
      'NOT_GATED_AGAINST_PRODUCTION',
      `version ${version.version} of ${version.model} passed its gate ${judged}, but production is version ${production}: it cannot be the ${alias} until it is judged against it (mlops rollout start ${version.model} ${version.version} gates it again)`,
      { field: 'version' },
    );
  }
}

/** A caller that says where it saw the alias gets a conflict when it has moved since. */
export function checkExpected(alias: AliasName, actual: number | null, expectedVersion: number | null | undefined): void {
  if (expectedVersion === undefined) return;
  if (actual !== expectedVersion) {
    throw new ConflictError(`${alias} points at ${actual === null ? 'no version' : `version ${actual}`}, not ${expectedVersion === null ? 'no version' : `version ${expectedVersion}`} as the request expected: it moved meanwhile; look again and retry`, {
      field: 'expectedVersion',
    });
  }
}

/** Rollback: production goes back to `previous`, which is then cleared (rolling back twice needs an explicit promotion). */
export function planRollback(model: string, production: Alias | undefined, previous: Alias | undefined, actor: string, at: string, expectedVersion?: number | null): Alias {
  if (!production) throw new MlopsError('NO_PREVIOUS_VERSION', `${model} has no production version to roll back`, { field: 'model' });
  if (!previous) throw new MlopsError('NO_PREVIOUS_VERSION', `${model} has no previous production version to roll back to (production is version ${production.version})`, { field: 'model' });
  checkExpected('production', production.version, expectedVersion);
  return { ...production, version: previous.version, weight: 1, updatedAt: at, updatedBy: actor };
}

export type Decision = 'approve' | 'reject';

/** Only a version whose approval is pending can be approved or rejected, and not after it expired. */
export function checkDecision(version: ModelVersion, decision: Decision, now: Date): void {
  const approval = version.approval;
  if (version.status !== 'PENDING_APPROVAL' || approval?.state !== 'PENDING') {
    const state = approval ? `its last approval request is ${approval.state.toLowerCase()}` : 'nobody asked for its approval';
    throw new MlopsError('APPROVAL_NOT_PENDING', `version ${version.version} of ${version.model} is not waiting for approval (${state}); nothing to ${decision}`, { field: 'version' });
  }
  if (Date.parse(approval.expiresAt) <= now.getTime()) {
    throw new MlopsError('APPROVAL_EXPIRED', `the approval request for version ${version.version} of ${version.model} expired at ${approval.expiresAt}`, { field: 'version' });
  }
}

export { ALIASES };
