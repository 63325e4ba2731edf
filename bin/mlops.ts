#!/usr/bin/env -S npx tsx
// The mlops CLI: a thin client of a deployed platform stack. Every command takes --json, whose
// output is a documented contract (docs/CLI.md); human output goes to stdout, progress to stderr.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../lib/config.js';
import { deployLocal, ensureEmulator, LOCAL_REGION, run, PROJECT_ROOT, useLocalEndpoint } from '../lib/client/local-environment.js';
import { formatMetrics } from '../lib/client/format.js';
import { PlatformClient } from '../lib/client/platform-client.js';
import { readStackOutputs } from '../lib/client/stack-outputs.js';
import { stackName } from '../lib/platform-stack.js';
import { MlopsError } from '../lambdas/core/errors.js';
import { parseOrThrow } from '../lambdas/core/errors.js';
import { inferFeatures, ModelSpecFileSchema, parseModelSpec, withParams } from '../lambdas/core/model-spec.js';
import { compareRuns, reproductionVerdict, specSchemaProblems } from '../lambdas/core/run-comparison.js';
import { importedFeatureNames } from '../lambdas/core/imported-model.js';
import { checkInputs, loadOnnx } from '../lambdas/core/onnx-model.js';
import { createHash } from 'node:crypto';
import type { ValidationReport } from '../lambdas/core/dataset.js';
import { parseDeclaredSchema, type DatasetProfile } from '../lambdas/core/profile.js';
import { DATASET_FORMATS, DATASET_NAME, DATASET_VERSION, type DatasetFormat, type DatasetVersion, type TrainingRequest } from '../lambdas/core/run.js';

interface GlobalOptions {
  env: EnvironmentName;
  json?: boolean;
}

const program = new Command('mlops')
  .description('serverless-mlops: datasets, training runs, models and predictions on a deployed platform')
  .addOption(new Option('--env <name>', 'environment whose stack to use').choices(ENVIRONMENT_NAMES).default('local'))
  .option('--json', 'print one JSON document on stdout (for scripts)')
  .showHelpAfterError();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();
const progress = (line: string) => {
  if (!globals().json) process.stderr.write(`${line}\n`);
};

function print(json: unknown, human: () => string): void {
  process.stdout.write(globals().json ? `${JSON.stringify(json, null, 2)}\n` : `${human()}\n`);
}

async function client(): Promise<PlatformClient> {
  const { env } = globals();
  if (env === 'local') useLocalEndpoint();
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (env === 'local' ? LOCAL_REGION : undefined);
  if (!region) throw new MlopsError('NO_REGION', 'set AWS_REGION to the region the stack is deployed in', { field: 'AWS_REGION' });
  return new PlatformClient(await readStackOutputs(stackName(env)), region);
}

/** `name@version` or `name` (newest version). */
function parseDatasetRef(value: string): { name: string; version?: string } {
  const [name, version, extra] = value.split('@');
  const parsedName = DATASET_NAME.safeParse(name);
  if (!parsedName.success || extra !== undefined) {
    throw new MlopsError('INVALID_INPUT', `dataset "${value}": expected <name>[@<sha256>]`, { field: 'dataset' });
  }
  if (version === undefined) return { name: parsedName.data };
  const parsedVersion = DATASET_VERSION.safeParse(version);
  if (!parsedVersion.success) throw new MlopsError('INVALID_INPUT', `dataset "${value}": the version must be a sha256 (64 hex characters)`, { field: 'dataset.version' });
  return { name: parsedName.data, version: parsedVersion.data };
}

const local = program.command('local').description('the embedded emulator (MiniStack on 127.0.0.1:4566)');
for (const action of ['up', 'down', 'status', 'reset'] as const) {
  local
    .command(action)
    .description(`${action} the emulator`)
    .action(async () => {
      await run('bash', [`${PROJECT_ROOT}/scripts/emulator.sh`, action], { onLine: progress });
      print({ emulator: action, ok: true }, () => `emulator ${action}: ok`);
    });
}
local
  .command('deploy')
  .description('start the emulator if needed and deploy the local stack with cdklocal')
  .action(async () => {
    await ensureEmulator(progress);
    const outputs = await deployLocal((line) => progress(`  ${line}`));
    print({ stack: stackName('local'), outputs }, () => `deployed ${stackName('local')}`);
  });

