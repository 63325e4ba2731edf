import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { faultHooks } from '../aws/faults.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { ENVIRONMENT_NAMES } from '../core/environments.js';
import { parseOrThrow } from '../core/errors.js';
import { registerRun, type CommitHooks, type ReleaseRegistry, type ReleaseSettings } from '../core/registry/release.js';
import type { RunUpdates } from '../core/stores.js';
import { ArtifactRefSchema } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'register' });

const InputSchema = z.object({
  training: z.object({ artifact: ArtifactRefSchema, reference: ArtifactRefSchema.optional() }),
  evaluation: z.object({ metrics: z.record(z.string(), z.number()) }),
  gate: z.object({ passed: z.literal(true), reportUri: z.string(), summary: z.string(), champion: z.object({ version: z.number().int().positive() }).nullable() }),
});

type Stores = { registry: Pick<ReleaseRegistry, 'registerVersion'>; runs: RunUpdates };

/** Register over the stores and settings it is given: parse the state, register (core/registry/release.ts), answer. */
export function createHandler(stores: Stores, settings: ReleaseSettings, faults: (run: { model: string; runId: string }) => CommitHooks = () => ({})) {
  return async (event: unknown) => {
    const { run, spec, state } = readStepState(event, 'Register');
    const { training, evaluation, gate } = parseOrThrow(InputSchema, state, 'Register input');
    const answer = await registerRun(stores, settings, { run, spec, artifact: training.artifact, reference: training.reference, metrics: evaluation.metrics, gate }, faults(run));
    logger.info(answer.created ? 'version registered' : 'version already registered', { runId: run.runId, mode: run.mode, ...answer });
    return answer;
  };
}

function awsStores(): Stores {
  const doc = createDocumentClient();
  return { registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')), runs: new TrackingStore(doc, requireEnv('TRACKING_TABLE')) };
}

const settings = (): ReleaseSettings => ({
  environment: parseOrThrow(z.enum(ENVIRONMENT_NAMES), requireEnv('ENVIRONMENT_NAME'), 'ENVIRONMENT_NAME'),
  productionRequiresApproval: requireEnv('PRODUCTION_REQUIRES_APPROVAL') === 'true',
  codeVersion: requireEnv('CODE_VERSION'),
});

// The local fault switch (FAULT_INJECTION, `local` only) can fail this step before or after its commit.
const faultTable = requireEnv('TRACKING_TABLE');
const faultDoc = createDocumentClient();
export const handler = createHandler(awsStores(), settings(), (run) => faultHooks(faultDoc, faultTable, 'Register', run));
