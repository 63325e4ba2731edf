// `npm run bench`: speed and memory of the platform's pure core, each measured against a floor
// measured in the same run, so the figures read as ratios rather than machine-bound times.
//
// core (in-memory, BENCH_ROWS generated credit rows):
//   parse          read the CSV text into fields (the floor: every later stage starts from this)
//   pipeline       scan (profile) the bytes as registration does, validate from the profile, then
//                  parse + train + evaluate, what the RegisterDataset/ValidateData/Train/Evaluate Lambdas do
//   predict        validate a 1,000-row request and score it, against JSON.parse of the same body
//
// data (a generated CSV file of BENCH_DATA_MB megabytes, default 1024, streamed from disk):
//   data-floor     read the file and split it into fields with the same CSV parser, nothing else
//   data-profile   scanDataset (hash, decode, parse, profile, duplicate rows) + validateDataset
//
// Every stage runs in its own child process, so its peak memory (max RSS) is its own.
//
// training (scripts/bench-training.ts): our trainers against scikit-learn (in .bench/venv) on
// public tables from the vega-datasets package, on the same split: metric gaps and fit times.
//
// gate (scripts/bench-gate.ts): the release gate's paired bootstrap against the champion
// (compareWithChampion) against the textbook bootstrap on materialized resamples, same rows.
//
// cli (scripts/bench-cli.ts): the mlops CLI's start-up (`--help`, `models list --json` against the
// local stack when deployed) against starting Node itself; BENCH_CLI_BEFORE=<dir> adds an older checkout.
//
// serving (scripts/bench-serving.ts): the predict path in process against JSON.parse, AWS calls per
// prediction, the cost per million; through the emulator's API Gateway against an echo route (when
// the local stack is deployed); the predict function's bundle size and cold init.
//
// drift (scripts/bench-drift.ts): the drift engine on 1M logged rows x 20 features as one DriftCheck
// Lambda runs it, against numpy/scipy (scripts/bench_drift.py) on the same vectors: time, peak RSS, agreement.
//
//   npm run bench                       all seven parts
//   npm run bench -- --only core        the in-memory stages only
//   npm run bench -- --only data        the file stages only (BENCH_DATA_MB=50 for a quick run)
//   npm run bench -- --only training    ours vs scikit-learn only
//   npm run bench -- --only gate        the champion comparison vs the textbook bootstrap only
//   npm run bench -- --only cli         the CLI's start-up (scripts/bench-cli.ts)
//   npm run bench -- --only serving     the prediction path: in process, through the emulator's API
//                                       Gateway against an echo route, the bundle (scripts/bench-serving.ts)
//   npm run bench -- --only drift       the drift engine vs numpy/scipy (BENCH_DRIFT_BEFORE=<dir> adds an older tree)
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsvTableReader, parseCsv } from '../lambdas/core/data/csv.js';
import { scanDataset } from '../lambdas/core/data/dataset-scan.js';
import { DEFAULT_MAX_DUPLICATE_ROWS } from '../lambdas/core/data/sketches.js';
import { validateDataset, type DatasetEvidence } from '../lambdas/core/data/validation.js';
import { parseModelSpec } from '../lambdas/core/training/model-spec.js';
import { scoreOnHeldOut } from '../lambdas/core/evaluation/evaluate.js';
import { trainModel } from '../lambdas/core/training/train-model.js';
import { predict, validatePredictionRequest } from '../lambdas/core/serving/predict.js';
import { createRng } from '../lambdas/core/random.js';
import { runCliBench } from './bench-cli.js';
import { runDriftBench } from './bench-drift.js';
import { runServingBench } from './bench-serving.js';
import { runGate } from './bench-gate.js';
import { runTraining } from './bench-training.js';
import { makeCreditDataset } from './make-demo-dataset.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const PREDICT_ROUNDS = 200;
const DATA_MB = Number(process.env.BENCH_DATA_MB ?? 1024);
const DATA_REPEATS = Number(process.env.BENCH_DATA_REPEATS ?? 1);
/** Chunk size for the file stages (and for the in-memory scan), as a 1 MiB S3 or disk read. */
const CHUNK = 1 << 20;
const MB = 1024 * 1024;
const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '.bench');

