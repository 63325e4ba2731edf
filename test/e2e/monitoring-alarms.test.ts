import { CloudWatchClient, DescribeAlarmsCommand, GetDashboardCommand, ListMetricsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { createRng } from '../../lambdas/core/random.js';
import { modelAlarmPrefix, modelDashboardName } from '../../lambdas/core/monitoring/system-monitoring.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { mlops, platformClient, subscribeToAlerts, uniqueName } from './fixtures.js';

// System monitoring on the emulator: a model created through the API gets its dashboard and its four
// alarms at once (thresholds from its spec, changed with it); a drift check that finds drift publishes
// its scores with PutMetricData, the emulator evaluates the drift alarm on them (period 60 s locally,
// cdk.json) and the ALARM notification reaches the alerts topic, read here through a subscribed queue.

type Row = { age: number; income: number; debt_ratio: number; plan: string };

/** Seeded rows; `shifted` moves every feature, so the share of drifted features passes 0.5. */
function draw(count: number, seed: number, shifted = false): Row[] {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  return Array.from({ length: count }, () => {
    const planDraw = rng();
    return {
      age: Math.round(42 + 12 * normal() + (shifted ? 15 : 0)),
      income: Math.round(Math.exp(10.8 + 0.4 * normal())) + (shifted ? 40_000 : 0),
      debt_ratio: Number((0.35 + 0.15 * normal() + (shifted ? 0.3 : 0)).toFixed(4)),
      plan: shifted ? (planDraw < 0.8 ? 'pro' : 'basic') : planDraw < 0.45 ? 'basic' : planDraw < 0.8 ? 'plus' : 'pro',
    };
  });
}

function trainingCsv(count: number, seed: number): string {
  const lines = draw(count, seed).map((row, i) => `${row.age},${row.income},${row.debt_ratio},${row.plan},${5 * (row.debt_ratio - 0.35) + (i % 7 === 0 ? 1 : 0) > 0 ? 1 : 0}`);
  return ['age,income,debt_ratio,plan,defaulted', ...lines].join('\n') + '\n';
}

const specOf = (name: string, dataset: string, rollout: { maxErrorRate: number; maxLatencyP99Ms: number }): ModelSpec =>
  parseModelSpec({
    name,
    task: 'binary_classification',
    target: 'defaulted',
    features: [
      { name: 'age', type: 'numeric' },
      { name: 'income', type: 'numeric' },
      { name: 'debt_ratio', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
    ],
    training: { algorithm: 'logistic_regression', seed: 7, testFraction: 0.25 },
    gate: { minRows: 50 },
    dataset,
    owner: 'e2e',
    rollout,
    monitoring: { referenceSampleSize: 300, minRows: 100 },
  });

describe('system monitoring: dashboards, alarms and drift metrics in CloudWatch', () => {
  const model = uniqueName('e2e-cw');
  const dataset = uniqueName('e2e-cw-data');
  const cloudWatch = new CloudWatchClient({});
  let platform: PlatformClient;
  let alerts: Awaited<ReturnType<typeof subscribeToAlerts>>;
  const alarmsOf = async (): Promise<Record<string, MetricAlarm>> => {
    const { MetricAlarms = [] } = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: modelAlarmPrefix('local', model) }));
    return Object.fromEntries(MetricAlarms.map((alarm) => [alarm.AlarmName!.slice(modelAlarmPrefix('local', model).length), alarm]));
  };

  beforeAll(async () => {
    platform = platformClient();
    alerts = await subscribeToAlerts(inject('stackOutputs').AlertTopicArn);
    await platform.createModel(specOf(model, dataset, { maxErrorRate: 0.02, maxLatencyP99Ms: 400 }));
  }, 60_000);
  afterAll(async () => alerts?.remove());

  it('gives a model created through the API its dashboard and its four alarms, thresholds from the spec, and follows a spec change', async () => {
    const created = await alarmsOf();
    expect(Object.keys(created).sort()).toEqual(['decay', 'drift', 'errors', 'latency-p99']);
    expect(created.errors).toMatchObject({ MetricName: 'Errors', Namespace: 'serverless-mlops', Statistic: 'Average', Threshold: 0.02, Period: 60, AlarmActions: [inject('stackOutputs').AlertTopicArn] });
    expect(created['latency-p99']).toMatchObject({ MetricName: 'Latency', ExtendedStatistic: 'p99', Threshold: 400 });
    expect(created.drift).toMatchObject({ MetricName: 'DriftDetected', Threshold: 1, Dimensions: expect.arrayContaining([{ Name: 'model', Value: model }, { Name: 'arm', Value: 'production' }]) });
    const dashboard = await cloudWatch.send(new GetDashboardCommand({ DashboardName: modelDashboardName('local', model) }));
    const widgets = (JSON.parse(dashboard.DashboardBody!) as { widgets: { type: string; properties: { alarms?: string[] } }[] }).widgets;
    expect(widgets.find((w) => w.type === 'alarm')?.properties.alarms).toHaveLength(4);

    await platform.createModel(specOf(model, dataset, { maxErrorRate: 0.05, maxLatencyP99Ms: 250 }));
    const changed = await alarmsOf();
    expect([changed.errors?.Threshold, changed['latency-p99']?.Threshold]).toEqual([0.05, 250]);
  });

  it('publishes the scores of a check that finds drift, and the drift alarm goes to ALARM and reaches the alerts topic', async () => {
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(trainingCsv(400, 5)), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await platform.startRun(model, { dataset: { name: dataset } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');
    const instances = draw(300, 9, true);
    const served = await platform.predict(model, JSON.stringify({ instances }));
    expect(served.status, served.text).toBe(200);

    const check = await mlops('drift', 'check', model, '--window', '1h');
    expect(check.code, JSON.stringify(check.json)).toBe(0);
    expect(check.json.check.status).toBe('drift');

    const metrics = async (name: string) => (await cloudWatch.send(new ListMetricsCommand({ Namespace: 'serverless-mlops', MetricName: name, Dimensions: [{ Name: 'model', Value: model }] }))).Metrics ?? [];
    const features = (await metrics('FeatureDriftScore')).map((m) => m.Dimensions!.find((d) => d.Name === 'feature')!.Value).sort();
    expect(features).toEqual(['age', 'debt_ratio', 'income', 'plan']);
    const share = await metrics('DriftShare');
    expect(share.map((m) => m.Dimensions!.map((d) => d.Name).sort().join(','))).toEqual(expect.arrayContaining(['arm,environment,model', 'arm,environment,model,version']));

    expect((await alarmsOf()).drift?.StateValue).toBe('ALARM');
    const received = await alerts.receive();
    const ours = received.filter((alert) => alert.AlarmName === `${modelAlarmPrefix('local', model)}drift`);
    expect(ours.map((alert) => alert.NewStateValue)).toContain('ALARM');
  }, 300_000);
});
