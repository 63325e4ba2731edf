import { beforeEach, describe, expect, it } from 'vitest';
import './handlers/lambda-env.js';
import { createHandler as driftCheckHandler } from '../../lambdas/drift-check/handler.js';
import { createHandler as declareHandler } from '../../lambdas/declare-models/handler.js';
import { createHandler as registryApi, type RegistryApiStores } from '../../lambdas/registry-api/handler.js';
import { ConflictError, InputValidationError, MlopsError } from '../../lambdas/core/errors.js';
import type { DriftCheckStores } from '../../lambdas/core/monitoring/drift-check.js';
import { driftScheduleName, runScheduledDriftCheck, ScheduledDriftCheckEventSchema, storeSpecWithSchedule } from '../../lambdas/core/monitoring/drift-schedule.js';
import { DriftReportSchema } from '../../lambdas/core/monitoring/drift.js';
import { predictRows, type FeatureRow } from '../../lambdas/core/serving/predict.js';
import { logPrefix, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { trainRun } from '../../lambdas/core/training/train-run.js';
import { MemoryChecks, MemoryDriftSchedules, MemoryObjects, MemoryRegistry, MemoryRuns, MemoryTracking, modelVersion, partialStore, runContext } from './fakes.js';
import { MemoryLogs } from './rollout-fakes.js';
import { mixedDataset, mixedSpec, parseArtifact, rejectedWith, smallSpec } from './helpers.js';
import { answerOf, apiEvent, type ErrorBody } from './handlers/api-event.js';

const NOW = new Date('2026-12-06T04:00:00.000Z');

/** The spec file of small-model as a user sends it, with `monitoring` as given. */
const specFile = (monitoring?: Record<string, unknown>) => ({ ...(JSON.parse(JSON.stringify(smallSpec())) as Record<string, unknown>), ...(monitoring ? { monitoring } : { monitoring: undefined }) });

function registryApiWith(registry: MemoryRegistry, schedules: MemoryDriftSchedules) {
  const stores: RegistryApiStores = {
    registry: partialStore<RegistryApiStores['registry']>(registry),
    tracking: new MemoryTracking(),
    objects: new MemoryObjects(),
    pipeline: partialStore({}),
    releaseTasks: partialStore({}),
    rollouts: partialStore({}),
    schedules,
  };
  const handler = registryApi(stores);
  return (body: unknown) => handler(apiEvent('PUT', '/models/{model}', { params: { model: 'small-model' }, body }));
}

describe('drift schedules follow the spec (PUT /models/{model})', () => {
  it('creates the schedule with the spec, replaces its expression, and deletes it when the field goes', async () => {
    const registry = new MemoryRegistry();
    const schedules = new MemoryDriftSchedules();
    const put = registryApiWith(registry, schedules);

    expect((await put({ spec: specFile({ schedule: 'rate(1 day)' }) })).statusCode).toBe(201);
    expect(schedules.schedules.get('small-model')).toBe('rate(1 day)');
    expect((await put({ spec: specFile({ schedule: 'cron(0 3 * * ? *)', window: '6h' }) })).statusCode).toBe(200);
    expect(schedules.schedules.get('small-model')).toBe('cron(0 3 * * ? *)');
    expect((await registry.getModel('small-model')).spec.monitoring.schedule).toBe('cron(0 3 * * ? *)');
    expect((await put({ spec: specFile() })).statusCode).toBe(200);
    expect(schedules.schedules.has('small-model')).toBe(false);
    expect(schedules.calls).toEqual(['put small-model rate(1 day)', 'put small-model cron(0 3 * * ? *)', 'remove small-model']);
  });

  it('accepts a one-time at(...) in UTC, and refuses a moment that does not exist or another form, writing nothing', async () => {
    const registry = new MemoryRegistry();
    const schedules = new MemoryDriftSchedules();
    const put = registryApiWith(registry, schedules);
    expect((await put({ spec: specFile({ schedule: 'at(2026-12-06T04:05:00)' }) })).statusCode).toBe(201);
    expect(schedules.schedules.get('small-model')).toBe('at(2026-12-06T04:05:00)');
    for (const schedule of ['at(2026-02-30T04:05:00)', 'at(2026-12-06 04:05)', 'every day']) {
      const refused = answerOf<ErrorBody>(await put({ spec: specFile({ schedule }) }));
      expect([refused.status, refused.body.error.code, refused.body.error.field]).toEqual([400, 'INVALID_INPUT', 'monitoring.schedule']);
    }
    expect(schedules.calls).toHaveLength(1);
    // The retraining schedule stays an EventBridge rule expression (rate or cron): at() is the drift check's only.
    expect(() => smallSpec({ schedule: 'at(2026-12-06T04:05:00)', dataset: 'd' })).toThrow(MlopsError);
  });

  it('leaves no half state: a schedule that cannot be put stores nothing; a spec that cannot be stored puts the schedule back', async () => {
    const registry = new MemoryRegistry();
    const schedules = new MemoryDriftSchedules();
    const put = registryApiWith(registry, schedules);
    schedules.failNext = new Error('scheduler unavailable');
    expect((await put({ spec: specFile({ schedule: 'rate(1 day)' }) })).statusCode).toBe(500);
    expect(registry.models.size).toBe(0);
    expect(schedules.schedules.size).toBe(0);

    await put({ spec: specFile({ schedule: 'rate(1 day)' }) });
    // The write loses a race: the schedule goes back to the stored spec's.
    const racing = { findModel: registry.findModel.bind(registry), putModel: async () => Promise.reject(new ConflictError('the model record changed')), schedules };
    await rejectedWith(storeSpecWithSchedule(racing, parseModelSpec(specFile({ schedule: 'rate(5 minutes)' })), 'bob'), ConflictError);
    expect(schedules.schedules.get('small-model')).toBe('rate(1 day)');
    await rejectedWith(storeSpecWithSchedule(racing, parseModelSpec(specFile()), 'bob'), ConflictError);
    expect(schedules.schedules.get('small-model')).toBe('rate(1 day)');
    expect(schedules.calls.slice(-4)).toEqual(['put small-model rate(5 minutes)', 'put small-model rate(1 day)', 'remove small-model', 'put small-model rate(1 day)']);
  });

  it('gives declared models theirs through the same flow, also when the registry already holds the same spec', async () => {
    const registry = new MemoryRegistry();
    const schedules = new MemoryDriftSchedules();
    const stores = { findModel: registry.findModel.bind(registry), putModel: registry.putModel.bind(registry), schedules };
    const scheduled = smallSpec({ monitoring: { schedule: 'rate(1 hour)' } });
    await registry.putModel(scheduled, 'before-schedules');
    const event = (specs: ModelSpec[]) => ({ RequestType: 'Update', ResourceProperties: { Specs: JSON.stringify(specs) } });
    expect(await declareHandler(stores)(event([scheduled, { ...scheduled, name: 'other-model', monitoring: { ...scheduled.monitoring, schedule: undefined } }]))).toMatchObject({ Data: { Created: 1, Unchanged: 1 } });
    expect([...schedules.schedules]).toEqual([['small-model', 'rate(1 hour)']]);
    expect(schedules.calls).toEqual(['put small-model rate(1 hour)', 'remove other-model']);
  });

  it('names each schedule after its model, within Scheduler 64 characters', () => {
    expect(driftScheduleName('credit-default')).toBe('drift-credit-default');
    const long = `m${'x'.repeat(62)}`;
    const name = driftScheduleName(long);
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^drift-mx+-[0-9a-f]{8}$/);
    expect(driftScheduleName(`${long.slice(0, 62)}y`)).not.toBe(name);
  });
});


