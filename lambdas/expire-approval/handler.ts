import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'expire-approval' });
const registry = new RegistryStore(createDocumentClient(), requireEnv('REGISTRY_TABLE'));

const InputSchema = z.object({ registration: z.object({ version: z.number().int().positive() }) });

/** After WaitForApproval timed out: the request is closed as expired (unless someone decided meanwhile) and production stays. */
export const handler = async (event: unknown) => {
  const { run } = readStepState(event, 'ExpireApproval');
  const { registration } = parseOrThrow(InputSchema, event, 'ExpireApproval input');
  const { expired } = await registry.expireApproval({ model: run.model, version: registration.version, runId: run.runId });
  logger.info('approval request closed', { runId: run.runId, version: registration.version, expired });
  return { expired };
};
