// `npm run smoke -- --env <env> [--json]`: the post-deploy smoke test of a platform stack, run by the
// delivery pipeline and the GitHub Actions workflow after each deploy (docs/DELIVERY.md, "Smoke test").
// It drives the mlops CLI against the environment's APIs, so it needs what a CLI user needs:
// execute-api:Invoke (and cloudformation:DescribeStacks when MLOPS_API_URL is unset). One model and one
// dataset name per environment, reused run after run; the dataset's bytes never change, so it stays one version.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../lambdas/core/environments.js';
import { MlopsError } from '../lambdas/core/errors.js';
import { SMOKE_NAME } from '../lib/delivery/smoke-access.js';
import { makeCreditDataset } from './make-demo-dataset.js';

/** The generated table: small enough to train in seconds, large enough for the gate's 100 held-out rows. */
const ROWS = 400;
const SEED = 7;
/** A warm predict function trusts its routing for serving.routingStalenessSeconds (default 2 s): how long the new version may take to answer. */
const SETTLE_MS = 60_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export type SmokeStep = 'arguments' | 'dataset' | 'model' | 'train' | 'predict' | 'check';

/** The smoke model: the demo's credit-default task on the generated table, with a gate it passes by a wide margin. */
export const smokeSpec = {
  name: SMOKE_NAME,
  task: 'binary_classification',
  target: 'defaulted',
  positiveLabel: '1',
  features: ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'].map((name) => ({ name, type: 'numeric' })),
  training: { algorithm: 'logistic_regression', params: { C: 1, maxIterations: 300 }, seed: 42, testFraction: 0.25 },
  gate: { minAccuracy: 0.7, minRocAuc: 0.75, minRows: 100 },
  dataset: SMOKE_NAME,
  owner: 'smoke-test',
};

/** Two applicants far apart on every risk factor: any model trained on the table tells them apart. */
const LOW_RISK = { age: 60, income: 150000, debt_ratio: 0.1, credit_lines: 4, late_payments: 0 };
const HIGH_RISK = { age: 25, income: 12000, debt_ratio: 1.2, credit_lines: 6, late_payments: 8 };

// What the smoke reads from the CLI's --json output (docs/CLI.md); the rest is left alone.
const CliErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const RegisteredSchema = z.object({ dataset: z.object({ name: z.string(), version: z.string(), rowCount: z.number() }), created: z.boolean() });
const ModelPutSchema = z.object({ model: z.string(), created: z.boolean() });
const TrainedSchema = z.object({
  runId: z.string(),
  status: z.string(),
  version: z.number().int().optional(),
  run: z.object({ modelVersion: z.number().int().optional(), failure: z.object({ step: z.string(), error: z.string(), reason: z.string() }).optional() }).optional(),
});
const ModelDetailSchema = z.object({ aliases: z.array(z.object({ alias: z.string(), version: z.number().int() })) });
const PredictedSchema = z.object({ status: z.number().int(), body: z.unknown(), arm: z.string().nullable() });
const PredictionSchema = z.object({ label: z.enum(['0', '1']), probability: z.number().min(0).max(1), probabilities: z.record(z.string(), z.number().min(0).max(1)) });
const AnswerSchema = z.object({ model: z.literal(SMOKE_NAME), version: z.number().int(), arm: z.string(), requestId: z.string().min(1), predictions: z.tuple([PredictionSchema, PredictionSchema]) });

/** The --json output (docs/DELIVERY.md, "Smoke test"): fields may be added, never renamed or removed. */
export interface SmokeReport {
  ok: boolean;
  env: string;
  model: string;
  seconds: number;
  modelCreated?: boolean;
  dataset?: { name: string; version: string; rows: number; created: boolean };
  run?: { runId: string; status: string; version: number | null };
  prediction?: { version: number; arm: string; source: 'trained' | 'production'; requestId: string; attempts: number; probabilities: [number, number] };
  /** Only when ok is false. */
  step?: SmokeStep;
  error?: { code: string; message: string };
}

function fail(step: SmokeStep, code: string, message: string): never {
  throw new MlopsError(code, message, { step });
}

