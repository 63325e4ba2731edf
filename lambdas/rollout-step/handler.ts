import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { beginRollout, failRollout, finishRollout, type RolloutRegistry, type RolloutStepSettings } from '../core/registry/rollout.js';
import { failureReason } from '../core/training/run.js';
import { MODEL_NAME } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'rollout-step' });

const InputSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('begin'), model: MODEL_NAME, rolloutId: z.string().min(1) }),
  z.object({ action: z.literal('finish'), model: MODEL_NAME, rolloutId: z.string().min(1) }),
  /** A failed step, with what its Catch caught. */
  z.object({ action: z.literal('fail'), model: MODEL_NAME, rolloutId: z.string().min(1), error: z.string().nullish(), cause: z.string().nullish() }),
]);

/** The rollout's registry steps (Begin after the gate, Finish after the promotion, Fail): parse, call the core flow, answer the progress. */
export function createHandler(
  registry: RolloutRegistry,
  settings: RolloutStepSettings,
  runFailure: (runId: string) => Promise<{ error: string; reason: string } | undefined> = async () => undefined,
) {
  return async (event: unknown) => {
    const input = parseOrThrow(InputSchema, event, 'rollout step input');
    const progress =
      input.action === 'begin'
        ? await beginRollout(registry, settings, input)
        : input.action === 'finish'
          ? await finishRollout(registry, settings, input)
          : await failRollout(registry, settings, { ...input, error: input.error ?? 'States.TaskFailed', cause: failureReason(input.cause, input.error ?? 'failed') }, runFailure);
    logger.info('rollout step', { action: input.action, model: input.model, rolloutId: input.rolloutId, ...progress });
    return progress;
  };
}

const doc = createDocumentClient();
const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
export const handler = createHandler(
  new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
  { bufferSeconds: Number(requireEnv('LOG_BUFFER_SECONDS')) },
  async (runId) => {
    const failure = (await tracking.findRun(runId))?.failure;
    return failure ? { error: failure.error, reason: failure.reason } : undefined;
  },
);