/** Reads a JSON or YAML file, naming the file and the problem when it does not parse. */
function readSpecFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MlopsError('INVALID_INPUT', `cannot read ${what} ${file}: ${(error as Error).message}`, { field: what });
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new MlopsError('INVALID_INPUT', `${what} ${file} does not parse: ${(error as Error).message}`, { field: what });
  }
}

function describeDataset(version: DatasetVersion): string {
  const lines = [
    `dataset   ${version.name}@${version.version}`,
    `format    ${version.format}, ${version.bytes} bytes, ${version.rowCount} rows`,
    `schema    ${version.schema.source}${version.schema.target ? `, target ${version.schema.target}` : ''}`,
    ...version.schema.columns.map(
      (c) =>
        `  ${c.name.padEnd(24)} ${c.type.padEnd(8)} ${c.nullable ? 'nullable' : 'required'}${c.min !== undefined ? `  ${c.min}..${c.max}` : ''}${c.categories ? `  {${c.categories.slice(0, 8).join(', ')}${c.categories.length > 8 ? ', ...' : ''}}` : ''}`,
    ),
    `owner     ${version.owner}`,
    `source    ${version.source}`,
    `arrived   ${version.arrivedAt}`,
    `data      ${version.uri}`,
    `profile   ${version.profileUri}`,
  ];
  if (version.quarantined) lines.push(`QUARANTINED: ${version.quarantineReason ?? ''}`);
  return lines.join('\n');
}

function describeReport(report: ValidationReport & { reportUri?: string }): string {
  const mark = (c: ValidationReport['checks'][number]) => (c.passed ? 'pass' : c.severity === 'block' ? 'FAIL' : 'warn');
  return [
    `${report.passed ? 'PASSED' : 'FAILED'}: ${report.summary}`,
    ...report.checks.map((c) => `  ${mark(c).padEnd(5)} ${`${c.name}${c.column ? `[${c.column}]` : ''}`.padEnd(36)} ${c.detail}`),
    ...(report.reportUri ? [`report ${report.reportUri}`] : []),
  ].join('\n');
}

const dataset = program.command('dataset').description('versioned datasets');
dataset
  .command('register')
  .description('register a CSV, Parquet or JSON Lines file as an immutable dataset version (its id is the sha256 of its bytes)')
  .argument('<file>', 'CSV (header row), Parquet or JSON Lines file')
  .requiredOption('--name <dataset>', 'dataset name')
  .option('--schema <file>', 'declared schema (JSON or YAML); without it the schema is inferred')
  .option('--target <column>', 'the target column, profiled as classes or a distribution')
  .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(DATASET_FORMATS))
  .option('--owner <owner>', 'owner recorded with the version', process.env.USER ?? 'unknown')
  .option('--source <source>', 'where the data came from (default: the file name)')
  .action(async (file: string, options: { name: string; schema?: string; target?: string; format?: DatasetFormat; owner: string; source?: string }) => {
    const name = DATASET_NAME.safeParse(options.name);
    if (!name.success) throw new MlopsError('INVALID_INPUT', `--name: ${name.error.issues[0]?.message}`, { field: 'name' });
    const schema = options.schema ? parseDeclaredSchema(readSpecFile(options.schema, 'schema')) : undefined;
    const { dataset: version, created } = await (await client()).registerDataset({
      name: name.data,
      path: file,
      fileName: file,
      owner: options.owner,
      ...(options.source ? { source: options.source } : {}),
      ...(options.format ? { format: options.format } : {}),
      ...(schema ? { schema } : {}),
      ...(options.target ? { target: options.target } : {}),
      onProgress: progress,
    });
    print({ dataset: version, created }, () => `${created ? 'registered' : 'already registered'}\n${describeDataset(version)}`);
  });
