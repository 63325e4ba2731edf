import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { publishAlert } from '../aws/alerts.js';
import { createDocumentClient, createSnsClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { parseOrThrow } from '../core/errors.js';
import { requestApproval } from '../core/registry/release.js';

const logger = new Logger({ serviceName: 'request-approval' });

const InputSchema = z.object({
  taskToken: z.string().min(1),
  registration: z.object({ version: z.number().int().positive(), judgedAgainst: z.number().int().positive().nullable() }),
  gate: z.object({ summary: z.string(), reportUri: z.string() }),
});

type Stores = Parameters<typeof requestApproval>[0];
type Settings = Parameters<typeof requestApproval>[1];

/**
 * WaitForApproval (invoked with a task token) over the stores it is given: parse, record the
 * request and alert (core/registry/release.ts), answer. The execution then waits until someone
 * decides or the state's timeout rejects it.
 */
export function createHandler(stores: Stores, settings: Settings) {
  return async (event: unknown) => {
    const { run } = readStepState(event, 'WaitForApproval');
    const { taskToken, registration, gate } = parseOrThrow(InputSchema, event, 'WaitForApproval input');
    const alert = await requestApproval(stores, settings, { run, taskToken, registration, gate });
    logger.info('approval requested', alert);
    return { requested: true };
  };
}

function awsStores(): Stores {
  const sns = createSnsClient();
  const topicArn = requireEnv('ALERT_TOPIC_ARN');
  return {
    registry: new RegistryStore(createDocumentClient(), requireEnv('REGISTRY_TABLE')),
    alerts: { publish: (subject, alert) => publishAlert(sns, topicArn, subject, alert) },
  };
}

export const handler = createHandler(awsStores(), { environment: requireEnv('ENVIRONMENT_NAME'), timeoutSeconds: Number(requireEnv('APPROVAL_TIMEOUT_SECONDS')) });
