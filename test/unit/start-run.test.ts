import { describe, expect, it } from 'vitest';
import type { DatasetVersion } from '../../lambdas/core/data/dataset-version.js';
import { chooseTrainingVersion } from '../../lambdas/core/data/training-version.js';
import { NotFoundError } from '../../lambdas/core/errors.js';
import type { ModelVersion } from '../../lambdas/core/registry/records.js';
import { sha256Hex } from '../../lambdas/core/sha256.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { RunRecord } from '../../lambdas/core/training/run.js';
import { planRun, startRunRecord, type RunPlanStores, type RunRecordStores } from '../../lambdas/core/training/start-run.js';
import { logisticOnnx } from '../fixtures/onnx-builder.js';
import { smallSpec } from './helpers.js';

const V_OLD = 'a'.repeat(64);
const V_NEW = 'b'.repeat(64);

function datasetVersion(version: string, arrivedAt: string, overrides: Partial<DatasetVersion> = {}): DatasetVersion {
  return {
    name: 'small-data',
    version,
    uri: `s3://datasets/datasets/small-data/${version}.csv`,
    format: 'csv',
    bytes: 100,
    rowCount: 40,
    schema: {
      source: 'inferred',
      columns: [
        { name: 'x1', type: 'numeric', nullable: false },
        { name: 'x2', type: 'numeric', nullable: false },
        { name: 'label', type: 'string', nullable: false },
      ],
    },
    profileUri: `s3://datasets/profiles/small-data/${version}.json`,
    owner: 'ana',
    source: 'test',
    arrivedAt,
    quarantined: false,
    quarantinedFor: [],
    ...overrides,
  } as DatasetVersion;
}

/** The registry and tracking table in memory: what the flows read, and every run they create. */
function fakeStores(options: { specs?: ModelSpec[]; datasets?: DatasetVersion[]; runs?: RunRecord[]; uploads?: Record<string, Uint8Array>; versions?: ModelVersion[] } = {}) {
  const specs = new Map((options.specs ?? [smallSpec({ dataset: 'small-data' })]).map((spec) => [spec.name, spec]));
  const datasets = options.datasets ?? [datasetVersion(V_OLD, '2026-01-01T00:00:00.000Z'), datasetVersion(V_NEW, '2026-02-01T00:00:00.000Z')];
  const runs = new Map((options.runs ?? []).map((run) => [run.runId, run]));
  const created: RunRecord[] = [];
  const stores: RunPlanStores & RunRecordStores = {
    getModelSpec: async (model) => {
      const spec = specs.get(model);
      if (!spec) throw new NotFoundError(`model ${model} does not exist`, { field: 'model' });
      return spec;
    },
    getDatasetVersion: async (name, version) => {
      const found = datasets.find((d) => d.name === name && d.version === version);
      if (!found) throw new NotFoundError(`dataset version ${name}@${version} does not exist`, { field: 'dataset.version' });
      return found;
    },
    chooseDatasetVersion: async (name, model) => chooseTrainingVersion(datasets.filter((d) => d.name === name), model),
    getRun: async (runId) => {
      const run = runs.get(runId);
      if (!run) throw new NotFoundError(`run ${runId} does not exist`, { field: 'runId' });
      return run;
    },
    getVersion: async (model, version) => {
      const found = options.versions?.find((v) => v.model === model && v.version === version);
      if (!found) throw new NotFoundError(`no version ${version}`, { field: 'version' });
      return found;
    },
    readUpload: async (uploadKey) => {
      const bytes = options.uploads?.[uploadKey];
      if (!bytes) throw new NotFoundError(`nothing was uploaded to ${uploadKey}`, { field: 'onnx.uploadKey' });
      return { uri: `s3://models/${uploadKey}`, bytes };
    },
    createRun: async (run) => {
      const existing = runs.get(run.runId);
      if (existing) return { run: existing, created: false };
      runs.set(run.runId, run);
      created.push(run);
      return { run, created: true };
    },
  };
  return { stores, created };
}

