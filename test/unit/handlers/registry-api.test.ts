import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../../lambdas/registry-api/handler.js';
import type { TrainingRequest } from '../../../lambdas/core/training/run.js';
import { MemoryChecks, MemoryRegistry, MemoryTracking, modelVersion, registryApiStores } from '../fakes.js';
import { creditSpecJson, driftCheckRecord, smallSpec } from '../helpers.js';
import { ALICE, answerOf, apiEvent, type ErrorBody } from './api-event.js';

const BOB = 'arn:aws:iam::000000000000:user/bob';

function api() {
  const registry = new MemoryRegistry();
  const tracking = new MemoryTracking();
  const checks = new MemoryChecks();
  const started: { runId: string; input: TrainingRequest }[] = [];
  // The release-path writes (alias moves, rollback, approvals) are the DynamoDB store's, tested on the emulator.
  const stores = registryApiStores(registry, {
    tracking,
    pipeline: { start: async (input) => { const runId = `${input.model}-run-${started.length + 1}`; started.push({ runId, input }); return { runId, executionArn: `arn:aws:states:us-east-1:000000000000:execution:training:${runId}` }; } },
    driftChecks: checks,
    environment: 'staging',
  });
  return { registry, tracking, started, checks, handler: createHandler(stores) };
}

const refusal = async (result: Promise<Parameters<typeof answerOf>[0]>) => {
  const { status, body } = answerOf<ErrorBody>(await result);
  return { status, code: body.error.code, field: body.error.field };
};

