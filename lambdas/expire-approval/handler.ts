import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'expire-approval' });

const InputSchema = z.object({ registration: z.object({ version: z.number().int().positive() }) });

/** The one registry call this step makes (a conditional transaction in the DynamoDB store). */
export interface ApprovalExpiry {
  expireApproval(input: { model: string; version: number; runId: string }): Promise<{ expired: boolean }>;
}

/** After WaitForApproval timed out: the request is closed as expired (unless someone decided meanwhile) and production stays. */
export function createHandler(registry: ApprovalExpiry) {
  return async (event: unknown) => {
    const { run } = readStepState(event, 'ExpireApproval');
    const { registration } = parseOrThrow(InputSchema, event, 'ExpireApproval input');
    const { expired } = await registry.expireApproval({ model: run.model, version: registration.version, runId: run.runId });
    logger.info('approval request closed', { runId: run.runId, version: registration.version, expired });
    return { expired };
  };
}

export const handler = createHandler(new RegistryStore(createDocumentClient(), requireEnv('REGISTRY_TABLE')));