/** Runs the CLI from the sources (as `npm run mlops` does) with --env and --json; its JSON answer, or a failure of `step` with the CLI's error code. */
async function mlops(env: EnvironmentName, step: SmokeStep, ...args: string[]): Promise<{ code: number; json: unknown }> {
  const cli = [process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'mlops.ts'), '--env', env, '--json', ...args]] as const;
  const environment = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cli[0], cli[1], { cwd: ROOT, env: environment, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    return fail(step, 'CLI_FAILED', `mlops ${args[0]} exited ${code} without a JSON answer: ${lastLine(stderr || stdout)}`);
  }
  const error = CliErrorSchema.safeParse(json);
  if (error.success) fail(step, error.data.error.code, error.data.error.message);
  return { code, json };
}

const lastLine = (text: string) => text.trim().split('\n').at(-1)?.slice(0, 300) ?? '(no output)';

function parseAnswer<S extends z.ZodType>(schema: S, json: unknown, step: SmokeStep, what: string): z.output<S> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return fail(step, 'INVALID_ANSWER', `${what}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
}

/** The whole smoke test against `env`; `report` is filled in as the steps pass, so a failure still tells what was done. */
async function smoke(env: EnvironmentName, report: SmokeReport, begin: (step: SmokeStep, line: string) => void): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'mlops-smoke-'));
  try {
    const csv = join(folder, `${SMOKE_NAME}.csv`);
    writeFileSync(csv, makeCreditDataset(ROWS, SEED));
    const specFile = join(folder, 'spec.json');
    writeFileSync(specFile, JSON.stringify(smokeSpec));

    begin('dataset', `registering ${SMOKE_NAME} (${ROWS} generated rows, seed ${SEED})`);
    const source = `generated by scripts/smoke.ts (makeCreditDataset ${ROWS} rows, seed ${SEED})`;
    const registered = await mlops(env, 'dataset', 'dataset', 'register', csv, '--name', SMOKE_NAME, '--target', 'defaulted', '--owner', 'smoke-test', '--source', source);
    const { dataset, created } = parseAnswer(RegisteredSchema, registered.json, 'dataset', 'dataset register');
    report.dataset = { name: dataset.name, version: dataset.version, rows: dataset.rowCount, created };

    begin('model', `putting the spec of ${SMOKE_NAME}`);
    const put = parseAnswer(ModelPutSchema, (await mlops(env, 'model', 'models', 'create', '--spec', specFile)).json, 'model', 'models create');
    report.modelCreated = put.created;

    begin('train', `${SMOKE_NAME} on ${SMOKE_NAME}@${dataset.version.slice(0, 12)}, waiting for the run`);
    const trained = parseAnswer(TrainedSchema, (await mlops(env, 'train', 'train', SMOKE_NAME, '--dataset', `${SMOKE_NAME}@${dataset.version}`, '--wait')).json, 'train', 'train --wait');
    const version = trained.run?.modelVersion ?? trained.version ?? null;
    report.run = { runId: trained.runId, status: trained.status, version };
    // A released version must answer; one waiting for a person's approval cannot yet, so production answers instead.
    let expected: { version: number; source: 'trained' | 'production' };
    if (trained.status === 'SUCCEEDED' && version !== null) {
      expected = { version, source: 'trained' };
    } else if (trained.status === 'WAITING_FOR_APPROVAL') {
      const detail = parseAnswer(ModelDetailSchema, (await mlops(env, 'predict', 'models', 'show', SMOKE_NAME)).json, 'predict', 'models show');
      const production = detail.aliases.find((alias) => alias.alias === 'production');
      if (!production) {
        return fail('predict', 'NO_PRODUCTION_VERSION', `v${version} waits for approval in ${env} and ${SMOKE_NAME} has no production version to answer: approve it once (mlops --env ${env} approve ${SMOKE_NAME} ${version} --reason "smoke test")`);
      }
      expected = { version: production.version, source: 'production' };
    } else {
      const failure = trained.run?.failure;
      return fail('train', 'RUN_FAILED', `run ${trained.runId} ended ${trained.status}${failure ? ` at ${failure.step}: ${failure.error}: ${failure.reason}` : ''}`);
    }

    begin('predict', `expecting v${expected.version} (${expected.source === 'trained' ? 'the version just trained' : 'production; the new version waits for approval'})`);
    const input = JSON.stringify({ instances: [LOW_RISK, HIGH_RISK] });
    const deadline = Date.now() + SETTLE_MS;
    for (let attempts = 1; ; attempts += 1) {
      const predicted = parseAnswer(PredictedSchema, (await mlops(env, 'predict', 'predict', SMOKE_NAME, '--input', input)).json, 'predict', 'predict');
      if (predicted.status !== 200) fail('predict', `HTTP_${predicted.status}`, `the prediction route answered ${predicted.status}: ${JSON.stringify(predicted.body).slice(0, 300)}`);
      const answer = parseAnswer(AnswerSchema, predicted.body, 'check', 'the prediction answer');
      if (answer.version === expected.version && answer.arm === 'production') {
        const [low, high] = answer.predictions;
        report.prediction = { version: answer.version, arm: answer.arm, source: expected.source, requestId: answer.requestId, attempts, probabilities: [low.probability, high.probability] };
        if (low.label !== '0' || high.label !== '1') {
          fail('check', 'WRONG_ANSWER', `v${answer.version} labelled the low-risk applicant ${low.label} (p=${low.probability.toFixed(3)}) and the high-risk one ${high.label} (p=${high.probability.toFixed(3)}); expected 0 and 1`);
        }
        return;
      }
      if (Date.now() > deadline) {
        return fail('check', 'WRONG_VERSION', `after ${attempts} predictions over ${SETTLE_MS / 1000} s, v${answer.version} (${answer.arm}) still answers instead of v${expected.version} (production)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function summary(report: SmokeReport): string {
  if (!report.ok) return `smoke failed at ${report.step}${report.env ? ` (${report.env})` : ''}: ${report.error?.code}: ${report.error?.message}`;
  const { dataset, run, prediction } = report;
  const from = prediction?.source === 'trained' ? 'the version just trained' : `production; v${run?.version} waits for approval`;
  return (
    `smoke ok (${report.env}): ${dataset?.name}@${dataset?.version.slice(0, 12)} (${dataset?.created ? 'new version' : 'same version'}), ` +
    `${report.model} v${run?.version} ${run?.status} (run ${run?.runId}), prediction from v${prediction?.version} (${from}) in ${report.seconds.toFixed(1)} s`
  );
}

async function main(): Promise<void> {
  const started = Date.now();
  const report: SmokeReport = { ok: false, env: '', model: SMOKE_NAME, seconds: 0 };
  let json = process.argv.includes('--json');
  // The step under way: an unexpected error (not a failure the smoke names) is charged to it.
  let current: SmokeStep = 'arguments';
  const begin = (step: SmokeStep, line: string) => {
    current = step;
    if (!json) process.stderr.write(`[smoke ${report.env}] ${step}: ${line}\n`);
  };
  try {
    const { values } = parseArgs({ options: { env: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false });
    json = values.json === true;
    report.env = values.env ?? '';
    const env = ENVIRONMENT_NAMES.find((name) => name === values.env);
    if (!env) fail('arguments', 'INVALID_INPUT', `--env must be one of ${ENVIRONMENT_NAMES.join(', ')}${values.env === undefined ? '' : ` (got "${values.env}")`}`);
    await smoke(env, report, begin);
    report.ok = true;
  } catch (error) {
    const known = error instanceof MlopsError;
    report.step = known && error.step ? (error.step as SmokeStep) : current;
    // node:util's parseArgs throws plain TypeErrors (ERR_PARSE_ARGS_*) for unknown or malformed options.
    const code = known ? error.code : current === 'arguments' ? 'INVALID_INPUT' : 'ERROR';
    // One line, whatever the CLI or the API said.
    report.error = { code, message: (error as Error).message.replace(/\s+/g, ' ').trim() };
  }
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else (report.ok ? process.stdout : process.stderr).write(`${summary(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
