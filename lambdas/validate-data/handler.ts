import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { validateRunData, type ValidateRunStores } from '../core/data/validate-version.js';

const logger = new Logger({ serviceName: 'validate-data' });

/**
 * ValidateData over the stores it is given: parse the state, judge the dataset version from the
 * profile made at registration (core/data/validate-version.ts), answer. A blocking failure
 * quarantines the version for this model and fails the step.
 */
export function createHandler(stores: ValidateRunStores, clock: () => Date = () => new Date()) {
  return async (event: unknown) => {
    const { run, spec } = readStepState(event, 'ValidateData');
    const answer = await validateRunData(stores, { run, spec, now: clock() });
    logger.info('dataset validated', { runId: run.runId, passed: answer.passed, summary: answer.summary });
    return answer;
  };
}

function awsStores(): ValidateRunStores {
  const objects = new ObjectStore(createS3Client());
  const doc = createDocumentClient();
  const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
  const reportsBucket = requireEnv('REPORTS_BUCKET');
  return {
    objects,
    reports: { put: (key, json) => objects.put(reportsBucket, key, json, 'application/json') },
    // Read only: the reference for missing values is a trained version's dataset.
    registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
    datasets: tracking,
    runs: tracking,
  };
}

export const handler = createHandler(awsStores());
