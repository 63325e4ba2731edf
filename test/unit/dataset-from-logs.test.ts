import { beforeEach, describe, expect, it } from 'vitest';
import { DatasetFromLogsAnswerSchema } from '../../lambdas/contract/datasets.js';
import { parseCsv } from '../../lambdas/core/data/csv.js';
import type { RegistrationJob } from '../../lambdas/core/data/dataset-api.js';
import { buildDatasetFromLogs, type DatasetFromLogsStores } from '../../lambdas/core/data/dataset-from-logs.js';
import type { DatasetVersion } from '../../lambdas/core/data/dataset-version.js';
import { parseDeclaredSchema, type DeclaredSchemaInput } from '../../lambdas/core/data/profile.js';
import { registerDataset } from '../../lambdas/core/data/register-dataset.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import { logPrefix, type FeedbackRecord, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { sha256Hex } from '../../lambdas/core/sha256.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { describeDataset, describeFromLogs } from '../../lib/client/render/datasets.js';
import { MemoryObjects, MemoryRegistry, MemoryTracking, modelVersion, registrationStores } from './fakes.js';
import { mixedDataset, mixedSpec } from './helpers.js';
import { MemoryLogs } from './rollout-fakes.js';

const NOW = new Date('2026-12-06T04:00:00.000Z');
const ALICE = 'arn:aws:iam::000000000000:user/alice';
const DATASET = 'loans-data';
const base = mixedDataset('binary_classification', 60, 5);
const spec: ModelSpec = mixedSpec('binary_classification', 'logistic_regression', { dataset: DATASET });

/** A logged request of one row as serving logs it (numbers, text, null), `hoursAgo` before NOW. */
function logged(requestId: string, hoursAgo: number, input: Record<string, unknown>, over: Partial<PredictionLogRecord> = {}): PredictionLogRecord {
  return { requestId, at: new Date(NOW.getTime() - hoursAgo * 3_600_000).toISOString(), model: spec.name, version: 1, arm: 'production', inputs: [input], outputs: [{ label: 'no' }], latencyMs: 2, ...over };
}
const label = (requestId: string, value: string, at: string): FeedbackRecord => ({ requestId, row: 0, model: spec.name, version: 1, arm: 'production', label: value, at, actor: ALICE });

function world(options: { specOverrides?: Record<string, unknown>; baseSchema?: DeclaredSchemaInput } = {}) {
  const objects = new MemoryObjects();
  const tracking = new MemoryTracking();
  const registry = new MemoryRegistry();
  const logs = new MemoryLogs();
  const registered: RegistrationJob[] = [];
  const modelSpec = options.specOverrides ? mixedSpec('binary_classification', 'logistic_regression', { dataset: DATASET, ...options.specOverrides }) : spec;
  const stores: DatasetFromLogsStores = {
    registry,
    datasets: tracking,
    logs,
    files: { stream: (uri) => objects.stream(uri), file: (uri) => objects.file(uri), putUpload: (key, bytes) => objects.put('datasets', key, bytes) },
    // Inline, as the retraining trigger registers: the one RegisterDataset flow over the same memory.
    register: async (job) => {
      registered.push(job);
      return registerDataset(registrationStores(objects, tracking), job, { maxBytes: 10_000_000, now: NOW });
    },
  };
  return { objects, tracking, registry, logs, stores, registered, spec: modelSpec, options };
}
type World = ReturnType<typeof world>;

/** Registers the base table through the same flow and puts v1, trained on it, in production. */
async function inProduction(w: World): Promise<DatasetVersion> {
  const csv = [base.header, ...base.rows].map((row) => row.join(',')).join('\n') + '\n';
  const uploadUri = `s3://datasets/uploads/${DATASET}/base`;
  await w.objects.put('datasets', `uploads/${DATASET}/base`, csv);
  const schema = w.options.baseSchema ? { schema: parseDeclaredSchema(w.options.baseSchema) } : {};
  const answer = await registerDataset(
    registrationStores(w.objects, w.tracking),
    { name: DATASET, uploadUri, sha256: sha256Hex(csv), bytes: csv.length, format: 'csv', owner: ALICE, source: 'upload', target: 'target', ...schema },
    { maxBytes: 10_000_000, now: new Date('2026-11-01T00:00:00.000Z') },
  );
  expect(answer.status).toBe('REGISTERED');
  const version = await w.tracking.getDatasetVersion(DATASET, sha256Hex(csv));
  await w.registry.putModel(w.spec, ALICE);
  w.registry.addVersion(modelVersion(w.spec, 1, { uri: 's3://models/m1.json', sha256: 'a'.repeat(64) }, { dataset: { name: version.name, version: version.version, uri: version.uri } }));
  w.registry.pointAlias(w.spec.name, 'production', 1);
  return version;
}

