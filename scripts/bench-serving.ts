// `npm run bench -- --only serving`: the prediction path, each figure a ratio against a reference
// measured in the same run.
//
//   in-process   the predict handler (parse, validate, route, score, hand the log record off to the
//                sink, which serializes it as Firehose would get it) against a bare JSON.parse of the
//                same body: 1 row and 1,000 rows, a logistic model and a 100-tree boosted model. The
//                handler is the function's bundle, built as lib/platform-function.ts builds it, and the
//                figure is CPU time (the wall-clock ratio is printed beside it): on a shared machine
//                the wall clock also counts the time other processes held the core.
//   calls        AWS calls per prediction, counted at the stores' boundary over a steady stream of
//                requests to one warm handler (registry reads, log hand-offs, index writes).
//   api          (when the local stack is deployed) the signed predict route against the echo route
//                on the same API through the emulator's API Gateway, at concurrency 1, 8 and 32:
//                p50, p99, requests/s, 429s and 5xx apart; and the first requests against cold workers.
//                The bench config is the `local` environment: its serving.benchEcho deploys the echo
//                route (lambdas/bench-echo, built as predict is) and its serving throttle is raised;
//                the e2e suite deploys `local` too, so one deploy serves both. The model it predicts
//                with (bench-serving) is trained and promoted through the management API once.
//                Run it alone on the shared emulator: it recycles both functions' workers.
//   bundle       the predict function's bundle: its size, and its cold init (requiring it in a fresh
//                Node) against the echo function's; both synthesized by PlatformFunction.
//
//   BENCH_SERVING_SECTIONS=api,bundle npm run bench -- --only serving    some sections only
//   (in-process, api, bundle; default all)
//   cost         the cost of a million predictions, today's design against the baseline (scripts/serving-cost.ts).
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { build } from 'esbuild';
import { PLATFORM_ESBUILD_TARGET } from '../lib/platform-function.js';
import { parseCsv } from '../lambdas/core/data/csv.js';
import { sha256Hex } from '../lambdas/core/sha256.js';
import { parseModelSpec } from '../lambdas/core/training/model-spec.js';
import { trainModel } from '../lambdas/core/training/train-model.js';
import { routingStateOf } from '../lambdas/core/serving/routing.js';
import type { ServingStores } from '../lambdas/core/serving/serve.js';
import type { PredictionLogRecord } from '../lambdas/core/serving/records.js';
import { costPerMillion, totalOf, type RequestUsage } from './serving-cost.js';
import { makeCreditDataset } from './make-demo-dataset.js';

const FEATURES = ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'];
const MODELS = {
  logistic: { algorithm: 'logistic_regression', params: { maxIterations: 500 } },
  'boosted-100': { algorithm: 'gradient_boosting', params: { maxIterations: 100, maxLeafNodes: 31 } },
} as const;
type ModelKind = keyof typeof MODELS;
/** Requests per measured round: enough for a stable figure at either size. */
const ROUNDS: Record<number, number> = { 1: 20_000, 1000: 100 };
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PREDICT_BUNDLE = join(ROOT, '.bench', 'serving', 'predict.cjs');

/**
 * Bundles the predict function with the options of lib/platform-function.ts (esbuild, CommonJS,
 * minified, the SDK inside, onnxruntime-node outside), so the bench times the code Lambda runs.
 * Timing the TypeScript through tsx instead would add a cost the function does not have: tsx keeps
 * function names, so every closure the code creates goes through a naming call.
 */
