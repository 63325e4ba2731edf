import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { createModelSchedules } from '../aws/model-schedules.js';
import { createModelMonitoring } from '../aws/cloudwatch-monitoring.js';
import { RegistryStore } from '../aws/registry-store.js';
import { ConflictError, parseOrThrow } from '../core/errors.js';
import { declareModels, parseDeclaredSpecs, type DeclaredModelStores } from '../core/registry/declare-models.js';

const logger = new Logger({ serviceName: 'declare-models' });

/** One resource per stack, so one fixed id: an Update never replaces it, and Delete is never asked for an old one. */
export const PHYSICAL_RESOURCE_ID = 'mlops-declared-models';

// What the custom-resource provider framework hands its onEvent handler (the fields used here).
const EventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResourceProperties: z.object({ Specs: z.string() }),
});

/**
 * onEvent handler of the DeclaredModels custom resource, over the stores it is given. Create and
 * Update write each declared spec into the registry with its drift and retraining schedules, as `PUT /models/{model}`
 * does (core/registry/declare-models.ts); Delete
 * leaves the registry alone (models and their history stay).
 */
export function createHandler(stores: DeclaredModelStores) {
  return async (event: unknown) => {
    const { RequestType, ResourceProperties } = parseOrThrow(EventSchema, event, 'custom resource event');
    if (RequestType === 'Delete') {
      logger.info('stack no longer declares models; the registry keeps them');
      return { PhysicalResourceId: PHYSICAL_RESOURCE_ID };
    }
    const outcome = await declareModels(stores, parseDeclaredSpecs(ResourceProperties.Specs), (model, attempt) =>
      logger.warn('spec write lost a race; reading again', { model, attempt }),
    );
    logger.info('declared models written', { requestType: RequestType, ...outcome });
    // Counts only: a custom resource's response is limited to 4 KB.
    return {
      PhysicalResourceId: PHYSICAL_RESOURCE_ID,
      Data: { Created: outcome.created.length, Updated: outcome.updated.length, Unchanged: outcome.unchanged.length },
    };
  };
}

function awsStores(): DeclaredModelStores {
  const registry = new RegistryStore(createDocumentClient(), requireEnv('REGISTRY_TABLE'));
  return {
    findModel: (name) => registry.findModel(name),
    putModel: async (spec, actor) => {
      try {
        return await registry.putModel(spec, actor);
      } catch (error) {
        // The lost-update guard failed: a registration moved the record since it was read.
        if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
        throw new ConflictError(`model ${spec.name} changed while its declared spec was written`, { field: 'Specs', cause: error });
      }
    },
    schedules: createModelSchedules(),
    monitoring: createModelMonitoring(),
  };
}

export const handler = createHandler(awsStores());
