import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { publishAlert } from '../aws/alerts.js';
import { createDocumentClient, createSnsClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import type { Alerts, RunUpdates } from '../core/stores.js';
import { recordRunFailure } from '../core/training/run-failure.js';
import { FailureSchema, RunContextSchema } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'record-failure' });

// StartRun failures arrive before a run exists: then only the request is known.
const EventSchema = z.object({
  run: RunContextSchema.optional(),
  model: z.string().optional(),
  failure: FailureSchema,
});

type Stores = { runs: RunUpdates; alerts: Alerts };

/** RecordFailure over the stores it is given: parse, record and alert (core/training/run-failure.ts), answer. */
export function createHandler(stores: Stores, environment: string) {
  return async (event: unknown) => {
    const input = parseOrThrow(EventSchema, event, 'RecordFailure input');
    const { recorded, alerted, alert } = await recordRunFailure(stores, environment, input);
    logger.warn('run failed', alert);
    return { recorded, alerted };
  };
}

function awsStores(): Stores {
  const sns = createSnsClient();
  const topicArn = requireEnv('ALERT_TOPIC_ARN');
  return {
    runs: new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE')),
    alerts: { publish: (subject, alert) => publishAlert(sns, topicArn, subject, alert) },
  };
}

export const handler = createHandler(awsStores(), requireEnv('ENVIRONMENT_NAME'));
