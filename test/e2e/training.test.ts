import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { createRng } from '../../lambdas/core/random.js';
import { parseCsv } from '../../lambdas/core/data/csv.js';
import { fitLogistic } from '../../lambdas/core/training/trainers/logistic.js';
import { fromRows } from '../../lambdas/core/training/trainers/matrix.js';
import { logisticOnnx } from '../fixtures/onnx-builder.js';
import { creditSpec, goodCsv, mlops, platformClient, trainingExecutions, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

/** The stack's tables and buckets, read directly to assert what the API does not show. */
const tables = stackTables();

// Training and experiment tracking through the CLI, as a user's script runs it: real Step Functions
// executions, the tracking table, and the registry on the emulator.

/** Houses: a regression table with a categorical column, a segment column, and age missing in 20% of rows (imputed). */
function housesCsv(rows: number, seed: number): string {
  const rng = createRng(seed);
  const districts = ['north', 'south', 'east', 'west'];
  const lines = ['area,rooms,age,district,price'];
  for (let i = 0; i < rows; i += 1) {
    const area = Math.round(40 + rng() * 160);
    const rooms = 1 + Math.floor(rng() * 5);
    const age = Math.round(rng() * 80);
    const district = districts[Math.floor(rng() * districts.length)]!;
    const premium = district === 'north' ? 40_000 : district === 'west' ? 15_000 : 0;
    const price = Math.round(1_000 * area + 8_000 * rooms - 600 * age + premium + (rng() - 0.5) * 20_000);
    lines.push(`${area},${rooms},${i % 5 === 0 ? '' : age},${district},${price}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('training, tracking and reproducible runs through the CLI', () => {
  let platform: PlatformClient;
  const folder = mkdtempSync(join(tmpdir(), 'mlops-training-'));
  const dataset = uniqueName('houses');
  const model = uniqueName('house-price');

  beforeAll(async () => {
    platform = platformClient();
    writeFileSync(join(folder, 'houses.csv'), housesCsv(1200, 5));
    // No features listed: they come from the dataset's schema (numbers numeric, text categorical).
    writeFileSync(
      join(folder, 'spec.yaml'),
      [
        `name: ${model}`,
        'task: regression',
        'target: price',
        `dataset: ${dataset}`,
        'training: { algorithm: gradient_boosting, params: { maxIterations: 60 }, seed: 7 }',
        'segments: [district]',
        // This test compares runs, not releases: the second run only has to stay near the first.
        'gate: { metrics: { r2: { min: 0.5 } }, champion: { metrics: { rmse: { relativeTolerance: 0.5 } } } }',
      ].join('\n'),
    );
    expect((await mlops('dataset', 'register', join(folder, 'houses.csv'), '--name', dataset)).code).toBe(0);
  });

  it('creates a model whose features come from the dataset, trains two runs with different parameters, compares and reproduces them', async () => {
    const created = await mlops('models', 'create', '--spec', join(folder, 'spec.yaml'));
    expect(created).toMatchObject({ code: 0, json: { model, created: true } });
    expect(created.json.spec.features).toEqual([
      { name: 'area', type: 'numeric', impute: 'median', scale: 'standard' },
      { name: 'rooms', type: 'numeric', impute: 'median', scale: 'standard' },
      { name: 'age', type: 'numeric', impute: 'median', scale: 'standard' },
      { name: 'district', type: 'categorical', maxCategories: 50, minFrequency: 1, impute: 'missing_category' },
    ]);

    // Without --dataset, the spec's dataset (newest version) is used.
    const first = await mlops('train', model, '--wait');
    const second = await mlops('train', model, '--dataset', dataset, '--param', 'learningRate=0.3', '--param', 'maxLeafNodes=8', '--wait');

    expect(first).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', run: { status: 'SUCCEEDED', modelVersion: 1, algorithm: 'gradient_boosting' } } });
    expect(second).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', run: { modelVersion: 2, parameters: { learningRate: 0.3, maxLeafNodes: 8 } } } });
    const a = first.json.run;
    const b = second.json.run;
    expect(Object.keys(a.metrics).sort()).toEqual(['mae', 'r2', 'rmse', 'rows']);
    expect(a.metrics.r2).toBeGreaterThan(0.5);
    // Per-segment metrics on the held-out split, one entry per district.
    expect(Object.keys(a.segmentMetrics.district).sort()).toEqual(['east', 'north', 'south', 'west']);
    expect(a.segmentMetrics.district.north).toMatchObject({ rmse: expect.any(Number), rows: expect.any(Number) });
    // Lineage recorded with each run.
    expect(a).toMatchObject({ trigger: 'manual', seed: 7, dataset: { name: dataset }, specHash: expect.stringMatching(/^[a-f0-9]{64}$/), codeVersion: expect.any(String), executionArn: expect.any(String) });
    expect(b.specHash).not.toBe(a.specHash);

    // age misses 20% of its values; the spec sets no limit and imputes it, so the data gate warns and the run trains.
    const firstReport = (await platform.getRunReport(a.runId, 'validation')).report as { passed: boolean; reference?: unknown; checks: { name: string; column?: string }[] };
    expect(firstReport.passed).toBe(true);
    expect(firstReport.reference).toBeUndefined();
    expect(firstReport.checks.find((c) => c.name === 'missing_values' && c.column === 'age')).toMatchObject({
      passed: false,
      severity: 'warn',
      rule: 'default',
      rates: { current: 0.2, limit: 0.05 },
      detail: '240 of 1200 missing (20.00%); at most 5.00% allowed by default (a warning: set validation.maxMissingRate to block)',
    });
    // The second run is judged against the dataset version 1 was trained on (read from the registry): the same rates, no rise.
    const secondReport = (await platform.getRunReport(b.runId, 'validation')).report as typeof firstReport;
    expect(secondReport).toMatchObject({ passed: true, reference: { version: 1, dataset: { name: dataset } } });
    expect(secondReport.checks.find((c) => c.name === 'missing_rate_increase' && c.column === 'age')).toMatchObject({ passed: true, rates: { current: 0.2, reference: 0.2, change: 0 } });

    const listed = await mlops('runs', 'list', model);
    expect(listed.json.map((r: { runId: string }) => r.runId)).toEqual([b.runId, a.runId]);

    const compared = await mlops('runs', 'compare', a.runId, b.runId);
    expect(compared.code).toBe(0);
    const param = (name: string) => compared.json.parameters.find((p: { name: string }) => p.name === name);
    expect(param('learningRate')).toEqual({ name: 'learningRate', a: 0.1, b: 0.3, differs: true });
    expect(param('maxLeafNodes')).toEqual({ name: 'maxLeafNodes', a: 31, b: 8, differs: true });
    expect(param('minSamplesLeaf')).toMatchObject({ differs: false });
    const rmse = compared.json.metrics.find((m: { name: string }) => m.name === 'rmse');
    expect(rmse).toMatchObject({ a: a.metrics.rmse, b: b.metrics.rmse, differs: true, delta: b.metrics.rmse - a.metrics.rmse });

    const reproduced = await mlops('reproduce', b.runId);

    expect(reproduced).toMatchObject({ code: 0, json: { run: b.runId, matches: true, artifact: { recorded: b.artifact.sha256, reproduced: b.artifact.sha256, matches: true } } });
    expect(reproduced.json.metrics.every((m: { matches: boolean }) => m.matches)).toBe(true);
    // A reproduction is tracked as a run of its own, but never reaches the registry.
    const reproduction = await tables.tracking.getRun(reproduced.json.reproducedBy);
    expect(reproduction).toMatchObject({ mode: 'reproduce', reproduces: b.runId, trigger: 'reproduce', status: 'SUCCEEDED' });
    expect(reproduction.modelVersion).toBeUndefined();
    expect((await tables.registry.listVersions(model)).map((v) => v.version)).toEqual([1, 2]);

    const predicted = await mlops('predict', model, '--input', JSON.stringify({ inputs: { area: 120, rooms: 3, age: null, district: 'north' } }));
    expect(predicted).toMatchObject({ code: 0, json: { status: 200, body: { model, version: 2, prediction: { value: expect.any(Number) } } } });
  });

  it('refuses bad training input before any execution starts, naming the field', async () => {
    const executions = () => trainingExecutions();
    const before = await executions();
    const other = uniqueName('house-bad');
    writeFileSync(join(folder, 'bad-target.json'), JSON.stringify({ name: other, task: 'regression', target: 'value', features: [{ name: 'area', type: 'numeric' }], training: { algorithm: 'ridge' } }));
    writeFileSync(join(folder, 'bad-feature.json'), JSON.stringify({ name: other, task: 'regression', target: 'price', features: [{ name: 'garden', type: 'numeric' }], training: { algorithm: 'ridge' } }));
    writeFileSync(join(folder, 'bad-algorithm.json'), JSON.stringify({ name: other, task: 'regression', target: 'price', features: [{ name: 'area', type: 'numeric' }], training: { algorithm: 'random_forest' } }));
    writeFileSync(join(folder, 'bad-param.json'), JSON.stringify({ name: other, task: 'regression', target: 'price', features: [{ name: 'area', type: 'numeric' }], training: { algorithm: 'ridge', params: { alpha: -1 } } }));

    const cases = [
      [await mlops('models', 'create', '--spec', join(folder, 'bad-target.json'), '--dataset', dataset), 'target', /"value" is not a column/],
      [await mlops('models', 'create', '--spec', join(folder, 'bad-feature.json'), '--dataset', dataset), 'features.0.name', /no column "garden"/],
      [await mlops('models', 'create', '--spec', join(folder, 'bad-algorithm.json')), 'training.algorithm', /random_forest|algorithm/],
      [await mlops('models', 'create', '--spec', join(folder, 'bad-param.json')), 'training.params.alpha', /alpha/],
      [await mlops('train', model, '--dataset', dataset, '--param', 'depth=3'), 'training.params', /Unrecognized key: "depth"/],
      [await mlops('train', model, '--dataset', dataset, '--param', 'learningRate=5'), 'training.params.learningRate', /learningRate/],
      [await mlops('train', model, '--dataset', `${dataset}@${'f'.repeat(64)}`), 'dataset.version', /does not exist/],
    ] as const;
    for (const [result, field, message] of cases) {
      expect({ field, code: result.code, errorCode: result.json.error?.code }).toEqual({ field, code: 1, errorCode: result.json.error?.code === 'NOT_FOUND' ? 'NOT_FOUND' : 'INVALID_INPUT' });
      expect(result.json.error.field).toBe(field);
      expect(result.json.error.message).toMatch(message);
    }
    expect(await executions()).toBe(before);
    expect(await tables.registry.findModel(other)).toBeUndefined();
  });

  it('imports an ONNX model trained elsewhere: validated, evaluated and gated like a built-in one, then served', async () => {
    const credit = uniqueName('credit-data');
    const imported = uniqueName('credit-onnx');
    const csv = goodCsv();
    writeFileSync(join(folder, 'credit.csv'), csv);
    expect((await mlops('dataset', 'register', join(folder, 'credit.csv'), '--name', credit)).code).toBe(0);
    writeFileSync(join(folder, 'onnx-spec.json'), JSON.stringify({ ...creditSpec(imported, credit), validation: {} }));
    expect((await mlops('models', 'create', '--spec', join(folder, 'onnx-spec.json'))).code).toBe(0);

    // "Elsewhere": a logistic regression on the raw features, exported as ONNX (MatMul, Add, Sigmoid).
    const table = parseCsv(csv);
    const names = ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'];
    const scale = [100, 100_000, 1, 10, 10];
    const x = fromRows(table.rows.map((row) => names.map((name, j) => Number(row[table.header.indexOf(name)]) / scale[j]!)));
    const y = Float64Array.from(table.rows, (row) => Number(row[table.header.indexOf('defaulted')]));
    const { model: fitted } = fitLogistic(x, y, 2, { C: 10, maxIterations: 500, tolerance: 1e-8 });
    const weights = fitted.coef[0]!.map((w, j) => w / scale[j]!);
    writeFileSync(join(folder, 'model.onnx'), logisticOnnx(weights, fitted.intercept[0]!));

    const result = await mlops('models', 'import', imported, '--artifact', join(folder, 'model.onnx'), '--dataset', credit);

    expect(result).toMatchObject({ code: 0, json: { status: 'SUCCEEDED', run: { mode: 'import', algorithm: 'onnx', gatePassed: true, modelVersion: 1 } } });
    expect(result.json.steps).toEqual(expect.arrayContaining(['ValidateData', 'Train', 'Evaluate', 'Gate', 'Register']));
    expect(result.json.run.metrics.rocAuc).toBeGreaterThan(0.8);

    const row = { age: 30, income: 28000, debt_ratio: 0.7, credit_lines: 1, late_payments: 4 };
    const served = await platform.predict(imported, JSON.stringify({ inputs: row }));
    expect(served.status).toBe(200);
    const z = names.reduce((sum, name, j) => sum + weights[j]! * row[name as keyof typeof row], fitted.intercept[0]!);
    const body = served.body as { version: number; prediction: { label: string; probability: number } };
    expect(body.version).toBe(1);
    // float32 inside the ONNX runtime: equal to the closed form within single precision.
    expect(body.prediction.probability).toBeCloseTo(1 / (1 + Math.exp(-z)), 5);
    expect(body.prediction.label).toBe(body.prediction.probability > 0.5 ? '1' : '0');

    // A file that is not ONNX, and a model with the wrong number of inputs, start nothing.
    const executions = () => trainingExecutions();
    const before = await executions();
    writeFileSync(join(folder, 'broken.onnx'), Buffer.from('not a model at all'));
    writeFileSync(join(folder, 'narrow.onnx'), logisticOnnx([0.1, 0.2, 0.3], 0));
    const broken = await mlops('models', 'import', imported, '--artifact', join(folder, 'broken.onnx'), '--dataset', credit);
    const narrow = await mlops('models', 'import', imported, '--artifact', join(folder, 'narrow.onnx'), '--dataset', credit);
    expect(broken).toMatchObject({ code: 1, json: { error: { code: 'INVALID_INPUT', message: expect.stringMatching(/not a loadable ONNX model/) } } });
    expect(narrow).toMatchObject({ code: 1, json: { error: { code: 'INVALID_INPUT', field: 'features', message: expect.stringMatching(/takes 3 inputs per row, the dataset's features are 5/) } } });
    // An imported run was not trained here, so there is nothing to reproduce.
    const reproduced = await mlops('reproduce', result.json.run.runId);
    expect(reproduced).toMatchObject({ code: 1, json: { error: { code: 'INVALID_INPUT', field: 'run', message: expect.stringMatching(/trained elsewhere/) } } });
    expect(await executions()).toBe(before);
  });
});