/** Five logged requests over the last two days; three labelled (one twice), one label for a request outside the window. */
function serveAndLabel(w: World) {
  const day = logPrefix('predictions', spec.name, 1, '2026-12-05');
  const today = logPrefix('predictions', spec.name, 1, '2026-12-06');
  w.logs.put(`${day}a`, [logged('r1', 20, { age: 30, income: 41000, debt: 0.2, plan: 'basic' }), logged('r2', 19, { age: 55, income: null, debt: 0.9, plan: 'pro' })], new Date('2026-12-05T09:00:00.000Z'));
  w.logs.put(`${today}b`, [logged('r3', 2, { age: 41, income: 52000, debt: 0.4, plan: null }), logged('r4', 1, { age: 66, income: 30000, debt: 1.1, plan: 'plus' })], new Date('2026-12-06T03:00:00.000Z'));
  w.logs.put(`${day}old`, [logged('r0', 30, { age: 20, income: 10000, debt: 0.1, plan: 'basic' })], new Date('2026-12-04T23:00:00.000Z'));
  const feedback = logPrefix('feedback', spec.name, 1, '2026-12-06');
  w.logs.put(`${feedback}f`, [label('r4', 'yes', '2026-12-06T03:10:00.000Z'), label('r1', 'no', '2026-12-06T03:00:00.000Z'), label('r2', 'yes', '2026-12-06T03:05:00.000Z'), label('r1', 'yes', '2026-12-06T03:20:00.000Z'), label('r0', 'no', '2026-12-06T03:00:00.000Z')], new Date('2026-12-06T03:30:00.000Z'));
}

const build = (w: World, request: Record<string, unknown> = { window: '24h' }, settings: { maxRows?: number } = {}) =>
  buildDatasetFromLogs(w.stores, { bufferSeconds: 60, ...settings }, { model: spec.name, request, actor: ALICE, now: NOW, suffix: 'abc123' });

const rowsOf = (w: World, version: DatasetVersion) => parseCsv(new TextDecoder().decode(w.objects.objects.get(version.uri)!));