dataset
  .command('list')
  .description('every dataset with its newest version; with a name, that dataset\'s versions, newest first')
  .argument('[name]')
  .action(async (name?: string) => {
    const platform = await client();
    if (name) {
      const versions = await platform.listDatasetVersions(name);
      print({ name, versions }, () =>
        versions.map((v) => `${v.version.slice(0, 12)}  ${v.arrivedAt}  ${String(v.rowCount).padStart(9)} rows  ${v.format}${v.quarantined ? '  QUARANTINED' : ''}`).join('\n') ||
        `no versions of ${name}`,
      );
      return;
    }
    const datasets = await platform.listDatasets();
    print({ datasets }, () => datasets.map((d) => `${d.name.padEnd(24)} ${d.versionCount} version(s), newest ${d.latestVersion.slice(0, 12)} (${d.latestArrivedAt})`).join('\n') || 'no datasets');
  });
dataset
  .command('show')
  .description('a dataset version: schema, size, lineage fields, and with --profile its profile')
  .argument('<name[@version]>', 'dataset, and a version (sha256 or a unique prefix is not accepted: give all 64 characters); newest when omitted')
  .option('--profile', 'include the profile (statistics, quantiles, frequencies)')
  .action(async (ref: string, options: { profile?: boolean }) => {
    const { name, version } = parseDatasetRef(ref);
    const platform = await client();
    const record = await platform.getDatasetVersion(name, version);
    const profile = options.profile ? await platform.getDatasetProfile(name, record.version) : undefined;
    print(profile ? { dataset: record, profile } : { dataset: record }, () =>
      [describeDataset(record), ...(profile ? ['', describeProfile(profile)] : [])].join('\n'),
    );
  });
dataset
  .command('validate')
  .description('run the data validation gate for a model on a dataset version (report stored; nothing quarantined)')
  .argument('<name[@version]>')
  .requiredOption('--model <model>', 'the model whose spec sets the checks')
  .action(async (ref: string, options: { model: string }) => {
    const { name, version } = parseDatasetRef(ref);
    const report = await (await client()).validateDataset(name, version, options.model);
    print(report, () => describeReport(report));
    if (!report.passed) process.exitCode = 1;
  });