const trainedRun = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  runId: 'small-model-20260101-aaaaaa',
  model: 'small-model',
  status: 'SUCCEEDED',
  trigger: 'manual',
  actor: 'arn:aws:iam::000000000000:user/ana',
  dataset: { name: 'small-data', version: V_OLD, uri: `s3://datasets/datasets/small-data/${V_OLD}.csv` },
  specHash: 'h',
  codeVersion: 'c',
  algorithm: 'logistic_regression',
  parameters: {},
  spec: smallSpec({ dataset: 'small-data' }) as unknown as Record<string, unknown>,
  mode: 'train',
  seed: 42,
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:p:small-model-20260101-aaaaaa',
  startedAt: '2026-01-01T00:00:00.000Z',
  artifact: { uri: 's3://models/m.json', sha256: 'c'.repeat(64) },
  ...overrides,
});

const ACTOR = 'arn:aws:iam::000000000000:user/ben';

describe('planRun', () => {
  it('takes the spec\'s dataset, the newest version not quarantined for the model, and says why; the actor is the caller', async () => {
    const { stores } = fakeStores({
      datasets: [
        datasetVersion(V_OLD, '2026-01-01T00:00:00.000Z'),
        datasetVersion(V_NEW, '2026-02-01T00:00:00.000Z', { quarantined: true, quarantinedFor: [{ model: 'small-model', gate: 'data-validation', reason: 'too few rows', at: '2026-02-02T00:00:00.000Z' }] }),
      ],
    });
    const plan = await planRun(stores, 'small-model', { params: { C: 0.5 } }, ACTOR);
    expect(plan.dataset).toMatchObject({ name: 'small-data', version: V_OLD });
    expect(plan.dataset.chosen).toMatch(/not quarantined for small-model.*skipped bbbbbbbbbbbb \(quarantined for small-model: too few rows\)/);
    expect(plan.request).toEqual({ model: 'small-model', dataset: { name: 'small-data', version: V_OLD }, actor: ACTOR, release: true, mode: 'train', trigger: 'manual', params: { C: 0.5 } });
  });

  it('takes the version asked for', async () => {
    const { stores } = fakeStores();
    const plan = await planRun(stores, 'small-model', { dataset: { name: 'small-data', version: V_OLD }, release: false }, ACTOR);
    expect(plan.dataset).toEqual({ name: 'small-data', version: V_OLD, chosen: 'the version asked for' });
    expect(plan.request.release).toBe(false);
  });

  it.each([
    ['an unknown model', 'no-such-model', {}, 'NOT_FOUND', 'model'],
    ['an unknown dataset version', 'small-model', { dataset: { name: 'small-data', version: 'd'.repeat(64) } }, 'NOT_FOUND', 'dataset.version'],
    ['a version that is not a sha256', 'small-model', { dataset: { name: 'small-data', version: 'latest' } }, 'INVALID_INPUT', 'dataset.version'],
    ['an unknown parameter', 'small-model', { params: { notAParam: 1 } }, 'INVALID_INPUT', undefined],
    ['an actor in the body', 'small-model', { actor: 'mallory' }, 'INVALID_INPUT', '(root)'],
    ['params with a reproduction', 'small-model', { mode: 'reproduce', reproduces: 'r', params: { C: 1 } }, 'INVALID_INPUT', 'params'],
  ])('refuses %s', async (_what, model, body, code, field) => {
    const { stores, created } = fakeStores();
    const refusal = planRun(stores, model, body, ACTOR);
    await expect(refusal).rejects.toMatchObject({ code, ...(field ? { field } : {}) });
    expect(created).toEqual([]);
  });

  it('refuses a spec that does not fit the dataset, naming the field', async () => {
    const { stores } = fakeStores({ specs: [smallSpec({ dataset: 'small-data', features: [{ name: 'x9', type: 'numeric' }] })] });
    await expect(planRun(stores, 'small-model', {}, ACTOR)).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'features.0.name' });
  });

  it('reproduces on the original run\'s dataset version, and refuses an imported run', async () => {
    const original = trainedRun();
    const { stores } = fakeStores({ runs: [original, trainedRun({ runId: 'imported-1', mode: 'import' })] });
    const plan = await planRun(stores, 'small-model', { mode: 'reproduce', reproduces: original.runId }, ACTOR);
    expect(plan.request).toMatchObject({ mode: 'reproduce', trigger: 'reproduce', reproduces: original.runId, dataset: { name: 'small-data', version: V_OLD }, actor: ACTOR });
    await expect(planRun(stores, 'small-model', { mode: 'reproduce', reproduces: 'imported-1' }, ACTOR)).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'reproduces' });
  });

  describe('imports', () => {
    const key = 'models/small-model/imports/upload-1.onnx';
    const good = logisticOnnx([0.5, -0.25], 0.1);

    it('checks the upload\'s sha256 and the ONNX input against the spec, then names the file', async () => {
      const { stores } = fakeStores({ uploads: { [key]: good } });
      const plan = await planRun(stores, 'small-model', { mode: 'import', onnx: { uploadKey: key, sha256: sha256Hex(good) } }, ACTOR);
      expect(plan.request).toMatchObject({ mode: 'import', trigger: 'import', onnx: { uri: `s3://models/${key}`, sha256: sha256Hex(good) } });
    });

    it('refuses bytes that do not match the sha256, an input of the wrong width, and a key it did not issue', async () => {
      const wide = logisticOnnx([0.5, -0.25, 1], 0.1);
      const { stores } = fakeStores({ uploads: { [key]: good, 'models/small-model/imports/wide.onnx': wide } });
      await expect(planRun(stores, 'small-model', { mode: 'import', onnx: { uploadKey: key, sha256: 'e'.repeat(64) } }, ACTOR)).rejects.toMatchObject({ field: 'onnx.sha256' });
      await expect(planRun(stores, 'small-model', { mode: 'import', onnx: { uploadKey: 'models/small-model/imports/wide.onnx', sha256: sha256Hex(wide) } }, ACTOR)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(planRun(stores, 'small-model', { mode: 'import', onnx: { uploadKey: 'models/other/imports/x.onnx', sha256: sha256Hex(good) } }, ACTOR)).rejects.toMatchObject({ field: 'onnx.uploadKey' });
    });
  });
});

