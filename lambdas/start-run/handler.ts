import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import type { RunContext } from '../core/training/run.js';
import { startRunRecord } from '../core/training/start-run.js';
import { runStores } from '../aws/run-stores.js';

const logger = new Logger({ serviceName: 'start-run' });
const doc = createDocumentClient();
const stores = runStores(new RegistryStore(doc, requireEnv('REGISTRY_TABLE')), new TrackingStore(doc, requireEnv('TRACKING_TABLE')));
const CODE_VERSION = requireEnv('CODE_VERSION');

const EventSchema = z.object({ executionName: z.string().min(1), executionArn: z.string().min(1), request: z.unknown() });

/** StartRun: resolves the model spec (with parameter overrides) and dataset version, then records the run as RUNNING (once per execution). */
export const handler = async (event: unknown): Promise<RunContext> => {
  const { executionName, executionArn, request } = parseOrThrow(EventSchema, event, 'StartRun event');
  const { run, created, context } = await startRunRecord(stores, { executionName, executionArn, request, codeVersion: CODE_VERSION, now: new Date() });
  logger.info('run started', { runId: run.runId, model: run.model, mode: run.mode, dataset: run.dataset, created });
  return context;
};