async function bundlePredict(): Promise<string> {
  await build({
    entryPoints: [join(ROOT, 'lambdas', 'predict', 'handler.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: PLATFORM_ESBUILD_TARGET,
    minify: true,
    external: ['onnxruntime-node'],
    outfile: PREDICT_BUNDLE,
    logLevel: 'warning',
  });
  return PREDICT_BUNDLE;
}

function specFor(kind: ModelKind) {
  return parseModelSpec({
    name: `bench-${kind}`,
    task: 'binary_classification',
    target: 'defaulted',
    features: FEATURES.map((name) => ({ name, type: 'numeric' })),
    training: MODELS[kind],
  });
}

function bodyOf(rows: number): string {
  const row = (i: number) => ({ age: 20 + (i % 50), income: 20000 + i * 90, debt_ratio: (i % 100) / 100, credit_lines: i % 9, late_payments: i % 4 });
  return JSON.stringify(rows === 1 ? { inputs: row(7) } : { instances: Array.from({ length: rows }, (_, i) => row(i)) });
}

/** Counts of what the stores were asked to do: the AWS calls a deployed function would make. */
interface CallCounts {
  registryReads: number;
  versionReads: number;
  artifactReads: number;
  logHandOffs: number;
  logRecords: number;
  logBytes: number;
  indexWrites: number;
}

/** In-memory stores with one trained model in production; the log sink serializes as the Firehose adapter does. */
function benchStores(kind: ModelKind, calls: CallCounts): { stores: ServingStores; model: string } {
  const spec = specFor(kind);
  const { artifact } = trainModel(parseCsv(makeCreditDataset(3000, 7)), spec);
  const bytes = new TextEncoder().encode(JSON.stringify(artifact));
  const ref = { uri: `s3://bench-models/${spec.name}/1/model.json`, sha256: sha256Hex(bytes) };
  const encoder = new TextEncoder();
  return {
    model: spec.name,
    stores: {
      registry: {
        readRouting: async (model) => {
          calls.registryReads += 1;
          return model === spec.name ? routingStateOf(model, spec, { production: { version: 1 } }) : undefined;
        },
        getVersion: async () => {
          calls.versionReads += 1;
          return { artifact: ref };
        },
      },
      artifacts: {
        getBytes: async () => {
          calls.artifactReads += 1;
          return bytes;
        },
      },
      onnx: () => {
        throw new Error('the bench serves built-in models only');
      },
      log: {
        send: async (records: readonly PredictionLogRecord[]) => {
          calls.logHandOffs += 1;
          calls.logRecords += records.length;
          for (const record of records) calls.logBytes += encoder.encode(`${JSON.stringify(record)}\n`).length;
        },
      },
      requestIndex: {
        record: async () => {
          calls.indexWrites += 1;
        },
      },
      failures: { failed: () => undefined },
    },
  };
}

function eventFor(model: string, body: string, i: number): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    resource: '/models/{model}/predict',
    body,
    headers: { 'content-type': 'application/json', 'x-mlops-routing-key': `caller-${i % 997}` },
    pathParameters: { model },
    requestContext: { requestId: `bench-${i}` },
  } as unknown as APIGatewayProxyEvent;
}

interface InProcessResult {
  kind: ModelKind;
  rows: number;
  /** CPU seconds of one round (the median round). */
  floorSeconds: number;
  pathSeconds: number;
  /** Wall-clock seconds of one round (the median round). */
  floorWallSeconds: number;
  pathWallSeconds: number;
  requests: number;
  calls: CallCounts;
}

interface Timing {
  cpu: number;
  wall: number;
}

