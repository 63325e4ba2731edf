import { describe, expect, it } from 'vitest';
import './handlers/lambda-env.js';
import { createHandler as declareHandler } from '../../lambdas/declare-models/handler.js';
import { createHandler as registryApi } from '../../lambdas/registry-api/handler.js';
import { ConflictError } from '../../lambdas/core/errors.js';
import { scheduleName, storeSpecWithSchedules } from '../../lambdas/core/monitoring/model-schedules.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { MemoryModelSchedules, MemoryRegistry, registryApiStores } from './fakes.js';
import { rejectedWith, smallSpec } from './helpers.js';
import { answerOf, apiEvent, type ErrorBody } from './handlers/api-event.js';

/** The spec file of small-model as a user sends it, with `monitoring` and the retraining `schedule` as given. */
const specFile = (monitoring?: Record<string, unknown>, retrain?: string) => ({
  ...(JSON.parse(JSON.stringify(smallSpec())) as Record<string, unknown>),
  ...(monitoring ? { monitoring } : { monitoring: undefined }),
  ...(retrain ? { schedule: retrain, dataset: 'small-data' } : {}),
});

function registryApiWith(registry: MemoryRegistry, schedules: MemoryModelSchedules) {
  const handler = registryApi(registryApiStores(registry, { schedules }));
  return (body: unknown) => handler(apiEvent('PUT', '/models/{model}', { params: { model: 'small-model' }, body }));
}

describe('model schedules follow the spec (PUT /models/{model})', () => {
  it('creates each kind with the spec, replaces its expression, and deletes it when the field goes', async () => {
    const registry = new MemoryRegistry();
    const schedules = new MemoryModelSchedules();
    const put = registryApiWith(registry, schedules);

    expect((await put({ spec: specFile({ schedule: 'rate(1 day)' }, 'rate(7 days)') })).statusCode).toBe(201);
    expect([...schedules.schedules]).toEqual([['drift small-model', 'rate(1 day)'], ['retrain small-model', 'rate(7 days)']]);
    expect((await put({ spec: specFile({ schedule: 'cron(0 3 * * ? *)', window: '6h' }) })).statusCode).toBe(200);
    expect([...schedules.schedules]).toEqual([['drift small-model', 'cron(0 3 * * ? *)']]);
    expect((await registry.getModel('small-model')).spec.monitoring.schedule).toBe('cron(0 3 * * ? *)');
    expect((await put({ spec: specFile() })).statusCode).toBe(200);
    expect(schedules.schedules.size).toBe(0);
    expect(schedules.calls).toEqual([
      'put drift small-model rate(1 day)',
      'put retrain small-model rate(7 days)',
      'put drift small-model cron(0 3 * * ? *)',
      'remove retrain small-model',
      'remove drift small-model',
      'remove retrain small-model',
    ]);
  });

  it('accepts a one-time at(...) in UTC for both kinds, and refuses a moment that does not exist or another form, writing nothing', async () => {
    const registry = new MemoryRegistry();
    const schedules = new MemoryModelSchedules();
    const put = registryApiWith(registry, schedules);
    expect((await put({ spec: specFile({ schedule: 'at(2026-12-06T04:05:00)' }, 'at(2026-12-06T05:05:00)') })).statusCode).toBe(201);
    expect(schedules.schedules.get('drift small-model')).toBe('at(2026-12-06T04:05:00)');
    expect(schedules.schedules.get('retrain small-model')).toBe('at(2026-12-06T05:05:00)');
    for (const schedule of ['at(2026-02-30T04:05:00)', 'at(2026-12-06 04:05)', 'every day']) {
      const refused = answerOf<ErrorBody>(await put({ spec: specFile({ schedule }) }));
      expect([refused.status, refused.body.error.code, refused.body.error.field]).toEqual([400, 'INVALID_INPUT', 'monitoring.schedule']);
      const retrain = answerOf<ErrorBody>(await put({ spec: specFile(undefined, schedule) }));
      expect([retrain.status, retrain.body.error.code, retrain.body.error.field]).toEqual([400, 'INVALID_INPUT', 'schedule']);
    }
    expect(schedules.calls).toHaveLength(2);
  });

  it('leaves no half state: a schedule that cannot be put stores nothing; a spec that cannot be stored puts the schedules back', async () => {
    const registry = new MemoryRegistry();
    const schedules = new MemoryModelSchedules();
    const put = registryApiWith(registry, schedules);
    schedules.failNext = new Error('scheduler unavailable');
    expect((await put({ spec: specFile({ schedule: 'rate(1 day)' }) })).statusCode).toBe(500);
    expect(registry.models.size).toBe(0);
    expect(schedules.schedules.size).toBe(0);

    await put({ spec: specFile({ schedule: 'rate(1 day)' }) });
    // The write loses a race: the schedules go back to the stored spec's.
    const racing = { findModel: registry.findModel.bind(registry), putModel: async () => Promise.reject(new ConflictError('the model record changed')), schedules };
    await rejectedWith(storeSpecWithSchedules(racing, parseModelSpec(specFile({ schedule: 'rate(5 minutes)' }, 'rate(1 day)')), 'bob'), ConflictError);
    expect([...schedules.schedules]).toEqual([['drift small-model', 'rate(1 day)']]);
    expect(schedules.calls.slice(-4)).toEqual(['put drift small-model rate(5 minutes)', 'put retrain small-model rate(1 day)', 'put drift small-model rate(1 day)', 'remove retrain small-model']);
  });

  it('gives declared models theirs through the same flow, also when the registry already holds the same spec', async () => {
    const registry = new MemoryRegistry();
    const schedules = new MemoryModelSchedules();
    const stores = { findModel: registry.findModel.bind(registry), putModel: registry.putModel.bind(registry), schedules };
    const scheduled = smallSpec({ monitoring: { schedule: 'rate(1 hour)' }, schedule: 'rate(7 days)', dataset: 'small-data' });
    await registry.putModel(scheduled, 'before-schedules');
    const event = (specs: ModelSpec[]) => ({ RequestType: 'Update', ResourceProperties: { Specs: JSON.stringify(specs) } });
    const other = { ...scheduled, name: 'other-model', schedule: undefined, monitoring: { ...scheduled.monitoring, schedule: undefined } };
    expect(await declareHandler(stores)(event([scheduled, other]))).toMatchObject({ Data: { Created: 1, Unchanged: 1 } });
    expect([...schedules.schedules]).toEqual([['drift small-model', 'rate(1 hour)'], ['retrain small-model', 'rate(7 days)']]);
    expect(schedules.calls).toEqual(['put drift small-model rate(1 hour)', 'put retrain small-model rate(7 days)', 'remove drift other-model', 'remove retrain other-model']);
  });

  it('names each schedule after its kind and model, within Scheduler 64 characters', () => {
    expect(scheduleName('drift', 'credit-default')).toBe('drift-credit-default');
    expect(scheduleName('retrain', 'credit-default')).toBe('retrain-credit-default');
    const long = `m${'x'.repeat(62)}`;
    for (const kind of ['drift', 'retrain'] as const) {
      const name = scheduleName(kind, long);
      expect(name).toHaveLength(64);
      expect(name).toMatch(new RegExp(`^${kind}-mx+-[0-9a-f]{8}$`));
      expect(scheduleName(kind, `${long.slice(0, 62)}y`)).not.toBe(name);
    }
  });
});
