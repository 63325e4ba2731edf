import { canonicalJson } from '../canonical-json.js';
import { ConflictError, InputValidationError } from '../errors.js';
import { parseModelSpec, type ModelSpec } from '../training/model-spec.js';
import { storeSpecWithSchedules, syncModelSchedules, type ScheduledSpecStores } from '../monitoring/model-schedules.js';
import { syncModelMonitoring } from '../monitoring/system-monitoring.js';

/** Who the audit events of declared models name. */
export const DECLARE_ACTOR = 'cdk-deploy';
/** How often a spec is re-read and written again after losing a race with a registration. */
const MAX_PUT_ATTEMPTS = 3;

/**
 * The model specs in the registry, as declaring them reads and writes them (putModel: a ConflictError
 * when the record changed since it was read), and their drift and retraining schedules: the same flow as `PUT /models/{model}`.
 */
export type DeclaredModelStores = ScheduledSpecStores;

export type DeclareOutcome = 'created' | 'updated' | 'unchanged';

/** The custom resource's `Specs` property: a JSON array of model specs, each checked. */
export function parseDeclaredSpecs(text: string): ModelSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputValidationError(`ResourceProperties.Specs is not JSON: ${(error as Error).message}`, { field: 'Specs', cause: error });
  }
  if (!Array.isArray(raw)) throw new InputValidationError('ResourceProperties.Specs must be a JSON array of model specs', { field: 'Specs' });
  return raw.map((spec) => parseModelSpec(spec));
}

/** Writes one spec unless the registry already holds the same one; a write lost to a concurrent registration is retried. */
export async function declareModel(stores: DeclaredModelStores, spec: ModelSpec, onLostRace?: (attempt: number) => void): Promise<DeclareOutcome> {
  for (let attempt = 1; ; attempt += 1) {
    const existing = await stores.findModel(spec.name);
    if (existing && canonicalJson(existing.spec) === canonicalJson(spec)) {
      // Idempotent: a model declared before platform schedules existed gets its schedules on the next deploy.
      await syncModelSchedules(stores.schedules, spec.name, existing.spec);
      // So does a dashboard or alarm that failed to be written once.
      if (stores.monitoring) await syncModelMonitoring(stores.monitoring, existing.spec);
      return 'unchanged';
    }
    try {
      return (await storeSpecWithSchedules(stores, spec, DECLARE_ACTOR)).created ? 'created' : 'updated';
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= MAX_PUT_ATTEMPTS) throw error;
      onLostRace?.(attempt);
    }
  }
}

/** Declares every spec in order; answers the names by outcome. */
export async function declareModels(stores: DeclaredModelStores, specs: readonly ModelSpec[], onLostRace?: (model: string, attempt: number) => void) {
  const outcome: Record<DeclareOutcome, string[]> = { created: [], updated: [], unchanged: [] };
  for (const spec of specs) outcome[await declareModel(stores, spec, (attempt) => onLostRace?.(spec.name, attempt))].push(spec.name);
  return outcome;
}
