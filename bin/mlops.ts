#!/usr/bin/env -S npx tsx
// The mlops CLI: a thin client of a deployed platform stack. Every command takes --json, whose
// output is a documented contract (docs/CLI.md); human output goes to stdout, progress to stderr.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../lib/config.js';
import { deployLocal, ensureEmulator, LOCAL_REGION, run, PROJECT_ROOT, useLocalEndpoint } from '../lib/client/local-environment.js';
import { formatMetrics } from '../lib/client/format.js';
import { PlatformClient, type PipelineOutcome } from '../lib/client/platform-client.js';
import { transferVersion } from '../lib/client/transfer.js';
import {
  formatAudit,
  formatDatasetLineage,
  formatDecision,
  formatModel,
  formatModelList,
  formatMove,
  formatRelease,
  formatRollback,
  formatVersion,
  formatVersionLineage,
  headlineMetrics,
  parseDatasetLineageRef,
  parseExpected,
  parseModelName,
  parseModelRef,
  parseReason,
  parseTargetAlias,
  parseVersionNumber,
  parseWeightFor,
  releaseReport,
  waitingForApproval,
} from '../lib/client/registry-format.js';
import { readStackOutputs } from '../lib/client/stack-outputs.js';
import { stackName } from '../lib/platform-stack.js';
import { MlopsError } from '../lambdas/core/errors.js';
import { parseOrThrow } from '../lambdas/core/errors.js';
import { inferFeatures, ModelSpecFileSchema, parseModelSpec, withParams } from '../lambdas/core/training/model-spec.js';
import { compareRuns, reproductionVerdict, specSchemaProblems } from '../lambdas/core/training/run-comparison.js';
import { importedFeatureNames } from '../lambdas/core/training/imported-model.js';
import { checkInputs, loadOnnx } from '../lambdas/core/serving/onnx-model.js';
import { createHash } from 'node:crypto';
import type { ValidationReport } from '../lambdas/core/data/validation.js';
import { parseDeclaredSchema, type DatasetProfile } from '../lambdas/core/data/profile.js';
import { ALIASES, SETTABLE_ALIASES, type SettableAlias } from '../lambdas/core/registry/alias-rules.js';
import { type TrainingRequest } from '../lambdas/core/training/run.js';
import { DATASET_FORMATS, type DatasetFormat } from '../lambdas/core/data/table-readers.js';
import { DATASET_NAME, DATASET_VERSION, type DatasetVersion } from '../lambdas/core/data/dataset-version.js';

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

async function client(env: EnvironmentName = globals().env): Promise<PlatformClient> {
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
    await runAndReport(platform, { model, dataset, mode: 'import', onnx: { uri, sha256 }, trigger: 'import', actor: process.env.USER ?? 'cli' }, true);
  });

models
  .command('list')
  .description('every model with its newest version and where its aliases point')
  .action(async () => {
    const list = await (await client()).listModels();
    print({ models: list }, () => formatModelList(list));
  });
