import { describe, expect, it } from 'vitest';
import { MlopsError } from '../../lambdas/core/errors.js';
import type { DriftReport } from '../../lambdas/core/monitoring/drift.js';
import {
  driftCheckMetrics,
  MODEL_ALARM_KINDS,
  modelAlarmName,
  modelAlarmPrefix,
  modelAlarms,
  modelDashboard,
  modelDashboardName,
  removeModelMonitoring,
  syncModelMonitoring,
  type AlarmDefinition,
  type ModelMonitoring,
  type MonitoringSettings,
} from '../../lambdas/core/monitoring/system-monitoring.js';
import { driftCheckRecord, mixedSpec } from './helpers.js';

const SETTINGS: MonitoringSettings = { environment: 'dev', topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts', periodSeconds: 300, evaluationPeriods: 3, checkPeriodSeconds: 3600 };
const spec = mixedSpec('binary_classification', 'logistic_regression', { rollout: { maxErrorRate: 0.05, maxLatencyP99Ms: 250 } });

/** Records what a ModelMonitoring was asked to write, failing when told to. */
class MemoryMonitoring implements ModelMonitoring {
  readonly alarms = new Map<string, AlarmDefinition>();
  readonly dashboards = new Map<string, string>();
  failDashboard = false;
  constructor(readonly settings: MonitoringSettings = SETTINGS) {}
  async putAlarms(alarms: readonly AlarmDefinition[]) {
    for (const alarm of alarms) this.alarms.set(alarm.name, alarm);
  }
  async putDashboard(name: string, body: string) {
    if (this.failDashboard) throw new Error('ThrottlingException: Rate exceeded');
    this.dashboards.set(name, body);
  }
  async remove(alarmNames: readonly string[], dashboardName: string) {
    for (const name of alarmNames) this.alarms.delete(name);
    this.dashboards.delete(dashboardName);
  }
}

describe("a model's alarms", () => {
  it('are named under the prefix `mlops monitor` lists, one per kind, and go to the alerts topic on ALARM', () => {
    const alarms = modelAlarms(spec, SETTINGS);
    expect(alarms.map((a) => a.name)).toEqual(MODEL_ALARM_KINDS.map((kind) => `mlops/dev/${spec.name}/${kind}`));
    for (const alarm of alarms) {
      expect(alarm.name.startsWith(modelAlarmPrefix('dev', spec.name))).toBe(true);
      expect(alarm.topicArn).toBe(SETTINGS.topicArn);
    }
    // Model names hold no "/": one model's prefix never matches another's alarms.
    expect(modelAlarmName('dev', 'churn-v2', 'drift').startsWith(modelAlarmPrefix('dev', 'churn'))).toBe(false);
  });

  it("take the serving thresholds from the spec's rollout block and read every version of the model", () => {
    const byKind = Object.fromEntries(modelAlarms(spec, SETTINGS).map((a) => [a.name.split('/').at(-1), a]));
    expect(byKind.errors).toMatchObject({ metricName: 'Errors', statistic: 'Average', threshold: 0.05, comparison: 'GreaterThanThreshold', periodSeconds: 300, evaluationPeriods: 3, treatMissingData: 'notBreaching' });
    expect(byKind['latency-p99']).toMatchObject({ metricName: 'Latency', extendedStatistic: 'p99', threshold: 250, comparison: 'GreaterThanThreshold' });
    expect(byKind.errors!.dimensions).toEqual({ environment: 'dev', service: 'predict', model: spec.name });
    const defaults = Object.fromEntries(modelAlarms(mixedSpec('binary_classification', 'logistic_regression'), SETTINGS).map((a) => [a.name.split('/').at(-1), a.threshold]));
    expect(defaults).toMatchObject({ errors: 0.01, 'latency-p99': 1000 });
  });

  it("alarm on the production arm's check verdicts and keep their state until the next check", () => {
    const byKind = Object.fromEntries(modelAlarms(spec, SETTINGS).map((a) => [a.name.split('/').at(-1), a]));
    for (const kind of ['drift', 'decay']) {
      expect(byKind[kind]).toMatchObject({ statistic: 'Maximum', threshold: 1, comparison: 'GreaterThanOrEqualToThreshold', periodSeconds: 3600, evaluationPeriods: 1, treatMissingData: 'ignore' });
      expect(byKind[kind]!.dimensions).toEqual({ environment: 'dev', model: spec.name, arm: 'production' });
    }
    expect(byKind.drift!.metricName).toBe('DriftDetected');
    expect(byKind.decay!.metricName).toBe('PerformanceDecayed');
  });
});

describe("a model's dashboard", () => {
  const { name, body } = modelDashboard(spec, SETTINGS);
  const widgets = (JSON.parse(body) as { widgets: { type: string; properties: Record<string, unknown> }[] }).widgets;

  it('is named after the environment and the model, in the characters dashboards allow', () => {
    expect(name).toBe(`mlops_dev_${spec.name}`);
    expect(modelDashboardName('dev', 'churn')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("draws the spec's limits, searches only this model's series, in the topic's region", () => {
    const metricWidgets = widgets.filter((w) => w.type === 'metric');
    expect(metricWidgets.length).toBeGreaterThanOrEqual(8);
    for (const widget of metricWidgets) {
      expect(widget.properties.region).toBe('eu-west-1');
      for (const [line] of widget.properties.metrics as { expression: string }[][]) expect(line!.expression).toContain(`model="${spec.name}" `.trimEnd());
    }
    const lines = metricWidgets.flatMap((w) => ((w.properties.annotations as { horizontal: { value: number }[] } | undefined)?.horizontal ?? []).map((l) => l.value));
    expect(lines).toEqual(expect.arrayContaining([250, 0.05, 0.5]));
    const latency = metricWidgets.find((w) => String(w.properties.title).startsWith('Latency'))!;
    expect((latency.properties.metrics as { expression: string }[][]).map(([m]) => m!.expression)).toEqual([
      `SEARCH('{serverless-mlops,arm,environment,model,service,version} MetricName="Latency" environment="dev" service="predict" model="${spec.name}"', 'p50', 300)`,
      `SEARCH('{serverless-mlops,arm,environment,model,service,version} MetricName="Latency" environment="dev" service="predict" model="${spec.name}"', 'p99', 300)`,
    ]);
  });

  it("shows its four alarms' states by ARN", () => {
    const alarmWidget = widgets.find((w) => w.type === 'alarm')!;
    expect(alarmWidget.properties.alarms).toEqual(MODEL_ALARM_KINDS.map((kind) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mlops/dev/${spec.name}/${kind}`));
  });
});

describe("a drift check's metrics", () => {
  const check = driftCheckRecord();
  const feature = (column: string, statistic: number | null) => ({ column, statistic }) as DriftReport['features'][number];
  const report = {
    features: [feature('age', 0.001), feature('plan', 0.2), feature('income', 0.6), feature('debt', null)],
    dataset: { share: 2 / 3 } as DriftReport['dataset'],
    prediction: feature('prediction', 0.4),
  };
  const find = (data: ReturnType<typeof driftCheckMetrics>, name: string, dimensions: Record<string, string>) => data.filter((d) => d.name === name && JSON.stringify(d.dimensions) === JSON.stringify(dimensions));

  it('publish the verdict and the share per arm (the alarms) and per version and arm, and each judged feature', () => {
    const data = driftCheckMetrics(check, report);
    const arm = { model: 'churn', arm: 'production' };
    const version = { model: 'churn', arm: 'production', version: '3' };
    expect(find(data, 'DriftDetected', arm).map((d) => d.value)).toEqual([1]);
    expect(find(data, 'DriftDetected', version).map((d) => d.value)).toEqual([1]);
    expect(find(data, 'DriftShare', arm).map((d) => d.value)).toEqual([2 / 3]);
    expect(find(data, 'PredictionDriftScore', version).map((d) => d.value)).toEqual([0.4]);
    const features = data.filter((d) => d.name === 'FeatureDriftScore');
    expect(features.map((d) => [d.dimensions.feature, d.value])).toEqual([['age', 0.001], ['plan', 0.2], ['income', 0.6]]);
    expect(features.every((d) => d.dimensions.version === '3' && d.at.toISOString() === check.checkedAt)).toBe(true);
    expect(data.some((d) => d.name.startsWith('Performance'))).toBe(false);
    expect(find(driftCheckMetrics({ ...check, status: 'no_drift' }, report), 'DriftDetected', arm).map((d) => d.value)).toEqual([0]);
  });

  it('publish no drift data for an insufficient check (it judged none, and a 0 would close the drift alarm), only its performance', () => {
    expect(driftCheckMetrics({ ...check, status: 'insufficient' }, report)).toEqual([]);
    const performance = { status: 'judged', decayed: false, metric: 'accuracy', value: 0.9, baseline: 0.88, estimated: null, labelled: 300, coverage: 0.9 } as const;
    expect(driftCheckMetrics({ ...check, status: 'insufficient', performance }, report).map((d) => d.name)).toEqual(['PerformanceValue', 'PerformanceDecayed', 'PerformanceDecayed']);
  });

  it('publish the realized metric and the decay verdict when judged, and only the estimate while labels are awaited', () => {
    const judged = driftCheckMetrics({ ...check, performance: { status: 'judged', decayed: true, metric: 'rocAuc', value: 0.71, baseline: 0.82, estimated: null, labelled: 400, coverage: 0.8 } }, report);
    expect(find(judged, 'PerformanceValue', { model: 'churn', arm: 'production', version: '3', metric: 'rocAuc' }).map((d) => d.value)).toEqual([0.71]);
    expect(find(judged, 'PerformanceDecayed', { model: 'churn', arm: 'production' }).map((d) => d.value)).toEqual([1]);
    const awaiting = driftCheckMetrics({ ...check, performance: { status: 'awaiting-labels', decayed: null, metric: 'rocAuc', value: null, baseline: 0.82, estimated: 0.79, labelled: 10, coverage: 0.02 } }, report);
    expect(awaiting.filter((d) => d.name.startsWith('Performance')).map((d) => [d.name, d.value])).toEqual([['PerformanceEstimate', 0.79]]);
  });
});

describe('keeping a model monitored with its spec', () => {
  it('writes its four alarms and its dashboard, and writing again replaces them', async () => {
    const monitoring = new MemoryMonitoring();
    await syncModelMonitoring(monitoring, spec);
    expect([...monitoring.alarms.keys()]).toEqual(MODEL_ALARM_KINDS.map((kind) => modelAlarmName('dev', spec.name, kind)));
    expect([...monitoring.dashboards.keys()]).toEqual([modelDashboardName('dev', spec.name)]);
    const stricter = mixedSpec('binary_classification', 'logistic_regression', { rollout: { maxErrorRate: 0.001 } });
    await syncModelMonitoring(monitoring, stricter);
    expect(monitoring.alarms.size).toBe(4);
    expect(monitoring.alarms.get(modelAlarmName('dev', spec.name, 'errors'))!.threshold).toBe(0.001);
  });

  it('says the spec is stored and how to repair when CloudWatch refuses', async () => {
    const monitoring = new MemoryMonitoring();
    monitoring.failDashboard = true;
    const error = await syncModelMonitoring(monitoring, spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MlopsError);
    expect(error).toMatchObject({ code: 'MONITORING_NOT_SYNCED', field: 'monitoring' });
    expect((error as Error).message).toMatch(/spec of .* is stored.*put the same spec again/);
  });

  it('removes the alarms and the dashboard with the model', async () => {
    const monitoring = new MemoryMonitoring();
    await syncModelMonitoring(monitoring, spec);
    await removeModelMonitoring(monitoring, spec.name);
    expect(monitoring.alarms.size).toBe(0);
    expect(monitoring.dashboards.size).toBe(0);
  });
});
