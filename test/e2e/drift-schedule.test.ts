import { ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { createRng } from '../../lambdas/core/random.js';
import { scheduleName } from '../../lambdas/core/monitoring/model-schedules.js';
import { parseModelSpec } from '../../lambdas/core/training/model-spec.js';
import { platformClient, uniqueName } from './fixtures.js';

// A model created after deploy gets its drift schedule at once: its spec is put with a one-time
// at() schedule 30 s ahead, the emulator's Scheduler fires it (it sweeps every 10 s) into the
// DriftCheck function, and a check appears with trigger `schedule`. The window holds 20 logged
// rows, fewer than monitoring.minRows: the scheduled check records `insufficient`, never refuses.

const model = uniqueName('e2e-drift-sched');
const dataset = uniqueName('e2e-drift-sched-data');

function csv(count: number): string {
  const rng = createRng(5);
  const lines = Array.from({ length: count }, () => {
    const x = Number((rng() * 10).toFixed(3));
    const plan = rng() < 0.5 ? 'basic' : 'pro';
    return `${x},${plan},${x + (plan === 'pro' ? 2 : 0) + rng() * 3 > 7 ? 1 : 0}`;
  });
  return ['x,plan,label', ...lines].join('\n') + '\n';
}

const spec = (monitoring: Record<string, unknown>) =>
  parseModelSpec({
    name: model,
    task: 'binary_classification',
    target: 'label',
    features: [{ name: 'x', type: 'numeric' }, { name: 'plan', type: 'categorical' }],
    training: { algorithm: 'logistic_regression', seed: 3, testFraction: 0.25 },
    gate: { minRows: 20 },
    dataset,
    monitoring,
  });

const schedulesOf = async () => (await new SchedulerClient({}).send(new ListSchedulesCommand({ NamePrefix: scheduleName('drift', model) }))).Schedules ?? [];

describe('scheduled drift checks', () => {
  let platform: PlatformClient;

  beforeAll(async () => {
    platform = platformClient();
    await platform.createModel(spec({ minRows: 1000 }));
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(csv(300)), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await platform.startRun(model, { dataset: { name: dataset } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');
    const instances = Array.from({ length: 20 }, (_, i) => ({ x: i / 2, plan: i % 2 ? 'pro' : 'basic' }));
    const answer = await platform.predict(model, JSON.stringify({ instances }));
    expect(answer.status, answer.text).toBe(200);
  }, 300_000);

  it('fires a one-time at() schedule put with the spec, records the check as insufficient, and deletes the schedule with the field', async () => {
    expect(await schedulesOf()).toEqual([]);
    const at = `at(${new Date(Date.now() + 30_000).toISOString().slice(0, 19)})`;
    expect((await platform.createModel(spec({ schedule: at, window: '1h', minRows: 1000 }))).created).toBe(false);
    expect((await schedulesOf()).map((schedule) => schedule.Name)).toEqual([scheduleName('drift', model)]);

    const deadline = Date.now() + 120_000;
    let checks = (await platform.listDriftChecks(model)).checks;
    while (checks.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      checks = (await platform.listDriftChecks(model)).checks;
    }
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ trigger: 'schedule', actor: 'system:schedule', status: 'insufficient', rows: 20, arm: 'production', version: 1 });
    // The window is monitoring.window (1h), ending when it ran (less the log read allowance, 0 locally).
    expect(Date.parse(checks[0]!.window.to) - Date.parse(checks[0]!.window.from)).toBe(3_600_000);
    expect(Date.parse(checks[0]!.checkedAt)).toBeGreaterThanOrEqual(Date.parse(`${at.slice(3, -1)}Z`));

    await platform.createModel(spec({ window: '1h', minRows: 1000 }));
    expect(await schedulesOf()).toEqual([]);
  }, 180_000);
});