models
  .command('show')
  .description('a model with its aliases and versions; with @<version> or @<alias>, one version: status, approval, gate, metrics')
  .argument('<model[@version|@alias]>', `a model, or one of its versions by number or alias (${ALIASES.join(', ')})`)
  .action(async (ref: string) => {
    const { model, version } = parseModelRef(ref);
    const platform = await client();
    if (version === undefined) {
      const detail = await platform.showModel(model);
      print(detail, () => formatModel(detail));
      return;
    }
    const record = await platform.getVersion(model, version);
    print(record, () => formatVersion(record, typeof version === 'string' ? version : undefined));
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
  // A run that reaches WaitForApproval may wait days for a person: stop there and say what to type.
  const outcome = await platform.waitForRelease(runId, executionArn, (step) => progress(`  -> ${step}`));
  return { runId, executionArn, outcome };
}

/** Starts a run and prints how it ended (or its id, when not waiting): what `train` and `models import` answer. */
async function runAndReport(platform: PlatformClient, request: TrainingRequest, wait: boolean): Promise<void> {
  const { runId, executionArn, outcome } = await runAndWait(platform, request, wait);
  if (!outcome) print({ runId, executionArn, status: 'RUNNING' }, () => runId);
  else printOutcome(request.model, outcome);
}

/** A run's outcome; one waiting for approval is no failure: it prints the commands that decide it. */
function printOutcome(model: string, outcome: PipelineOutcome): void {
  const described = describeRun(outcome.run) ?? `run ${outcome.runId}: ${outcome.status}`;
  if (outcome.status === 'WAITING_FOR_APPROVAL') {
    const version = outcome.run?.modelVersion;
    print({ ...outcome, ...(version !== undefined ? { version } : {}) }, () => `${described}\n${waitingForApproval(model, version, outcome.runId, globals().env)}`);
    return;
  }
  print(outcome, () => described);
  if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
}

program
  .command('train')
  .description('start the training pipeline for a model')
  .argument('<model>')
  .option('--dataset <name[@version]>', "dataset to train on (newest version when no @version; default: the spec's dataset)")
  .option('--param <key=value>', 'override an algorithm parameter for this run (repeatable)', parseParam, {})
  .option('--wait', 'wait for the run to end (or to wait for approval), showing each step')
  .option('--register-only', 'register the version as candidate and stop: no release to production (promote it later)')
  .action(async (model: string, options: { dataset?: string; param: Record<string, number | boolean | string>; wait?: boolean; registerOnly?: boolean }) => {
    const platform = await client();
    const dataset = options.dataset ? parseDatasetRef(options.dataset) : await specDataset(platform, model);
    await checkTrainingRequest(platform, model, dataset, options.param);
    await runAndReport(
      platform,
      { model, dataset, params: options.param, trigger: 'manual', actor: process.env.USER ?? 'cli', release: options.registerOnly !== true },
      options.wait === true,
    );
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
      records.map((r) => `${r.runId}  ${r.status.padEnd(9)} ${r.startedAt}  ${r.mode === 'reproduce' ? 'reproduce ' : ''}${formatMetrics(headlineMetrics(r.metrics))}`).join('\n') || 'no runs',
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

program
  .command('promote')
  .description('point an alias at a version; production goes through the release path: evaluation against production, gate, approval where required')
  .argument('<model>')
  .argument('<version>', 'the version number')
  .requiredOption('--to <alias>', `the alias to move: ${SETTABLE_ALIASES.join(', ')}`)
  .option('--reason <text>', 'why; recorded in the audit log (default: "promoted to <alias> with the CLI")')
  .option('--weight <w>', 'share of traffic: a canary\'s is between 0 and 1 (default 0.1); production takes 1, candidate and shadow 0')
  .option('--expect <version|none>', 'where the alias points now (none: nowhere); the move fails with CONFLICT if it moved meanwhile')
  .option('--no-wait', 'production: return once the release run has started')
  .addOption(new Option('--from-env <name>', 'promote a version of this environment into --to-env: its artifact (and dataset and spec, when missing) is copied, then gated and registered there as a new version').choices(ENVIRONMENT_NAMES))
  .addOption(new Option('--to-env <name>', 'the environment the version is promoted into (with --from-env)').choices(ENVIRONMENT_NAMES))
  .action(async (modelArg: string, versionArg: string, options: { to: string; reason?: string; weight?: string; expect?: string; wait: boolean; fromEnv?: EnvironmentName; toEnv?: EnvironmentName }) => {
    const model = parseModelName(modelArg);
    const version = parseVersionNumber(versionArg);
    const alias = parseTargetAlias(options.to);
    const weight = options.weight === undefined ? undefined : parseWeightFor(alias, options.weight);
    const expectedVersion = options.expect === undefined ? undefined : parseExpected(options.expect, { allowNone: true });
    const reason = options.reason === undefined ? `promoted to ${alias} with the CLI` : parseReason(options.reason);
    if ((options.fromEnv === undefined) !== (options.toEnv === undefined)) {
      throw new MlopsError('INVALID_INPUT', 'give both --from-env and --to-env, or neither', { field: options.fromEnv === undefined ? 'from-env' : 'to-env' });
    }
    if (options.fromEnv && options.toEnv) {
      await promoteAcross(model, version, alias, { from: options.fromEnv, to: options.toEnv, reason, wait: options.wait, ...(weight !== undefined ? { weight } : {}) });
      return;
    }
    const platform = await client();
    const answer = await platform.promote(model, version, alias, {
      reason,
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
      ...(weight !== undefined ? { weight } : {}),
    });
    if (answer.status === 'MOVED') {
      print(answer, () => formatMove(model, answer));
      return;
    }
    progress(`release run ${answer.runId} started: ${model} v${version} -> production`);
    const outcome = options.wait ? await platform.waitForRelease(answer.runId, answer.executionArn, (step) => progress(`  -> ${step}`)) : undefined;
    const production = outcome?.status === 'SUCCEEDED' ? (await platform.showModel(model)).aliases.find((a) => a.alias === 'production') : undefined;
    const report = releaseReport(model, version, answer, outcome, production);
    print(report, () => formatRelease(report, globals().env));
    if (report.status === 'FAILED') process.exitCode = 1;
  });

/**
 * `promote --from-env A --to-env B`: the version is copied into B and judged there as a new
 * version; production goes through B's gate and approval, another alias moves once it registers.
 */
async function promoteAcross(model: string, version: number, alias: SettableAlias, options: { from: EnvironmentName; to: EnvironmentName; reason: string; wait: boolean; weight?: number }) {
  const source = await client(options.from);
  const target = await client(options.to);
  const started = await transferVersion({
    model,
    version,
    from: { environment: options.from, platform: source },
    to: { environment: options.to, platform: target },
    alias,
    reason: options.reason,
    actor: process.env.USER ?? 'cli',
    onProgress: progress,
  });
  progress(`run ${started.runId} started in ${options.to}: ${model} v${version} of ${options.from} -> ${alias}`);
  const running = { status: 'RUNNING' as const, runId: started.runId, executionArn: started.executionArn, version };
  if (!options.wait && alias === 'production') {
    print({ ...running, model, from: options.from, to: options.to, copied: started.copied }, () => `release run ${started.runId} started in ${options.to}`);
    return;
  }
  const outcome = await target.waitForRelease(started.runId, started.executionArn, (step) => progress(`  -> ${step}`));
  const newVersion = outcome.run?.modelVersion;
  const origin = { from: { environment: options.from, version }, to: options.to, copied: started.copied };
  if (alias !== 'production') {
    // Registered as a candidate in the target; then the alias moves there like any other move.
    if (outcome.status !== 'SUCCEEDED' || !newVersion) {
      const failed = releaseReport(model, version, running, outcome);
      print({ ...failed, ...origin }, () => formatRelease(failed, options.to));
      process.exitCode = 1;
      return;
    }
    const moved = await target.promote(model, newVersion, alias, { reason: options.reason, ...(options.weight !== undefined ? { weight: options.weight } : {}) });
    print({ ...moved, model, runId: started.runId, version: newVersion, ...origin }, () => `copied ${model} v${version} of ${options.from} to ${options.to} as v${newVersion}; ${alias} -> v${newVersion}`);
    return;
  }
  const production = outcome.status === 'SUCCEEDED' ? (await target.showModel(model)).aliases.find((a) => a.alias === 'production') : undefined;
  const report = { ...releaseReport(model, newVersion ?? version, running, outcome, production), ...origin };
  print(report, () => `${formatRelease(report, options.to)}\n(copied from ${options.from} v${version}${newVersion ? ` as ${options.to} v${newVersion}` : ''})`);
  if (report.status === 'FAILED') process.exitCode = 1;
}

program
  .command('rollback')
  .description('move production back to the previous version (where it was before its last move)')
  .argument('<model>')
  .option('--reason <text>', 'why; recorded in the audit log (default: "rolled back with the CLI")')
  .option('--expect <version>', 'the version production points at now; the rollback fails with CONFLICT if it moved meanwhile')
  .action(async (modelArg: string, options: { reason?: string; expect?: string }) => {
    const model = parseModelName(modelArg);
    const reason = options.reason === undefined ? 'rolled back with the CLI' : parseReason(options.reason);
    const expectedVersion = options.expect === undefined ? undefined : parseExpected(options.expect, { allowNone: false });
    const answer = await (await client()).rollback(model, { reason, ...(expectedVersion !== undefined ? { expectedVersion } : {}) });
    print(answer, () => formatRollback(model, answer));
  });

for (const decision of ['approve', 'reject'] as const) {
  program
    .command(decision)
    .description(
      decision === 'approve'
        ? 'approve a version waiting for approval: its release resumes and moves production'
        : 'reject a version waiting for approval: its release ends and the version never serves',
    )
    .argument('<model>')
    .argument('<version>', 'the version number')
    .requiredOption('--reason <text>', 'why; recorded with the decision in the audit log')
    .action(async (modelArg: string, versionArg: string, options: { reason: string }) => {
      const model = parseModelName(modelArg);
      const version = parseVersionNumber(versionArg);
      const reason = parseReason(options.reason);
      const platform = await client();
      const answer = decision === 'approve' ? await platform.approve(model, version, reason) : await platform.reject(model, version, reason);
      print(answer, () => formatDecision(answer));
    });
}

program
  .command('lineage')
  .description('where a model version came from and where it went (dataset -> run -> version -> alias moves); with --dataset, the versions trained on a dataset version')
  .argument('[model@version]', 'a model version, by number or alias')
  .option('--dataset <name@version>', 'a dataset version (a sha256, or latest) instead of a model version')
  .action(async (ref: string | undefined, options: { dataset?: string }) => {
    if (options.dataset !== undefined) {
      if (ref !== undefined) throw new MlopsError('INVALID_INPUT', `give a model version (${ref}) or --dataset, not both`, { field: 'dataset' });
      const { name, version } = parseDatasetLineageRef(options.dataset);
      const lineage = await (await client()).datasetLineage(name, version);
      print(lineage, () => formatDatasetLineage(lineage));
      return;
    }
    if (ref === undefined) {
      throw new MlopsError('INVALID_INPUT', 'name a model version (<model>@<version> or <model>@<alias>) or a dataset version (--dataset <name>@<sha256|latest>)', { field: 'model' });
    }
    const { model, version } = parseModelRef(ref, { versionRequired: true });
    const lineage = await (await client()).versionLineage(model, version);
    print(lineage, () => formatVersionLineage(lineage));
  });

program
  .command('audit')
  .description("a model's audit log, oldest first: who did what to which version, when and why")
  .argument('<model>')
  .action(async (modelArg: string) => {
    const model = parseModelName(modelArg);
    const events = await (await client()).audit(model);
    print({ model, events }, () => formatAudit(model, events));
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
