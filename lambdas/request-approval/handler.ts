import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { publishAlert } from '../aws/alerts.js';
import { createDocumentClient, createSnsClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'request-approval' });
const registry = new RegistryStore(createDocumentClient(), requireEnv('REGISTRY_TABLE'));
const sns = createSnsClient();
const ALERT_TOPIC_ARN = requireEnv('ALERT_TOPIC_ARN');
const ENVIRONMENT_NAME = requireEnv('ENVIRONMENT_NAME');
const APPROVAL_TIMEOUT_SECONDS = Number(requireEnv('APPROVAL_TIMEOUT_SECONDS'));

const InputSchema = z.object({
  taskToken: z.string().min(1),
  registration: z.object({ version: z.number().int().positive(), judgedAgainst: z.number().int().positive().nullable() }),
  gate: z.object({ summary: z.string(), reportUri: z.string() }),
});

/**
 * WaitForApproval (invoked with a task token): marks the version as waiting, keeps the token with
 * it for `mlops approve|reject`, and tells people what waits. The execution then waits until
 * someone decides or the state's timeout rejects it.
 */
export const handler = async (event: unknown) => {
  const { run } = readStepState(event, 'WaitForApproval');
  const { taskToken, registration, gate } = parseOrThrow(InputSchema, event, 'WaitForApproval input');
  const expiresAt = new Date(Date.now() + APPROVAL_TIMEOUT_SECONDS * 1000).toISOString();
  const version = await registry.requestApproval({ model: run.model, version: registration.version, runId: run.runId, taskToken, expiresAt, actor: run.actor });
  const alert = {
    environment: ENVIRONMENT_NAME,
    kind: 'approval-requested',
    model: run.model,
    version: registration.version,
    runId: run.runId,
    replaces: registration.judgedAgainst,
    expiresAt: version.approval?.expiresAt ?? expiresAt,
    gate: gate.summary,
    gateReportUri: gate.reportUri,
    approve: `mlops --env ${ENVIRONMENT_NAME} approve ${run.model} ${registration.version} --reason "..."`,
    reject: `mlops --env ${ENVIRONMENT_NAME} reject ${run.model} ${registration.version} --reason "..."`,
  };
  await publishAlert(sns, ALERT_TOPIC_ARN, `[mlops ${ENVIRONMENT_NAME}] ${run.model} v${registration.version} waits for approval to go to production`, alert);
  logger.info('approval requested', alert);
  return { requested: true };
};
