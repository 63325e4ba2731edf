import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { signedFetch } from '../../lib/client/signed-fetch.js';
import { PROJECT_ROOT } from '../../lib/client/local-environment.js';
import { parseEnvironments } from '../../lib/config.js';
import { createDocumentClient } from '../../lambdas/aws/clients.js';
import { gatewayErrorCode } from '../../lambdas/contract/routes.js';
import { logPrefix, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { routingPoint } from '../../lambdas/core/serving/routing.js';
import { MAX_PREDICT_BODY_BYTES } from '../../lambdas/core/serving/serve.js';
import { sha256Hex } from '../../lambdas/core/sha256.js';
import { creditSpec, goodCsv, logRecords, mlops, platformClient, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

const tables = stackTables();

// The serving hot path on the emulator: the canary's share of keyed traffic, sticky keys, the
// shadow (scored and logged, never answering), how soon a warm function sees an alias move, and
// malformed requests through API Gateway. One model: a production version and two versions gated
// against it, one the canary at 0.2, the other the shadow (1, 2 and 3 on a fresh emulator).
//
// The model's name is fixed, and so are the routing keys: a key's arm is a hash of the model and the
// key (routingPoint), so the canary's share of the 1,000 keys is the same in every run (0.208 for
// this name), inside its 99% interval. A random name would draw a new share each run and miss the
// interval about one run in a hundred. On an emulator that already holds the model, its versions
// are reused when they fit and the aliases are set explicitly.

/** The local environment's routing staleness bound, as deployed (cdk.json). */
const STALENESS_MS = parseEnvironments(JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.environments).local!.serving.routingStalenessSeconds * 1000;
const CANARY_WEIGHT = 0.2;
const row = { age: 41, income: 48000, debt_ratio: 0.35, credit_lines: 4, late_payments: 1 };
const body = JSON.stringify({ inputs: row });

type Served = { status: number; arm: string; version: number; requestId: string; headers: Record<string, string> };

/** Runs `work` over `items` with at most `concurrency` in flight, results in order. */
async function bounded<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('serving: traffic split, shadow and the prediction log on the emulator', () => {
  let platform: PlatformClient;
  const model = 'e2e-serving';
  const dataset = uniqueName('e2e-serving-data');
  const keys = Array.from({ length: 1000 }, (_, i) => `customer-${i}`);
  const served: Served[] = [];
  let production: number;
  let canary: number;
  let shadow: number;

  async function call(routingKey?: string): Promise<Served> {
    const response = await platform.predict(model, body, routingKey === undefined ? {} : { routingKey });
    const answer = response.body as { arm: string; version: number; requestId: string };
    return { status: response.status, arm: answer.arm, version: answer.version, requestId: answer.requestId, headers: response.headers };
  }

  async function train(options: { release: boolean; C: number }): Promise<number> {
    const { runId, executionArn } = await tables.startExecution({ model, dataset: { name: dataset }, actor: 'e2e', release: options.release, params: { C: options.C } });
    const outcome = await platform.waitForRun(runId, executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status).toBe('SUCCEEDED');
    return outcome.run!.modelVersion!;
  }

  /** Points an alias at a version unless it points there already (a move to the same version is refused). */
  async function pointAlias(alias: 'canary' | 'shadow', version: number, weight?: number): Promise<void> {
    const current = (await platform.showModel(model)).aliases.find((a) => a.alias === alias);
    if (current?.version === version && (weight === undefined || current.weight === weight)) return;
    await platform.promote(model, version, alias, { ...(weight === undefined ? {} : { weight }), reason: `e2e ${alias}` });
  }

  beforeAll(async () => {
    platform = platformClient();
    // Creates the model, or replaces its spec (with this run's dataset) where an earlier run made it.
    await platform.createModel(creditSpec(model, dataset));
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(goodCsv()), fileName: 'data.csv', owner: 'e2e' });
    const before = await platform.showModel(model);
    production = before.aliases.find((a) => a.alias === 'production')?.version ?? (await train({ release: true, C: 1 }));
    // Two versions judged against production (their gate's champion), so both may stand beside it.
    const gated = before.versions.filter((v) => v.judgedAgainst === production && v.status !== 'REJECTED').map((v) => v.version);
    const trained = await Promise.all([0.5, 2].slice(0, Math.max(0, 2 - gated.length)).map((C) => train({ release: false, C })));
    [canary, shadow] = [...gated, ...trained].sort((a, b) => a - b) as [number, number];
    await pointAlias('canary', canary, CANARY_WEIGHT);
    await pointAlias('shadow', shadow);
    expect((await platform.showModel(model)).aliases.filter((a) => ['production', 'canary', 'shadow'].includes(a.alias)).map((a) => [a.alias, a.version, a.weight]).sort()).toEqual(
      [['canary', canary, CANARY_WEIGHT], ['production', production, 1], ['shadow', shadow, 0]].sort(),
    );
    // A warm function may still hold the routing it read before the moves.
    await sleep(STALENESS_MS);
  });

  it('sends the canary its weight of 1,000 keyed requests, within a 99% binomial interval, each key to the arm its hash names; the shadow never answers', async () => {
    served.push(...(await bounded(keys, 16, (key) => call(key))));

    expect(served.filter((answer) => answer.status !== 200).map((answer) => answer.status)).toEqual([]);
    // Exact: every answer comes from the arm the key's routing point names, under that arm's version.
    const expected = keys.map((key) => (routingPoint(model, key) < CANARY_WEIGHT ? 'canary' : 'production'));
    expect(served.map((answer) => answer.arm)).toEqual(expected);
    for (const answer of served) {
      expect(answer.version).toBe(answer.arm === 'canary' ? canary : production);
      expect(answer.headers).toMatchObject({ 'x-mlops-model': model, 'x-mlops-version': String(answer.version), 'x-mlops-arm': answer.arm });
    }
    // Statistical: the share of this fixed draw lies in the 99% binomial interval around the weight.
    const share = served.filter((answer) => answer.arm === 'canary').length / served.length;
    const halfWidth = 2.576 * Math.sqrt((CANARY_WEIGHT * (1 - CANARY_WEIGHT)) / served.length);
    expect(Math.abs(share - CANARY_WEIGHT)).toBeLessThanOrEqual(halfWidth);
  });

  it('keeps one routing key on one arm over 20 calls, through the API and the CLI', async () => {
    const canaryKey = `customer-${served.findIndex((answer) => answer.arm === 'canary')}`;
    const productionKey = `customer-${served.findIndex((answer) => answer.arm === 'production')}`;
    for (const [key, arm] of [[canaryKey, 'canary'], [productionKey, 'production']] as const) {
      const answers = await bounded(Array.from({ length: 20 }, () => key), 4, (k) => call(k));
      expect(new Set(answers.map((answer) => `${answer.status} ${answer.arm}`))).toEqual(new Set([`200 ${arm}`]));
    }
    const cli = await mlops('predict', model, '--input', body, '--routing-key', canaryKey);
    expect(cli).toMatchObject({ code: 0, json: { status: 200, arm: 'canary', body: { model, version: canary, arm: 'canary' } } });
  });

  it('logs every request under the version that answered, and the shadow under its own version with arm shadow', async () => {
    const bucket = tables.outputs.PredictionLogsBucket;
    const answered = new Map(served.map((answer) => [answer.requestId, answer]));
    // The emulator's Firehose delivers at once; allow the last records a moment to land.
    let shadowRecords: PredictionLogRecord[] = [];
    for (let attempt = 0; attempt < 20; attempt += 1) {
      shadowRecords = (await logRecords<PredictionLogRecord>(bucket, logPrefix('predictions', model, shadow))).filter((record) => answered.has(record.requestId));
      if (shadowRecords.length >= served.length) break;
      await sleep(500);
    }
    expect(shadowRecords).toHaveLength(served.length);
    for (const record of shadowRecords) {
      expect(record).toMatchObject({ model, version: shadow, arm: 'shadow' });
      expect(record.error).toBeUndefined();
      expect(record.outputs).toHaveLength(1);
      expect(record.routingKeyHash).toMatch(/^[a-f0-9]{64}$/);
    }
    // The answering arms' records: one per request, under the version and arm that answered.
    const answering = [
      ...(await logRecords<PredictionLogRecord>(bucket, logPrefix('predictions', model, production))),
      ...(await logRecords<PredictionLogRecord>(bucket, logPrefix('predictions', model, canary))),
    ].filter((record) => answered.has(record.requestId));
    expect(answering).toHaveLength(served.length);
    for (const record of answering) {
      const answer = answered.get(record.requestId)!;
      expect([record.arm, record.version]).toEqual([answer.arm, answer.version]);
      expect(record.inputs).toEqual([row]);
    }
    const first = answering.find((record) => record.requestId === served[0]!.requestId)!;
    expect(first.routingKeyHash).toBe(sha256Hex('customer-0'));

    // The request index knows every answered request (sampled or not), with the arm that answered and a TTL.
    const doc = createDocumentClient();
    for (const answer of served.slice(0, 25)) {
      const { Item } = await doc.send(new GetCommand({ TableName: tables.outputs.RequestIndexTable, Key: { requestId: answer.requestId } }));
      expect(Item).toMatchObject({ requestId: answer.requestId, model, version: answer.version, arm: answer.arm, rows: 1, logged: true, expiresAt: expect.any(Number) });
      expect(Item!.expiresAt).toBeGreaterThan(Date.now() / 1000);
    }
  });

  it('sees an alias move within the staleness bound', async () => {
    const key = `customer-${served.findIndex((answer) => answer.arm === 'canary')}`;
    await platform.promote(model, shadow, 'canary', { weight: CANARY_WEIGHT, reason: `e2e: canary moves to ${shadow}` });
    const moved = Date.now();
    const margin = 3000;
    let seenAfter: number | undefined;
    while (Date.now() - moved <= STALENESS_MS + margin) {
      const answer = await call(key);
      expect(answer.status).toBe(200);
      if (answer.version === shadow) {
        seenAfter = Date.now() - moved;
        break;
      }
      await sleep(100);
    }
    expect(seenAfter, `the canary's move to version ${shadow} was not seen within ${STALENESS_MS + margin} ms`).toBeDefined();
    expect(seenAfter!).toBeLessThanOrEqual(STALENESS_MS + margin);
    // Past the bound no warm function may answer from its old routing: every answer for that key comes from the new canary.
    await sleep(Math.max(0, moved + STALENESS_MS + 200 - Date.now()));
    const after = await bounded(Array.from({ length: 8 }, () => key), 4, (k) => call(k));
    expect(after.map((answer) => `${answer.arm} ${answer.version}`)).toEqual(Array.from({ length: 8 }, () => `canary ${shadow}`));
  });

  it('refuses malformed requests through API Gateway with a 4xx and a JSON error naming its code, never a 5xx', async () => {
    const url = `${platform.endpoints.servingUrl}/models/${model}/predict`;
    const send = (init: { method?: string; body?: string; unsigned?: boolean }, target = url) =>
      signedFetch(target, { method: init.method ?? 'POST', region: platform.region, ...(init.body === undefined ? {} : { body: init.body }), ...(init.unsigned ? { unsigned: true } : {}) });
    const cases: [string, () => ReturnType<typeof send>][] = [
      ['an unsigned call', () => send({ body, unsigned: true })],
      ['a wrong method', () => send({ method: 'GET' })],
      ['an oversized body', () => send({ body: JSON.stringify({ inputs: row, pad: 'x'.repeat(MAX_PREDICT_BODY_BYTES) }) })],
      ['not JSON', () => send({ body: '{"inputs": {"age": 4' })],
      ['an unknown model', () => send({ body }, `${platform.endpoints.servingUrl}/models/no-such-model-e2e/predict`)],
    ];
    const answers: [string, number, string][] = [];
    for (const [name, request] of cases) {
      const response = await request();
      expect(response.headers['content-type'], name).toMatch(/application\/json/);
      // A gateway refusal the emulator renders without the platform's body is read by its status, as the client reads it.
      answers.push([name, response.status, (response.body as { error?: { code?: string } }).error?.code ?? gatewayErrorCode(response.status)]);
    }
    expect(answers).toEqual([
      ['an unsigned call', 403, 'UNAUTHENTICATED'],
      ['a wrong method', 403, 'UNAUTHENTICATED'],
      ['an oversized body', 413, 'REQUEST_TOO_LARGE'],
      ['not JSON', 400, 'INVALID_JSON'],
      ['an unknown model', 404, 'MODEL_NOT_FOUND'],
    ]);
  });
});
