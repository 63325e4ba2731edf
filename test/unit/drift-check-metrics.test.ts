import { beforeEach, describe, expect, it } from 'vitest';
import type { DriftCheckStores } from '../../lambdas/core/monitoring/drift-check.js';
import { runDriftCheck } from '../../lambdas/core/monitoring/drift-check.js';
import type { MetricDatum } from '../../lambdas/core/monitoring/system-monitoring.js';
import { predictRows, type FeatureRow } from '../../lambdas/core/serving/predict.js';
import { logPrefix, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { trainRun } from '../../lambdas/core/training/train-run.js';
import { MemoryChecks, MemoryObjects, MemoryRegistry, MemoryRuns, modelVersion, runContext } from './fakes.js';
import { MemoryLogs } from './rollout-fakes.js';
import { mixedDataset, mixedSpec, parseArtifact } from './helpers.js';

const NOW = new Date('2026-12-06T04:00:00.000Z');
const AT = '2026-12-06T03:30:00.000Z';

describe("a drift check's metrics, published with the check", () => {
  const spec = mixedSpec('binary_classification', 'logistic_regression', { monitoring: { referenceSampleSize: 150, window: '2h', minRows: 100 } });
  let objects: MemoryObjects;
  let checks: MemoryChecks;
  let published: MetricDatum[][];
  let stores: DriftCheckStores;
  let failPublish: boolean;

  beforeEach(async () => {
    objects = new MemoryObjects();
    const registry = new MemoryRegistry();
    checks = new MemoryChecks();
    const logs = new MemoryLogs();
    published = [];
    failPublish = false;
    await registry.putModel(spec, 'alice');
    const run = runContext(spec);
    const trained = await trainRun(
      { datasets: { loadTable: async () => mixedDataset('binary_classification', 400, 11) }, onnx: () => { throw new Error('no import'); }, models: { put: (key, text) => objects.put('models', key, text) }, runs: new MemoryRuns() },
      { run, spec },
    );
    registry.addVersion(modelVersion(spec, 1, trained.artifact, { dataset: run.dataset, reference: trained.reference }));
    registry.pointAlias(spec.name, 'production', 1);
    // 300 rows of traffic with age moved far off the training data.
    const data = mixedDataset('binary_classification', 300, 29);
    const col = (name: string) => data.header.indexOf(name);
    const inputs: FeatureRow[] = data.rows.map((row) => ({ age: Number(row[col('age')]) + 40, income: row[col('income')] === '' ? null : Number(row[col('income')]), debt: Number(row[col('debt')]), plan: row[col('plan')] === '' ? null : row[col('plan')]! }));
    const artifact = parseArtifact(new TextDecoder().decode(objects.objects.get([...objects.objects.keys()].find((uri) => uri.endsWith('model.json'))!)!));
    const record: PredictionLogRecord = { requestId: 'r-1', at: AT, model: spec.name, version: 1, arm: 'production', inputs, outputs: predictRows(artifact, inputs), latencyMs: 1 };
    logs.put(`${logPrefix('predictions', spec.name, 1, AT.slice(0, 10))}part-1`, [record]);
    stores = {
      registry,
      artifacts: objects,
      datasets: { sampleRows: async () => { throw new Error('the stored reference is used'); } },
      onnx: () => { throw new Error('no import'); },
      logs,
      reports: objects.reports(),
      checks,
      metrics: {
        publish: async (data) => {
          if (failPublish) throw new Error('ThrottlingException: Rate exceeded');
          published.push([...data]);
        },
      },
    };
  });

  const check = () => runDriftCheck(stores, { bufferSeconds: 60 }, { model: spec.name, request: { window: '2h' }, actor: 'alice', now: NOW, suffix: 'abc123' });

  it("publishes each judged feature's score and the verdict with the check's time, once", async () => {
    const { check: record, report } = await check();
    expect(published).toHaveLength(1);
    const data = published[0]!;
    const features = (report.features as { column: string; statistic: number | null }[]).filter((f) => f.statistic !== null);
    expect(data.filter((d) => d.name === 'FeatureDriftScore').map((d) => [d.dimensions.feature, d.value])).toEqual(features.map((f) => [f.column, f.statistic]));
    expect(data.find((d) => d.name === 'FeatureDriftScore' && d.dimensions.feature === 'age')).toBeDefined();
    expect(record.driftedFeatures).toContain('age');
    expect(data.filter((d) => d.name === 'DriftDetected').map((d) => d.value)).toEqual(Array(2).fill(record.status === 'drift' ? 1 : 0));
    expect(data.every((d) => d.at.toISOString() === NOW.toISOString())).toBe(true);
  });

  it('records no check when publishing fails, so a retried scheduled check neither loses nor doubles its record', async () => {
    failPublish = true;
    await expect(check()).rejects.toThrow(/ThrottlingException/);
    expect(checks.records).toEqual([]);
  });
});