/** One timing of `work`: the process's CPU seconds (every thread: the GC's count) and wall seconds. */
async function timed(work: () => Promise<void> | void): Promise<Timing> {
  const wallStarted = performance.now();
  const cpuStarted = process.cpuUsage();
  await work();
  const cpu = process.cpuUsage(cpuStarted);
  return { cpu: (cpu.user + cpu.system) / 1e6, wall: (performance.now() - wallStarted) / 1000 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs in a child process (its stdout is the function's log, discarded): one model kind, both sizes. */
async function inProcessChild(kind: ModelKind, bundle: string): Promise<InProcessResult[]> {
  // The handler module reads its settings at load, as a cold start does; these name nothing real.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    REGISTRY_TABLE: 'bench',
    PREDICTION_LOG_STREAM: 'bench',
    REQUEST_INDEX_TABLE: 'bench',
    REQUEST_INDEX_TTL_DAYS: '30',
    ROUTING_STALENESS_MS: '2000',
    ENVIRONMENT_NAME: 'local',
  });
  const { createHandler } = createRequire(import.meta.url)(bundle) as typeof import('../lambdas/predict/handler.js');
  const results: InProcessResult[] = [];
  for (const rows of [1, 1000]) {
    const calls: CallCounts = { registryReads: 0, versionReads: 0, artifactReads: 0, logHandOffs: 0, logRecords: 0, logBytes: 0, indexWrites: 0 };
    const { stores, model } = benchStores(kind, calls);
    // A clock that moves 1 ms a request: the routing is re-read once every 2,000 requests, as a warm function at 1,000 requests/s would.
    let tick = 0;
    const handle = createHandler(stores, { sdk: 'bench', stalenessMs: 2000, clock: () => new Date(1_800_000_000_000 + tick) });
    const body = bodyOf(rows);
    const rounds = ROUNDS[rows]!;
    const events = Array.from({ length: rounds }, (_, i) => eventFor(model, body, i));
    let sink = 0;
    const check = (response: APIGatewayProxyResult) => {
      if (response.statusCode !== 200) throw new Error(`bench request answered ${response.statusCode}: ${response.body}`);
      sink += response.body.length;
    };
    check(await handle(events[0]!)); // warm: the model file loads once
    for (const key of Object.keys(calls) as (keyof CallCounts)[]) calls[key] = 0;
    // Floor and handler rounds alternate, so a change in the machine's load falls on both.
    const floor: Timing[] = [];
    const path: Timing[] = [];
    for (let r = 0; r < REPEATS; r += 1) {
      floor.push(
        await timed(() => {
          for (let i = 0; i < rounds; i += 1) sink += (JSON.parse(events[i]!.body!) as object) ? 1 : 0;
        }),
      );
      path.push(
        await timed(async () => {
          for (let i = 0; i < rounds; i += 1) {
            tick += 1;
            check(await handle(events[i]!));
          }
        }),
      );
    }
    if (sink === 0) throw new Error('nothing measured');
    results.push({
      kind,
      rows,
      floorSeconds: median(floor.map((t) => t.cpu)),
      pathSeconds: median(path.map((t) => t.cpu)),
      floorWallSeconds: median(floor.map((t) => t.wall)),
      pathWallSeconds: median(path.map((t) => t.wall)),
      requests: rounds * REPEATS,
      calls,
    });
  }
  return results;
}

function runInProcess(bundle: string): InProcessResult[] {
  return (Object.keys(MODELS) as ModelKind[]).flatMap((kind) => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', kind, bundle], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const out = child.stderr;
    if (child.status !== 0) throw new Error(`the ${kind} bench failed:\n${out}`);
    const last = out.split('\n').find((line) => line.startsWith('[{'));
    if (!last) throw new Error(`the ${kind} bench printed no result:\n${out}`);
    return JSON.parse(last) as InProcessResult[];
  });
}

const pad = (text: string, width: number) => text.padEnd(width);
const fmt = (n: number, digits = 2) => n.toFixed(digits);

function printInProcess(results: InProcessResult[]): void {
  console.log(`serving, in process: the predict function's bundle against JSON.parse of the same body, CPU time, median of ${REPEATS} rounds`);
  console.log(`${pad('model', 13)}${pad('rows', 7)}${pad('JSON.parse', 16)}${pad('handler', 16)}${pad('ratio (goal <= 3)', 19)}wall-clock ratio`);
  for (const r of results) {
    const per = (s: number) => `${fmt((s / (r.requests / REPEATS)) * 1e6, 1)} us/req`;
    console.log(
      `${pad(r.kind, 13)}${pad(String(r.rows), 7)}${pad(per(r.floorSeconds), 16)}${pad(per(r.pathSeconds), 16)}${pad(fmt(r.pathSeconds / r.floorSeconds), 19)}` +
        fmt(r.pathWallSeconds / r.floorWallSeconds),
    );
  }
  console.log('');
  console.log('AWS calls per prediction (one warm function, a steady stream, routing staleness 2 s at 1,000 requests/s):');
  for (const r of results) {
    const c = r.calls;
    const per = (n: number) => fmt(n / r.requests, 4);
    console.log(
      `  ${pad(`${r.kind}, ${r.rows} row(s)`, 22)} registry reads ${per(c.registryReads)}, version reads ${per(c.versionReads)}, artifact reads ${per(c.artifactReads)}, ` +
        `log hand-offs ${per(c.logHandOffs)} (${fmt(c.logBytes / Math.max(1, c.logRecords), 0)} B a record), index writes ${per(c.indexWrites)}`,
    );
  }
}

/** One request of the baseline (one S3 PUT per request, two strongly consistent reads) and of today's design. */
/**
 * What each design waits for on AWS, in milliseconds, added to the measured handler time to give the
 * billed duration: the baseline made two strongly consistent GetItems and then an S3 PUT one after
 * the other; now the Firehose put and the index PutItem run side by side (the slower counts). These
 * are planning figures (typical single-digit-ms DynamoDB, tens of ms for S3 and Firehose), not
 * measurements: the emulator's latencies say nothing about AWS's. Compute is a small line either way
 * ($0.013 per million per ms at 1,024 MB on arm64).
 */
