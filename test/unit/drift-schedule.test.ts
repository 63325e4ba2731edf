import { beforeEach, describe, expect, it } from 'vitest';
import './handlers/lambda-env.js';
import { createHandler as driftCheckHandler } from '../../lambdas/drift-check/handler.js';
import { InputValidationError } from '../../lambdas/core/errors.js';
import type { DriftCheckStores } from '../../lambdas/core/monitoring/drift-check.js';
import { runScheduledDriftCheck, ScheduledDriftCheckEventSchema } from '../../lambdas/core/monitoring/drift-schedule.js';
import { DriftReportSchema } from '../../lambdas/core/monitoring/drift.js';
import { predictRows, type FeatureRow } from '../../lambdas/core/serving/predict.js';
import { logPrefix, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { trainRun } from '../../lambdas/core/training/train-run.js';
import { MemoryChecks, MemoryObjects, MemoryRegistry, MemoryRuns, modelVersion, runContext } from './fakes.js';
import { MemoryLogs } from './rollout-fakes.js';
import { mixedDataset, mixedSpec, parseArtifact, rejectedWith } from './helpers.js';
import { answerOf, apiEvent, type ErrorBody } from './handlers/api-event.js';

const NOW = new Date('2026-12-06T04:00:00.000Z');

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
  function serve(rows: number, at: string, ageShift = 0) {
    const data = mixedDataset('binary_classification', rows, 29);
    const at_ = (name: string) => data.header.indexOf(name);
    const inputs: FeatureRow[] = data.rows.map((row) => ({ age: Number(row[at_('age')]) + ageShift, income: row[at_('income')] === '' ? null : Number(row[at_('income')]), debt: Number(row[at_('debt')]), plan: row[at_('plan')] === '' ? null : row[at_('plan')]! }));
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

  it('hands a check that drifted to the retraining guardrails (core/monitoring/retraining.ts), and a calm one to nobody', async () => {
    const handed: unknown[] = [];
    const handler = driftCheckHandler({ ...stores, retrain: { hand: async (event) => void handed.push(event) } }, { bufferSeconds: 90, clock: () => NOW });
    serve(300, '2026-12-06T03:00:00.000Z');
    const calm = await handler({ kind: 'scheduled-drift-check', model: spec.name });
    expect('check' in calm && calm.check.status).toBe('no_drift');
    expect(handed).toEqual([]);
    serve(600, '2026-12-06T03:30:00.000Z', 40);
    const drifted = await handler({ kind: 'scheduled-drift-check', model: spec.name });
    if (!('check' in drifted)) throw new Error('skipped');
    expect(drifted.check.status).toBe('drift');
    expect(handed).toEqual([{ kind: 'retrain-trigger', model: spec.name, trigger: 'drift', check: { checkId: drifted.check.checkId, reportUri: drifted.check.reportUri } }]);
  });

  it('keeps a drifted check recorded and answered when the hand-over fails (no retry recording the window twice)', async () => {
    const handler = driftCheckHandler({ ...stores, retrain: { hand: async () => Promise.reject(new Error('Lambda throttled')) } }, { bufferSeconds: 90, clock: () => NOW });
    serve(600, '2026-12-06T03:30:00.000Z', 40);
    const drifted = await handler({ kind: 'scheduled-drift-check', model: spec.name });
    if (!('check' in drifted)) throw new Error('skipped');
    expect(drifted.check.status).toBe('drift');
    expect((await stores.checks.list(spec.name, 10)).map((check) => check.checkId)).toContain(drifted.check.checkId);
  });
});
