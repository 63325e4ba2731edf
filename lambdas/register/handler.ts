import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { approvalRequired } from '../core/registry/alias-rules.js';
import { parseOrThrow } from '../core/errors.js';
import { ENVIRONMENT_NAMES } from '../core/training/model-spec.js';
import { ArtifactRefSchema } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'register' });
const doc = createDocumentClient();
const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
const ENVIRONMENT_NAME = parseOrThrow(z.enum(ENVIRONMENT_NAMES), requireEnv('ENVIRONMENT_NAME'), 'ENVIRONMENT_NAME');
const PRODUCTION_REQUIRES_APPROVAL = requireEnv('PRODUCTION_REQUIRES_APPROVAL') === 'true';
const CODE_VERSION = requireEnv('CODE_VERSION');

const InputSchema = z.object({
  training: z.object({ artifact: ArtifactRefSchema }),
  evaluation: z.object({ metrics: z.record(z.string(), z.number()) }),
  gate: z.object({ passed: z.literal(true), reportUri: z.string(), summary: z.string(), champion: z.object({ version: z.number().int().positive() }).nullable() }),
});

/**
 * Register: creates the model version (once per run) and points `candidate` at it; a promotion's
 * version already exists. Says whether production may move by itself or needs a person.
 */
export const handler = async (event: unknown) => {
  const { run, spec, state } = readStepState(event, 'Register');
  const { training, evaluation, gate } = parseOrThrow(InputSchema, state, 'Register input');
  const needsApproval = approvalRequired(ENVIRONMENT_NAME, PRODUCTION_REQUIRES_APPROVAL, spec.approval);
  const judgedAgainst = gate.champion?.version ?? null;
  if (run.mode === 'promote' && run.promotion) {
    logger.info('promotion judged', { runId: run.runId, version: run.promotion.version, judgedAgainst, needsApproval });
    return { version: run.promotion.version, created: false, needsApproval, judgedAgainst, release: true };
  }
  const { version, created } = await registry.registerVersion({
    version: {
      model: run.model,
      runId: run.runId,
      artifact: training.artifact,
      dataset: run.dataset,
      metrics: evaluation.metrics,
      gateReportUri: gate.reportUri,
      gateSummary: gate.summary,
      judgedAgainst,
      codeVersion: run.transfer?.source.codeVersion ?? CODE_VERSION,
      ...(run.transfer ? { promotedFrom: run.transfer.source } : {}),
      createdBy: run.actor,
    },
    reason: run.transfer
      ? `promoted from ${run.transfer.source.environment} v${run.transfer.source.version}: ${run.transfer.reason}`
      : `run ${run.runId} passed its gate`,
  });
  // A registration without a release is where the run ends.
  await tracking.updateRun(run.runId, { modelVersion: version.version, ...(run.release ? {} : { status: 'SUCCEEDED' as const, endedAt: new Date().toISOString() }) });
  logger.info('version registered', { runId: run.runId, version: version.version, created, needsApproval });
  return { version: version.version, created, needsApproval, judgedAgainst, release: run.release };
};