describe('startRunRecord', () => {
  const input = (request: unknown) => ({ executionName: 'run-1', executionArn: 'arn:exec:run-1', request, codeVersion: 'abc123', now: new Date('2026-03-01T00:00:00.000Z') });

  it('records the run RUNNING with the request\'s actor, the effective spec and the chosen dataset, once per execution', async () => {
    const { stores, created } = fakeStores();
    const request = { model: 'small-model', dataset: { name: 'small-data' }, trigger: 'schedule', actor: 'system:schedule', params: { C: 0.5 } };
    const first = await startRunRecord(stores, input(request));
    expect(first.created).toBe(true);
    expect(first.run).toMatchObject({ runId: 'run-1', status: 'RUNNING', actor: 'system:schedule', trigger: 'schedule', codeVersion: 'abc123', startedAt: '2026-03-01T00:00:00.000Z' });
    expect(first.run.dataset.version).toBe(V_NEW);
    expect(first.run.parameters).toMatchObject({ C: 0.5, testFraction: 0.25 });
    expect(first.context).toMatchObject({ runId: 'run-1', mode: 'train', actor: 'system:schedule', release: true, dataset: { version: V_NEW } });
    const retried = await startRunRecord(stores, input(request));
    expect(retried.created).toBe(false);
    expect(created).toHaveLength(1);
  });

  it('a reproduction trains with the recorded spec, not the model\'s current one', async () => {
    const original = trainedRun({ spec: smallSpec({ dataset: 'small-data', training: { algorithm: 'logistic_regression', testFraction: 0.3, seed: 7 } }) as unknown as Record<string, unknown> });
    const { stores } = fakeStores({ runs: [original] });
    const { run } = await startRunRecord(stores, input({ model: 'small-model', dataset: { name: 'small-data', version: V_OLD }, mode: 'reproduce', reproduces: original.runId, trigger: 'reproduce', actor: ACTOR }));
    expect(run).toMatchObject({ mode: 'reproduce', reproduces: original.runId, seed: 7, parameters: { testFraction: 0.3 } });
  });

  it('writes nothing for an unknown model', async () => {
    const { stores, created } = fakeStores();
    await expect(startRunRecord(stores, input({ model: 'never-created', dataset: { name: 'small-data' } }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(created).toEqual([]);
  });
});
