import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { formatS3Uri } from '../core/s3-uri.js';
import { parseOrThrow } from '../core/errors.js';
import type { RolloutStepSettings } from '../core/registry/rollout.js';
import { runRolloutCheck, type RolloutCheckStores } from '../core/serving/rollout-run.js';
import { MODEL_NAME } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'rollout-check' });

const InputSchema = z.object({ model: MODEL_NAME, rolloutId: z.string().min(1) });

/** RolloutCheck over the stores it is given: parse, run the check (core/serving/rollout-run.ts), answer the progress. */
export function createHandler(stores: RolloutCheckStores, settings: RolloutStepSettings) {
  return async (event: unknown) => {
    const input = parseOrThrow(InputSchema, event, 'rollout check input');
    const progress = await runRolloutCheck(stores, settings, input);
    logger.info('rollout checked', { model: input.model, rolloutId: input.rolloutId, ...progress });
    return progress;
  };
}

function awsStores(): RolloutCheckStores {
  const objects = new ObjectStore(createS3Client());
  const registry = new RegistryStore(createDocumentClient(), requireEnv('REGISTRY_TABLE'));
  const logsBucket = requireEnv('PREDICTION_LOGS_BUCKET');
  const reportsBucket = requireEnv('REPORTS_BUCKET');
  return {
    registry,
    logs: { list: (prefix) => objects.list(logsBucket, prefix), stream: (key) => objects.stream(formatS3Uri(logsBucket, key)) },
    reports: { put: (key, json) => objects.put(reportsBucket, key, json, 'application/json') },
    task: async (model) => (await registry.getModel(model)).spec.task,
  };
}

export const handler = createHandler(awsStores(), { bufferSeconds: Number(requireEnv('LOG_BUFFER_SECONDS')) });
