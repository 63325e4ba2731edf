import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDocumentClient, createS3Client, createSfnClient } from '../../lambdas/aws/clients.js';
import { ObjectStore } from '../../lambdas/aws/object-store.js';
import { RegistryStore } from '../../lambdas/aws/registry-store.js';
import { TrackingStore } from '../../lambdas/aws/tracking-store.js';
import type { StackOutputs } from '../../lambdas/contract/stack.js';
import { newRunId, TrainingRequestSchema, type TrainingRequest } from '../../lambdas/core/training/run.js';
import { useLocalEndpoint } from '../../lib/client/local-environment.js';

/**
 * Test-only: the stack's tables, buckets and state machine, read directly to assert state that the
 * API does not show (or to check that a refused request wrote nothing). The client holds none of these.
 */
export function stackTables(outputs: StackOutputs = inject('stackOutputs')) {
  useLocalEndpoint();
  const doc = createDocumentClient();
  const sfn = createSfnClient();
  return {
    outputs,
    registry: new RegistryStore(doc, outputs.RegistryTable),
    tracking: new TrackingStore(doc, outputs.TrackingTable),
    objects: new ObjectStore(createS3Client()),
    /** Starts the training pipeline itself, past the API's checks: for tests of what the pipeline refuses on its own. */
    async startExecution(request: TrainingRequest): Promise<{ runId: string; executionArn: string }> {
      const parsed = TrainingRequestSchema.parse(request);
      const runId = newRunId(parsed.model, new Date(), randomBytes(3).toString('hex'));
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: outputs.TrainingPipelineArn, name: runId, input: JSON.stringify(parsed) }));
      if (!executionArn) throw new Error('Step Functions returned no execution ARN');
      return { runId, executionArn };
    },
  };
}
export type StackTables = ReturnType<typeof stackTables>;
