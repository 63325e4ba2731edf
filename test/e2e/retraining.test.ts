import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { stackName } from '../../lambdas/contract/stack.js';
import type { TriggerDecision } from '../../lambdas/contract/retraining.js';
import { createRng } from '../../lambdas/core/random.js';
import { scheduleName } from '../../lambdas/core/monitoring/model-schedules.js';
import type { RetrainOutcome } from '../../lambdas/core/monitoring/retraining.js';
import { parseModelSpec } from '../../lambdas/core/training/model-spec.js';
import { platformClient, uniqueName } from './fixtures.js';

// Retraining through the guardrails, on the emulator: a model trained once by hand, then a newer
// dataset version. Two schedule triggers fired at the same moment (the retrain-trigger function
// invoked twice, concurrently, as Scheduler would) start exactly one run, which goes through the
// pipeline's gates; a third within the cooldown is suppressed and recorded. Then a one-time at()
// retraining schedule, put with the spec, fires into the same function.

const model = uniqueName('e2e-retrain');
const dataset = uniqueName('e2e-retrain-data');
/** Far enough ahead never to fire during the test: a schedule trigger needs the spec to have a schedule. */
const NEVER = 'at(2099-01-01T00:00:00)';

function csv(count: number, seed: number): string {
  const rng = createRng(seed);
  const lines = Array.from({ length: count }, () => {
    const x = Number((rng() * 10).toFixed(3));
    const plan = rng() < 0.5 ? 'basic' : 'pro';
    return `${x},${plan},${x + (plan === 'pro' ? 2 : 0) + rng() * 3 > 7 ? 1 : 0}`;
  });
  return ['x,plan,label', ...lines].join('\n') + '\n';
}

const spec = (schedule: string | undefined) =>
  parseModelSpec({
    name: model,
    task: 'binary_classification',
    target: 'label',
    features: [{ name: 'x', type: 'numeric' }, { name: 'plan', type: 'categorical' }],
    training: { algorithm: 'logistic_regression', seed: 3, testFraction: 0.25 },
    // A lenient champion comparison: the point here is that the run faces the gate, not its verdict.
    gate: { minRows: 20, champion: { metrics: { accuracy: { tolerance: 0.5 } } } },
    dataset,
    owner: 'team-e2e@example.com',
    ...(schedule ? { schedule } : {}),
    retraining: { cooldown: '1h', budget: { perDay: 3, perWeek: 5 }, minNewLabels: 10, triggers: ['schedule'] },
  });

/** The retrain-trigger function's name, from the deployed stack (it is no stack output: only tests call it directly). */
async function retrainFunctionName(): Promise<string> {
  const { StackResources } = await new CloudFormationClient({}).send(new DescribeStackResourcesCommand({ StackName: stackName('local') }));
  const found = (StackResources ?? []).find((r) => r.ResourceType === 'AWS::Lambda::Function' && r.LogicalResourceId?.startsWith('RetrainTriggerFunction'));
  if (!found?.PhysicalResourceId) throw new Error('no RetrainTrigger function in the local stack');
  return found.PhysicalResourceId;
}

const schedulesOf = async () => (await new SchedulerClient({}).send(new ListSchedulesCommand({ NamePrefix: scheduleName('retrain', model) }))).Schedules ?? [];