const AWAITED_MS = { baseline: 5 + 5 + 25, now: Math.max(15, 5) };

function printCost(results: InProcessResult[], handlerMs: number): void {
  const single = results.find((r) => r.kind === 'logistic' && r.rows === 1)!;
  const recordBytes = Math.round(single.calls.logBytes / Math.max(1, single.calls.logRecords));
  const readsPerRequest = single.calls.registryReads / single.requests;
  const logLineBytes = 550; // the platform's START/END/REPORT lines and the function's one "prediction served" line
  const baseline: RequestUsage = { memoryMb: 1024, durationMs: handlerMs + AWAITED_MS.baseline, dynamoReadUnits: 2, dynamoWriteUnits: 0, s3Puts: 1, firehoseRecords: 0, firehoseRecordBytes: 0, logBytes: logLineBytes };
  const now: RequestUsage = {
    memoryMb: 1024,
    durationMs: handlerMs + AWAITED_MS.now,
    // One BatchGetItem of four items (each under 4 KB), eventually consistent: 2 read units, once per staleness window.
    dynamoReadUnits: readsPerRequest * 2,
    dynamoWriteUnits: 1,
    s3Puts: 0,
    firehoseRecords: 1,
    firehoseRecordBytes: recordBytes,
    logBytes: logLineBytes,
    storedBytes: 200,
    storedDays: 30,
  };
  console.log('');
  console.log(`cost per million predictions (US$, us-east-1 list prices, 1 row: the handler's ${fmt(handlerMs, 3)} ms plus the AWS calls each design awaits, at 1,024 MB):`);
  for (const [name, usage] of [['baseline: S3 PUT per request, 2 strong reads', baseline], ['now: Firehose + request index, cached routing', now]] as const) {
    const lines = costPerMillion(usage);
    console.log(`  ${name}: ${fmt(totalOf(lines), 3)}`);
    for (const line of lines) console.log(`    ${pad(line.item, 58)}${fmt(line.perMillion, 3)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// api and bundle: the deployed predict route against the echo route, and the two functions'
// bundles. What these sections use is imported when they run: the in-process children load this
// module too, and need none of it.
//
// The bench config is the `local` environment itself (cdk.json: serving.benchEcho on, the serving
// throttle raised to 2,000/s with a burst of 4,000): the e2e suite deploys `local` too, so one
// deploy serves both, and the echo route never exists on AWS (lib/config.ts refuses it there).
// ---------------------------------------------------------------------------------------------

/** Concurrency, and measured requests per route at it (after a warm-up of twice the concurrency). */
const API_LEVELS = [
  { concurrency: 1, requests: 200 },
  { concurrency: 8, requests: 400 },
  { concurrency: 32, requests: 800 },
] as const;
/** The measured requests of a level go in this many chunks, echo and predict alternating, so a change in the machine's load falls on both. */
const API_CHUNKS = 4;
const COLD_WAVE = 32;
const BUNDLE_INIT_RUNS = Number(process.env.BENCH_BUNDLE_RUNS ?? 10);
/** The model the API section predicts with: trained and promoted once, found again on later runs. */
const BENCH_MODEL = 'bench-serving';
const BENCH_DATASET = 'bench-serving-credit';
const API_BODY = JSON.stringify({ inputs: { age: 41, income: 48000, debt_ratio: 0.35, credit_lines: 4, late_payments: 1 } });

type Route = 'predict' | 'echo';

interface ApiTarget {
  endpoint: string;
  region: string;
  urls: Record<Route, string>;
  platform: import('../lib/client/platform-client.js').PlatformClient;
  /** The functions' physical names, to recycle their workers. */
  functions: Record<Route, string>;
  signedFetch: typeof import('../lib/client/signed-fetch.js').signedFetch;
}

/** The deployed local stack with its echo route, or why the section cannot run. */
async function apiTarget(): Promise<ApiTarget | { skip: string }> {
  const { LOCAL_REGION, LOCAL_STACK, isHealthy, useLocalEndpoint } = await import('../lib/client/local-environment.js');
  const endpoint = useLocalEndpoint();
  const region = process.env.AWS_REGION ?? LOCAL_REGION;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const deploy = "deploy the local stack (cdk.json's local environment has serving.benchEcho on): `npm run mlops -- local deploy`, then run the bench again";
  if (!(await isHealthy(endpoint))) return { skip: `no emulator answers at ${endpoint}: start it (\`npm run emulator -- up\`) and ${deploy}` };
  const { readStackOutputs } = await import('../lib/client/stack-outputs.js');
  let outputs: import('../lambdas/contract/stack.js').StackOutputs;
  try {
    outputs = await readStackOutputs(LOCAL_STACK, region);
  } catch (error) {
    return { skip: `${(error as Error).message}: ${deploy}` };
  }
  const { CloudFormationClient, DescribeStackResourcesCommand } = await import('@aws-sdk/client-cloudformation');
  const { StackResources = [] } = await new CloudFormationClient({ region }).send(new DescribeStackResourcesCommand({ StackName: LOCAL_STACK }));
  const physical = (prefix: string) =>
    StackResources.find((r) => r.ResourceType === 'AWS::Lambda::Function' && r.LogicalResourceId?.startsWith(prefix))?.PhysicalResourceId;
  const predict = physical('ServingApiPredictFunction');
  const echo = physical('ServingApiBenchEchoFunction');
  if (!predict || !echo) return { skip: `the deployed local stack has no echo function (deployed without serving.benchEcho): ${deploy}` };
  const { servingApiUrl } = await import('../lambdas/contract/stack.js');
  const { PlatformClient } = await import('../lib/client/platform-client.js');
  const { signedFetch } = await import('../lib/client/signed-fetch.js');
  const base = servingApiUrl(outputs, endpoint);
  return {
    signedFetch,
    endpoint,
    region,
    urls: { predict: `${base}/models/${BENCH_MODEL}/predict`, echo: `${base}/bench/echo` },
    platform: PlatformClient.fromStackOutputs(outputs, region, endpoint),
    functions: { predict, echo },
  };
}

/** The bench model's production version: trained and promoted through the management API the first time, as a user would. */
async function ensureBenchModel(target: ApiTarget): Promise<{ version: number; trained: boolean }> {
  const { MlopsError } = await import('../lambdas/core/errors.js');
  const production = async () => {
    try {
      return (await target.platform.showModel(BENCH_MODEL)).aliases.find((alias) => alias.alias === 'production')?.version;
    } catch (error) {
      if (error instanceof MlopsError && error.code.endsWith('NOT_FOUND')) return undefined;
      throw error;
    }
  };
  const existing = await production();
  if (existing !== undefined) return { version: existing, trained: false };
  progress(`training ${BENCH_MODEL} once through the management API (reused on later runs)`);
  await target.platform.createModel({
    name: BENCH_MODEL,
    task: 'binary_classification',
    target: 'defaulted',
    positiveLabel: '1',
    features: FEATURES.map((name) => ({ name, type: 'numeric' })),
    training: { algorithm: 'logistic_regression', params: { maxIterations: 300 }, seed: 42 },
    dataset: BENCH_DATASET,
    owner: 'bench',
  });
  await target.platform.registerDataset({ name: BENCH_DATASET, bytes: Buffer.from(makeCreditDataset(800, 11)), fileName: 'data.csv', owner: 'bench' });
  const { runId, executionArn } = await target.platform.startRun(BENCH_MODEL);
  const outcome = await target.platform.waitForRun(runId, executionArn, { pollMs: 1000, timeoutMs: 300_000 });
  const version = await production();
  if (outcome.status !== 'SUCCEEDED' || version === undefined) throw new Error(`training the bench model ended ${outcome.status} (steps ${outcome.steps.join(' > ')}) with no production version`);
  return { version, trained: true };
}

interface Sample {
  ms: number;
  status: number;
}

/** One signed POST of the bench body; its wall time from signing to the last byte read. */
async function send(target: ApiTarget, route: Route): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await target.signedFetch(target.urls[route], { method: 'POST', body: API_BODY, region: target.region });
    return { ms: performance.now() - started, status: response.status };
  } catch {
    return { ms: performance.now() - started, status: 0 };
  }
}

