import { beforeEach, describe, expect, it } from 'vitest';
import './handlers/lambda-env.js';
import { DriftCheckAnswerSchema, DriftCheckListSchema } from '../../lambdas/contract/drift.js';
import { createHandler } from '../../lambdas/drift-check/handler.js';
import { driftCheckRequest } from '../../lib/client/actions/drift.js';
import { formatDriftCheck, formatDriftCheckList } from '../../lib/client/render/drift.js';
import type { Table } from '../../lambdas/core/data/table.js';
import type { MlopsError } from '../../lambdas/core/errors.js';
import { driftWindow, runDriftCheck, type DriftCheckStores } from '../../lambdas/core/monitoring/drift-check.js';
import { DriftReportSchema } from '../../lambdas/core/monitoring/drift.js';
import { loadReference, ReferenceSampleSchema } from '../../lambdas/core/monitoring/reference.js';
import { loadModelFile } from '../../lambdas/core/serving/model-file.js';
import { predictRows, type FeatureRow } from '../../lambdas/core/serving/predict.js';
import { logPrefix, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { splitRows, targetOf } from '../../lambdas/core/training/train-model.js';
import { trainRun } from '../../lambdas/core/training/train-run.js';
import { createHandler as register } from '../../lambdas/register/handler.js';
import type { ModelVersion } from '../../lambdas/core/registry/records.js';
import { MemoryChecks, MemoryObjects, MemoryRegistry, MemoryRuns, modelVersion, runContext } from './fakes.js';
import { mixedDataset, mixedSpec, parseArtifact } from './helpers.js';
import { ALICE, answerOf, apiEvent, type ErrorBody } from './handlers/api-event.js';

const NOW = new Date('2026-12-06T04:00:00.000Z');
const spec: ModelSpec = mixedSpec('binary_classification', 'logistic_regression', { monitoring: { referenceSampleSize: 150 } });
const table = mixedDataset('binary_classification', 400, 11);


/** The prediction log as Firehose files it: JSON Lines under predictions/model=/version=/date=. */
class MemoryLogs {
  readonly files = new Map<string, string>();
  write(records: PredictionLogRecord[], name: string) {
    const { model, version, at } = records[0]!;
    this.files.set(`${logPrefix('predictions', model, version, at.slice(0, 10))}${name}`, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  async list(prefix: string) {
    return [...this.files.keys()].filter((key) => key.startsWith(prefix)).sort().map((key) => ({ key }));
  }
  async *stream(key: string) {
    yield new TextEncoder().encode(this.files.get(key) ?? '');
  }
}

/** Rows of mixedDataset as serving receives them (numbers, text, null). */
function requestRows(data: { header: string[]; rows: string[][] }, shift: Partial<Record<'age' | 'debt', number>> = {}): FeatureRow[] {
  const at = (name: string) => data.header.indexOf(name);
  return data.rows.map((row) => ({
    age: Number(row[at('age')]) + (shift.age ?? 0),
    income: row[at('income')] === '' ? null : Number(row[at('income')]),
    debt: Number(row[at('debt')]) + (shift.debt ?? 0),
    plan: row[at('plan')] === '' ? null : row[at('plan')]!,
  }));
}

describe('reference data at training time', () => {
  it('stores a seeded reservoir of the training split, at most referenceSampleSize rows, scored by the serving path, recorded with its sha256', async () => {
    const objects = new MemoryObjects();
    const runs = new MemoryRuns();
    const run = runContext(spec);
    const stores = { datasets: { loadTable: async () => table }, onnx: () => { throw new Error('no import'); }, models: { put: (key: string, text: string) => objects.put('models', key, text) }, runs };
    const { artifact, reference } = await trainRun(stores, { run, spec });
    expect(reference.uri).toBe(`s3://models/models/${spec.name}/runs/${run.runId}/reference.json`);
    expect(runs.get(run.runId).reference).toEqual(reference);

    const sample = await loadReference(objects, reference);
    expect(sample).toMatchObject({ source: 'training-split', seed: spec.training.seed, dataset: { name: run.dataset.name } });
    const split = splitRows(table as Table, spec, targetOf(table as Table, spec).y);
    expect(sample.population).toBe(split.train.length);
    expect(sample.rows).toHaveLength(150);
    // Every sampled row is a training row (none from the held-out split).
    const key = (row: Record<string, unknown>) => JSON.stringify(Object.keys(row).sort().map((name) => row[name]));
    const trainKeys = new Set(requestRows({ header: table.header, rows: split.train.map((i) => table.rows[i]!) }).map(key));
    expect(sample.rows.every((row) => trainKeys.has(key(row)))).toBe(true);
    // The outputs are serving's predictions on those rows.
    const file = await loadModelFile(objects, artifact);
    expect(sample.outputs).toEqual(predictRows(parseArtifact(new TextDecoder().decode(await objects.getBytes(artifact.uri))), sample.rows as FeatureRow[]));
    expect(file.kind).toBe('builtin');

    // Seeded: the same run stores the same bytes.
    const again = await trainRun({ ...stores, runs: new MemoryRuns() }, { run, spec });
    expect(again.reference.sha256).toBe(reference.sha256);
  });

  it("reaches the version through Register, from Train's answer in the state", async () => {
    const registered: Omit<ModelVersion, 'version' | 'createdAt' | 'status' | 'approval'>[] = [];
    const registry = {
      registerVersion: async (input: { version: Omit<ModelVersion, 'version' | 'createdAt' | 'status' | 'approval'> }) => {
        registered.push(input.version);
        return { version: { ...input.version, version: 1, createdAt: NOW.toISOString(), status: 'REGISTERED' as const }, created: true };
      },
    };
    const run = runContext(spec);
    const artifact = { uri: 's3://models/m.json', sha256: 'a'.repeat(64) };
    const reference = { uri: 's3://models/reference.json', sha256: 'b'.repeat(64) };
    const gate = { passed: true, reportUri: 's3://reports/gates/x.json', summary: 'ok', champion: null };
    const settings = { environment: 'dev' as const, productionRequiresApproval: false, codeVersion: 'abc' };
    await register({ registry, runs: new MemoryRuns() }, settings)({ run, training: { artifact, reference }, evaluation: { metrics: {} }, gate });
    await register({ registry, runs: new MemoryRuns() }, settings)({ run, training: { artifact }, evaluation: { metrics: {} }, gate });
    expect(registered[0]!.reference).toEqual(reference);
    expect('reference' in registered[1]!).toBe(false);
  });

  it('keeps the whole training split when it is smaller than the sample size', async () => {
    const objects = new MemoryObjects();
    const small = mixedDataset('binary_classification', 120, 3);
    const { reference } = await trainRun(
      { datasets: { loadTable: async () => small }, onnx: () => { throw new Error('no import'); }, models: { put: (key, text) => objects.put('models', key, text) }, runs: new MemoryRuns() },
      { run: runContext(spec), spec },
    );
    const sample = ReferenceSampleSchema.parse(JSON.parse(await objects.getText(reference.uri)));
    expect(sample.rows).toHaveLength(90);
    expect(sample.population).toBe(90);
  });
});

describe('mlops drift check arguments', () => {
  it('sends a window, or from/to as ISO times, and refuses mixing or half of them before any call', () => {
    expect(driftCheckRequest({ window: '24h', arm: 'canary' })).toEqual({ window: '24h', arm: 'canary' });
    expect(driftCheckRequest({ from: '2026-12-05T00:00:00+01:00', to: '2026-12-05T06:00:00Z' })).toEqual({ from: '2026-12-04T23:00:00.000Z', to: '2026-12-05T06:00:00.000Z' });
    const fieldOf = (options: Parameters<typeof driftCheckRequest>[0]) => {
      try {
        driftCheckRequest(options);
      } catch (error) {
        return [(error as MlopsError).code, (error as MlopsError).field];
      }
      return undefined;
    };
    expect(fieldOf({ from: '2026-12-05T00:00:00Z' })).toEqual(['INVALID_INPUT', 'to']);
    expect(fieldOf({ window: '1h', from: '2026-12-05T00:00:00Z', to: '2026-12-05T01:00:00Z' })).toEqual(['INVALID_INPUT', 'window']);
    expect(fieldOf({ window: 'a while' })).toEqual(['INVALID_INPUT', 'window']);
    expect(fieldOf({ from: 'yesterday', to: '2026-12-05T01:00:00Z' })).toEqual(['INVALID_INPUT', 'from']);
  });
});

describe('the drift check window', () => {
  it('ends a duration window the log buffer before now, and keeps an explicit one', () => {
    expect(driftWindow({ window: '2h' }, '24h', NOW, 60)).toEqual({ from: '2026-12-06T01:59:00.000Z', to: '2026-12-06T03:59:00.000Z' });
    expect(driftWindow({}, '24h', NOW, 0)).toEqual({ from: '2026-12-05T04:00:00.000Z', to: NOW.toISOString() });
    expect(driftWindow({ from: '2026-12-05T00:00:00Z', to: '2026-12-05T06:00:00Z' }, '24h', NOW, 60)).toEqual({ from: '2026-12-05T00:00:00.000Z', to: '2026-12-05T06:00:00.000Z' });
  });

  it('refuses a window in the future, inverted, or longer than 90 days, with codes and fields', () => {
    const codeOf = (request: Parameters<typeof driftWindow>[0]) => {
      try {
        driftWindow(request, '24h', NOW, 0);
      } catch (error) {
        return [(error as MlopsError).code, (error as MlopsError).field];
      }
      return undefined;
    };
    expect(codeOf({ from: '2026-12-06T03:00:00Z', to: '2026-12-06T05:00:00Z' })).toEqual(['WINDOW_IN_FUTURE', 'to']);
    expect(codeOf({ from: '2026-12-06T03:00:00Z', to: '2026-12-06T02:00:00Z' })).toEqual(['WINDOW_INVERTED', 'from']);
    expect(codeOf({ from: '2026-12-06T03:00:00Z', to: '2026-12-06T03:00:00Z' })).toEqual(['WINDOW_INVERTED', 'from']);
    expect(codeOf({ window: '100 days' })).toEqual(['WINDOW_TOO_LONG', 'window']);
  });
});

describe('the drift check', () => {
  let objects: MemoryObjects;
  let registry: MemoryRegistry;
  let checks: MemoryChecks;
  let logs: MemoryLogs;
  let stores: DriftCheckStores;
  let sampledDatasets: number;

  /** Trains spec on `table` and registers it as version 1 in production (with or without its reference). */
  async function deploy(options: { reference: boolean; production?: boolean } = { reference: true }) {
    const run = runContext(spec);
    const trained = await trainRun(
      { datasets: { loadTable: async () => table }, onnx: () => { throw new Error('no import'); }, models: { put: (key, text) => objects.put('models', key, text) }, runs: new MemoryRuns() },
      { run, spec },
    );
    registry.addVersion(modelVersion(spec, 1, trained.artifact, { dataset: run.dataset, ...(options.reference ? { reference: trained.reference } : {}) }));
    if (options.production !== false) registry.pointAlias(spec.name, 'production', 1);
    return trained;
  }

  /** Logs rows as production traffic of version 1, in requests of 100 rows, at `at`. */
  function serve(rows: FeatureRow[], at: string, name: string) {
    const artifact = parseArtifact(new TextDecoder().decode(objects.objects.get([...objects.objects.keys()].find((uri) => uri.endsWith('model.json'))!)!));
    const records: PredictionLogRecord[] = [];
    for (let start = 0; start < rows.length; start += 100) {
      const inputs = rows.slice(start, start + 100);
      records.push({ requestId: `${name}-${start}`, at, model: spec.name, version: 1, arm: 'production', inputs, outputs: predictRows(artifact, inputs), latencyMs: 1 });
    }
    logs.write(records, name);
  }

  beforeEach(async () => {
    objects = new MemoryObjects();
    registry = new MemoryRegistry();
    checks = new MemoryChecks();
    logs = new MemoryLogs();
    sampledDatasets = 0;
    await registry.putModel(spec, ALICE);
    stores = {
      registry,
      artifacts: objects,
      datasets: {
        sampleRows: async (_dataset, size) => {
          sampledDatasets += 1;
          return { header: table.header, rows: table.rows.slice(0, size), population: table.rows.length };
        },
      },
      onnx: () => {
        throw new Error('no import');
      },
      logs,
      reports: objects.reports(),
      checks,
    };
  });

  const check = (request: unknown, now = NOW) => runDriftCheck(stores, { bufferSeconds: 0 }, { model: spec.name, request, actor: ALICE, now, suffix: 'abc123' });

  it('flags exactly the shifted feature, writes the report and records the check', async () => {
    await deploy();
    serve(requestRows(mixedDataset('binary_classification', 600, 41)), '2026-12-05T10:00:00.000Z', 'same');
    serve(requestRows(mixedDataset('binary_classification', 600, 31), { debt: 0.5 }), '2026-12-06T02:00:00.000Z', 'shifted');

    const same = await check({ from: '2026-12-05T09:00:00Z', to: '2026-12-05T11:00:00Z' });
    expect(same.check).toMatchObject({ status: 'no_drift', driftedFeatures: [], rows: 600, referenceRows: 150, referenceSource: 'training-split', version: 1, arm: 'production', actor: ALICE });
    const shifted = await check({ window: '3h' }, new Date(NOW.getTime() + 1000));
    expect(shifted.check.driftedFeatures).toEqual(['debt']);
    expect(shifted.check.rows).toBe(600);

    const report = DriftReportSchema.parse(await objects.json(shifted.check.reportUri));
    expect(report.features.find((f) => f.column === 'debt')).toMatchObject({ method: 'ks', drifted: true, referenceRows: 150, currentRows: 600 });
    expect(shifted.check.reportUri).toBe(`s3://reports/drift-checks/${spec.name}/${shifted.check.checkId}.json`);
    expect(checks.records.map((r) => r.checkId)).toEqual([same.check.checkId, shifted.check.checkId]);
  });

  it('renders a check as a table per feature (method, statistic, threshold, verdict) with the dataset drift line', async () => {
    await deploy();
    serve(requestRows(mixedDataset('binary_classification', 600, 31), { debt: 0.5 }), '2026-12-06T02:00:00.000Z', 'shifted');
    const answer = await check({ window: '3h' });
    const text = formatDriftCheck(answer);
    const lines = text.split('\n');
    expect(lines.find((line) => line.trim().startsWith('feature'))).toMatch(/feature\s+type\s+method\s+statistic\s+threshold\s+verdict/);
    expect(lines.find((line) => line.trim().startsWith('debt '))).toMatch(/^\s+debt\s+numeric\s+ks\s+\S+\s+0\.05000\s+DRIFT\s+150\/600$/);
    expect(lines.find((line) => line.trim().startsWith('plan '))).toMatch(/chisquare\s+\S+\s+0\.05000\s+ok\s/);
    expect(text).toContain('dataset drift: ok (1 of 4 columns drifted');
    // The shifted debt moves the predictions too: prediction drift makes the check's status `drift`.
    expect(lines.find((line) => line.trim().startsWith('prediction '))).toMatch(/DRIFT/);
    expect(lines[0]).toContain('DRIFT');
    expect(formatDriftCheckList({ model: spec.name, checks: [answer.check] }).split('\n')[1]).toMatch(new RegExp(`^${answer.check.checkId}\\s+v1\\s+production\\s+drift\\s+600\\s+debt\\s`));
  });

  it('falls back to a seeded sample of the dataset, scored now, for a version stored without a reference', async () => {
    await deploy({ reference: false });
    serve(requestRows(mixedDataset('binary_classification', 300, 29)), '2026-12-06T01:00:00.000Z', 'same');
    const { check: record, report } = await check({ window: '6h' });
    expect(sampledDatasets).toBe(1);
    expect(record).toMatchObject({ referenceSource: 'dataset', referenceRows: 150 });
    expect(report).toMatchObject({ reference: { source: 'dataset', uri: null, rows: 150, population: 400 } });
  });

  it('refuses, leaving no report and no record: no production version, no traffic in the window, a window in the future or inverted', async () => {
    const refusal = async (request: unknown) => {
      try {
        await check(request);
      } catch (error) {
        return (error as MlopsError).code;
      }
      return 'checked';
    };
    await deploy({ reference: true, production: false });
    expect(await refusal({ window: '1h' })).toBe('NO_PRODUCTION_VERSION');
    expect(await refusal({ window: '1h', arm: 'canary' })).toBe('NO_VERSION_ON_ARM');
    registry.pointAlias(spec.name, 'production', 1);
    serve(requestRows(mixedDataset('binary_classification', 100, 29)), '2026-12-01T01:00:00.000Z', 'old');
    expect(await refusal({ window: '1h' })).toBe('NO_LOGS_IN_WINDOW');
    expect(await refusal({ from: '2026-12-06T03:00:00Z', to: '2026-12-07T00:00:00Z' })).toBe('WINDOW_IN_FUTURE');
    expect(await refusal({ from: '2026-12-06T03:00:00Z', to: '2026-12-06T01:00:00Z' })).toBe('WINDOW_INVERTED');
    expect(await refusal({ window: 'soon' })).toBe('INVALID_INPUT');
    expect(checks.records).toEqual([]);
    expect([...objects.objects.keys()].filter((uri) => uri.startsWith('s3://reports/'))).toEqual([]);
  });

  it('answers on the API: 201 with the check, the list newest first, one check by id, refusals with their code and field', async () => {
    await deploy();
    serve(requestRows(mixedDataset('binary_classification', 300, 29)), '2026-12-06T01:00:00.000Z', 'same');
    const handler = createHandler(stores, { bufferSeconds: 0, clock: () => NOW });
    const posted = answerOf(await handler(apiEvent('POST', '/models/{model}/drift-checks', { params: { model: spec.name }, body: { window: '6h' } })));
    expect(posted.status).toBe(201);
    const { check: record } = DriftCheckAnswerSchema.parse(posted.body);
    expect(record.actor).toBe(ALICE);

    const listed = answerOf(await handler(apiEvent('GET', '/models/{model}/drift-checks', { params: { model: spec.name } })));
    expect(DriftCheckListSchema.parse(listed.body).checks.map((c) => c.checkId)).toEqual([record.checkId]);
    const shown = answerOf(await handler(apiEvent('GET', '/models/{model}/drift-checks/{checkId}', { params: { model: spec.name, checkId: record.checkId } })));
    expect(DriftCheckAnswerSchema.parse(shown.body).check).toEqual(record);

    const missing = answerOf<ErrorBody>(await handler(apiEvent('GET', '/models/{model}/drift-checks/{checkId}', { params: { model: spec.name, checkId: '20261206T040000000Z-ffffff' } })));
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const inverted = answerOf<ErrorBody>(await handler(apiEvent('POST', '/models/{model}/drift-checks', { params: { model: spec.name }, body: { from: '2026-12-06T03:00:00Z', to: '2026-12-06T01:00:00Z' } })));
    expect([inverted.status, inverted.body.error.code, inverted.body.error.field]).toEqual([400, 'WINDOW_INVERTED', 'from']);
    const empty = answerOf<ErrorBody>(await handler(apiEvent('POST', '/models/{model}/drift-checks', { params: { model: spec.name }, body: { window: '5m' } })));
    expect([empty.status, empty.body.error.code]).toEqual([409, 'NO_LOGS_IN_WINDOW']);
    const unknown = answerOf<ErrorBody>(await handler(apiEvent('POST', '/models/{model}/drift-checks', { params: { model: 'nope-model' }, body: {} })));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect(checks.records).toHaveLength(1);
  });

  it('writes the HTML report beside the JSON, links it from the record, and answers a presigned URL of it', async () => {
    await deploy();
    serve(requestRows(mixedDataset('binary_classification', 300, 29), { age: 25 }), '2026-12-06T01:00:00.000Z', 'html');
    const presigned: string[] = [];
    let loads = 0;
    const reportLibraries = async () => ((loads += 1), '/* the chart libraries */');
    const links = { presignGet: async (uri: string, seconds: number) => (presigned.push(uri), `https://signed.test/${encodeURIComponent(uri)}?expires=${seconds}`) };
    const handler = createHandler({ ...stores, links }, { bufferSeconds: 0, clock: () => NOW, reportLibraries });
    const posted = DriftCheckAnswerSchema.parse(answerOf(await handler(apiEvent('POST', '/models/{model}/drift-checks', { params: { model: spec.name }, body: { window: '6h' } }))).body);
    const { checkId, htmlReportUri } = posted.check;
    expect(htmlReportUri).toBe(`s3://reports/drift-checks/${spec.name}/${checkId}.html`);
    const html = await objects.getText(htmlReportUri!);
    expect(html).toContain('<script>/* the chart libraries */</script>');
    expect(html).toContain(`Drift check ${spec.name} v1 ${checkId}`);
    const charts = JSON.parse(/id="drift-charts">([^]*?)<\/script>/.exec(html)![1]!) as unknown[];
    // One per feature, the prediction, and the performance over time.
    expect(charts).toHaveLength(DriftReportSchema.parse(posted.report).histograms!.features.length + 2);

    const link = answerOf<{ url: string; checkId: string; htmlReportUri: string }>(await handler(apiEvent('GET', '/models/{model}/drift-checks/{checkId}/report', { params: { model: spec.name, checkId } })));
    expect([link.status, link.body.checkId, link.body.htmlReportUri, presigned]).toEqual([200, checkId, htmlReportUri, [htmlReportUri]]);
    expect(link.body.url).toMatch(/^https:\/\/signed\.test\//);

    // A check recorded before HTML reports has none: 404 naming its JSON report, as for an unknown check.
    const { htmlReportUri: _, ...before } = posted.check;
    await checks.put({ ...before, checkId: '20261206T030000000Z-000000' });
    const old = answerOf<ErrorBody>(await handler(apiEvent('GET', '/models/{model}/drift-checks/{checkId}/report', { params: { model: spec.name, checkId: '20261206T030000000Z-000000' } })));
    expect([old.status, old.body.error.code, old.body.error.message]).toEqual([404, 'NOT_FOUND', expect.stringMatching(/no HTML report/)]);
    const unknown = answerOf<ErrorBody>(await handler(apiEvent('GET', '/models/{model}/drift-checks/{checkId}/report', { params: { model: spec.name, checkId: '20261206T040000000Z-ffffff' } })));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const bad = answerOf<ErrorBody>(await handler(apiEvent('GET', '/models/{model}/drift-checks/{checkId}/report', { params: { model: spec.name, checkId: '../x' } })));
    expect([bad.status, bad.body.error.field]).toEqual([400, 'checkId']);
    expect(loads).toBe(1);
  });
});