describe('a dataset version from the prediction log joined with feedback', () => {
  let w: World;
  beforeEach(() => {
    w = world();
  });

  it('by default: the rows production was trained on, then the window\'s labelled rows, registered through the data gate with the lineage', async () => {
    const baseVersion = await inProduction(w);
    serveAndLabel(w);
    const answer = DatasetFromLogsAnswerSchema.parse(await build(w));
    expect(answer).toMatchObject({ status: 'REGISTERED', created: true, model: spec.name, dataset: { name: DATASET, format: 'csv', rows: 63 }, emptyColumns: ['region', 'day'] });
    expect(answer.lineage).toEqual({
      source: 'prediction-log',
      model: spec.name,
      window: { from: '2026-12-05T03:59:00.000Z', to: '2026-12-06T03:59:00.000Z' },
      arm: 'production',
      versions: [1],
      requests: 3,
      loggedRows: 4,
      labelledRows: 3,
      unlabelledRows: 1,
      duplicateLabels: 1,
      base: { name: DATASET, version: baseVersion.version, rows: 60 },
      builtAt: NOW.toISOString(),
      actor: ALICE,
    });

    // Recorded like any registered version: profiled, owned by the caller, the lineage on the record.
    const version = await w.tracking.getDatasetVersion(DATASET, answer.dataset.version);
    expect(version).toMatchObject({ rowCount: 63, owner: ALICE, lineage: answer.lineage, schema: { target: 'target' } });
    expect(version.source).toBe(`prediction-log:${spec.name}:production:2026-12-05T03:59:00.000Z..2026-12-06T03:59:00.000Z`);
    expect(w.objects.objects.has(version.profileUri)).toBe(true);
    // The upload was consumed by the registration.
    expect([...w.objects.objects.keys()].filter((uri) => uri.includes('/uploads/'))).toEqual([]);

    const table = rowsOf(w, version);
    expect(table.header).toEqual(base.header);
    expect(table.rows.slice(0, 60)).toEqual(base.rows);
    // Logged rows by request time, the first label of each (r1: "no", not the later "yes"); r3 has no label.
    const at = (name: string) => base.header.indexOf(name);
    expect(table.rows.slice(60).map((row) => [row[at('age')], row[at('income')], row[at('plan')], row[at('region')], row[at('target')]])).toEqual([
      ['30', '41000', 'basic', '', 'no'],
      ['55', '', 'pro', '', 'yes'],
      ['66', '30000', 'plus', '', 'yes'],
    ]);
  });

  it('--logs-only: only the labelled rows, features then target; the same window again is the same version (EXISTS, nothing written)', async () => {
    await inProduction(w);
    serveAndLabel(w);
    const answer = await build(w, { window: '24h', logsOnly: true });
    expect(answer).toMatchObject({ status: 'REGISTERED', dataset: { rows: 3 }, emptyColumns: [], lineage: { base: null, labelledRows: 3 } });
    const version = await w.tracking.getDatasetVersion(DATASET, answer.dataset.version);
    expect(rowsOf(w, version)).toEqual({ header: ['age', 'income', 'debt', 'plan', 'target'], rows: [['30', '41000', '0.2', 'basic', 'no'], ['55', '', '0.9', 'pro', 'yes'], ['66', '30000', '1.1', 'plus', 'yes']] });

    const objectsBefore = w.objects.objects.size;
    const again = await build(w, { window: '24h', logsOnly: true });
    expect(again).toMatchObject({ status: 'EXISTS', dataset: { version: answer.dataset.version } });
    expect(w.objects.objects.size).toBe(objectsBefore);
    expect(w.registered).toHaveLength(1);
  });

  it('a model never in production gets the logged rows only, named by --name when the spec names no dataset', async () => {
    w = world({ specOverrides: { dataset: undefined } });
    await w.registry.putModel(w.spec, ALICE);
    serveAndLabel(w);
    const refused = await build(w).catch((error: MlopsError) => error);
    expect(refused).toMatchObject({ code: 'NO_DATASET_NAME', field: 'name' });
    const answer = await build(w, { window: '24h', name: 'from-traffic' });
    expect(answer).toMatchObject({ status: 'REGISTERED', dataset: { name: 'from-traffic', rows: 3 }, lineage: { base: null } });
  });

  it('hands the file to an asynchronous registration (the API) and answers RUNNING with its id', async () => {
    await inProduction(w);
    serveAndLabel(w);
    const jobs: RegistrationJob[] = [];
    const answer = await buildDatasetFromLogs({ ...w.stores, register: async (job) => (jobs.push(job), { status: 'RUNNING', registrationId: 'reg-1' }) }, { bufferSeconds: 60 }, {
      model: spec.name,
      request: { window: '24h' },
      actor: ALICE,
      now: NOW,
      suffix: 'abc123',
    });
    expect(answer).toMatchObject({ status: 'RUNNING', registrationId: 'reg-1' });
    expect(jobs[0]).toMatchObject({ name: DATASET, sha256: answer.dataset.version, format: 'csv', target: 'target', owner: ALICE, lineage: answer.lineage });
    expect(jobs[0]!.uploadUri).toBe(`s3://datasets/uploads/${DATASET}/${answer.dataset.version}-logs-abc123`);
    expect(sha256Hex(w.objects.objects.get(jobs[0]!.uploadUri)!)).toBe(answer.dataset.version);
  });

  it('holds the new rows to the base\'s declared schema: a logged value outside it is rejected by the gate, and the upload is gone', async () => {
    w = world({
      baseSchema: {
        columns: [
          { name: 'age', type: 'numeric', min: 18, max: 80 },
          { name: 'income', type: 'numeric' },
          { name: 'debt', type: 'numeric' },
          { name: 'plan', type: 'string' },
          { name: 'region', type: 'string', nullable: false },
          { name: 'day', type: 'string' },
          { name: 'target', type: 'string' },
        ],
      },
    });
    await inProduction(w);
    serveAndLabel(w);
    // region is required in the base; logged rows leave it empty, which the build allows.
    const fine = await build(w);
    expect(fine.status).toBe('REGISTERED');
    const version = await w.tracking.getDatasetVersion(DATASET, fine.dataset.version);
    expect(version.schema.source).toBe('declared');

    w.logs.put(`${logPrefix('predictions', spec.name, 1, '2026-12-06')}c`, [logged('r9', 1, { age: 130, income: 1, debt: 0.1, plan: 'pro' })], new Date('2026-12-06T03:40:00.000Z'));
    w.logs.put(`${logPrefix('feedback', spec.name, 1, '2026-12-06')}g`, [label('r9', 'no', '2026-12-06T03:45:00.000Z')], new Date('2026-12-06T03:46:00.000Z'));
    const rejected = await build(w).catch((error: MlopsError) => error);
    expect(rejected).toBeInstanceOf(MlopsError);
    expect((rejected as MlopsError).code).toBe('DATA_VALIDATION_FAILED');
    expect((rejected as MlopsError).message).toMatch(/age/);
    expect([...w.objects.objects.keys()].filter((uri) => uri.includes('/uploads/'))).toEqual([]);
    expect(await w.tracking.listDatasetVersions(DATASET)).toHaveLength(2);
  });

  it('is shown by the CLI with what was joined, what was left out and where it came from', async () => {
    await inProduction(w);
    serveAndLabel(w);
    const build = await buildDatasetFromLogs(w.stores, { bufferSeconds: 60 }, { model: spec.name, request: { window: '24h' }, actor: ALICE, now: NOW, suffix: 'abc123' });
    const dataset = await w.tracking.getDatasetVersion(DATASET, build.dataset.version);
    const text = describeFromLogs({ build, dataset, created: true });
    expect(text).toContain(`registered ${DATASET}@${dataset.version} (63 rows, passed the data gate)`);
    expect(text).toContain('4 logged row(s): 3 labelled (3 request(s)), 1 without a label (left out), 1 duplicate label(s) ignored');
    expect(text).toContain('empty     region, day');
    expect(describeDataset(dataset)).toContain(`lineage   3 labelled row(s) of ${spec.name} (production, version(s) 1) logged 2026-12-05T03:59:00.000Z .. 2026-12-06T03:59:00.000Z on top of 60 row(s)`);
  });

  describe('refusals write nothing', () => {
    const refusal = async (w: World, request: Record<string, unknown>, settings: { maxRows?: number } = {}) => {
      const objectsBefore = w.objects.objects.size;
      const versionsBefore = w.tracking.datasets.length;
      const error = await build(w, request, settings).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MlopsError);
      expect(w.objects.objects.size).toBe(objectsBefore);
      expect(w.tracking.datasets.length).toBe(versionsBefore);
      expect(w.registered).toEqual([]);
      return error as MlopsError;
    };

    it('features the log drops or hashes: FEATURES_NOT_LOGGED', async () => {
      w = world({ specOverrides: { logging: { hash: ['plan'] } } });
      await inProduction(w);
      serveAndLabel(w);
      expect(await refusal(w, { window: '24h' })).toMatchObject({ code: 'FEATURES_NOT_LOGGED', field: 'logging', message: expect.stringContaining('"plan"') });
    });

    it('no labelled rows in the window: NO_LABELLED_ROWS, with the logged count', async () => {
      await inProduction(w);
      serveAndLabel(w);
      // r3 alone: logged, never labelled.
      const error = await refusal(w, { from: '2026-12-06T01:30:00Z', to: '2026-12-06T02:30:00Z' });
      expect(error).toMatchObject({ code: 'NO_LABELLED_ROWS', field: 'from' });
      expect(error.message).toContain('1 logged row(s)');
    });

    it('a window in the future or inverted, or a malformed body', async () => {
      await inProduction(w);
      serveAndLabel(w);
      expect(await refusal(w, { from: '2026-12-06T00:00:00Z', to: '2026-12-07T00:00:00Z' })).toMatchObject({ code: 'WINDOW_IN_FUTURE', field: 'to' });
      expect(await refusal(w, { from: '2026-12-06T00:00:00Z', to: '2026-12-05T00:00:00Z' })).toMatchObject({ code: 'WINDOW_INVERTED', field: 'from' });
      expect(await refusal(w, { window: '120 days' })).toMatchObject({ code: 'WINDOW_TOO_LONG', field: 'window', message: expect.stringContaining('a dataset build reads at most 90 days') });
      expect(await refusal(w, { window: '24h', from: '2026-12-05T00:00:00Z', to: '2026-12-06T00:00:00Z' })).toMatchObject({ code: 'INVALID_INPUT', field: 'window' });
      expect(await refusal(w, { window: 'soon' })).toMatchObject({ code: 'INVALID_INPUT', field: 'window' });
      expect(await refusal(w, { window: '24h', arm: 'blue' })).toMatchObject({ code: 'INVALID_INPUT', field: 'arm' });
    });

    it('too many rows: the base beside the window, or the window alone', async () => {
      await inProduction(w);
      serveAndLabel(w);
      expect(await refusal(w, { window: '24h' }, { maxRows: 60 })).toMatchObject({ code: 'TOO_MANY_ROWS', field: 'logsOnly' });
      expect(await refusal(w, { window: '24h' }, { maxRows: 62 })).toMatchObject({ code: 'TOO_MANY_ROWS', field: 'window' });
      expect(await refusal(w, { window: '24h', logsOnly: true }, { maxRows: 2 })).toMatchObject({ code: 'TOO_MANY_ROWS', field: 'window' });
    });
  });
});