/** `count` requests at most `concurrency` in flight; the samples and the wall seconds they took. */
async function load(target: ApiTarget, route: Route, count: number, concurrency: number): Promise<{ samples: Sample[]; seconds: number }> {
  const samples: Sample[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next += 1;
        samples.push(await send(target, route));
      }
    }),
  );
  return { samples, seconds: (performance.now() - started) / 1000 };
}

const progress = (line: string) => process.stderr.write(`[bench serving] ${line}\n`);

/** Nearest-rank percentile. */
const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
};

interface RouteFigures {
  requests: number;
  p50: number;
  p99: number;
  max: number;
  perSecond: number;
  throttled: number;
  serverErrors: number;
  /** Neither 2xx, 429 nor 5xx (0 is a failed connection). */
  other: number;
}

function figuresOf(samples: readonly Sample[], seconds: number): RouteFigures {
  const ms = samples.map((s) => s.ms);
  return {
    requests: samples.length,
    p50: percentile(ms, 0.5),
    p99: percentile(ms, 0.99),
    max: Math.max(...ms),
    perSecond: samples.length / seconds,
    throttled: samples.filter((s) => s.status === 429).length,
    serverErrors: samples.filter((s) => s.status >= 500).length,
    other: samples.filter((s) => !(s.status >= 200 && s.status < 300) && s.status !== 429 && s.status < 500).length,
  };
}

