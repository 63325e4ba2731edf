import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../../lambdas/registry-api/handler.js';
import { createHandler as createStepHandler } from '../../../lambdas/rollout-step/handler.js';
import { modelVersion, registryApiStores } from '../fakes.js';
import { smallSpec } from '../helpers.js';
import { MemoryRolloutExecutions, MemoryRolloutRegistry } from '../rollout-fakes.js';
import { ALICE, answerOf, apiEvent, type ErrorBody } from './api-event.js';

const BOB = 'arn:aws:iam::000000000000:user/bob';

function api() {
  const spec = smallSpec({ rollout: { steps: [0.2, 1], bake: '20s', minRequests: 10 } });
  const registry = new MemoryRolloutRegistry();
  registry.models.set(spec.name, { spec, latestVersion: 3, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' });
  const artifact = (n: number) => ({ uri: `s3://models/${n}.json`, sha256: String(n).repeat(64) });
  registry.addVersion(modelVersion(spec, 1, artifact(1))).addVersion(modelVersion(spec, 2, artifact(2))).addVersion(modelVersion(spec, 3, artifact(3), { status: 'REJECTED' }));
  registry.pointAlias(spec.name, 'production', 1);
  const executions = new MemoryRolloutExecutions();
  let n = 0;
  const stores = registryApiStores(registry, {
    rollouts: executions,
    newIds: (model) => {
      n += 1;
      return { rolloutId: `${model}-r${n}-rollout`, gateRunId: `${model}-r${n}-gate`, promoteRunId: `${model}-r${n}-promote` };
    },
  });
  return { registry, executions, handler: createHandler(stores) };
}

const post = (handler: ReturnType<typeof api>['handler'], resource: string, body: unknown, actor = BOB) => handler(apiEvent('POST', resource, { params: { model: 'small-model' }, body, actor }));
const refusal = async (result: ReturnType<ReturnType<typeof api>['handler']>) => {
  const { status, body } = answerOf<ErrorBody>(await result);
  return { status, code: body.error.code, field: body.error.field };
};

describe('the rollout routes of the registry API', () => {
  it('refuses a rejected version, production itself, bad steps and a second rollout with codes, before starting anything', async () => {
    const { executions, handler } = api();
    expect(await refusal(post(handler, '/models/{model}/rollouts', { version: 3 }))).toEqual({ status: 409, code: 'VERSION_REJECTED', field: 'version' });
    expect(await refusal(post(handler, '/models/{model}/rollouts', { version: 1 }))).toEqual({ status: 409, code: 'ALREADY_IN_ALIAS', field: 'version' });
    expect(await refusal(post(handler, '/models/{model}/rollouts', { version: 2, steps: [0.5] }))).toMatchObject({ status: 400, code: 'INVALID_INPUT', field: 'steps' });
    expect(await refusal(post(handler, '/models/{model}/rollouts', { version: 2, bake: 'soon' }))).toMatchObject({ status: 400, code: 'INVALID_INPUT', field: 'bake' });
    expect(await refusal(post(handler, '/models/{model}/rollouts', { version: 2, extra: true }))).toMatchObject({ status: 400, code: 'INVALID_INPUT' });
    expect(executions.started).toHaveLength(0);

    const started = answerOf(await post(handler, '/models/{model}/rollouts', { version: 2, steps: [0.5, 1] }));
    expect(started).toMatchObject({ status: 202, body: { status: 'RUNNING', rolloutId: expect.stringMatching(/-rollout$/), version: 2, production: 1, steps: [0.5, 1], bake: '20s', gateRunId: expect.stringMatching(/-gate$/) } });
    expect(await refusal(post(handler, '/models/{model}/rollouts', { version: 2 }))).toEqual({ status: 409, code: 'ROLLOUT_RUNNING', field: 'model' });
    expect(executions.started).toHaveLength(1);
  });

  it('answers the status with the decisions, aborts as the caller, and refuses a second abort', async () => {
    const { registry, executions, handler } = api();
    await post(handler, '/models/{model}/rollouts', { version: 2 });
    const step = createStepHandler(registry, { bufferSeconds: 5 });
    expect(await step({ action: 'begin', model: 'small-model', rolloutId: 'small-model-r1-rollout' })).toEqual({ next: 'bake', waitSeconds: 25, state: 'RUNNING' });

    const status = answerOf<{ rollout: { phase: string; weight: number }; execution: { status: string }; stepsDone: number; decisions: { action: string }[] }>(
      await handler(apiEvent('GET', '/models/{model}/rollout', { params: { model: 'small-model' } })),
    );
    expect(status.body).toMatchObject({ rollout: { phase: 'canary', weight: 0.2 }, execution: { status: 'RUNNING' }, stepsDone: 0 });
    expect(status.body.decisions.map((e) => e.action)).toEqual(['rollout.started', 'rollout.stepped']);

    const aborted = answerOf(await post(handler, '/models/{model}/rollout/abort', { reason: 'not today' }, ALICE));
    expect(aborted).toMatchObject({ status: 200, body: { status: 'ABORTED', cleared: ['canary'], rollout: { state: 'ABORTED' } } });
    expect(executions.stopped).toEqual([executions.rolloutArn('small-model-r1-rollout')]);
    expect(registry.audit.slice(-2).map((e) => [e.action, e.actor, e.reason])).toEqual([
      ['rollout.aborted', ALICE, 'not today'],
      ['alias.cleared', ALICE, expect.stringContaining('production stays at version 1')],
    ]);
    expect(await refusal(post(handler, '/models/{model}/rollout/abort', {}))).toEqual({ status: 409, code: 'ROLLOUT_NOT_RUNNING', field: 'model' });
    // The execution's next step finds it stopped and ends.
    expect(await step({ action: 'finish', model: 'small-model', rolloutId: 'small-model-r1-rollout' })).toMatchObject({ next: 'end', state: 'ABORTED' });
  });

  it('a manual rollback during a rollout stops it and leaves production where it was', async () => {
    const { registry, handler } = api();
    await post(handler, '/models/{model}/rollouts', { version: 2 });
    await createStepHandler(registry, { bufferSeconds: 0 })({ action: 'begin', model: 'small-model', rolloutId: 'small-model-r1-rollout' });
    const answer = answerOf(await post(handler, '/models/{model}/rollback', { reason: 'canary looks wrong' }));
    expect(answer).toMatchObject({ status: 200, body: { status: 'ROLLED_BACK', production: { version: 1 }, rollout: { rolloutId: 'small-model-r1-rollout', state: 'ABORTED', cleared: ['canary'] } } });
    expect(registry.aliases.get('small-model/canary')).toBeUndefined();
    expect(registry.aliases.get('small-model/production')).toMatchObject({ version: 1 });
    expect(registry.audit.at(-2)).toMatchObject({ action: 'rollout.aborted', actor: BOB, reason: 'manual rollback during the rollout: canary looks wrong' });
  });

  it('answers 404 for a model that never had a rollout, and rejects a bad step input', async () => {
    const { registry, handler } = api();
    expect(await refusal(handler(apiEvent('GET', '/models/{model}/rollout', { params: { model: 'small-model' } })))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await expect(createStepHandler(registry, { bufferSeconds: 0 })({ action: 'jump', model: 'small-model', rolloutId: 'x' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
