import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { faultHooks } from '../aws/faults.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { promoteRun, type CommitHooks, type ReleaseRegistry } from '../core/registry/release.js';
import type { RunUpdates } from '../core/stores.js';

const logger = new Logger({ serviceName: 'promote' });

const InputSchema = z.object({
  registration: z.object({ version: z.number().int().positive(), judgedAgainst: z.number().int().positive().nullable() }),
  /** What `mlops approve` handed back, when the release needed a person. */
  approval: z.object({ approvedBy: z.string(), reason: z.string(), decidedAt: z.string().optional() }).optional(),
});

type Stores = { registry: Pick<ReleaseRegistry, 'moveAlias' | 'findAlias' | 'recordDecision'>; runs: RunUpdates };

/** Promote over the stores it is given: parse the state, move production (core/registry/release.ts), answer. */
export function createHandler(stores: Stores, faults: (run: { model: string; runId: string }) => CommitHooks = () => ({})) {
  return async (event: unknown) => {
    const { run } = readStepState(event, 'Promote');
    const { registration, approval } = parseOrThrow(InputSchema, event, 'Promote input');
    const answer = await promoteRun(stores, { run, registration, approval }, faults(run));
    if (answer.moved) logger.info('production moved', { runId: run.runId, from: answer.before?.version ?? null, to: answer.production.version, actor: answer.production.updatedBy });
    else logger.warn('production not moved', { runId: run.runId, code: answer.error, message: answer.message });
    return answer;
  };
}

function awsStores(): Stores {
  const doc = createDocumentClient();
  return { registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')), runs: new TrackingStore(doc, requireEnv('TRACKING_TABLE')) };
}

// The local fault switch (FAULT_INJECTION, `local` only) can fail this step before or after its commit.
const faultTable = requireEnv('TRACKING_TABLE');
const faultDoc = createDocumentClient();
export const handler = createHandler(awsStores(), (run) => faultHooks(faultDoc, faultTable, 'Promote', run));
