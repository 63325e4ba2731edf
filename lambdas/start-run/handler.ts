import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { runStores } from '../aws/run-stores.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import type { RunContext } from '../core/training/run.js';
import { startRunRecord, type RunRecordStores } from '../core/training/start-run.js';

const logger = new Logger({ serviceName: 'start-run' });

const EventSchema = z.object({ executionName: z.string().min(1), executionArn: z.string().min(1), request: z.unknown() });

/**
 * StartRun over the stores it is given: parse the event, resolve the spec (with parameter
 * overrides) and dataset version and record the run as RUNNING once per execution
 * (core/training/start-run.ts), answer the run context every later step reads.
 */
export function createHandler(stores: RunRecordStores, settings: { codeVersion: string; clock?: () => Date }) {
  const clock = settings.clock ?? (() => new Date());
  return async (event: unknown): Promise<RunContext> => {
    const { executionName, executionArn, request } = parseOrThrow(EventSchema, event, 'StartRun event');
    const { run, created, context } = await startRunRecord(stores, { executionName, executionArn, request, codeVersion: settings.codeVersion, now: clock() });
    logger.info('run started', { runId: run.runId, model: run.model, mode: run.mode, dataset: run.dataset, created });
    return context;
  };
}

function awsStores(): RunRecordStores {
  const doc = createDocumentClient();
  return runStores(new RegistryStore(doc, requireEnv('REGISTRY_TABLE')), new TrackingStore(doc, requireEnv('TRACKING_TABLE')));
}

export const handler = createHandler(awsStores(), { codeVersion: requireEnv('CODE_VERSION') });