/** Signed call to the emulator's Lambda API (the `test` key is its root), without another SDK client. */
async function lambdaApi(target: ApiTarget, method: 'GET' | 'PUT', fn: string, body?: unknown): Promise<Record<string, any>> {
  const response = await target.signedFetch(`${target.endpoint}/2015-03-31/functions/${encodeURIComponent(fn)}/configuration`, {
    method,
    region: target.region,
    service: 'lambda',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status !== 200) throw new Error(`Lambda ${method} configuration of ${fn} answered ${response.status}: ${response.text.slice(0, 300)}`);
  return response.body as Record<string, any>;
}

/**
 * Makes a function's workers cold: MiniStack kills every warm worker of a function whose
 * configuration update names its Environment (lambda_svc.py, _WORKER_AFFECTING), so this writes
 * back the variables it has: the next requests start new workers, and nothing drifts from the stack.
 */
async function recycleWorkers(target: ApiTarget, fn: string): Promise<void> {
  const current = await lambdaApi(target, 'GET', fn);
  await lambdaApi(target, 'PUT', fn, { Environment: { Variables: current.Environment?.Variables ?? {} } });
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const state = await lambdaApi(target, 'GET', fn);
    if (state.LastUpdateStatus === 'Successful' && state.State === 'Active') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${fn} did not become Active after its configuration update`);
}

interface ApiResult {
  model: { version: number; trained: boolean };
  levels: { concurrency: number; routes: Record<Route, RouteFigures> }[];
  cold: Record<Route, RouteFigures>;
}

async function runApi(target: ApiTarget): Promise<ApiResult> {
  const model = await ensureBenchModel(target);
  // The reference must answer what predict is sent, and predict must serve it, before any timing.
  const { signedFetch } = target;
  const echoed = await signedFetch(target.urls.echo, { method: 'POST', body: API_BODY, region: target.region });
  if (echoed.status !== 200 || echoed.text !== API_BODY) throw new Error(`the echo route answered ${echoed.status}: ${echoed.text.slice(0, 200)}`);
  const served = await signedFetch(target.urls.predict, { method: 'POST', body: API_BODY, region: target.region });
  const answer = served.body as { model?: string; version?: number };
  if (served.status !== 200 || answer.model !== BENCH_MODEL) throw new Error(`the predict route answered ${served.status}: ${served.text.slice(0, 200)}`);

  const levels: ApiResult['levels'] = [];
  for (const { concurrency, requests } of API_LEVELS) {
    progress(`api: concurrency ${concurrency}, ${requests} requests per route`);
    // Warm-up, one chunk's worth: as many workers as the level keeps busy, for both functions (the
    // emulator starts a worker only when a request finds none free, so a short warm-up leaves cold starts in the measure).
    for (const route of ['echo', 'predict'] as const) await load(target, route, Math.max(concurrency * 2, requests / API_CHUNKS), concurrency);
    const samples: Record<Route, Sample[]> = { echo: [], predict: [] };
    const seconds: Record<Route, number> = { echo: 0, predict: 0 };
    for (let chunk = 0; chunk < API_CHUNKS; chunk += 1) {
      for (const route of chunk % 2 === 0 ? (['echo', 'predict'] as const) : (['predict', 'echo'] as const)) {
        const run = await load(target, route, requests / API_CHUNKS, concurrency);
        samples[route].push(...run.samples);
        seconds[route] += run.seconds;
      }
    }
    levels.push({ concurrency, routes: { echo: figuresOf(samples.echo, seconds.echo), predict: figuresOf(samples.predict, seconds.predict) } });
  }

  // Cold: one function at a time, its workers recycled, then COLD_WAVE requests at once.
  const cold = {} as Record<Route, RouteFigures>;
  for (const route of ['predict', 'echo'] as const) {
    progress(`api: ${COLD_WAVE} requests at once to ${route}, its workers recycled`);
    await recycleWorkers(target, target.functions[route]);
    const run = await load(target, route, COLD_WAVE, COLD_WAVE);
    cold[route] = figuresOf(run.samples, run.seconds);
  }
  return { model, levels, cold };
}

function printApi(result: ApiResult): void {
  const { model, levels, cold } = result;
  console.log('');
  console.log(
    `serving, through the emulator's API Gateway on loopback: signed POSTs of one row, the predict route (model ${BENCH_MODEL} v${model.version}` +
      `${model.trained ? ', trained for this run' : ''}) against the echo route on the same API; the emulator, its workers and this client share the machine's ${availableParallelism()} cores`,
  );
  const header = `${pad('concurrency', 13)}${pad('route', 9)}${pad('requests', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('req/s', 8)}${pad('429', 5)}${pad('5xx', 5)}other`;
  const line = (label: string, route: Route, f: RouteFigures) =>
    console.log(
      `${pad(label, 13)}${pad(route, 9)}${pad(String(f.requests), 10)}${pad(fmt(f.p50, 1), 9)}${pad(fmt(f.p99, 1), 9)}${pad(fmt(f.max, 1), 9)}${pad(fmt(f.perSecond, 0), 8)}` +
        `${pad(String(f.throttled), 5)}${pad(String(f.serverErrors), 5)}${f.other}`,
    );
  console.log(header);
  for (const level of levels) {
    for (const route of ['echo', 'predict'] as const) line(String(level.concurrency), route, level.routes[route]);
    const ratio = level.routes.predict.p50 / level.routes.echo.p50;
    const clean = level.routes.predict.serverErrors + level.routes.echo.serverErrors === 0;
    console.log(`${pad('', 13)}predict p50 / echo p50: ${fmt(ratio)} (goal <= 1.5${ratio <= 1.5 && clean ? ', met' : ', NOT met'}${clean ? ', no 5xx' : ', with 5xx'})`);
  }
  console.log(`first ${COLD_WAVE} requests at once against cold workers (each function's workers recycled first):`);
  for (const route of ['echo', 'predict'] as const) line(`cold ${COLD_WAVE}`, route, cold[route]);
}