function describeProfile(profile: DatasetProfile): string {
  const lines = [`profile   ${profile.rows} rows, ${profile.duplicateRows} duplicate(s)`];
  for (const column of profile.columns) {
    const missing = `${column.missing} missing`;
    if (column.numeric) {
      const n = column.numeric;
      lines.push(`  ${column.name.padEnd(24)} ${missing}; min ${n.min} p50 ${n.quantiles.p50?.toPrecision(4)} max ${n.max}; mean ${n.mean?.toPrecision(4)} std ${n.std?.toPrecision(4)}`);
    } else if (column.frequencies) {
      const top = column.frequencies.counters.slice(0, 5).map(([value, count]) => `${value}: ${count}`).join(', ');
      lines.push(`  ${column.name.padEnd(24)} ${missing}; ${column.frequencies.exact ? '' : '>'}${column.frequencies.counters.length} distinct; ${top}`);
    }
  }
  if (profile.target?.classes) lines.push(`target    ${profile.target.column}: ${Object.entries(profile.target.classes).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  return lines.join('\n');
}

const models = program.command('models').description('models in the registry');
models
  .command('create')
  .description('create a model (or replace its spec) from a JSON or YAML spec file')
  .requiredOption('--spec <file>', 'model spec (JSON or YAML)')
  .option('--dataset <name[@version]>', 'dataset whose schema gives the features when the spec leaves them out (default: the spec\'s dataset)')
  .action(async (options: { spec: string; dataset?: string }) => {
    const raw = parseOrThrow(ModelSpecFileSchema, readSpecFile(options.spec, 'spec'), 'model spec');
    const platform = await client();
    // The dataset is read when asked for, or when the features must come from it; a spec may name a dataset not registered yet.
    const datasetRef = options.dataset ? parseDatasetRef(options.dataset) : !raw.features && raw.dataset ? { name: raw.dataset } : undefined;
    const schema = datasetRef ? (await platform.getDatasetVersion(datasetRef.name, datasetRef.version)).schema : undefined;
    let features: unknown = raw.features;
    if (!features) {
      if (!schema) throw new MlopsError('INVALID_INPUT', 'the spec has no features: list them, or name a dataset (spec "dataset" or --dataset) to take them from', { field: 'features' });
      features = inferFeatures(schema.columns, [raw.target, ...(raw.training.timeColumn ? [raw.training.timeColumn] : []), ...raw.excludeColumns]);
    }
    const { excludeColumns: _excluded, ...declared } = raw;
    const spec = parseModelSpec({ ...declared, features });
    if (schema) rejectProblems(specSchemaProblems(spec, schema));
    const { created } = await platform.createModel(spec, process.env.USER ?? 'cli');
    print({ model: spec.name, created, spec }, () => `${created ? 'created' : 'updated'} model ${spec.name}: ${spec.task}, ${spec.training.algorithm}, ${spec.features.length} features`);
  });

models
  .command('import')
  .description('bring a model trained elsewhere (ONNX): it is validated, evaluated on the dataset\'s test split and gated like a built-in one, then served')
  .argument('<model>', 'a model created with `models create` (its spec names the task, target and numeric features, in the order the ONNX input takes them)')
  .requiredOption('--artifact <file.onnx>', 'the ONNX model: one float input [N, features]; probabilities [N, classes] (or one probability/logit column for binary), or values for regression')
  .requiredOption('--dataset <name[@version]>', 'dataset version to evaluate it on')
  .action(async (model: string, options: { artifact: string; dataset: string }) => {
    const platform = await client();
    const bytes = readFileSync(options.artifact);
    const dataset = parseDatasetRef(options.dataset);
    // Everything that can be checked here is, so a bad file starts nothing and writes nothing.
    const { spec } = await checkTrainingRequest(platform, model, dataset, {});
    const features = importedFeatureNames(spec);
    const { signature } = await loadOnnx(bytes);
    checkInputs(signature, features.length, features);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const uri = await platform.objects.put(platform.outputs.ModelsBucket, `models/${model}/imports/${sha256}.onnx`, bytes, 'application/octet-stream');
    const { runId, executionArn, outcome } = await runAndWait(
      platform,
      { model, dataset, mode: 'import', onnx: { uri, sha256 }, trigger: 'import', actor: process.env.USER ?? 'cli' },
      true,
    );
    print(outcome ?? { runId, executionArn }, () => describeRun(outcome?.run) ?? `run ${runId}: ${outcome?.status}`);
    if (outcome?.status !== 'SUCCEEDED') process.exitCode = 1;
  });

/** Problems found before anything starts become one INVALID_INPUT error naming the first field. */
function rejectProblems(problems: { field: string; problem: string }[]): void {
  if (problems.length === 0) return;
  throw new MlopsError('INVALID_INPUT', problems.map((p) => `${p.field}: ${p.problem}`).join('; '), { field: problems[0]!.field });
}

/** `--param key=value`: numbers and booleans are typed, anything else is text. */
function parseParam(value: string, previous: Record<string, number | boolean | string>): Record<string, number | boolean | string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new MlopsError('INVALID_INPUT', `--param "${value}": expected key=value`, { field: 'param' });
  const key = value.slice(0, at);
  const text = value.slice(at + 1);
  const typed = text === 'true' ? true : text === 'false' ? false : text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  return { ...previous, [key]: typed };
}

/**
 * Everything `train` can check before starting an execution, so a mistake starts nothing and
 * writes nothing: the model, the dataset version, parameter overrides, and the spec against the data.
 */
async function checkTrainingRequest(platform: PlatformClient, model: string, dataset: { name: string; version?: string }, params: Record<string, unknown>) {
  const { spec } = await platform.registry.getModel(model);
  const version = await platform.tracking.getDatasetVersion(dataset.name, dataset.version);
  const effective = withParams(spec, params);
  rejectProblems(specSchemaProblems(effective, version.schema));
  return { spec: effective, version };
}

/** The dataset a model's spec names, newest version: what `train` uses without --dataset. */
async function specDataset(platform: PlatformClient, model: string): Promise<{ name: string }> {
  const { spec } = await platform.registry.getModel(model);
  if (!spec.dataset) throw new MlopsError('INVALID_INPUT', `model ${model}'s spec names no dataset: pass --dataset <name>[@<sha256>]`, { field: 'dataset' });
  return { name: spec.dataset };
}

async function runAndWait(platform: PlatformClient, request: TrainingRequest, wait: boolean) {
  const { runId, executionArn } = await platform.startTraining(request);
  progress(`run ${runId} started`);
  if (!wait) return { runId, executionArn, outcome: undefined };
  const outcome = await platform.waitForRun(runId, executionArn, { onStep: (step) => progress(`  -> ${step}`) });
  return { runId, executionArn, outcome };
}

program
  .command('train')
  .description('start the training pipeline for a model')
  .argument('<model>')
  .option('--dataset <name[@version]>', "dataset to train on (newest version when no @version; default: the spec's dataset)")
  .option('--param <key=value>', 'override an algorithm parameter for this run (repeatable)', parseParam, {})
  .option('--wait', 'wait for the run to end, showing each step')
  .action(async (model: string, options: { dataset?: string; param: Record<string, number | boolean | string>; wait?: boolean }) => {
    const platform = await client();
    const dataset = options.dataset ? parseDatasetRef(options.dataset) : await specDataset(platform, model);
    await checkTrainingRequest(platform, model, dataset, options.param);
    const { runId, executionArn, outcome } = await runAndWait(
      platform,
      { model, dataset, params: options.param, trigger: 'manual', actor: process.env.USER ?? 'cli' },
      options.wait === true,
    );
    if (!outcome) {
      print({ runId, executionArn, status: 'RUNNING' }, () => runId);
      return;
    }
    print(outcome, () => describeRun(outcome.run) ?? `run ${runId}: ${outcome.status}`);
    if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
  });

program
  .command('reproduce')
  .description("re-run a run's training from its recorded lineage (dataset version, spec, parameters, seed) and check the artifact and metrics match exactly")
  .argument('<run>')
  .action(async (runId: string) => {
    const platform = await client();
    const original = await platform.tracking.getRun(runId);
    if (original.mode === 'import') {
      throw new MlopsError('INVALID_INPUT', `run ${runId} imported a model trained elsewhere; there is no training here to reproduce`, { field: 'run' });
    }
    if (!original.spec || !original.artifact) {
      throw new MlopsError('INVALID_INPUT', `run ${runId} has no recorded spec and artifact to reproduce (status ${original.status})`, { field: 'run' });
    }
    const { outcome } = await runAndWait(
      platform,
      {
        model: original.model,
        dataset: { name: original.dataset.name, version: original.dataset.version },
        trigger: 'reproduce',
        mode: 'reproduce',
        reproduces: runId,
        actor: process.env.USER ?? 'cli',
      },
      true,
    );
    if (!outcome?.run || outcome.status !== 'SUCCEEDED') {
      throw new MlopsError('REPRODUCTION_FAILED', `the reproduction ended ${outcome?.status}: ${outcome?.run?.failure?.reason ?? 'no run record'}`, { field: 'run' });
    }
    const verdict = reproductionVerdict(original, outcome.run);
    print(verdict, () =>
      [
        `${verdict.matches ? 'REPRODUCED exactly' : 'DID NOT REPRODUCE'}: ${runId} -> ${verdict.reproducedBy}`,
        `  artifact sha256 ${verdict.artifact.matches ? 'matches' : `differs: ${verdict.artifact.recorded} vs ${verdict.artifact.reproduced}`}`,
        ...verdict.metrics.map((m) => `  ${m.matches ? ' ' : '*'} ${m.name.padEnd(18)} ${String(m.recorded).padEnd(22)} ${String(m.reproduced)}`),
      ].join('\n'),
    );
    if (!verdict.matches) process.exitCode = 1;
  });

const runs = program.command('runs').description('experiment tracking');
runs
  .command('show')
  .argument('<run>')
  .action(async (runId: string) => {
    const record = await (await client()).tracking.getRun(runId);
    print(record, () => describeRun(record)!);
  });
runs
  .command('list')
  .argument('<model>')
  .option('--limit <n>', 'newest first, at most n', '20')
  .action(async (model: string, options: { limit: string }) => {
    const records = await (await client()).tracking.listRuns(model, Number(options.limit));
    print(records, () =>
      records.map((r) => `${r.runId}  ${r.status.padEnd(9)} ${r.startedAt}  ${r.mode === 'reproduce' ? 'reproduce ' : ''}${formatMetrics(headline(r.metrics))}`).join('\n') || 'no runs',
    );
  });
runs
  .command('compare')
  .description('two runs side by side: lineage, parameters and metrics; differences are marked with *')
  .argument('<run-a>')
  .argument('<run-b>')
  .action(async (a: string, b: string) => {
    const platform = await client();
    const comparison = compareRuns(await platform.tracking.getRun(a), await platform.tracking.getRun(b));
    const row = (r: { name: string; a: unknown; b: unknown; differs: boolean }, extra = '') =>
      `${r.differs ? '*' : ' '} ${r.name.padEnd(20)} ${String(r.a ?? '-').slice(0, 30).padEnd(32)} ${String(r.b ?? '-').slice(0, 30).padEnd(32)}${extra}`;
    print(comparison, () =>
      [
        `  ${''.padEnd(20)} ${a.slice(0, 30).padEnd(32)} ${b.slice(0, 30)}`,
        ...comparison.lineage.map((r) => row(r)),
        'parameters',
        ...comparison.parameters.map((r) => row(r)),
        'metrics',
        ...comparison.metrics.map((r) => row(r, r.delta !== null && r.differs ? ` ${r.delta > 0 ? '+' : ''}${r.delta.toPrecision(4)}` : '')),
      ].join('\n'),
    );
  });

/** The metrics worth a glance in a list: accuracy and ROC AUC, or RMSE and R². */
function headline(metrics: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!metrics) return undefined;
  const keys = metrics.rmse !== undefined ? ['rmse', 'r2'] : ['accuracy', 'rocAuc', 'f1'];
  return Object.fromEntries(keys.filter((k) => metrics[k] !== undefined).map((k) => [k, metrics[k]!]));
}

