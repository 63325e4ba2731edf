import {
  CreateApiDestinationCommand,
  CreateConnectionCommand,
  DeleteApiDestinationCommand,
  DeleteConnectionCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { registryEventQueue } from '../../scripts/registry-event-queue.js';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RegistryEventDetailSchema, REGISTRY_EVENT_SOURCE, registryEventPattern, type RegistryEventDetail } from '../../lambdas/contract/events.js';
import type { ModelSpecInput } from '../../lambdas/core/training/model-spec.js';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { creditSpec, goodCsv, mlopsLines, platformClient, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

// Registry events on the emulator: a user's rule on the platform's bus, with an SQS target, receives
// one event per registry change (the registry table's stream -> the publisher -> EventBridge), with
// the documented schema; a transaction that did not commit publishes nothing; `mlops events tail`
// shows the same events through the management API.

const tables = stackTables();
const outputs = inject('stackOutputs');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const GATE: ModelSpecInput['gate'] = { minRows: 100, champion: { metrics: { rocAuc: { tolerance: 0.2 }, accuracy: { tolerance: 0.2 } } } };

/** A user's subscription: an SQS queue, and a rule on the platform's bus for one model's events. */
async function subscribe(model: string) {
  const queue = await registryEventQueue(outputs.EventBusName, uniqueName('e2e-registry-events'), { source: [REGISTRY_EVENT_SOURCE], detail: { model: [model] } });
  return {
    received: queue.received,
    /** Reads the queue until every id in `ids` came (repeats are kept: delivery is at least once), or the time is up. */
    until: (ids: Set<string>, timeoutMs: number) => queue.receiveUntil((received) => [...ids].every((id) => received.some((event) => event.detail.eventId === id)), timeoutMs),
    remove: () => queue.remove(),
  };
}

/**
 * The documented webhook (docs/DELIVERY.md, RegistryWebhook): production moves of one model to an
 * API destination, here a server in this process. The emulator's CloudFormation creates no API
 * destinations, so the test makes the same rule (registryEventPattern) with the SDK.
 */
async function webhook(model: string) {
  const calls: { headers: IncomingHttpHeaders; body: RegistryEventDetail }[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      calls.push({ headers: request.headers, body: JSON.parse(text) as RegistryEventDetail });
      response.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const events = new EventBridgeClient({});
  const name = uniqueName('e2e-webhook');
  const { ConnectionArn } = await events.send(
    new CreateConnectionCommand({ Name: name, AuthorizationType: 'API_KEY', AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: 'e2e-key' } } }),
  );
  const { ApiDestinationArn } = await events.send(
    new CreateApiDestinationCommand({ Name: name, ConnectionArn, InvocationEndpoint: `http://127.0.0.1:${port}/hooks/mlops`, HttpMethod: 'POST', InvocationRateLimitPerSecond: 10 }),
  );
  const pattern = registryEventPattern({ types: ['alias.moved'], alias: 'production', models: [model] });
  await events.send(new PutRuleCommand({ Name: name, EventBusName: outputs.EventBusName, EventPattern: JSON.stringify(pattern) }));
  await events.send(new PutTargetsCommand({ Rule: name, EventBusName: outputs.EventBusName, Targets: [{ Id: 'webhook', Arn: ApiDestinationArn, InputPath: '$.detail' }] }));
  return {
    calls,
    async remove() {
      await events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: outputs.EventBusName, Ids: ['webhook'] }));
      await events.send(new DeleteRuleCommand({ Name: name, EventBusName: outputs.EventBusName }));
      await events.send(new DeleteApiDestinationCommand({ Name: name }));
      await events.send(new DeleteConnectionCommand({ Name: name }));
      server.close();
    },
  };
}