interface BundleFigures {
  path: string;
  bytes: number;
  /** Median ms to require the bundle in a fresh Node, as the function runs (NODE_OPTIONS=--enable-source-maps). */
  initMs: number;
  /** The same without source maps. */
  initNoMapsMs: number;
  /** Median wall ms of the whole fresh process (spawn, require, exit). */
  processMs: number;
}

/**
 * Synthesizes the two functions with the construct the stack uses (PlatformFunction: the same
 * esbuild options), into .bench/serving/cdk.out, and finds each asset directory through the
 * template. The ONNX layer is left out: it is an asset of its own and does not change the bundle.
 */
async function synthBundles(): Promise<Record<Route, string>> {
  const { App, RemovalPolicy, Stack } = await import('aws-cdk-lib');
  const { RetentionDays } = await import('aws-cdk-lib/aws-logs');
  const { PlatformFunction } = await import('../lib/platform-function.js');
  const outdir = join(ROOT, '.bench', 'serving', 'cdk.out');
  // Asset metadata names each function's bundle folder in the template, as the CDK CLI's synth does.
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'ServingBenchBundles', { env: { account: '000000000000', region: 'us-east-1' } });
  const common = { logRetention: RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY, memorySize: 1024 };
  new PlatformFunction(stack, 'Predict', { ...common, handlerDir: 'predict', description: 'bench' });
  new PlatformFunction(stack, 'Echo', { ...common, handlerDir: 'bench-echo', description: 'bench' });
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
  const assetOf = (prefix: string) => {
    const found = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix));
    const asset = found?.[1].Metadata?.['aws:asset:path'];
    if (!asset) throw new Error(`no bundled asset for ${prefix} in the synthesized template`);
    return join(outdir, asset, 'index.js');
  };
  return { predict: assetOf('PredictFunction'), echo: assetOf('EchoFunction') };
}

