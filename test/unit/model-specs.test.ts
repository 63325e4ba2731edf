import { describe, expect, it } from 'vitest';
import { DatasetVersionSchema, type DatasetVersion } from '../../lambdas/core/data/dataset-version.js';
import { MlopsError, NotFoundError } from '../../lambdas/core/errors.js';
import { putModelSpec, type ModelSpecStores } from '../../lambdas/core/registry/model-specs.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { MemoryModelSchedules } from './fakes.js';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);

function datasetVersion(version: string, columns: { name: string; type: 'numeric' | 'string' }[]): DatasetVersion {
  return DatasetVersionSchema.parse({
    name: 'churn-data',
    version,
    uri: `s3://datasets/churn-data/${version}.csv`,
    format: 'csv',
    bytes: 100,
    rowCount: 10,
    schema: { source: 'inferred', columns: columns.map((column) => ({ ...column, nullable: false })) },
    profileUri: 's3://reports/profile.json',
    owner: 'o',
    source: 'data.csv',
    arrivedAt: '2026-01-01T00:00:00.000Z',
  });
}

/** The registry and the tracking table in memory: what PUT /models/{model} reads and writes. */
function fakeStores() {
  const models = new Map<string, ModelSpec>();
  const audit: { actor: string; action: string; model: string }[] = [];
  const datasets = [
    datasetVersion(OLD, [{ name: 'age', type: 'numeric' }, { name: 'churned', type: 'string' }]),
    datasetVersion(NEW, [
      { name: 'customer_id', type: 'string' },
      { name: 'age', type: 'numeric' },
      { name: 'plan', type: 'string' },
      { name: 'signup', type: 'string' },
      { name: 'churned', type: 'string' },
    ]),
  ];
  const reads: string[] = [];
  const stores: ModelSpecStores = {
    async getDatasetVersion(name, version) {
      reads.push(`${name}@${version ?? 'newest'}`);
      const found = name === 'churn-data' ? (version ? datasets.find((d) => d.version === version) : datasets.at(-1)) : undefined;
      if (!found) throw new NotFoundError(`dataset ${name}@${version ?? 'newest'} is not registered`, { field: 'dataset.name' });
      return found;
    },
    async findModel(name) {
      const spec = models.get(name);
      return spec ? { spec } : undefined;
    },
    schedules: new MemoryModelSchedules(),
    async putModel(spec, actor) {
      const created = !models.has(spec.name);
      models.set(spec.name, spec);
      audit.push({ actor, model: spec.name, action: created ? 'model.created' : 'model.updated' });
      return { created };
    },
  };
  return { stores, models, audit, reads };
}

const ALICE = 'arn:aws:iam::000000000000:user/alice';

/** A spec file as a user writes it: no features, taken from the dataset. */
const specFile = (overrides: Record<string, unknown> = {}) => ({
  name: 'churn',
  task: 'binary_classification',
  target: 'churned',
  positiveLabel: 'yes',
  training: { algorithm: 'logistic_regression', timeColumn: 'signup' },
  dataset: 'churn-data',
  excludeColumns: ['customer_id'],
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<MlopsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MlopsError);
  return error as MlopsError;
}

