import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { publishAlert } from '../aws/alerts.js';
import { createDocumentClient, createSnsClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { failureReason, FailureSchema, RunContextSchema } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'record-failure' });
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const sns = createSnsClient();
const ALERT_TOPIC_ARN = requireEnv('ALERT_TOPIC_ARN');
const ENVIRONMENT_NAME = requireEnv('ENVIRONMENT_NAME');

// StartRun failures arrive before a run exists: then only the request is known.
const EventSchema = z.object({
  run: RunContextSchema.optional(),
  model: z.string().optional(),
  failure: FailureSchema,
});

/** Marks the run FAILED with a reason a person can act on, and publishes the alert. */
export const handler = async (event: unknown) => {
  const { run, model, failure } = parseOrThrow(EventSchema, event, 'RecordFailure input');
  const reason = failureReason(failure.cause, failure.error);
  if (run) {
    await tracking.updateRun(run.runId, {
      status: 'FAILED',
      endedAt: new Date().toISOString(),
      failure: { step: failure.step, error: failure.error, reason },
    });
  }
  const modelName = run?.model ?? model ?? 'unknown model';
  const alert = {
    environment: ENVIRONMENT_NAME,
    kind: 'training-run-failed',
    model: modelName,
    runId: run?.runId ?? null,
    step: failure.step,
    error: failure.error,
    reason,
  };
  await publishAlert(sns, ALERT_TOPIC_ARN, `[mlops ${ENVIRONMENT_NAME}] ${modelName}: ${run?.promotion ? `promotion of version ${run.promotion.version}` : 'training'} failed at ${failure.step}`, alert);
  logger.warn('run failed', alert);
  return { recorded: Boolean(run), alerted: true };
};
