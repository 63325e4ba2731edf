import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { createRng } from '../../lambdas/core/random.js';
import { logPrefix } from '../../lambdas/core/serving/records.js';
import { creditSpec, goodCsv, logRecords, platformClient, subscribeToAlerts, uniqueName, withLabels } from './fixtures.js';
import { stackTables } from './tables.js';

/** The stack's tables and buckets, read directly to assert what the API does not show. */
const tables = stackTables();

// The whole loop on the emulator: real S3, DynamoDB, Step Functions, Lambda, SNS and API Gateway.

/**
 * On AWS a thrown error reaches Step Functions under its name (DataValidationError); the emulator's
 * warm Lambda workers report every thrown error as Runtime.HandlerError. The step and the reason
 * are recorded the same on both, so those are what the tests pin.
 */
const thrownAs = (name: string) => expect.toSatisfy((error: string) => error === name || error === 'Runtime.HandlerError');
describe('the training and serving loop on the emulator', () => {
  let platform: PlatformClient;
  let alerts: Awaited<ReturnType<typeof subscribeToAlerts>>;
  const model = uniqueName('e2e-credit');
  const datasetName = uniqueName('e2e-applications');

  beforeAll(async () => {
    platform = platformClient();
    alerts = await subscribeToAlerts(tables.outputs.AlertTopicArn);
    await platform.createModel(creditSpec(model, datasetName));
  });
  afterAll(async () => {
    await alerts?.remove();
  });

  async function train(csv: string, name = datasetName, modelName = model) {
    const { dataset } = await platform.registerDataset({ name, bytes: Buffer.from(csv), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await tables.startExecution({ model: modelName, dataset: { name, version: dataset.version }, actor: 'e2e' });
    return { dataset, ...(await platform.waitForRun(runId, executionArn, { pollMs: 500 })) };
  }

  it('trains, gates, registers and serves a good dataset', async () => {
    // Act
    const outcome = await train(goodCsv());

    // Assess: the execution and the run record
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.steps).toEqual(expect.arrayContaining(['StartRun', 'ValidateData', 'Train', 'Evaluate', 'Gate', 'Register', 'Promote', 'Released']));
    const run = outcome.run!;
    expect(run).toMatchObject({ status: 'SUCCEEDED', model, trigger: 'manual', actor: 'e2e', gatePassed: true, modelVersion: 1 });
    expect(run.metrics!.accuracy).toBeGreaterThanOrEqual(0.75);
    expect(run.metrics!.rocAuc).toBeGreaterThanOrEqual(0.8);
    expect(run.specHash).toMatch(/^[a-f0-9]{64}$/);
    expect(run.endedAt! >= run.startedAt).toBe(true);

    // The artifact in S3 is exactly the bytes whose hash the run recorded.
    const artifactBytes = await tables.objects.getBytes(run.artifact!.uri);
    expect(createHash('sha256').update(artifactBytes).digest('hex')).toBe(run.artifact!.sha256);

    // The registry holds version 1 with the same artifact, production points at it, both audited.
    const versions = await tables.registry.listVersions(model);
    expect(versions.map((v) => v.version)).toEqual([1]);
    expect(versions[0]).toMatchObject({ runId: run.runId, artifact: run.artifact, dataset: outcome.dataset && { name: datasetName, version: outcome.dataset.version } });
    expect(await tables.registry.findAlias(model, 'production')).toMatchObject({ version: 1, weight: 1 });
    const actions = (await tables.registry.listAudit(model)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['model.created', 'version.registered', 'alias.moved']));

    // A prediction over HTTP from the production version, served by the real (bundled) AWS SDK.
    const response = await platform.predict(model, JSON.stringify({ inputs: { age: 30, income: 28000, debt_ratio: 0.7, credit_lines: 1, late_payments: 4 } }));
    expect(response.status).toBe(200);
    expect(response.headers['x-mlops-sdk']).toBe('aws-sdk-v3');
    const body = response.body as { model: string; version: number; requestId: string; prediction: { label: string; probability: number } };
    expect(body).toMatchObject({ model, version: 1 });
    expect(body.prediction.probability).toBeGreaterThan(0);
    expect(body.prediction.probability).toBeLessThan(1);
    expect(['0', '1']).toContain(body.prediction.label);

    // The prediction was logged (through Firehose, which the emulator delivers at once) under the model's and the version's prefix.
    const logged = await logRecords(tables.outputs.PredictionLogsBucket, logPrefix('predictions', model, 1));
    expect(logged).toEqual(expect.arrayContaining([expect.objectContaining({ requestId: body.requestId, model, version: 1, arm: 'production' })]));
  });

  it('serves batches and answers every malformed request with a 4xx JSON error', async () => {
    const row = { age: 45, income: 52000, debt_ratio: 0.2, credit_lines: 6, late_payments: 0 };
    const batch = await platform.predict(model, JSON.stringify({ instances: [row, { ...row, late_payments: 5 }] }));
    expect(batch.status).toBe(200);
    expect((batch.body as { predictions: unknown[] }).predictions).toHaveLength(2);

    const cases: [string, () => ReturnType<PlatformClient['predict']>, number, RegExp][] = [
      ['not JSON', () => platform.predict(model, '{"inputs": {"age": 4'), 400, /JSON|body/i],
      ['missing field', () => platform.predict(model, JSON.stringify({ inputs: { ...row, income: undefined } })), 400, /income/],
      ['wrong type', () => platform.predict(model, JSON.stringify({ inputs: { ...row, age: 'forty' } })), 400, /age/],
      ['unknown field', () => platform.predict(model, JSON.stringify({ inputs: { ...row, zip: 12345 } })), 400, /zip/],
      ['unknown model', () => platform.predict('no-such-model', JSON.stringify({ inputs: row })), 404, /no-such-model/],
      ['unsigned call', () => platform.predict(model, JSON.stringify({ inputs: row }), { unsigned: true }), 403, /Authentication|UNAUTHENTICATED/i],
    ];
    for (const [label, call, status, mentions] of cases) {
      const response = await call();
      expect({ label, status: response.status }).toEqual({ label, status });
      expect(response.headers['content-type']).toMatch(/application\/json/);
      expect(typeof response.body, label).toBe('object');
      expect(JSON.stringify(response.body), label).toMatch(mentions);
    }
  });

  it('stops a dataset that fails validation: FAILED run, stored report, quarantine, alert, no version', async () => {
    const versionsBefore = await tables.registry.listVersions(model);

    const outcome = await train(withLabels(goodCsv(), () => '1'));

    expect(outcome.status).toBe('FAILED');
    expect(outcome.steps).not.toContain('Train');
    const run = outcome.run!;
    expect(run.status).toBe('FAILED');
    expect(run.failure).toMatchObject({ step: 'ValidateData', error: thrownAs('DataValidationError') });
    expect(run.failure!.reason).toMatch(/target_classes/);
    const report = JSON.parse(await tables.objects.getText(run.validationReportUri!)) as { passed: boolean; checks: { name: string; passed: boolean }[] };
    expect(report.passed).toBe(false);
    expect(report.checks.find((c) => c.name === 'target_classes')?.passed).toBe(false);
    expect((await tables.tracking.getDatasetVersion(datasetName, outcome.dataset.version)).quarantined).toBe(true);
    expect(await tables.registry.listVersions(model)).toEqual(versionsBefore);

    const received = await alerts.receive();
    expect(received).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'training-run-failed', runId: run.runId, step: 'ValidateData' })]));
  });

  it('stops a model that fails the evaluation gate: FAILED run with the metric named, alert, no version', async () => {
    const versionsBefore = await tables.registry.listVersions(model);
    const rng = createRng(3);

    // Labels unrelated to the features: the data is valid, the model cannot beat chance.
    const outcome = await train(withLabels(goodCsv(), () => (rng() < 0.5 ? '1' : '0')));

    expect(outcome.status).toBe('FAILED');
    expect(outcome.steps).toEqual(expect.arrayContaining(['Gate', 'GateRejected']));
    expect(outcome.steps).not.toContain('Register');
    const run = outcome.run!;
    expect(run).toMatchObject({ status: 'FAILED', gatePassed: false });
    expect(run.failure).toMatchObject({ step: 'Gate', error: 'GateFailedError' });
    expect(run.failure!.reason).toMatch(/accuracy|rocAuc/);
    expect(run.gateReportUri).toMatch(/^s3:\/\//);
    expect(await tables.registry.listVersions(model)).toEqual(versionsBefore);
    expect(await tables.registry.findAlias(model, 'production')).toMatchObject({ version: 1 });

    const received = await alerts.receive();
    expect(received).toEqual(expect.arrayContaining([expect.objectContaining({ runId: run.runId, step: 'Gate', error: 'GateFailedError' })]));
  });

  it('fails a run for a model that is not registered, and alerts', async () => {
    const { dataset } = await platform.registerDataset({ name: datasetName, bytes: Buffer.from(goodCsv()), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await tables.startExecution({ model: 'never-created', dataset: { name: datasetName, version: dataset.version } });

    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500 });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.run).toBeUndefined();
    const received = await alerts.receive();
    expect(received).toEqual(expect.arrayContaining([expect.objectContaining({ model: 'never-created', step: 'StartRun', error: thrownAs('NotFoundError'), reason: expect.stringMatching(/never-created/) })]));
  });
});