describe('the scheduled drift check', () => {
  const spec = mixedSpec('binary_classification', 'logistic_regression', { monitoring: { referenceSampleSize: 150, schedule: 'rate(1 hour)', window: '2h', minRows: 200 } });
  const table = mixedDataset('binary_classification', 400, 11);
  let objects: MemoryObjects;
  let registry: MemoryRegistry;
  let checks: MemoryChecks;
  let logs: MemoryLogs;
  let stores: DriftCheckStores;

  beforeEach(async () => {
    objects = new MemoryObjects();
    registry = new MemoryRegistry();
    checks = new MemoryChecks();
    logs = new MemoryLogs();
    await registry.putModel(spec, 'alice');
    const run = runContext(spec);
    const trained = await trainRun(
      { datasets: { loadTable: async () => table }, onnx: () => { throw new Error('no import'); }, models: { put: (key, text) => objects.put('models', key, text) }, runs: new MemoryRuns() },
      { run, spec },
    );
    registry.addVersion(modelVersion(spec, 1, trained.artifact, { dataset: run.dataset, reference: trained.reference }));
    registry.pointAlias(spec.name, 'production', 1);
    stores = {
      registry,
      artifacts: objects,
      datasets: { sampleRows: async () => { throw new Error('the stored reference is used'); } },
      onnx: () => { throw new Error('no import'); },
      logs,
      reports: objects.reports(),
      checks,
    };
  });

  /** `rows` rows of production traffic of version 1, logged at `at`. */
  function serve(rows: number, at: string) {
    const data = mixedDataset('binary_classification', rows, 29);
    const at_ = (name: string) => data.header.indexOf(name);
    const inputs: FeatureRow[] = data.rows.map((row) => ({ age: Number(row[at_('age')]), income: row[at_('income')] === '' ? null : Number(row[at_('income')]), debt: Number(row[at_('debt')]), plan: row[at_('plan')] === '' ? null : row[at_('plan')]! }));
    const artifact = parseArtifact(new TextDecoder().decode(objects.objects.get([...objects.objects.keys()].find((uri) => uri.endsWith('model.json'))!)!));
    const record: PredictionLogRecord = { requestId: `r-${at}`, at, model: spec.name, version: 1, arm: 'production', inputs, outputs: predictRows(artifact, inputs), latencyMs: 1 };
    logs.put(`${logPrefix('predictions', spec.name, 1, at.slice(0, 10))}part-${at}`, [record]);
  }

  const fire = (event: unknown = { kind: 'scheduled-drift-check', model: spec.name }) => runScheduledDriftCheck(stores, { bufferSeconds: 90 }, { event, now: NOW, suffix: 'abc123' });

  it('records an empty window as insufficient, over monitoring.window ending the read allowance before now, as system:schedule', async () => {
    const outcome = await fire();
    if (!('check' in outcome)) throw new Error(`skipped: ${outcome.skipped}`);
    expect(outcome.check).toMatchObject({ status: 'insufficient', rows: 0, trigger: 'schedule', actor: 'system:schedule', arm: 'production', version: 1, window: { from: '2026-12-06T01:58:30.000Z', to: '2026-12-06T03:58:30.000Z' } });
    expect(checks.records).toEqual([outcome.check]);
    const report = DriftReportSchema.parse(await objects.json(outcome.check.reportUri));
    expect(report.insufficient).toMatchObject({ window: true, rows: 0, minRows: 200 });
    expect(report.features.every((feature) => feature.drifted === null)).toBe(true);
  });

  it('records too few rows as insufficient, and judges a full window', async () => {
    serve(50, '2026-12-06T03:00:00.000Z');
    const few = await fire();
    expect('check' in few && few.check).toMatchObject({ status: 'insufficient', rows: 50 });
    serve(300, '2026-12-06T03:30:00.000Z');
    const full = await runScheduledDriftCheck(stores, { bufferSeconds: 90 }, { event: { kind: 'scheduled-drift-check', model: spec.name }, now: new Date(NOW.getTime() + 1000), suffix: 'def456' });
    expect('check' in full && full.check.status).not.toBe('insufficient');
    expect('check' in full && full.check.rows).toBe(350);
    expect(checks.records).toHaveLength(2);
  });

  it('skips, recording nothing: a model gone, a spec that no longer asks for a schedule, nothing in production', async () => {
    expect(await fire({ kind: 'scheduled-drift-check', model: 'gone-model' })).toEqual({ skipped: 'model gone-model is not registered' });
    await registry.putModel({ ...spec, monitoring: { ...spec.monitoring, schedule: undefined } }, 'alice');
    expect(await fire()).toMatchObject({ skipped: expect.stringMatching(/no monitoring.schedule/) });
    await registry.putModel(spec, 'alice');
    registry.aliases.clear();
    expect(await fire()).toMatchObject({ skipped: expect.stringMatching(/no production version/) });
    expect(checks.records).toEqual([]);
  });

  it('is one handler for two event kinds, each parsed: the schedule event, and API Gateway events as before', async () => {
    const handler = driftCheckHandler(stores, { bufferSeconds: 90, clock: () => NOW });
    const outcome = await handler({ kind: 'scheduled-drift-check', model: spec.name });
    expect('check' in outcome && outcome.check.status).toBe('insufficient');
    // A malformed schedule event is an error (Lambda retries, then its failure is visible), never a check.
    expect((await rejectedWith(handler({ kind: 'scheduled-drift-check', model: 'Bad Name' }), InputValidationError)).field).toBe('model');
    expect((await rejectedWith(handler({ kind: 'scheduled-drift-check', model: spec.name, window: '1h' }), InputValidationError)).code).toBe('INVALID_INPUT');
    await rejectedWith(handler({ kind: 'something-else' }), InputValidationError);
    await rejectedWith(handler({ hello: 'world' }), InputValidationError);
    expect(ScheduledDriftCheckEventSchema.safeParse({ kind: 'scheduled-drift-check', model: spec.name }).success).toBe(true);
    // On demand, an empty window stays a refusal.
    const refused = answerOf<ErrorBody>(await handler(apiEvent('POST', '/models/{model}/drift-checks', { params: { model: spec.name }, body: { window: '1h' } })));
    expect([refused.status, refused.body.error.code]).toEqual([409, 'NO_LOGS_IN_WINDOW']);
    expect(checks.records).toHaveLength(1);
  });
});
