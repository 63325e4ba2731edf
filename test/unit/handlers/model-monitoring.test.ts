import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import { createHandler as declareHandler } from '../../../lambdas/declare-models/handler.js';
import { createHandler } from '../../../lambdas/registry-api/handler.js';
import { modelAlarmName, modelDashboardName, type AlarmDefinition, type ModelMonitoring, type MonitoringSettings } from '../../../lambdas/core/monitoring/system-monitoring.js';
import { MemoryModelSchedules, MemoryRegistry, registryApiStores } from '../fakes.js';
import { smallSpec } from '../helpers.js';
import { answerOf, apiEvent, type ErrorBody } from './api-event.js';

const SETTINGS: MonitoringSettings = { environment: 'local', topicArn: 'arn:aws:sns:us-east-1:000000000000:alerts', periodSeconds: 60, evaluationPeriods: 1, checkPeriodSeconds: 60 };

/** CloudWatch in memory; `down` makes every call fail as a throttled or denied one would. */
class MemoryMonitoring implements ModelMonitoring {
  readonly settings = SETTINGS;
  readonly alarms = new Map<string, AlarmDefinition>();
  readonly dashboards = new Map<string, string>();
  down = false;
  async putAlarms(alarms: readonly AlarmDefinition[]) {
    if (this.down) throw new Error('AccessDenied: not authorized to perform cloudwatch:PutMetricAlarm');
    for (const alarm of alarms) this.alarms.set(alarm.name, alarm);
  }
  async putDashboard(name: string, body: string) {
    if (this.down) throw new Error('AccessDenied');
    this.dashboards.set(name, body);
  }
  async remove() {}
}

function api(monitoring: MemoryMonitoring) {
  const registry = new MemoryRegistry();
  return { registry, handler: createHandler(registryApiStores(registry, { monitoring })) };
}

describe("a model's dashboard and alarms, kept with its spec", () => {
  const spec = smallSpec();
  const put = (handler: ReturnType<typeof api>['handler'], body: unknown) => handler(apiEvent('PUT', '/models/{model}', { params: { model: spec.name }, body }));

  it('are written when a model is created through the API, and follow a spec change', async () => {
    const monitoring = new MemoryMonitoring();
    const { handler } = api(monitoring);
    expect((await put(handler, { spec })).statusCode).toBe(201);
    expect([...monitoring.alarms.keys()]).toEqual(['errors', 'latency-p99', 'drift', 'decay'].map((kind) => modelAlarmName('local', spec.name, kind as never)));
    expect(monitoring.dashboards.has(modelDashboardName('local', spec.name))).toBe(true);

    expect((await put(handler, { spec: { ...spec, rollout: { ...spec.rollout, maxLatencyP99Ms: 300 } } })).statusCode).toBe(200);
    expect(monitoring.alarms.get(modelAlarmName('local', spec.name, 'latency-p99'))!.threshold).toBe(300);
  });

  it('when CloudWatch refuses: the spec stays stored, the answer is 502 MONITORING_NOT_SYNCED, and putting it again repairs', async () => {
    const monitoring = new MemoryMonitoring();
    monitoring.down = true;
    const { registry, handler } = api(monitoring);
    const refused = answerOf<ErrorBody>(await put(handler, { spec }));
    expect([refused.status, refused.body.error.code, refused.body.error.field]).toEqual([502, 'MONITORING_NOT_SYNCED', 'monitoring']);
    expect(refused.body.error.message).toMatch(/is stored/);
    expect((await registry.findModel(spec.name))?.spec.name).toBe(spec.name);
    expect(monitoring.alarms.size).toBe(0);

    monitoring.down = false;
    expect((await put(handler, { spec })).statusCode).toBe(200);
    expect(monitoring.alarms.size).toBe(4);
  });

  it('are written by DeclareModels at deploy, and an unchanged declared spec repairs missing ones', async () => {
    const monitoring = new MemoryMonitoring();
    const registry = new MemoryRegistry();
    const declare = declareHandler({ findModel: (name) => registry.findModel(name), putModel: (s, actor) => registry.putModel(s, actor), schedules: new MemoryModelSchedules(), monitoring });
    const event = { RequestType: 'Create', ResourceProperties: { Specs: JSON.stringify([spec]) } };
    await declare(event);
    expect(monitoring.alarms.size).toBe(4);
    monitoring.alarms.clear();
    monitoring.dashboards.clear();
    await declare({ ...event, RequestType: 'Update' });
    expect([monitoring.alarms.size, monitoring.dashboards.size]).toEqual([4, 1]);
  });
});
