import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { aliasForNewVersion } from '../core/registry-keys.js';
import { ArtifactRefSchema } from '../core/run.js';

const logger = new Logger({ serviceName: 'register' });
const doc = createDocumentClient();
const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
const PRODUCTION_REQUIRES_APPROVAL = requireEnv('PRODUCTION_REQUIRES_APPROVAL') === 'true';

const InputSchema = z.object({
  training: z.object({ artifact: ArtifactRefSchema }),
  evaluation: z.object({ metrics: z.record(z.string(), z.number()) }),
  gate: z.object({ passed: z.literal(true), reportUri: z.string() }),
});

/** Register: creates the model version (once per run) and points its alias at it. */
export const handler = async (event: unknown) => {
  const { run, state } = readStepState(event, 'Register');
  const { training, evaluation, gate } = parseOrThrow(InputSchema, state, 'Register input');
  const alias = aliasForNewVersion(PRODUCTION_REQUIRES_APPROVAL);
  const { version, created } = await registry.registerVersion({
    version: {
      model: run.model,
      runId: run.runId,
      artifact: training.artifact,
      dataset: run.dataset,
      metrics: evaluation.metrics,
      gateReportUri: gate.reportUri,
      createdBy: run.actor,
    },
    alias,
    reason: `run ${run.runId} passed its gate`,
  });
  await tracking.updateRun(run.runId, { status: 'SUCCEEDED', endedAt: new Date().toISOString(), modelVersion: version.version });
  logger.info('version registered', { runId: run.runId, version: version.version, alias, created });
  return { version: version.version, alias, created };
};