describe('putModelSpec: PUT /models/{model}', () => {
  it('infers the features from the newest version of the spec\'s dataset, leaving out the target, time column and excluded columns, and records the signed actor', async () => {
    const { stores, models, audit, reads } = fakeStores();

    const answer = await putModelSpec(stores, 'churn', { spec: specFile() }, ALICE);

    expect(answer).toMatchObject({ model: 'churn', created: true });
    expect(answer.spec.features.map(({ name, type }) => ({ name, type }))).toEqual([
      { name: 'age', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
    ]);
    expect(reads).toEqual(['churn-data@newest']);
    expect(models.get('churn')).toEqual(answer.spec);
    expect(audit).toEqual([{ actor: ALICE, model: 'churn', action: 'model.created' }]);
    expect(answer.spec).not.toHaveProperty('excludeColumns');
  });

  it('takes the features from the dataset version the request names, and says replaced the second time', async () => {
    const { stores, audit } = fakeStores();
    await putModelSpec(stores, 'churn', { spec: specFile() }, ALICE);

    const again = await putModelSpec(stores, 'churn', { spec: specFile({ training: { algorithm: 'logistic_regression' }, excludeColumns: [] }), dataset: { name: 'churn-data', version: OLD } }, 'bob');

    expect(again.created).toBe(false);
    expect(again.spec.features.map((f) => f.name)).toEqual(['age']);
    expect(audit.map((e) => [e.action, e.actor])).toEqual([
      ['model.created', ALICE],
      ['model.updated', 'bob'],
    ]);
  });

  it('reads no dataset when the spec lists its features and none is named (the dataset may not be registered yet)', async () => {
    const { stores, reads } = fakeStores();
    const spec = specFile({ dataset: 'not-yet-registered', features: [{ name: 'age', type: 'numeric' }], training: { algorithm: 'logistic_regression' } });

    expect((await putModelSpec(stores, 'churn', { spec }, ALICE)).created).toBe(true);
    expect(reads).toEqual([]);
  });

  it('checks a listed spec against the dataset named in the request', async () => {
    const { stores, models } = fakeStores();
    const spec = specFile({ features: [{ name: 'income', type: 'numeric' }], training: { algorithm: 'logistic_regression' } });

    const error = await refusal(putModelSpec(stores, 'churn', { spec, dataset: { name: 'churn-data' } }, ALICE));

    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'features.0.name' });
    expect(error.message).toMatch(/churn-data.*no column "income"|income/);
    expect(models.size).toBe(0);
  });

  it.each([
    ['a target the dataset lacks', { target: 'cancelled' }, 'target'],
    ['a time column the dataset lacks', { training: { algorithm: 'logistic_regression', timeColumn: 'created_at' } }, 'training.timeColumn'],
  ])('refuses %s and writes nothing', async (_, overrides, field) => {
    const { stores, models, audit } = fakeStores();

    const error = await refusal(putModelSpec(stores, 'churn', { spec: specFile(overrides) }, ALICE));

    expect(error).toMatchObject({ code: 'INVALID_INPUT', field });
    expect(models.size).toBe(0);
    expect(audit).toEqual([]);
  });

  it('refuses a spec named differently from the path, an invalid spec, a spec without features or dataset, and an unknown body field', async () => {
    const { stores, models, reads } = fakeStores();
    expect(await refusal(putModelSpec(stores, 'other', { spec: specFile() }, ALICE))).toMatchObject({ code: 'INVALID_INPUT', field: 'spec.name' });
    expect(await refusal(putModelSpec(stores, 'churn', { spec: specFile({ task: 'clustering' }) }, ALICE))).toMatchObject({ code: 'INVALID_INPUT', field: 'task' });
    expect(await refusal(putModelSpec(stores, 'churn', { spec: specFile({ dataset: undefined }) }, ALICE))).toMatchObject({ code: 'INVALID_INPUT', field: 'features' });
    expect(await refusal(putModelSpec(stores, 'churn', { spec: specFile(), actor: 'mallory' }, ALICE))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await refusal(putModelSpec(stores, 'churn', { spec: 'name: churn' }, ALICE))).toMatchObject({ code: 'INVALID_INPUT', field: 'spec' });
    expect(models.size).toBe(0);
    expect(reads).toEqual([]);
  });

  it('answers NOT_FOUND for a dataset that is not registered, writing nothing', async () => {
    const { stores, models } = fakeStores();
    const error = await refusal(putModelSpec(stores, 'churn', { spec: specFile({ dataset: 'missing' }) }, ALICE));
    expect(error).toMatchObject({ code: 'NOT_FOUND', field: 'dataset.name' });
    expect(models.size).toBe(0);
  });
});