/** Requires a bundle in fresh Node processes, with the settings a cold start reads (they name nothing real). */
function measureInit(bundle: string): Omit<BundleFigures, 'path' | 'bytes'> {
  const env = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    REGISTRY_TABLE: 'bench',
    PREDICTION_LOG_STREAM: 'bench',
    REQUEST_INDEX_TABLE: 'bench',
    REQUEST_INDEX_TTL_DAYS: '1',
    ROUTING_STALENESS_MS: '2000',
    ENVIRONMENT_NAME: 'local',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  const script = `const t = performance.now(); require(${JSON.stringify(bundle)}); process.stdout.write(String(performance.now() - t));`;
  const once = (flags: string[]) => {
    const started = performance.now();
    const child = spawnSync(process.execPath, [...flags, '-e', script], { env, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`requiring ${bundle} failed:\n${child.stderr}`);
    return { initMs: Number(child.stdout), processMs: performance.now() - started };
  };
  once(['--enable-source-maps']); // the file system's cache, as on a warm host
  const withMaps = Array.from({ length: BUNDLE_INIT_RUNS }, () => once(['--enable-source-maps']));
  const withoutMaps = Array.from({ length: BUNDLE_INIT_RUNS }, () => once([]));
  return {
    initMs: median(withMaps.map((r) => r.initMs)),
    initNoMapsMs: median(withoutMaps.map((r) => r.initMs)),
    processMs: median(withMaps.map((r) => r.processMs)),
  };
}

async function runBundles(): Promise<Record<Route, BundleFigures>> {
  const bundles = await synthBundles();
  const figures = {} as Record<Route, BundleFigures>;
  for (const route of ['predict', 'echo'] as const) figures[route] = { path: bundles[route], bytes: statSync(bundles[route]).size, ...measureInit(bundles[route]) };
  return figures;
}

function printBundles(figures: Record<Route, BundleFigures>): void {
  const { predict, echo } = figures;
  console.log('');
  console.log(`the functions' bundles (synthesized by PlatformFunction, as deployed); init = require() in a fresh Node ${process.version}, median of ${BUNDLE_INIT_RUNS}`);
  console.log(`${pad('function', 10)}${pad('index.js', 12)}${pad('init ms', 10)}${pad('init ms, no source maps', 25)}fresh process ms`);
  for (const [name, f] of [['predict', predict], ['echo', echo]] as const) {
    console.log(`${pad(name, 10)}${pad(`${fmt(f.bytes / 1024, 0)} KiB`, 12)}${pad(fmt(f.initMs, 1), 10)}${pad(fmt(f.initNoMapsMs, 1), 25)}${fmt(f.processMs, 1)}`);
  }
  console.log(
    `predict / echo: size ${fmt(predict.bytes / echo.bytes, 0)}x, init ${fmt(predict.initMs / echo.initMs, 1)}x (+${fmt(predict.initMs - echo.initMs, 1)} ms), ` +
      `fresh process ${fmt(predict.processMs / echo.processMs)}x`,
  );
}

/** Which sections run: BENCH_SERVING_SECTIONS=in-process,api,bundle (default all; the API section needs the deployed local stack). */
function servingSections(): Set<string> {
  const known = ['in-process', 'api', 'bundle'];
  const chosen = (process.env.BENCH_SERVING_SECTIONS ?? known.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = chosen.filter((s) => !known.includes(s));
  if (unknown.length > 0) throw new Error(`BENCH_SERVING_SECTIONS takes ${known.join(', ')}; got ${unknown.join(', ')}`);
  return new Set(chosen);
}

/** The api and bundle sections. */
async function runDeployedSections(sections: Set<string>): Promise<void> {
  if (sections.has('api')) {
    const target = await apiTarget();
    if ('skip' in target) {
      console.log('');
      console.log(`serving, through the emulator's API Gateway: skipped, ${target.skip}`);
    } else {
      printApi(await runApi(target));
    }
  }
  if (sections.has('bundle')) printBundles(await runBundles());
}

export async function runServingBench(): Promise<void> {
  const sections = servingSections();
  if (sections.has('in-process')) {
    const results = runInProcess(await bundlePredict());
    printInProcess(results);
    const single = results.find((r) => r.kind === 'logistic' && r.rows === 1)!;
    // Lambda bills wall-clock time.
    printCost(results, (single.pathWallSeconds / (single.requests / REPEATS)) * 1000);
  }
  await runDeployedSections(sections);
}

if (process.argv[2] === '--child') {
  const results = await inProcessChild(process.argv[3] as ModelKind, process.argv[4] ?? (await bundlePredict()));
  process.stderr.write(`\n${JSON.stringify(results)}\n`);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runServingBench();
}