describe('registry events: one event per committed registry change, on the bus and through the API', () => {
  let platform: PlatformClient;
  const model = uniqueName('e2e-events');
  const dataset = uniqueName('e2e-events-data');
  let subscription: Awaited<ReturnType<typeof subscribe>>;
  let hook: Awaited<ReturnType<typeof webhook>>;
  const uncommittedReason = `never committed ${uniqueName('marker')}`;

  async function train(release: boolean, C: number): Promise<number> {
    const { runId, executionArn } = await tables.startExecution({ model, dataset: { name: dataset }, actor: 'e2e', release, params: { C } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status, JSON.stringify(outcome.run?.failure)).toBe('SUCCEEDED');
    return outcome.run!.modelVersion!;
  }

  beforeAll(async () => {
    platform = platformClient();
    subscription = await subscribe(model);
    hook = await webhook(model);
    await platform.createModel(creditSpec(model, dataset, GATE));
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(goodCsv()), fileName: 'data.csv', owner: 'e2e' });
    // register (v1 into production), register (v2), promote v2 through the release path, roll back.
    const v1 = await train(true, 1);
    const v2 = await train(false, 0.5);
    const promotion = await platform.promote(model, v2, 'production', { reason: 'e2e: promote v2' });
    if (promotion.status !== 'RUNNING') throw new Error(`expected the release path to start, got ${promotion.status}`);
    expect((await platform.waitForRelease(promotion.runId, promotion.executionArn, undefined, { pollMs: 500, timeoutMs: 240_000 })).status).toBe('SUCCEEDED');
    await platform.rollback(model, { reason: 'e2e: back to v1', expectedVersion: v2 });
    expect((await platform.showModel(model)).aliases.find((a) => a.alias === 'production')?.version).toBe(v1);

    // A drift verdict, over a little logged traffic (the emulator's Firehose delivers at once).
    const rows = goodCsv().trim().split('\n').slice(1, 31).map((line) => {
      const [age, income, debtRatio, creditLines, latePayments] = line.split(',').map(Number);
      return { age, income, debt_ratio: debtRatio, credit_lines: creditLines, late_payments: latePayments };
    });
    for (const row of rows) expect((await platform.predict(model, JSON.stringify({ inputs: row }))).status).toBe(200);
    await platform.runDriftCheck(model, { window: '1h' });

    // A rollout's steps: the gate, then the first canary step (a long bake), then an abort.
    await platform.startRollout(model, { version: v2, steps: [0.5, 1], bake: '30m', reason: 'e2e: rollout events' });
    const deadline = Date.now() + 240_000;
    for (;;) {
      const { rollout } = await platform.rolloutStatus(model);
      if (rollout.phase === 'canary' || rollout.state !== 'RUNNING') break;
      if (Date.now() > deadline) throw new Error(`the rollout never reached its canary step (phase ${rollout.phase})`);
      await sleep(1000);
    }
    expect((await platform.rolloutStatus(model)).rollout).toMatchObject({ state: 'RUNNING', phase: 'canary' });
    await platform.abortRollout(model, 'e2e: enough steps');

    // A transaction that does not commit: the rollout record is not in the state it expects, so
    // DynamoDB cancels it, audit event and all.
    const { rollout } = await platform.rolloutStatus(model);
    const committed = await tables.registry.changeRollout({
      record: { ...rollout, updatedAt: new Date().toISOString() },
      expect: { rolloutId: `${rollout.rolloutId}-not-this-one`, states: ['RUNNING'] },
      put: [],
      clear: [],
      events: [{ action: 'rollout.aborted', actor: 'e2e', reason: uncommittedReason, version: rollout.version }],
    });
    expect(committed).toBe(false);
  }, 900_000);

  afterAll(async () => {
    await subscription?.remove();
    await hook?.remove();
  });

  it('delivers every change in the audit log, and every drift verdict, to a rule on the bus: once each after dropping repeats by eventId', async () => {
    const audit = await platform.audit(model);
    const checks = (await platform.listDriftChecks(model)).checks;
    const expected = new Set([...audit.map((event) => event.eventId), ...checks.map((check) => check.checkId)]);
    const received = await subscription.until(expected, 90_000);
    const byId = new Map(received.map((event) => [event.detail.eventId, event]));
    expect(new Set(byId.keys())).toEqual(expected);

    const types = new Set([...byId.values()].map((event) => event.detail.type));
    for (const type of ['model.created', 'version.registered', 'alias.moved', 'alias.rolled_back', 'drift.checked', 'rollout.started', 'rollout.stepped', 'rollout.aborted', 'alias.cleared']) {
      expect(types, type).toContain(type);
    }
    for (const event of byId.values()) {
      expect(event.source).toBe(REGISTRY_EVENT_SOURCE);
      expect(event['detail-type']).toBe(event.detail.type);
      expect(RegistryEventDetailSchema.parse(event.detail)).toEqual(event.detail);
      expect(event.detail).toMatchObject({ schemaVersion: 1, environment: 'local', model });
    }
    // The detail carries what the audit log holds for the change.
    const rolledBack = audit.find((event) => event.action === 'alias.rolled_back')!;
    expect(byId.get(rolledBack.eventId)!.detail).toMatchObject({ alias: 'production', version: rolledBack.version, actor: rolledBack.actor, reason: 'e2e: back to v1' });
    expect(byId.get(rolledBack.eventId)!.detail.after).toEqual(rolledBack.after);
    const stepped = [...byId.values()].find((event) => event.detail.type === 'rollout.stepped')!;
    expect(stepped.detail).toMatchObject({ alias: 'canary', after: { phase: 'canary', weight: 0.5 } });
    const verdict = byId.get(checks[0]!.checkId)!;
    expect(verdict.detail).toMatchObject({ type: 'drift.checked', alias: 'production', after: { status: checks[0]!.status } });
  });

  it('publishes nothing for a transaction that did not commit', async () => {
    // Everything committed before and after it arrived (the test above waited for it); the stream
    // is ordered per model, so the cancelled change's event would have come among them.
    expect(subscription.received.some((event) => event.detail.reason === uncommittedReason)).toBe(false);
    expect((await platform.audit(model)).some((event) => event.reason === uncommittedReason)).toBe(false);
  });

  it("notifies the documented webhook of production moves only, with the event's detail as the body and the connection's API key", async () => {
    const moves = (await platform.audit(model)).filter((event) => event.action === 'alias.moved' && (event.after as { alias?: string }).alias === 'production');
    expect(moves.length).toBeGreaterThanOrEqual(2);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !moves.every((move) => hook.calls.some((call) => call.body.eventId === move.eventId))) await sleep(250);
    expect(new Set(hook.calls.map((call) => call.body.eventId))).toEqual(new Set(moves.map((move) => move.eventId)));
    for (const call of hook.calls) {
      expect(call.headers['x-api-key']).toBe('e2e-key');
      expect(RegistryEventDetailSchema.parse(call.body)).toMatchObject({ type: 'alias.moved', alias: 'production', model, environment: 'local' });
    }
  });

  it('shows the same events with `mlops events tail`, oldest first, as JSON Lines', async () => {
    const { code, lines } = await mlopsLines('events', 'tail', '--model', model, '--since', '2h', '--no-follow');
    expect(code).toBe(0);
    const ids = new Set(subscription.received.map((event) => event.detail.eventId));
    expect(lines.map((line) => line.eventId).sort()).toEqual([...ids].sort());
    expect(lines.map((line) => `${line.at}#${line.eventId}`)).toEqual(lines.map((line) => `${line.at}#${line.eventId}`).sort());
    for (const line of lines) expect(RegistryEventDetailSchema.parse(line)).toEqual(subscription.received.find((event) => event.detail.eventId === line.eventId)!.detail);

    const refused = await mlopsLines('events', 'tail', '--since', 'last tuesday', '--no-follow');
    expect(refused.code).not.toBe(0);
    expect(refused.lines[0]).toMatchObject({ error: { code: 'INVALID_INPUT', field: 'since' } });
  });
});
