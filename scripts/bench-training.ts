// `npm run bench -- --only training`: our built-in trainers against scikit-learn on real public
// tables (penguins, cars, seattle-weather from the vega-datasets package), on the same split.
//
// For each dataset and algorithm we build a model spec, run trainModel and scoreOnHeldOut as the
// Train/Evaluate Lambdas do, and hand the table plus the exact train/test row indices that
// splitRows chose to scripts/bench_sklearn.py, which fits the equivalent scikit-learn pipeline
// (median imputation + standard scaling, constant imputation + one-hot with unknowns ignored,
// then LogisticRegression / Ridge / HistGradientBoosting*) on the same rows and scores the same
// held-out rows. The table compares the headline metric (accuracy, or R² for regression) and the
// median fit time of both.
//
// scikit-learn is a benchmark-only dependency: it lives in the virtualenv .bench/venv, created
// here on first use with exact pins and reused while the pins are unchanged.
//
//   BENCH_TRAIN_REPEATS     timed fits per side and case, after one warm-up fit (default 5)
//   BENCH_PYTHON            the interpreter that creates the virtualenv (default python3, >= 3.11)
//   BENCH_SKLEARN_THREADS   OpenMP/BLAS threads for scikit-learn (default 1: our trainers use one
//                           core; on a busy 2-core machine HistGradientBoosting's OpenMP threads
//                           were also 10-100x slower than one thread on these small tables)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../lambdas/core/data/csv.js';
import type { Table } from '../lambdas/core/data/table.js';
import { fitEstimator } from '../lambdas/core/training/estimator.js';
import { parseModelSpec, type Algorithm, type ModelSpec, type Task } from '../lambdas/core/training/model-spec.js';
import { scoreOnHeldOut } from '../lambdas/core/evaluation/evaluate.js';
import { splitRows, targetOf, trainModel } from '../lambdas/core/training/train-model.js';
import { predictFeatures } from '../lambdas/core/serving/predict.js';
import type { Cell } from '../lambdas/core/data/table-readers.js';
import { fitTransforms, transformTable } from '../lambdas/core/training/transforms.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_DIR = join(ROOT, '.bench');
const VENV = join(BENCH_DIR, 'venv');
export const VENV_PYTHON = join(VENV, 'bin', 'python');
const SKLEARN_SCRIPT = join(ROOT, 'scripts', 'bench_sklearn.py');
/** Exact pins for the benchmark's virtualenv (numpy 2.4.x is the newest line that supports Python 3.11). */
const REQUIREMENTS = ['scikit-learn==1.9.1', 'numpy==2.4.6', 'scipy==1.17.1', 'pandas==3.1.1'];
const REPEATS = Number(process.env.BENCH_TRAIN_REPEATS ?? 5);
const SKLEARN_THREADS = process.env.BENCH_SKLEARN_THREADS ?? '1';

/** The largest allowed |ours − scikit-learn| on the headline metric, per algorithm. */
const TARGETS: Record<Algorithm, number> = { logistic_regression: 0.005, linear_regression: 0.005, ridge: 0.005, gradient_boosting: 0.02 };

// ---------------------------------------------------------------------------------------------
// Datasets

interface BenchDataset {
  readonly name: string;
  readonly source: string;
  readonly task: Task;
  readonly target: string;
  readonly positiveLabel?: string;
  readonly numeric: readonly string[];
  readonly categorical: readonly string[];
  readonly table: Table;
  readonly dropped: number;
}

function dataDir(): string {
  // The package exports only its JS entry; the data files sit next to its build folder.
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  return join(dirname(entry), '..', 'data');
}

const isMissing = (cell: Cell | undefined) => cell === null || cell === undefined || (typeof cell === 'string' && cell.trim() === '');

/** Rows of objects as a table of the given columns, leaving out rows whose target is missing. */
function tableOf(records: readonly Record<string, unknown>[], columns: readonly string[], target: string): { table: Table; dropped: number } {
  const cell = (value: unknown): Cell => (typeof value === 'number' || typeof value === 'string' ? value : null);
  const kept = records.filter((record) => !isMissing(cell(record[target])));
  return { table: { header: columns, rows: kept.map((record) => columns.map((column) => cell(record[column]))) }, dropped: records.length - kept.length };
}

