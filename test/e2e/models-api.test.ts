import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createDocumentClient, createS3Client } from '../../lambdas/aws/clients.js';
import { ObjectStore } from '../../lambdas/aws/object-store.js';
import { RegistryStore } from '../../lambdas/aws/registry-store.js';
import { evaluateGate } from '../../lambdas/core/evaluation/gate.js';
import { GatePolicySchema } from '../../lambdas/core/training/model-spec.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { goodCsv, mlops, mlopsWith, platformClient, uniqueName } from './fixtures.js';
import { cliEnvironment, createIamUser, invoke, type IamUser } from './iam.js';

/**
 * PUT /models/{model} and GET /models/{model}/versions/{version}/gate-report on the emulator: the
 * spec is completed and checked by the API (features from the dataset's schema), the signed
 * caller is the actor, and a refused spec writes nothing.
 */
describe('the models routes of the management API', () => {
  const outputs = inject('stackOutputs');
  const folder = mkdtempSync(join(tmpdir(), 'mlops-models-'));
  const dataset = uniqueName('models-applications');
  let platform: PlatformClient;
  let trainer: IamUser;

  /** A spec file as a user writes it: no features, they come from the dataset. */
  const specFile = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    task: 'binary_classification',
    target: 'defaulted',
    positiveLabel: '1',
    training: { algorithm: 'logistic_regression', seed: 42 },
    gate: { minRows: 50 },
    dataset,
    excludeColumns: ['late_payments'],
    ...extra,
  });
  const writeSpec = (name: string, extra: Record<string, unknown> = {}) => {
    const file = join(folder, `${name}.json`);
    writeFileSync(file, JSON.stringify(specFile(name, extra)));
    return file;
  };
  const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => (error instanceof MlopsError ? { code: error.code, field: error.field } : error));

  beforeAll(async () => {
    platform = platformClient();
    writeFileSync(join(folder, 'data.csv'), goodCsv());
    expect((await mlops('dataset', 'register', join(folder, 'data.csv'), '--name', dataset, '--target', 'defaulted')).code).toBe(0);
    // May put specs and read models, nothing else.
    trainer = await createIamUser('models-trainer', [invoke(outputs, 'management', ['PUT /models/{model}', 'GET /models/{model}', 'GET /datasets/{name}/versions/{version}'])]);
  });

  it('creates a model through the route with its features inferred, recording the signed caller; the same spec again replaces it', async () => {
    const model = uniqueName('models-put');

    const created = await mlopsWith(cliEnvironment(trainer, outputs), 'models', 'create', '--spec', writeSpec(model));

    expect(created).toMatchObject({ code: 0, json: { model, created: true, spec: { name: model, dataset } } });
    expect(created.json.spec.features.map((f: { name: string }) => f.name)).toEqual(['age', 'income', 'debt_ratio', 'credit_lines']);
    expect(created.json.spec).not.toHaveProperty('excludeColumns');
    const shown = await platform.showModel(model);
    expect(shown.spec).toEqual(created.json.spec);
    const events = await platform.audit(model);
    expect(events.map((e) => [e.action, e.actor])).toEqual([['model.created', trainer.arn]]);

    const replaced = await platform.createModel(specFile(model, { training: { algorithm: 'logistic_regression', seed: 7 } }));
    expect(replaced).toMatchObject({ model, created: false, spec: { training: { seed: 7 } } });
    expect((await platform.audit(model)).map((e) => e.action)).toEqual(['model.created', 'model.updated']);
  });

  it('refuses a spec that does not fit the dataset, or names another model, and writes nothing', async () => {
    const model = uniqueName('models-bad');
    expect(await refusal(platform.createModel(specFile(model, { target: 'no_such_column' })))).toEqual({ code: 'INVALID_INPUT', field: 'target' });
    expect(await refusal(platform.showModel(model))).toEqual({ code: 'NOT_FOUND', field: 'model' });

    // An existing model keeps its spec and gets no audit event from a refused replacement.
    const existing = uniqueName('models-kept');
    const { spec } = await platform.createModel(specFile(existing));
    const bad = await mlops('models', 'create', '--spec', writeSpec(existing, { features: [{ name: 'salary', type: 'numeric' }] }), '--dataset', dataset);
    expect(bad).toMatchObject({ code: 1, json: { error: { code: 'INVALID_INPUT', field: 'features.0.name' } } });
    expect(await refusal(platform.api('PUT', `/models/${existing}`, { spec: specFile('someone-else') }))).toEqual({ code: 'INVALID_INPUT', field: 'spec.name' });
    expect((await platform.showModel(existing)).spec).toEqual(spec);
    expect((await platform.audit(existing)).map((e) => e.action)).toEqual(['model.created']);
  });

  it('is refused to a caller without the right to PUT /models/{model}', async () => {
    const viewer = await createIamUser('models-viewer', [invoke(outputs, 'management', ['GET /models/{model}'])]);
    const model = uniqueName('models-denied');
    const denied = await mlopsWith(cliEnvironment(viewer, outputs), 'models', 'create', '--spec', writeSpec(model, { features: [{ name: 'age', type: 'numeric' }] }));
    expect(denied).toMatchObject({ code: 1, json: { error: { code: 'ACCESS_DENIED' } } });
    expect(await refusal(platform.showModel(model))).toEqual({ code: 'NOT_FOUND', field: 'model' });
  });

  it('answers a version\'s stored gate report, by number or alias, parsed', async () => {
    const model = uniqueName('models-gate');
    await platform.createModel(specFile(model));
    // A version as the pipeline's Register leaves it, and the report its Gate stored (written here directly: no training needed).
    const runId = `${model}-run`;
    const report = evaluateGate({ accuracy: 0.91, rocAuc: 0.95, rows: 200 }, GatePolicySchema.parse({ minRows: 50, minAccuracy: 0.8 }), 200);
    const uri = await new ObjectStore(createS3Client()).put(outputs.ReportsBucket, `gates/${model}/${runId}.json`, JSON.stringify({ runId, model, ...report }), 'application/json');
    const { version } = await new RegistryStore(createDocumentClient(), outputs.RegistryTable).registerVersion({
      version: {
        model,
        runId,
        artifact: { uri: `s3://${outputs.ModelsBucket}/models/${model}/${runId}/model.json`, sha256: 'a'.repeat(64) },
        dataset: { name: dataset, version: 'b'.repeat(64), uri: `s3://${outputs.DatasetsBucket}/x.csv` },
        metrics: { accuracy: 0.91 },
        gateReportUri: uri,
        createdBy: 'e2e',
      },
      reason: 'gate report fixture',
    });

    const byNumber = await platform.gateReport(model, version.version);
    const byAlias = await platform.gateReport(model, 'candidate');

    expect(byNumber).toMatchObject({ model, version: version.version, runId, uri, report: { runId, passed: true, summary: report.summary } });
    expect(byNumber.report.checks.map((c) => c.name)).toEqual(report.checks.map((c) => c.name));
    expect(byAlias).toEqual(byNumber);
    expect(await refusal(platform.gateReport(model, 'production'))).toMatchObject({ code: 'NOT_FOUND' });
  });
});