describe('retraining with guardrails', () => {
  let platform: PlatformClient;
  let functionName: string;
  let fire: () => Promise<TriggerDecision>;
  let newVersion: string;

  beforeAll(async () => {
    platform = platformClient();
    functionName = await retrainFunctionName();
    const lambda = new LambdaClient({});
    fire = async () => {
      const answer = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify({ kind: 'retrain-trigger', model, trigger: 'schedule' })) }));
      const text = new TextDecoder().decode(answer.Payload);
      if (answer.FunctionError) throw new Error(`retrain-trigger failed: ${text}`);
      const outcome = JSON.parse(text) as RetrainOutcome;
      if (!('decision' in outcome)) throw new Error(`skipped: ${outcome.skipped}`);
      return outcome.decision;
    };
    await platform.createModel(spec(NEVER));
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(csv(300, 5)), fileName: 'data.csv', owner: 'e2e' });
    const { runId, executionArn } = await platform.startRun(model, { dataset: { name: dataset } });
    const first = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(first.status, JSON.stringify(first.run?.failure)).toBe('SUCCEEDED');
    // New data since the last training: a newer version of the dataset.
    newVersion = (await platform.registerDataset({ name: dataset, bytes: Buffer.from(csv(300, 6)), fileName: 'data.csv', owner: 'e2e' })).dataset.version;
  }, 300_000);

  it('starts exactly one run from two concurrent triggers, and that run goes through the gates', async () => {
    const decisions = await Promise.all([fire(), fire()]);
    const started = decisions.filter((d) => d.outcome === 'started');
    expect(started, JSON.stringify(decisions)).toHaveLength(1);
    const [winner] = started as [TriggerDecision];
    const loser = decisions.find((d) => d !== winner)!;
    // Overlapping, the loser fails the conditional claim and names the winner; the emulator may run the two
    // invokes one after the other (seen here), and then the winner's start holds the second in its cooldown.
    // Either way exactly one run starts; the race itself is covered by the unit tests (test/unit/retraining.test.ts).
    if (loser.reason === 'concurrent') expect(loser.evidence.lock).toEqual({ winner: winner.runId });
    else expect(loser).toMatchObject({ reason: 'cooldown', evidence: { cooldown: { lastStartedAt: winner.decidedAt } } });
    expect(winner).toMatchObject({ trigger: 'schedule', actor: 'system:schedule', owner: 'team-e2e@example.com', dataset: { name: dataset, version: newVersion }, evidence: { newLabels: { count: 300, min: 10 } } });

    const outcome = await platform.waitForRun(winner.runId!, winner.executionArn!, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.steps).toEqual(expect.arrayContaining(['StartRun', 'ValidateData', 'Train', 'Evaluate', 'Gate']));
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');
    expect(outcome.steps).toContain('Register');
    expect(outcome.run).toMatchObject({ trigger: 'schedule', actor: 'system:schedule', mode: 'train', dataset: { version: newVersion }, triggeredBy: { triggerId: winner.triggerId }, gatePassed: true });
    const history = (await platform.listTriggers(model)).triggers;
    expect(history.map((d) => d.triggerId).sort()).toEqual(decisions.map((d) => d.triggerId).sort());
  }, 300_000);

  it('suppresses a second trigger within the cooldown and records it with its evidence', async () => {
    const decision = await fire();
    expect(decision).toMatchObject({ outcome: 'suppressed', reason: 'cooldown', evidence: { cooldown: { period: '1h', lastStartedAt: expect.any(String), until: expect.any(String) } } });
    const monitor = await platform.getMonitor(model);
    expect(monitor.triggers[0]).toEqual(decision);
    expect(monitor.alarmPrefix).toBe(`mlops/local/${model}/`);
  }, 60_000);

  it('fires a one-time at() retraining schedule put with the spec into the guardrails, and deletes it with the field', async () => {
    const before = (await platform.listTriggers(model)).triggers.length;
    const at = `at(${new Date(Date.now() + 30_000).toISOString().slice(0, 19)})`;
    await platform.createModel(spec(at));
    expect((await schedulesOf()).map((schedule) => schedule.Name)).toEqual([scheduleName('retrain', model)]);
    const deadline = Date.now() + 120_000;
    let triggers = (await platform.listTriggers(model)).triggers;
    while (triggers.length === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      triggers = (await platform.listTriggers(model)).triggers;
    }
    expect(triggers).toHaveLength(before + 1);
    // Fired by the schedule, it still faces the guardrails: the cooldown of the run above holds it.
    expect(triggers[0]).toMatchObject({ trigger: 'schedule', actor: 'system:schedule', outcome: 'suppressed', reason: 'cooldown' });
    expect(Date.parse(triggers[0]!.decidedAt)).toBeGreaterThanOrEqual(Date.parse(`${at.slice(3, -1)}Z`));
    await platform.createModel(spec(undefined));
    expect(await schedulesOf()).toEqual([]);
  }, 180_000);
});