function loadDatasets(): BenchDataset[] {
  const dir = dataDir();
  const json = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>[];

  const penguinNumeric = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];
  const penguinCategorical = ['Island', 'Sex'];
  const penguins = tableOf(json('penguins.json'), ['Species', ...penguinNumeric, ...penguinCategorical], 'Species');

  const carNumeric = ['Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration'];
  const cars = tableOf(json('cars.json'), ['Miles_per_Gallon', ...carNumeric, 'Origin'], 'Miles_per_Gallon');

  // seattle-weather.csv: numbers as numbers (blank as missing), as a typed reader would give them;
  // the target is whether the day's weather is "rain".
  const csv = parseCsv(readFileSync(join(dir, 'seattle-weather.csv'), 'utf8'));
  const weatherNumeric = ['precipitation', 'temp_max', 'temp_min', 'wind'];
  const weatherIndex = csv.header.indexOf('weather');
  const records = csv.rows.map((row) => {
    const record: Record<string, unknown> = {};
    for (const name of weatherNumeric) {
      const text = row[csv.header.indexOf(name)] ?? '';
      record[name] = text.trim() === '' ? null : Number(text);
    }
    const weather = row[weatherIndex]?.trim() ?? '';
    record.rain = weather === '' ? null : weather === 'rain' ? 'rain' : 'other';
    return record;
  });
  const weather = tableOf(records, ['rain', ...weatherNumeric], 'rain');

  return [
    { name: 'penguins', source: 'penguins.json', task: 'multiclass_classification', target: 'Species', numeric: penguinNumeric, categorical: penguinCategorical, ...penguins },
    { name: 'cars', source: 'cars.json', task: 'regression', target: 'Miles_per_Gallon', numeric: carNumeric, categorical: ['Origin'], ...cars },
    { name: 'seattle-weather', source: 'seattle-weather.csv', task: 'binary_classification', target: 'rain', positiveLabel: 'rain', numeric: weatherNumeric, categorical: [], ...weather },
  ];
}

// ---------------------------------------------------------------------------------------------
// Our side

interface OurResult {
  readonly id: string;
  readonly dataset: BenchDataset;
  readonly spec: ModelSpec;
  readonly classes: number;
  readonly trainRows: number;
  readonly testRows: number;
  readonly metrics: Record<string, number>;
  readonly fitSeconds: number;
  readonly fitTimes: number[];
  /** The estimator alone, on the transformed training matrix. */
  readonly estimatorSeconds: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** What goes to the Python side for this case. */
  readonly payload: Record<string, unknown>;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const matrixRows = (m: { rows: number; cols: number; data: Float64Array }) => Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));