describe('the registry API handler', () => {
  it('creates a model as the signed caller (201), replaces its spec (200), and lists and shows it', async () => {
    const { registry, handler } = api();
    const small = smallSpec();
    const spec = small as unknown as Record<string, unknown>;
    const put = (actor: string, body: unknown) => handler(apiEvent('PUT', '/models/{model}', { params: { model: 'small-model' }, body, actor }));
    expect(answerOf(await put(BOB, { spec }))).toMatchObject({ status: 201, body: { model: 'small-model', created: true } });
    expect(answerOf(await put(ALICE, { spec: { ...spec, training: { ...small.training, seed: 99 } } }))).toMatchObject({ status: 200, body: { created: false } });
    expect(registry.audit.map((event) => [event.action, event.actor])).toEqual([
      ['model.created', BOB],
      ['model.updated', ALICE],
    ]);

    expect(answerOf(await handler(apiEvent('GET', '/models')))).toMatchObject({ status: 200, body: { models: [{ name: 'small-model', latestVersion: 0 }] } });
    const detail = answerOf(await handler(apiEvent('GET', '/models/{model}', { params: { model: 'small-model' } })));
    expect(detail).toMatchObject({ status: 200, body: { name: 'small-model', spec: { training: { seed: 99 } }, aliases: [], versions: [] } });
    expect(answerOf(await handler(apiEvent('GET', '/models/{model}/audit', { params: { model: 'small-model' } }))).body).toMatchObject({ events: [{ actor: BOB }, { actor: ALICE }] });
  });

  it('answers the registry events after a cursor, of one model or all, with the cursor to follow with', async () => {
    const { registry, checks, handler } = api();
    await registry.putModel(smallSpec(), ALICE);
    await registry.putModel({ ...smallSpec(), name: 'other-model' }, BOB);
    const all = answerOf<{ events: { eventId: string; model: string; environment: string; actor: string }[]; cursor: string }>(await handler(apiEvent('GET', '/events')));
    expect(all.status).toBe(200);
    expect(all.body.events.map((e) => [e.model, e.actor, e.environment])).toEqual([
      ['small-model', ALICE, 'staging'],
      ['other-model', BOB, 'staging'],
    ]);
    const later = answerOf<{ events: unknown[]; cursor: string }>(await handler(apiEvent('GET', '/events', { query: { after: all.body.cursor } })));
    expect(later.body).toEqual({ events: [], cursor: all.body.cursor });
    checks.records.push(driftCheckRecord({ checkId: '20261206T090000000Z-abc123', model: 'other-model', version: 1, actor: BOB, checkedAt: '2026-12-06T09:00:01.000Z' }));
    const one = answerOf<{ events: { type: string; model: string }[] }>(await handler(apiEvent('GET', '/events', { query: { model: 'other-model', after: all.body.cursor } })));
    expect(one.body.events).toEqual([expect.objectContaining({ type: 'drift.checked', model: 'other-model' })]);

    expect(await refusal(handler(apiEvent('GET', '/events', { query: { after: 'yesterday' } })))).toMatchObject({ status: 400, code: 'INVALID_INPUT', field: 'after' });
    expect(await refusal(handler(apiEvent('GET', '/events', { query: { limit: '0' } })))).toMatchObject({ status: 400, field: 'limit' });
    expect(await refusal(handler(apiEvent('GET', '/events', { query: { model: 'missing-model' } })))).toMatchObject({ status: 404 });
  });

  it('starts a promotion to production as the signed caller, refusing what can be refused before starting anything', async () => {
    const { registry, started, handler } = api();
    const spec = smallSpec();
    await registry.putModel(spec, ALICE);
    registry.addVersion(modelVersion(spec, 1, { uri: 's3://models/1.json', sha256: 'a'.repeat(64) })).pointAlias(spec.name, 'production', 1);
    registry.addVersion(modelVersion(spec, 2, { uri: 's3://models/2.json', sha256: 'b'.repeat(64) }, { status: 'REGISTERED' }));
    const promote = (body: unknown) => handler(apiEvent('POST', '/models/{model}/aliases/{alias}', { params: { model: spec.name, alias: 'production' }, body, actor: BOB }));

    expect(await refusal(promote({ version: 1 }))).toEqual({ status: 409, code: 'ALREADY_IN_ALIAS', field: 'version' });
    expect(await refusal(promote({ version: 2, expectedVersion: 3 }))).toMatchObject({ status: 409, code: 'CONFLICT' });
    expect(await refusal(promote({ version: 'two' }))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'version' });
    expect(started).toHaveLength(0);

    const answer = answerOf<{ status: string; runId: string }>(await promote({ version: 2, expectedVersion: 1, reason: 'better' }));
    expect(answer).toMatchObject({ status: 202, body: { status: 'RUNNING', version: 2, expectedVersion: 1 } });
    expect(started).toEqual([
      {
        runId: answer.body.runId,
        input: { model: spec.name, dataset: { name: 'test-data', version: 'd'.repeat(64) }, mode: 'promote', trigger: 'promote', actor: BOB, promotion: { version: 2, reason: 'better', expectedVersion: 1 } },
      },
    ]);
  });

  it('refuses a bad path or body naming the field, and answers 404 for a model that does not exist', async () => {
    const { handler } = api();
    expect(await refusal(handler(apiEvent('GET', '/models/{model}', { params: { model: 'Bad Name' } })))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'model' });
    expect(await refusal(handler(apiEvent('GET', '/models/{model}', { params: { model: 'missing-model' } })))).toEqual({ status: 404, code: 'NOT_FOUND', field: 'model' });
    expect(await refusal(handler(apiEvent('PUT', '/models/{model}', { params: { model: 'credit-default' }, body: { spec: creditSpecJson(), actor: 'mallory' } })))).toMatchObject({ status: 400, code: 'INVALID_INPUT' });
    expect(await refusal(handler(apiEvent('GET', '/models/{model}/versions/{version}', { params: { model: 'm-model', version: '1.5' } })))).toMatchObject({ status: 400, code: 'INVALID_INPUT', field: 'version' });
    expect(await refusal(handler(apiEvent('GET', '/datasets/{name}/versions/{version}/lineage', { params: { name: 'loans', version: 'nope' } })))).toEqual({ status: 400, code: 'INVALID_INPUT', field: 'version' });
  });
});
