import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { canonicalJson } from '../core/canonical-json.js';
import { InputValidationError, parseOrThrow } from '../core/errors.js';
import { parseModelSpec, type ModelSpec } from '../core/training/model-spec.js';

const logger = new Logger({ serviceName: 'declare-models' });
const registry = new RegistryStore(createDocumentClient(), requireEnv('REGISTRY_TABLE'));

/** One resource per stack, so one fixed id: an Update never replaces it, and Delete is never asked for an old one. */
export const PHYSICAL_RESOURCE_ID = 'mlops-declared-models';
/** Who the audit events name. */
export const ACTOR = 'cdk-deploy';
/** How often a spec is re-read and written again after losing a race with a registration. */
const MAX_PUT_ATTEMPTS = 3;

// What the custom-resource provider framework hands its onEvent handler (the fields used here).
const EventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResourceProperties: z.object({ Specs: z.string() }),
});

function parseSpecs(text: string): ModelSpec[] {
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
async function declare(spec: ModelSpec): Promise<'created' | 'updated' | 'unchanged'> {
  for (let attempt = 1; ; attempt += 1) {
    const existing = await registry.findModel(spec.name);
    if (existing && canonicalJson(existing.spec) === canonicalJson(spec)) return 'unchanged';
    try {
      return (await registry.putModel(spec, ACTOR)).created ? 'created' : 'updated';
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionCanceledException' || attempt >= MAX_PUT_ATTEMPTS) throw error;
      logger.warn('spec write lost a race; reading again', { model: spec.name, attempt });
    }
  }
}

/**
 * onEvent handler of the DeclaredModels custom resource. Create and Update write each declared
 * spec into the registry; Delete leaves the registry alone (models and their history stay).
 */
export const handler = async (event: unknown) => {
  const { RequestType, ResourceProperties } = parseOrThrow(EventSchema, event, 'custom resource event');
  if (RequestType === 'Delete') {
    logger.info('stack no longer declares models; the registry keeps them');
    return { PhysicalResourceId: PHYSICAL_RESOURCE_ID };
  }
  const specs = parseSpecs(ResourceProperties.Specs);
  const outcome: Record<'created' | 'updated' | 'unchanged', string[]> = { created: [], updated: [], unchanged: [] };
  for (const spec of specs) outcome[await declare(spec)].push(spec.name);
  logger.info('declared models written', { requestType: RequestType, ...outcome });
  // Counts only: a custom resource's response is limited to 4 KB.
  return {
    PhysicalResourceId: PHYSICAL_RESOURCE_ID,
    Data: { Created: outcome.created.length, Updated: outcome.updated.length, Unchanged: outcome.unchanged.length },
  };
};