async function runOurs(dataset: BenchDataset, algorithm: Algorithm, params: Record<string, unknown>): Promise<OurResult> {
  const spec = parseModelSpec({
    name: `bench-${dataset.name}-${algorithm.replace(/_/g, '-')}`,
    task: dataset.task,
    target: dataset.target,
    ...(dataset.positiveLabel ? { positiveLabel: dataset.positiveLabel } : {}),
    features: [...dataset.numeric.map((name) => ({ name, type: 'numeric' })), ...dataset.categorical.map((name) => ({ name, type: 'categorical' }))],
    training: { algorithm, params },
  });
  const { table } = dataset;
  const { y, classes } = targetOf(table, spec);
  const split = splitRows(table, spec, y);

  // One warm-up fit (JIT), then the median of REPEATS timed fits; trainModel is the Train step
  // minus I/O: target, split, transforms, fit, artifact serialization and hash.
  let trained = trainModel(table, spec);
  const fitTimes: number[] = [];
  for (let i = 0; i < REPEATS; i += 1) {
    const started = performance.now();
    trained = trainModel(table, spec);
    fitTimes.push((performance.now() - started) / 1000);
  }
  const { artifact } = trained;
  const { metrics } = await scoreOnHeldOut(table, spec, { kind: 'builtin', artifact });

  const x = transformTable(fitTransforms(spec.features, table, split.train), table, split.train);
  const trainY = Float64Array.from(split.train, (row) => y[row]!);
  const estimatorTimes: number[] = [];
  for (let i = 0; i <= REPEATS; i += 1) {
    const started = performance.now();
    fitEstimator(spec, x, trainY, classes?.length ?? 1);
    if (i > 0) estimatorTimes.push((performance.now() - started) / 1000); // the first is the warm-up
  }

  const columns = new Map(table.header.map((name, index) => [name, index]));
  const outputs = split.test.map((row) => predictFeatures(artifact, (name) => table.rows[row]![columns.get(name)!] ?? null, `data row ${row + 1}`));
  const id = `${dataset.name}/${algorithm}`;
  return {
    id,
    dataset,
    spec,
    classes: classes?.length ?? 1,
    trainRows: split.train.length,
    testRows: split.test.length,
    metrics: metrics as unknown as Record<string, number>,
    fitSeconds: median(fitTimes),
    fitTimes,
    estimatorSeconds: median(estimatorTimes),
    iterations: artifact.training.iterations,
    converged: artifact.training.converged,
    payload: {
      id,
      task: spec.task,
      algorithm,
      params: spec.training.params,
      header: table.header,
      rows: table.rows,
      numeric: dataset.numeric,
      categorical: dataset.categorical,
      y: Array.from(y),
      ...(classes ? { classes: classes.length } : {}),
      train: split.train,
      test: split.test,
      ours: {
        outputs,
        outputNames: artifact.transforms.outputNames,
        trainDesign: matrixRows(transformTable(artifact.transforms, table, split.train)),
        testDesign: matrixRows(transformTable(artifact.transforms, table, split.test)),
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// scikit-learn's side

interface DesignCheck {
  maxAbsDiff: number;
  oursOnly: string[];
  theirsOnly: string[];
  unknownOnes: number;
}
interface SklearnResult {
  id: string;
  fitSeconds: number;
  fitTimes: number[];
  estimatorSeconds: number;
  metrics: Record<string, number>;
  oursRescored: Record<string, number>;
  design: { train: DesignCheck; test: DesignCheck };
  agreement: { disagreements?: number; maxAbsProbabilityDiff?: number; maxAbsPredictionDiff?: number };
  iterations?: number | null;
  converged: boolean;
}
interface SklearnOutput {
  python: string;
  sklearn: string;
  numpy: string;
  pandas: string;
  threadpools: string[];
  results: SklearnResult[];
}

/** Creates .bench/venv with the pinned packages unless it already has exactly them; returns how (the drift bench uses it too). */
export function ensureVenv(): string {
  const marker = join(VENV, 'bench-requirements.txt');
  const wanted = `${REQUIREMENTS.join('\n')}\n`;
  if (existsSync(VENV_PYTHON) && existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return 'reused .bench/venv';
  mkdirSync(BENCH_DIR, { recursive: true });
  rmSync(VENV, { recursive: true, force: true });
  const python = process.env.BENCH_PYTHON ?? 'python3';
  const started = performance.now();
  process.stderr.write(`  creating .bench/venv with ${python} and installing ${REQUIREMENTS.join(' ')} ...\n`);
  try {
    execFileSync(python, ['-m', 'venv', VENV], { stdio: ['ignore', 'inherit', 'inherit'] });
    execFileSync(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...REQUIREMENTS], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    rmSync(VENV, { recursive: true, force: true });
    throw new Error(`could not create the benchmark virtualenv .bench/venv (needs ${python} >= 3.11 with venv, and PyPI): ${(error as Error).message}`);
  }
  writeFileSync(marker, wanted);
  return `created .bench/venv in ${((performance.now() - started) / 1000).toFixed(1)} s`;
}

function runSklearn(cases: readonly OurResult[]): SklearnOutput {
  const input = join(BENCH_DIR, 'training-cases.json');
  writeFileSync(input, JSON.stringify({ repeats: REPEATS, cases: cases.map((c) => c.payload) }));
  const threads = { OMP_NUM_THREADS: SKLEARN_THREADS, OPENBLAS_NUM_THREADS: SKLEARN_THREADS, MKL_NUM_THREADS: SKLEARN_THREADS };
  const out = execFileSync(VENV_PYTHON, [SKLEARN_SCRIPT, input], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...threads },
  });
  return JSON.parse(out) as SklearnOutput;
}

// ---------------------------------------------------------------------------------------------
// The report

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
const seconds = (s: number) => (s < 0.01 ? s.toFixed(4) : s.toFixed(3));
/** A time ratio with two significant digits at least: 0.33x, 0.047x, 12x. */
const ratio = (r: number) => `${r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}x`;

function algorithmsFor(task: Task): [Algorithm, Record<string, unknown>][] {
  return task === 'regression'
    ? [
        ['ridge', { alpha: 1 }],
        ['gradient_boosting', {}],
      ]
    : [
        ['logistic_regression', { C: 1 }],
        ['gradient_boosting', {}],
      ];
}

export async function runTraining(): Promise<void> {
  const datasets = loadDatasets();
  const venv = ensureVenv();
  console.log(`training: ours vs scikit-learn on the same split (seed 42, test fraction 0.25, stratified for classification); ${venv}`);
  for (const d of datasets) {
    const classes = d.task === 'regression' ? '' : `, ${new Set(d.table.rows.map((r) => r[0])).size} classes`;
    console.log(
      `  ${d.name.padEnd(16)} vega-datasets ${d.source}: ${d.table.rows.length} rows (${d.dropped} without a target dropped), ${d.task}${classes}; ` +
        `target ${d.target}${d.positiveLabel ? ` == "${d.positiveLabel}"` : ''}; numeric ${d.numeric.join(', ')}${d.categorical.length ? `; categorical ${d.categorical.join(', ')}` : ''}`,
    );
  }

  const ours: OurResult[] = [];
  for (const dataset of datasets) for (const [algorithm, params] of algorithmsFor(dataset.task)) ours.push(await runOurs(dataset, algorithm, params));
  const sk = runSklearn(ours);
  const theirs = new Map(sk.results.map((r) => [r.id, r]));
  console.log(
    `  scikit-learn ${sk.sklearn}, numpy ${sk.numpy}, pandas ${sk.pandas}, Python ${sk.python} (${sk.threadpools.join(', ') || 'no thread pools reported'}); Node ${process.version}`,
  );
  console.log(
    `  fit = median of ${REPEATS} after a warm-up, ${SKLEARN_THREADS} scikit-learn thread(s): ours trainModel (split, transforms, fit, artifact), ` +
      `scikit-learn Pipeline.fit (preprocessing + estimator); ratio = ours / scikit-learn\n`,
  );

  const header = [
    'dataset'.padEnd(16),
    'algorithm'.padEnd(20),
    'metric'.padEnd(8),
    'ours'.padStart(8),
    'sklearn'.padStart(8),
    'diff'.padStart(8),
    'target'.padStart(7),
    'within'.padStart(6),
    'ours s'.padStart(8),
    'sklearn s'.padStart(9),
    'ratio'.padStart(7),
  ].join(' ');
  console.log(header);
  console.log('-'.repeat(header.length));
  let missed = 0;
  const details: string[] = [];
  for (const o of ours) {
    const t = theirs.get(o.id);
    if (!t) throw new Error(`scikit-learn returned no result for ${o.id}`);
    const algorithm = o.spec.training.algorithm;
    const headline = o.spec.task === 'regression' ? 'r2' : 'accuracy';
    const diff = o.metrics[headline]! - t.metrics[headline]!;
    const target = TARGETS[algorithm];
    const within = Math.abs(diff) <= target + 1e-12;
    if (!within) missed += 1;
    const row = (metric: string, a: number, b: number, extra: string[]) =>
      [o.dataset.name.padEnd(16), algorithm.padEnd(20), metric.padEnd(8), a.toFixed(4).padStart(8), b.toFixed(4).padStart(8), signed(a - b, 4).padStart(8), ...extra].join(' ');
    console.log(
      row(headline === 'r2' ? 'R²' : headline, o.metrics[headline]!, t.metrics[headline]!, [
        target.toFixed(3).padStart(7),
        (within ? 'yes' : 'NO').padStart(6),
        seconds(o.fitSeconds).padStart(8),
        seconds(t.fitSeconds).padStart(9),
        ratio(o.fitSeconds / t.fitSeconds).padStart(7),
      ]),
    );
    if (o.spec.task === 'regression') console.log(row('RMSE', o.metrics.rmse!, t.metrics.rmse!, []));

    // Secondary metrics, and the checks that tell a real gap from a setup difference.
    const secondary = (o.spec.task === 'regression' ? ['mae'] : o.spec.task === 'binary_classification' ? ['logLoss', 'f1', 'rocAuc'] : ['logLoss', 'f1'])
      .map((m) => `${m} ${o.metrics[m]!.toFixed(4)} vs ${t.metrics[m]!.toFixed(4)}`)
      .join(', ');
    const rescoreGap = Math.max(...Object.keys(t.oursRescored).map((m) => Math.abs(t.oursRescored[m]! - o.metrics[m]!)));
    const design = Math.max(t.design.train.maxAbsDiff, t.design.test.maxAbsDiff);
    const unmatched = [...t.design.train.oursOnly, ...t.design.train.theirsOnly];
    const agreement =
      t.agreement.disagreements !== undefined
        ? `${t.agreement.disagreements}/${o.testRows} test predictions differ, max |Δp| ${t.agreement.maxAbsProbabilityDiff!.toExponential(1)}`
        : `max |Δprediction| ${t.agreement.maxAbsPredictionDiff!.toExponential(1)}`;
    details.push(
      `  ${o.id} (${o.trainRows} train / ${o.testRows} test): ${secondary ? `${secondary}; ` : ''}${agreement}; ` +
        `design matrix max |Δ| ${design.toExponential(1)}${unmatched.length ? ` (unmatched columns: ${unmatched.join(', ')})` : ''}` +
        `${t.design.test.unknownOnes ? `, ${t.design.test.unknownOnes} unknown-category test cells` : ''}; ` +
        `our metrics rescored by scikit-learn max |Δ| ${rescoreGap.toExponential(1)}; ` +
        `estimator alone ${seconds(o.estimatorSeconds)} s vs ${seconds(t.estimatorSeconds)} s (${ratio(o.estimatorSeconds / t.estimatorSeconds)}); ` +
        `iterations ours ${o.iterations}${o.converged ? '' : ' (not converged)'} vs ${t.iterations ?? '-'}${t.converged ? '' : ' (ConvergenceWarning)'}`,
    );
  }
  console.log(`\n${missed === 0 ? 'all within target' : `${missed} of ${ours.length} outside target`}; details (ours vs scikit-learn):`);
  for (const line of details) console.log(line);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runTraining();