program
  .command('predict')
  .description('call the HTTPS prediction route (signed with your AWS credentials)')
  .argument('<model>')
  .requiredOption('--input <json>', 'request body, e.g. \'{"inputs":{"age":40}}\'')
  .action(async (model: string, options: { input: string }) => {
    const response = await (await client()).predict(model, options.input);
    print({ status: response.status, body: response.body }, () => `HTTP ${response.status}\n${JSON.stringify(response.body, null, 2)}`);
    if (response.status >= 400) process.exitCode = 1;
  });

function describeRun(record: Awaited<ReturnType<PlatformClient['tracking']['findRun']>>): string | undefined {
  if (!record) return undefined;
  const lines = [
    `run       ${record.runId}`,
    `status    ${record.status}`,
    `model     ${record.model}${record.modelVersion ? ` version ${record.modelVersion}` : ''}`,
    `dataset   ${record.dataset.name}@${record.dataset.version.slice(0, 12)}`,
    `metrics   ${formatMetrics(record.metrics)}`,
    `gate      ${record.gateSummary ?? '-'}`,
    `artifact  ${record.artifact ? `${record.artifact.uri} sha256=${record.artifact.sha256.slice(0, 12)}` : '-'}`,
  ];
  if (record.failure) lines.push(`failure   ${record.failure.step}: ${record.failure.reason}`);
  return lines.join('\n');
}

program.parseAsync().catch((error: unknown) => {
  const err = error instanceof MlopsError ? error : undefined;
  const body = { error: { code: err?.code ?? 'ERROR', message: (error as Error).message, field: err?.field } };
  if (globals().json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  else process.stderr.write(`error: ${body.error.message}\n`);
  process.exitCode = 1;
});
