import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { RetrainTriggerEvent } from '../core/monitoring/retraining.js';
import { requireEnv } from './env.js';

/** Hands a model to the retraining guardrails: an asynchronous invoke (Lambda retries it), so a check never waits on a retrain. */
export interface RetrainHandoff {
  hand(event: RetrainTriggerEvent): Promise<void>;
}

export function createRetrainHandoff(): RetrainHandoff {
  const client = new LambdaClient({});
  const functionArn = requireEnv('RETRAIN_TRIGGER_FUNCTION_ARN');
  return {
    hand: async (event) => {
      await client.send(new InvokeCommand({ FunctionName: functionArn, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    },
  };
}
