import { MlopsError } from '../errors.js';
import type { TrainingRequest } from '../training/run.js';
import { checkExpected, checkPromotable, parseWeight } from './alias-rules.js';
import type { Alias, ModelVersion } from './records.js';

/** What checking a promotion to production reads. */
export interface PromotionStores {
  getVersion(model: string, version: number): Promise<ModelVersion>;
  findAlias(model: string, alias: 'production'): Promise<Alias | undefined>;
}

export interface PromotionInput {
  readonly model: string;
  readonly version: number;
  readonly reason: string;
  readonly expectedVersion?: number | null | undefined;
  readonly weight?: number | undefined;
  readonly actor: string;
}

/**
 * A request to move production, checked: everything that can be refused now is (the version's
 * status, a weight, production already there, a stale expectedVersion), so a doomed promotion
 * starts nothing. Answers the training pipeline's input for the release path (gate against
 * production, approval where required, then one conditional move).
 */
export async function planPromotion(stores: PromotionStores, input: PromotionInput): Promise<TrainingRequest> {
  const { model } = input;
  const version = await stores.getVersion(model, input.version);
  checkPromotable(version, 'production');
  parseWeight('production', input.weight);
  const current = await stores.findAlias(model, 'production');
  if (current?.version === version.version) {
    throw new MlopsError('ALREADY_IN_ALIAS', `production already points at version ${version.version} of ${model}`, { field: 'version' });
  }
  checkExpected('production', current?.version ?? null, input.expectedVersion);
  return {
    model,
    dataset: { name: version.dataset.name, version: version.dataset.version },
    mode: 'promote',
    trigger: 'promote',
    actor: input.actor,
    promotion: { version: version.version, reason: input.reason, ...(input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }) },
  };
}