const spec = parseModelSpec({
  name: 'bench-credit',
  task: 'binary_classification',
  target: 'defaulted',
  features: ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'].map((name) => ({ name, type: 'numeric' })),
  training: { algorithm: 'logistic_regression', params: { maxIterations: 500 } },
  gate: { minAccuracy: 0.75, minRocAuc: 0.8, minRows: 100 },
});

// ---------------------------------------------------------------------------------------------
// The generated data file
// ---------------------------------------------------------------------------------------------

/** Bump when the generator changes, so an old file is not reused. */
const GENERATOR_VERSION = 2;
const DATA_SEED = 20_240_601;
const NUMERIC_COLUMNS = ['age', 'income', 'balance', 'utilization', 'tenure_days', 'score'] as const;
const DATA_COLUMNS = ['id', ...NUMERIC_COLUMNS, 'region', 'product', 'label'] as const;
/** Region and its weight; "north, coast" is written quoted, with the comma inside. */
const REGIONS: readonly [string, number][] = [
  ['north', 0.2],
  ['south', 0.2],
  ['east', 0.15],
  ['west', 0.15],
  ['central', 0.12],
  ['south-west', 0.08],
  ['islands', 0.06],
  ['north, coast', 0.04],
];
/** 48 products, picked with a skew (the first ones are common, the last rare). */
const PRODUCTS = ['basic', 'plus', 'gold', 'platinum'].flatMap((tier) =>
  ['card', 'loan', 'mortgage', 'auto', 'student', 'business', 'overdraft', 'savings', 'travel', 'retail', 'green', 'youth'].map((family) => `${family}-${tier}`),
);

const dataSpec = parseModelSpec({
  name: 'bench-data',
  task: 'binary_classification',
  target: 'label',
  features: NUMERIC_COLUMNS.map((name) => ({ name, type: 'numeric' })),
  training: { algorithm: 'logistic_regression' },
  validation: {
    maxRows: 20_000_000,
    columns: {
      age: { min: 18, max: 100 },
      utilization: { min: 0, max: 1 },
      region: { categories: REGIONS.map(([name]) => name) },
      product: { categories: PRODUCTS },
    },
  },
});

interface DataFileInfo {
  readonly generator: number;
  readonly path: string;
  readonly bytes: number;
  readonly rows: number;
  readonly columns: number;
}

function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * One CSV line (with its newline) of the synthetic customer table; `id` makes every row unique.
 * utilization and score are written at full double precision, as a float64 export writes them.
 */
function dataRow(id: number, rng: () => number): string {
  const age = Math.round(Math.min(95, Math.max(18, 42 + 13 * normal(rng)))); // normal, clipped, integer
  const income = Math.exp(10.8 + 0.55 * normal(rng)); // log-normal, long right tail
  const balance = 1500 + 2600 * normal(rng); // normal, often negative
  const utilization = rng(); // uniform 0..1
  const tenureDays = Math.floor(-Math.log(Math.max(rng(), 1e-12)) * 900); // exponential, integer
  const score = rng() < 0.6 ? 0.3 + 0.1 * normal(rng) : 0.75 + 0.08 * normal(rng); // bimodal mixture
  let pick = rng();
  let region = REGIONS[REGIONS.length - 1]![0];
  for (const [name, weight] of REGIONS) {
    if (pick < weight) {
      region = name;
      break;
    }
    pick -= weight;
  }
  const product = PRODUCTS[Math.floor(PRODUCTS.length * rng() ** 2)]!;
  const risk = -0.4 + 2.2 * (utilization - 0.5) - 0.9 * (Math.log(income) - 10.8) - 0.03 * (age - 42) + 3 * (score - 0.5) - 0.0003 * tenureDays + 0.0001 * (balance - 1500);
  const label = rng() < 1 / (1 + Math.exp(-risk)) ? 1 : 0;
  const regionField = region.includes(',') ? `"${region}"` : region;
  return `${id},${age},${income.toFixed(2)},${balance.toFixed(4)},${utilization},${tenureDays},${score},${regionField},${product},${label}\n`;
}

/**
 * Writes `.bench/data-<MB>mb.csv` (about `mb` MiB, whole rows) unless it is already there, in
 * batches of rows with backpressure, so memory holds one batch. A sidecar JSON records the size
 * and row count once the file is complete; a file without it (an interrupted run) is rewritten.
 */
