import { ExecutionAlreadyExists, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { StepFunctions } from '../../lambdas/aws/step-functions.js';

/** A Step Functions client answering each command by name, recording what it was sent. */
function fakeSfn(answer: (name: string, input: Record<string, unknown>) => unknown) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      return answer(command.constructor.name, command.input);
    },
  } as unknown as SFNClient;
  return { client, sent };
}

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:Pipeline';

describe('StepFunctions', () => {
  it('starts an execution named by the run id with the input as JSON', async () => {
    const { client, sent } = fakeSfn(() => ({ executionArn: `${MACHINE}:run-1`, startDate: new Date('2026-01-01T00:00:00Z') }));
    const started = await new StepFunctions(client).start(MACHINE, 'run-1', { model: 'm' });
    expect(started).toEqual({ executionArn: `${MACHINE}:run-1`, startedAt: '2026-01-01T00:00:00.000Z' });
    expect(sent).toEqual([{ name: 'StartExecutionCommand', input: { stateMachineArn: MACHINE, name: 'run-1', input: '{"model":"m"}' } }]);
  });

  it('turns a name already taken into CONFLICT and a missing execution into NOT_FOUND', async () => {
    const taken = fakeSfn(() => {
      throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
    });
    await expect(new StepFunctions(taken.client).start(MACHINE, 'run-1', {})).rejects.toMatchObject({ code: 'CONFLICT' });
    const missing = fakeSfn(() => {
      throw new ExecutionDoesNotExist({ message: 'none', $metadata: {} });
    });
    await expect(new StepFunctions(missing.client).describe('arn:x:execution:P:run-2')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists the states entered, in order, across history pages', async () => {
    const pages: Record<string, unknown> = {
      first: { events: [{ stateEnteredEventDetails: { name: 'StartRun' } }, { type: 'TaskScheduled' }], nextToken: 'p2' },
      p2: { events: [{ stateEnteredEventDetails: { name: 'ValidateData' } }, { stateEnteredEventDetails: { name: 'Train' } }] },
    };
    const { client } = fakeSfn((_name, input) => pages[(input.nextToken as string | undefined) ?? 'first']);
    expect(await new StepFunctions(client).steps('arn:exec')).toEqual(['StartRun', 'ValidateData', 'Train']);
  });

  it('names an execution\'s ARN from its state machine and name', () => {
    expect(StepFunctions.executionArn(MACHINE, 'run-1')).toBe('arn:aws:states:us-east-1:000000000000:execution:Pipeline:run-1');
  });
});
