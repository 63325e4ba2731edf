import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { checkExpected } from '../core/registry/alias-rules.js';
import { MlopsError, parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'promote' });
const doc = createDocumentClient();
const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));

const InputSchema = z.object({
  registration: z.object({ version: z.number().int().positive(), judgedAgainst: z.number().int().positive().nullable() }),
  /** What `mlops approve` handed back, when the release needed a person. */
  approval: z.object({ approvedBy: z.string(), reason: z.string() }).optional(),
});

/**
 * Promote, the release path's last step: production moves to the version only if it still points
 * where it did when the gate compared against it (and where the caller expected it), in one
 * conditional transaction with its audit event. A lost race is answered, not thrown, so its code
 * reaches the execution's error unchanged.
 */
export const handler = async (event: unknown) => {
  const { run } = readStepState(event, 'Promote');
  const { registration, approval } = parseOrThrow(InputSchema, event, 'Promote input');
  const actor = approval?.approvedBy ?? run.actor;
  const reason = approval
    ? `approved by ${approval.approvedBy}: ${approval.reason}`
    : (run.promotion?.reason ?? run.transfer?.reason ?? `run ${run.runId} passed its gate`);
  try {
    // The gate's verdict holds only against the version it compared with.
    checkExpected('production', registration.judgedAgainst, run.promotion?.expectedVersion);
    const { alias, before } = await registry.moveAlias({
      model: run.model,
      alias: 'production',
      version: registration.version,
      expectedVersion: registration.judgedAgainst,
      actor,
      reason,
    });
    await tracking.updateRun(run.runId, { status: 'SUCCEEDED', endedAt: new Date().toISOString() });
    logger.info('production moved', { runId: run.runId, from: before?.version ?? null, to: alias.version, actor });
    return { moved: true, production: alias, before };
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    logger.warn('production not moved', { runId: run.runId, code: error.code, message: error.message });
    return { moved: false, error: error.code, message: error.message };
  }
};