async function ensureDataFile(mb: number): Promise<DataFileInfo & { reused: boolean; generateSeconds: number }> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `data-${mb}mb.csv`);
  const infoPath = `${path}.json`;
  if (existsSync(path) && existsSync(infoPath)) {
    const info = JSON.parse(readFileSync(infoPath, 'utf8')) as DataFileInfo;
    if (info.generator === GENERATOR_VERSION && statSync(path).size === info.bytes) return { ...info, path, reused: true, generateSeconds: 0 };
  }
  const target = Math.round(mb * MB);
  const started = performance.now();
  const partial = `${path}.partial`;
  const out = createWriteStream(partial, { highWaterMark: 4 * MB });
  const rng = createRng(DATA_SEED);
  const header = `${DATA_COLUMNS.join(',')}\n`;
  out.write(header);
  let bytes = header.length; // ASCII only: characters are bytes
  let rows = 0;
  const BATCH = 20_000;
  while (bytes < target) {
    const lines: string[] = [];
    for (let i = 0; i < BATCH && bytes < target; i += 1) {
      const line = dataRow(rows + 1, rng);
      lines.push(line);
      bytes += line.length;
      rows += 1;
    }
    if (!out.write(lines.join(''))) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  renameSync(partial, path);
  const info: DataFileInfo = { generator: GENERATOR_VERSION, path, bytes, rows, columns: DATA_COLUMNS.length };
  if (statSync(path).size !== bytes) throw new Error(`generated ${statSync(path).size} bytes, expected ${bytes}`);
  writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`);
  return { ...info, reused: false, generateSeconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Stages (each runs in a child process)
// ---------------------------------------------------------------------------------------------

const CORE_STAGES = ['parse', 'pipeline', 'predict-floor', 'predict'] as const;
const DATA_STAGES = ['data-floor', 'data-profile'] as const;
type Stage = (typeof CORE_STAGES)[number] | (typeof DATA_STAGES)[number];

interface Measurement {
  seconds: number;
  maxRssMb: number;
  /** Peak RSS when the stage started (Node, tsx, modules and the stage's input). */
  baseRssMb: number;
  /** CPU time of the stage (user + system, all of the process's threads): less moved than wall time by other work on a shared machine. */
  cpuSeconds?: number;
  rows?: number;
  note?: string;
}

/** Byte chunks of a buffer, as a stream would deliver them (views, no copies). */
async function* chunksOf(bytes: Buffer, size = CHUNK): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}

/** Runs one stage in this process and prints its measurement as JSON. */
async function runStage(stage: Stage, file: string | undefined): Promise<void> {
  const isCore = (CORE_STAGES as readonly string[]).includes(stage);
  const text = isCore && !stage.startsWith('predict') ? makeCreditDataset(ROWS, 7) : '';
  const bytes = stage === 'pipeline' ? Buffer.from(text) : undefined;
  const request = JSON.stringify({
    instances: Array.from({ length: 1000 }, (_, i) => ({ age: 20 + (i % 50), income: 20000 + i * 90, debt_ratio: (i % 100) / 100, credit_lines: i % 9, late_payments: i % 4 })),
  });
  const artifact = stage === 'predict' ? trainModel(parseCsv(makeCreditDataset(2000, 7)), spec).artifact : undefined;
  if ((DATA_STAGES as readonly string[]).includes(stage) && !file) throw new Error(`stage ${stage} needs --file`);
  const rssBefore = process.resourceUsage().maxRSS;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let note: string | undefined;
  let rows: number | undefined;
  if (stage === 'parse') {
    rows = parseCsv(text).rows.length;
    note = `${rows} rows`;
  } else if (stage === 'pipeline') {
    const scan = await scanDataset({ format: 'csv', chunks: chunksOf(bytes!) }, { target: spec.target });
    const evidence: DatasetEvidence = { rowCount: scan.rowCount, arrivedAt: new Date().toISOString(), schema: scan.schema, profile: scan.profile };
    const report = validateDataset(evidence, spec, new Date());
    const csv = parseCsv(text);
    const { artifact: trained } = trainModel(csv, spec);
    const { metrics } = await scoreOnHeldOut(csv, spec, { kind: 'builtin', artifact: trained });
    rows = csv.rows.length;
    note = `${report.passed ? 'valid' : 'invalid'}, ${trained.training.iterations} iterations, accuracy ${(metrics.accuracy ?? Number.NaN).toFixed(3)}`;
  } else if (stage === 'data-floor') {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let columns = 0;
    let counted = 0;
    const reader = new CsvTableReader(
      (header) => {
        columns = header.length;
      },
      () => {
        counted += 1;
      },
    );
    for await (const chunk of createReadStream(file!, { highWaterMark: CHUNK })) reader.push(decoder.decode(chunk as Buffer, { stream: true }));
    reader.push(decoder.decode());
    reader.end();
    rows = counted;
    note = `${rows} rows x ${columns} columns read and split`;
  } else if (stage === 'data-profile') {
    const scan = await scanDataset({ format: 'csv', chunks: createReadStream(file!, { highWaterMark: CHUNK }) }, { target: 'label' });
    const evidence: DatasetEvidence = { rowCount: scan.rowCount, arrivedAt: new Date().toISOString(), schema: scan.schema, profile: scan.profile };
    const report = validateDataset(evidence, dataSpec, new Date());
    rows = scan.rowCount;
    const failed = report.checks.filter((c) => !c.passed).map((c) => `${c.name}${c.column ? `[${c.column}]` : ''}:${c.severity}`);
    note =
      `${report.passed ? 'valid' : 'INVALID'} (${report.checks.length} checks${failed.length ? `, not passed: ${failed.join(' ')}` : ''}), ` +
      `${scan.profile.duplicateRows} duplicate rows${scan.profile.duplicatesComplete ? '' : ` (partial; about ${scan.profile.duplicatesEstimate?.duplicateRows} ± ${scan.profile.duplicatesEstimate?.bound} in all)`}, sha256 ${scan.sha256.slice(0, 12)}…`;
    if (!report.passed) note += ` | ${report.summary}`;
  } else {
    let scored = 0;
    for (let round = 0; round < PREDICT_ROUNDS; round += 1) {
      const body: unknown = JSON.parse(request);
      if (stage === 'predict') {
        const checked = validatePredictionRequest(artifact!, body);
        if (!checked.ok) throw new Error('bench request rejected');
        scored += checked.rows.map((row) => predict(artifact!, row)).length;
      } else {
        scored += (body as { instances: unknown[] }).instances.length;
      }
    }
    rows = scored;
    note = `${scored} rows`;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const maxRssMb = Math.max(process.resourceUsage().maxRSS, rssBefore) / 1024;
  process.stdout.write(JSON.stringify({ seconds, maxRssMb, baseRssMb: rssBefore / 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6, rows, note } satisfies Measurement));
}

// ---------------------------------------------------------------------------------------------
// The parent: runs the stages, prints the tables
// ---------------------------------------------------------------------------------------------

/** Extra Node flags for the children; none are needed today (the file stages stream, and the duplicate-row table lives outside the JS heap, bounded at 128 MiB). */
const CHILD_NODE_FLAGS: string[] = [];

function measure(stage: Stage, repeats: number, extraArgs: string[] = []): Measurement {
  const runs: Measurement[] = [];
  for (let i = 0; i < repeats; i += 1) {
    const out = execFileSync(process.execPath, [...CHILD_NODE_FLAGS, '--import', 'tsx', fileURLToPath(import.meta.url), '--stage', stage, ...extraArgs], {
      env: { ...process.env, BENCH_ROWS: String(ROWS) },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const run = JSON.parse(out) as Measurement;
    if (repeats > 1 || DATA_STAGES.includes(stage as (typeof DATA_STAGES)[number])) {
      process.stderr.write(`  ${stage} run ${i + 1}/${repeats}: ${run.seconds.toFixed(2)} s (CPU ${run.cpuSeconds?.toFixed(2)} s), peak RSS ${run.maxRssMb.toFixed(0)} MB\n`);
    }
    runs.push(run);
  }
  // The median run, so one slow or lucky run does not move the figure.
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

/** Slots of the duplicate-row table for this many rows: 2^16, growing fourfold (the last step less) while over 3/4 full, up to the cap's size. */
function tableSlots(rows: number): number {
  let max = 2;
  while (max * 0.75 < DEFAULT_MAX_DUPLICATE_ROWS) max *= 2;
  let slots = 1 << 16;
  while (rows > slots * 0.75 && slots < max) slots *= Math.min(4, max / slots);
  return slots;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en');

function runCore(): void {
  console.log(`core: ${fmtInt(ROWS)} generated rows x 6 columns, median of ${REPEATS} runs per stage, Node ${process.version}\n`);
  const parse = measure('parse', REPEATS);
  const pipeline = measure('pipeline', REPEATS);
  const predictFloor = measure('predict-floor', REPEATS);
  const predicted = measure('predict', REPEATS);
  const rowsPerSecond = (m: Measurement, rows: number) => `${fmtInt(rows / m.seconds)} rows/s`;
  const lines: [string, Measurement, string, string][] = [
    ['parse (floor)', parse, rowsPerSecond(parse, ROWS), '1.00'],
    ['scan+validate+train+eval', pipeline, rowsPerSecond(pipeline, ROWS), (pipeline.seconds / parse.seconds).toFixed(2)],
    ['predict: JSON.parse (floor)', predictFloor, rowsPerSecond(predictFloor, 1000 * PREDICT_ROUNDS), '1.00'],
    ['predict: validate+score', predicted, rowsPerSecond(predicted, 1000 * PREDICT_ROUNDS), (predicted.seconds / predictFloor.seconds).toFixed(2)],
  ];
  console.log(`${'stage'.padEnd(28)} ${'seconds'.padStart(8)} ${'throughput'.padStart(18)} ${'x floor'.padStart(8)} ${'peak RSS'.padStart(10)}  note`);
  for (const [name, m, throughput, ratio] of lines) {
    console.log(`${name.padEnd(28)} ${m.seconds.toFixed(3).padStart(8)} ${throughput.padStart(18)} ${ratio.padStart(8)} ${`${m.maxRssMb.toFixed(0)} MB`.padStart(10)}  ${m.note ?? ''}`);
  }
}

async function runData(): Promise<void> {
  if (!(DATA_MB > 0)) throw new Error(`BENCH_DATA_MB must be a positive number of megabytes, got ${process.env.BENCH_DATA_MB}`);
  const file = await ensureDataFile(DATA_MB);
  const shown = relative(process.cwd(), file.path) || file.path;
  console.log(
    file.reused
      ? `data: reused ${shown} (generated earlier; delete it to regenerate)`
      : `data: generated ${shown} in ${file.generateSeconds.toFixed(1)} s (${(file.bytes / MB / file.generateSeconds).toFixed(1)} MB/s)`,
  );
  console.log(
    `data: ${fmtInt(file.bytes)} bytes (${(file.bytes / MB).toFixed(1)} MB), ${fmtInt(file.rows)} rows x ${file.columns} columns ` +
      `(${NUMERIC_COLUMNS.length} numeric, 2 categorical, id, 0/1 label), ${CHUNK / MB} MB reads, median of ${DATA_REPEATS} run(s) per stage, Node ${process.version}` +
      `${CHILD_NODE_FLAGS.length ? `, child flags ${CHILD_NODE_FLAGS.join(' ')}` : ', default heap limit (no --max-old-space-size)'}\n`,
  );
  const floor = measure('data-floor', DATA_REPEATS, ['--file', file.path]);
  const profile = measure('data-profile', DATA_REPEATS, ['--file', file.path]);
  for (const m of [floor, profile]) {
    if (m.rows !== file.rows) throw new Error(`a stage counted ${m.rows} rows, the file has ${file.rows}`);
  }
  const lines: [string, Measurement, string][] = [
    ['read+split (floor)', floor, '1.00'],
    ['profile+validate', profile, (profile.seconds / floor.seconds).toFixed(2)],
  ];
  console.log(
    `${'stage'.padEnd(20)} ${'seconds'.padStart(8)} ${'rows/s'.padStart(12)} ${'MB/s'.padStart(7)} ${'x floor'.padStart(8)} ${'peak RSS'.padStart(9)} ${'at start'.padStart(9)}  note`,
  );
  for (const [name, m, ratio] of lines) {
    console.log(
      `${name.padEnd(20)} ${m.seconds.toFixed(2).padStart(8)} ${fmtInt(file.rows / m.seconds).padStart(12)} ${(file.bytes / MB / m.seconds).toFixed(1).padStart(7)} ${ratio.padStart(8)} ` +
        `${`${m.maxRssMb.toFixed(0)} MB`.padStart(9)} ${`${m.baseRssMb.toFixed(0)} MB`.padStart(9)}  ${m.note ?? ''}`,
    );
  }
  const tracked = Math.min(file.rows, DEFAULT_MAX_DUPLICATE_ROWS);
  console.log(
    `\nprofile+validate / floor: ${(profile.seconds / floor.seconds).toFixed(2)}x the time, ${(profile.maxRssMb / floor.maxRssMb).toFixed(2)}x the peak RSS ` +
      `(+${(profile.maxRssMb - floor.maxRssMb).toFixed(0)} MB; the duplicate-row table takes 8 bytes a slot at most 3/4 full, ` +
      `about ${fmtInt((8 * tableSlots(tracked)) / MB)} MB for ${fmtInt(tracked)} rows, ` +
      `plus the quarter-size table while it grows; past ${fmtInt(DEFAULT_MAX_DUPLICATE_ROWS)} rows it stops growing and a 16 KB HyperLogLog estimates)`,
  );
  // Issue 16's closing table: the same two stages before the column-wise profiler, as recorded.
  const after: [string, Measurement, Measurement] = ['this run', floor, profile];
  const rows: [string, number, number, number, number][] = [
    [BEFORE.label, BEFORE.floorSeconds, BEFORE.floorRssMb, BEFORE.profileSeconds, BEFORE.profileRssMb],
    [after[0], after[1].seconds, after[1].maxRssMb, after[2].seconds, after[2].maxRssMb],
  ];
  console.log(`\n${'1 GB file (issue 16)'.padEnd(44)} ${'floor'.padStart(16)} ${'profile+validate'.padStart(18)} ${'x floor'.padStart(8)}`);
  for (const [label, fs, frss, ps, prss] of rows) {
    console.log(
      `${label.padEnd(44)} ${`${fs.toFixed(2)} s ${frss.toFixed(0)} MB`.padStart(16)} ${`${ps.toFixed(2)} s ${prss.toFixed(0)} MB`.padStart(18)} ${(ps / fs).toFixed(2).padStart(8)}`,
    );
  }
  if (DATA_MB !== 1024) console.log('(the recorded row is for BENCH_DATA_MB=1024; this run is a different size)');
  if (floor.cpuSeconds !== undefined && profile.cpuSeconds !== undefined) {
    console.log(
      `this run in CPU time (user + system): floor ${floor.cpuSeconds.toFixed(2)} s, profile+validate ${profile.cpuSeconds.toFixed(2)} s, ` +
        `${(profile.cpuSeconds / floor.cpuSeconds).toFixed(2)}x (wall time is the measure; CPU time shows how much of it other work on the machine took)`,
    );
  }
}

/**
 * profile+validate before issue 16 (commit 1349c65: row-by-row profiling, duplicate table half
 * full up to 20 million rows), measured with this script on the 1 GB file on the same 2-core
 * machine as its floor, in the same run.
 */
const BEFORE = {
  label: 'before (1349c65, recorded)',
  floorSeconds: 7.8,
  floorRssMb: 216,
  profileSeconds: 37.24,
  profileRssMb: 558,
};

function argValue(name: string): string | undefined {
  const args = process.argv.slice(2);
  const index = args.indexOf(name);
  if (index >= 0) return args[index + 1];
  return args.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
}

async function main(): Promise<void> {
  const only = argValue('--only');
  if (only !== undefined && only !== 'core' && only !== 'data' && only !== 'training' && only !== 'gate' && only !== 'cli' && only !== 'serving' && only !== 'drift') {
    throw new Error(`--only takes "core", "data", "training", "gate", "cli", "serving" or "drift", got "${only}"`);
  }
  if (only === undefined || only === 'core') runCore();
  if (only === undefined) console.log('');
  if (only === undefined || only === 'data') await runData();
  if (only === undefined) console.log('');
  if (only === undefined || only === 'training') await runTraining();
  if (only === undefined) console.log('');
  if (only === undefined || only === 'gate') runGate();
  if (only === undefined) console.log('');
  if (only === undefined || only === 'cli') await runCliBench();
  if (only === undefined) console.log('');
  if (only === undefined || only === 'serving') await runServingBench();
  if (only === undefined) console.log('');
  if (only === undefined || only === 'drift') await runDriftBench();
}

const stage = argValue('--stage');
if (stage !== undefined) {
  if (![...CORE_STAGES, ...DATA_STAGES].includes(stage as Stage)) throw new Error(`unknown stage "${stage}"`);
  await runStage(stage as Stage, argValue('--file'));
} else {
  await main();
}
