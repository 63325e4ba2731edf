// `npm run bench -- --only drift`: the drift engine on 1M logged rows x 20 features, as one
// DriftCheck Lambda runs it, against numpy/scipy computing the same statistics on the same vectors
// in the same run.
//
// Ours (a child process, so its peak RSS is its own): the window's 1M rows arrive as
// PredictionLogRecords (4 rows each) partition by partition and are fed to DriftAccumulator in
// batches of 500 records, as runDriftCheck does; then summary() and checkDrift against two
// references: 5,000 rows (Evidently's large regime: Wasserstein, Jensen-Shannon) and 1,000 rows (its
// small regime: KS, chi-square, Z). Timed: the two references' accumulators, the window's, the
// summary and both checks. Not timed: generating the records (a seeded generator, same rows every run).
//
// numpy/scipy (scripts/bench_drift.py in .bench/venv, the training bench's pinned virtualenv): the
// same 21 columns (20 features + the prediction) as float64 / fixed-width byte arrays, loaded
// untimed; timed: per column what the accumulator keeps (missing count, min/max, exact value counts
// by np.unique, a 10,000-row random sample by Generator.choice), then the statistics checkDrift
// picked, each on the same vectors as ours: the reference rows, the window's exact counts, and for
// KS, Wasserstein and binned Jensen-Shannon our reservoir sample of the window (a sample: the report
// says so, and so does this bench). Every statistic is compared with ours (relative difference).
//
//   BENCH_DRIFT_ROWS      window rows (default 1,000,000)
//   BENCH_DRIFT_REPEATS   runs of each side, interleaved; the median is shown (default 1)
//   BENCH_DRIFT_BEFORE    a copy of an older tree (its lambdas/ and a node_modules symlink): its drift
//                         engine is measured too, in the same run, on the same rows
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRng } from '../lambdas/core/random.js';
import type { PredictionLogRecord } from '../lambdas/core/serving/records.js';
import { parseModelSpec } from '../lambdas/core/training/model-spec.js';
import type * as DriftModule from '../lambdas/core/monitoring/drift.js';
import { ensureVenv, VENV_PYTHON } from './bench-training.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, '.bench', 'drift');
const PY_SCRIPT = join(ROOT, 'scripts', 'bench_drift.py');
const ROWS = Number(process.env.BENCH_DRIFT_ROWS ?? 1_000_000);
const REPEATS = Number(process.env.BENCH_DRIFT_REPEATS ?? 1);
const ROWS_PER_RECORD = 4;
/** Records per partition (one log object's worth): 20,000 rows. */
const PARTITION_RECORDS = 5000;
/** As runDriftCheck's FEED_BATCH. */
const FEED_BATCH = 500;
const LARGE_REFERENCE = 5000;
const SMALL_REFERENCE = 1000;
/** Fixed width of a categorical value in the column files numpy reads ('S24'); empty is missing. */
const CATEGORY_BYTES = 24;

// ---------------------------------------------------------------------------------------------
// The rows: 13 numeric and 7 categorical features, some shifted in the window.

function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
function weighted<T>(rng: () => number, choices: readonly (readonly [T, number])[]): T {
  let pick = rng();
  for (const [value, weight] of choices) {
    if (pick < weight) return value;
    pick -= weight;
  }
  return choices[choices.length - 1]![0];
}
const REGIONS = [['north', 0.2], ['south', 0.2], ['east', 0.15], ['west', 0.15], ['central', 0.12], ['south-west', 0.08], ['islands', 0.06], ['north, coast', 0.04]] as const;
const PRODUCTS = ['basic', 'plus', 'gold', 'platinum'].flatMap((tier) => ['card', 'loan', 'mortgage', 'auto', 'student', 'business', 'overdraft', 'savings', 'travel', 'retail', 'green', 'youth'].map((f) => `${f}-${tier}`));
const CHANNELS = [['web', 0.5], ['app', 0.35], ['branch', 0.15]] as const;
const SEGMENTS = ['a', 'b', 'c', 'd', 'e', 'f'];

type Generator = (rng: () => number, shifted: boolean) => number | string | null;
const NUMERIC: readonly (readonly [string, Generator])[] = [
  ['n_normal', (r) => 50 + 10 * normal(r)],
  ['n_lognormal', (r) => Math.exp(10 + 0.5 * normal(r))],
  ['n_uniform', (r) => r()],
  ['n_exponential', (r) => -Math.log(Math.max(r(), 1e-12)) * 3],
  ['n_bimodal', (r) => (r() < 0.6 ? 0.3 + 0.1 * normal(r) : 0.75 + 0.08 * normal(r))],
  ['n_age', (r) => Math.round(clip(42 + 13 * normal(r), 18, 95))],
  ['n_small_int', (r) => Math.floor(r() * 12)],
  ['n_count', (r, s) => Math.min(4, Math.floor(-Math.log(Math.max(r(), 1e-12)) * (s ? 1.2 : 1)))],
  ['n_flag', (r) => (r() < 0.3 ? 1 : 0)],
  ['n_missing', (r) => (r() < 0.05 ? null : normal(r))],
  ['n_shifted', (r, s) => normal(r) + (s ? 0.25 : 0)],
  ['n_scaled', (r, s) => normal(r) * (s ? 1.3 : 1)],
  ['n_tenure', (r) => Math.floor(-Math.log(Math.max(r(), 1e-12)) * 900)],
];
const CATEGORICAL: readonly (readonly [string, Generator])[] = [
  ['c_region', (r) => weighted(r, REGIONS)],
  ['c_product', (r) => PRODUCTS[Math.floor(r() ** 2 * PRODUCTS.length)]!],
  ['c_channel', (r) => weighted(r, CHANNELS)],
  ['c_binary', (r) => (r() < 0.4 ? 'yes' : 'no')],
  ['c_shifted', (r, s) => SEGMENTS[Math.floor((s ? r() ** 1.3 : r()) * SEGMENTS.length)]!],
  ['c_many', (r) => `v${Math.floor(r() ** 2 * 400)}`],
  ['c_missing', (r) => (r() < 0.1 ? null : SEGMENTS[Math.floor(r() * 5)]!)],
];
const GENERATORS = [...NUMERIC, ...CATEGORICAL];
const FEATURES = [...NUMERIC.map(([name]) => ({ name, type: 'numeric' as const })), ...CATEGORICAL.map(([name]) => ({ name, type: 'categorical' as const }))];

function makeRow(rng: () => number, shifted: boolean): { input: Record<string, unknown>; output: { label: string; probability: number } } {
  const input: Record<string, unknown> = {};
  for (const [name, generate] of GENERATORS) input[name] = generate(rng, shifted);
  const z = ((input.n_normal as number) - 50) / 10 + (input.c_binary === 'yes' ? 0.8 : -0.4) + (input.n_flag as number);
  const probability = 1 / (1 + Math.exp(-z));
  return { input, output: { label: probability >= 0.5 ? 'yes' : 'no', probability } };
}

const spec = parseModelSpec({
  name: 'bench-drift',
  task: 'binary_classification',
  target: 'label',
  features: FEATURES,
  training: { algorithm: 'logistic_regression' },
});

/** The rows in memory (references and `rows` window rows as log records), for profiling the engine in one process. */
export function benchFixture(rows: number) {
  const reference = (n: number, seed: number) => {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => makeRow(rng, false));
  };
  const rng = createRng(13);
  const records: PredictionLogRecord[] = [];
  for (let made = 0; made < rows; made += ROWS_PER_RECORD) {
    const batch = Array.from({ length: Math.min(ROWS_PER_RECORD, rows - made) }, () => makeRow(rng, true));
    records.push({ requestId: `r${made}`, at: '2026-12-01T00:00:00.000Z', model: 'bench-drift', version: 1, arm: 'production', inputs: batch.map((r) => r.input), outputs: batch.map((r) => r.output), latencyMs: 3 });
  }
  return { records, features: FEATURES, task: spec.task, spec, large: reference(LARGE_REFERENCE, 11), small: reference(SMALL_REFERENCE, 12) };
}

// ---------------------------------------------------------------------------------------------
// The child: one drift engine (this tree's or BENCH_DRIFT_BEFORE's), timed.

interface OursResult {
  seconds: { references: number; window: number; summary: number; checks: number; total: number; generating: number };
  /** CPU seconds (user + system, all threads) of the timed parts: steadier than wall time on a busy machine. */
  cpuSeconds: number;
  maxRssMb: number;
  baseRssMb: number;
  statistics: Record<'large' | 'small', Record<string, { method: string; statistic: number | null; sampled: boolean; drifted: boolean | null }>>;
}

/** Column files numpy reads: float64 (NaN missing) or S24 (empty missing), appended per partition. */
class ColumnFiles {
  private readonly fds: number[];
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.fds = [...FEATURES.map((f) => f.name), 'prediction'].map((name) => openSync(join(dir, `${name}.bin`), 'w'));
  }
  write(rows: readonly { input: Record<string, unknown>; output: { probability: number } }[]): void {
    FEATURES.forEach((feature, c) => {
      if (feature.type === 'numeric') {
        const values = new Float64Array(rows.length);
        rows.forEach((row, i) => {
          const v = row.input[feature.name];
          values[i] = typeof v === 'number' ? v : NaN;
        });
        writeSync(this.fds[c]!, Buffer.from(values.buffer));
      } else {
        const bytes = Buffer.alloc(rows.length * CATEGORY_BYTES);
        rows.forEach((row, i) => {
          const v = row.input[feature.name];
          if (typeof v === 'string') bytes.write(v, i * CATEGORY_BYTES, CATEGORY_BYTES, 'utf8');
        });
        writeSync(this.fds[c]!, bytes);
      }
    });
    writeSync(this.fds[FEATURES.length]!, Buffer.from(Float64Array.from(rows, (row) => row.output.probability).buffer));
  }
  close(): void {
    for (const fd of this.fds) closeSync(fd);
  }
}

async function child(root: string, exportDir: string | undefined): Promise<void> {
  const drift = (await import(pathToFileURL(join(root, 'lambdas', 'core', 'monitoring', 'drift.ts')).href)) as typeof DriftModule;
  const baseRss = process.resourceUsage().maxRSS;
  const task = spec.task;
  const features = FEATURES;
  let generating = 0;
  let cpu = 0;
  const clock = () => performance.now();
  /** Runs a timed part, adding its CPU time. */
  const timed = <T>(work: () => T): T => {
    const before = process.cpuUsage();
    const result = work();
    const used = process.cpuUsage(before);
    cpu += (used.user + used.system) / 1e6;
    return result;
  };

  const referenceRows = (n: number, seed: number) => {
    const rng = createRng(seed);
    return Array.from({ length: n }, () => makeRow(rng, false));
  };
  let started = clock();
  const large = referenceRows(LARGE_REFERENCE, 11);
  const small = referenceRows(SMALL_REFERENCE, 12);
  generating += clock() - started;

  started = clock();
  const side = (rows: ReturnType<typeof referenceRows>) => {
    const accumulator = new drift.DriftAccumulator({ features, task });
    accumulator.addRows(rows.map((r) => r.input), rows.map((r) => r.output));
    return accumulator.summary();
  };
  const largeSummary = timed(() => side(large));
  const smallSummary = timed(() => side(small));
  const references = clock() - started;

  const files = exportDir ? new ColumnFiles(join(exportDir, 'columns')) : undefined;
  const current = new drift.DriftAccumulator({ features, task, reference: largeSummary });
  const rng = createRng(13);
  let window = 0;
  let made = 0;
  let requestId = 0;
  while (made < ROWS) {
    started = clock();
    const records: PredictionLogRecord[] = [];
    const partitionRows: ReturnType<typeof makeRow>[] = [];
    for (let r = 0; r < PARTITION_RECORDS && made < ROWS; r += 1) {
      const rows = Array.from({ length: Math.min(ROWS_PER_RECORD, ROWS - made) }, () => makeRow(rng, true));
      made += rows.length;
      partitionRows.push(...rows);
      requestId += 1;
      records.push({
        requestId: `r${requestId}`,
        at: '2026-12-01T00:00:00.000Z',
        model: 'bench-drift',
        version: 1,
        arm: 'production',
        inputs: rows.map((row) => row.input),
        outputs: rows.map((row) => row.output),
        latencyMs: 3,
      });
    }
    files?.write(partitionRows);
    generating += clock() - started;
    started = clock();
    timed(() => {
      for (let i = 0; i < records.length; i += FEED_BATCH) current.addRecords(records.slice(i, i + FEED_BATCH));
    });
    window += clock() - started;
  }
  files?.close();

  started = clock();
  const summary = timed(() => current.summary());
  const summarySeconds = clock() - started;
  started = clock();
  const reports = timed(() => ({
    large: drift.checkDrift({ policy: spec.monitoring, task, reference: largeSummary, current: summary }),
    small: drift.checkDrift({ policy: spec.monitoring, task, reference: smallSummary, current: summary }),
  }));
  const checks = clock() - started;

  const statistics = {} as OursResult['statistics'];
  for (const regime of ['large', 'small'] as const) {
    statistics[regime] = {};
    const report = reports[regime];
    for (const f of [...report.features, ...(report.prediction ? [report.prediction] : [])]) {
      statistics[regime][f.column] = { method: f.method, statistic: f.statistic, sampled: f.sampled !== undefined, drifted: f.drifted };
    }
  }
  const seconds = { references: references / 1000, window: window / 1000, summary: summarySeconds / 1000, checks: checks / 1000, total: (references + window + summarySeconds + checks) / 1000, generating: generating / 1000 };
  const maxRssMb = process.resourceUsage().maxRSS / 1024;

  if (exportDir) {
    // The vectors numpy/scipy gets besides the window's columns: the references' clean values (all
    // of them: each is under the sample size) and our reservoir sample of the window, per column.
    const byName = (s: DriftModule.WindowSummary) => new Map([...s.columns, ...(s.prediction ? [s.prediction] : [])].map((c) => [c.name, c]));
    const [l, m, w] = [byName(largeSummary), byName(smallSummary), byName(summary)];
    const columns = [...FEATURES, { name: 'prediction', type: 'numeric' as const }].map((f) => ({
      name: f.name,
      type: f.type,
      large: l.get(f.name)!.sample,
      small: m.get(f.name)!.sample,
      sample: w.get(f.name)!.sample,
    }));
    writeFileSync(join(exportDir, 'vectors.json'), JSON.stringify({ rows: ROWS, categoryBytes: CATEGORY_BYTES, sampleSize: summary.sampleSize, columns, methods: statistics }));
  }
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds: cpu, maxRssMb, baseRssMb: baseRss / 1024, statistics } satisfies OursResult));
}

// ---------------------------------------------------------------------------------------------
// The parent

interface PythonResult {
  seconds: { summaries: number; statistics: number; total: number };
  cpuSeconds: number;
  maxRssMb: number;
  baseRssMb: number;
  loadedRssMb: number;
  versions: { numpy: string; scipy: string; python: string };
  statistics: Record<'large' | 'small', Record<string, number | null>>;
}

function runChild(root: string, exportDir?: string): OursResult {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--drift-child', root, ...(exportDir ? ['--export', exportDir] : [])];
  const out = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_DRIFT_ROWS: String(ROWS) } });
  return JSON.parse(out) as OursResult;
}

/** Relative difference, with an absolute floor for values near zero (tiny p-values). */
function difference(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : Infinity;
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

const mb = (x: number) => `${x.toFixed(0)} MB`;
/** The issue's goal: at most this many times numpy/scipy's time. */
const GOAL = 2;
/** The drift tests' tolerance against scipy and Evidently (relative; floor 1e-12 for values near zero). */
const MAX_DIFFERENCE = 1e-9;

export async function runDriftBench(): Promise<void> {
  const venv = ensureVenv();
  const before = process.env.BENCH_DRIFT_BEFORE;
  if (before !== undefined && !existsSync(join(before, 'lambdas', 'core', 'monitoring', 'drift.ts'))) throw new Error(`BENCH_DRIFT_BEFORE=${before} has no lambdas/core/monitoring/drift.ts`);
  console.log(`drift (median of ${REPEATS} run(s) a side): ${ROWS.toLocaleString('en-US')} logged rows x ${FEATURES.length} features (${NUMERIC.length} numeric, ${CATEGORICAL.length} categorical) + the prediction, against references of ${LARGE_REFERENCE} and ${SMALL_REFERENCE} rows; ${venv}`);
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  // Each side REPEATS times, interleaved (a busy machine slows them alike), the median run of each.
  const runs: { ours: OursResult[]; older: OursResult[]; py: PythonResult[] } = { ours: [], older: [], py: [] };
  for (let i = 0; i < REPEATS; i += 1) {
    runs.ours.push(runChild(ROOT, i === 0 ? OUT_DIR : undefined));
    if (before !== undefined) runs.older.push(runChild(resolve(before)));
    runs.py.push(
      JSON.parse(
        execFileSync(VENV_PYTHON, [PY_SCRIPT, OUT_DIR], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } }),
      ) as PythonResult,
    );
  }
  const median = <T extends { seconds: { total: number } }>(list: T[]): T => [...list].sort((a, b) => a.seconds.total - b.seconds.total)[Math.floor(list.length / 2)]!;
  const ours = median(runs.ours);
  const older = before !== undefined ? median(runs.older) : undefined;
  const py = median(runs.py);
  rmSync(join(OUT_DIR, 'columns'), { recursive: true, force: true });

  const line = (name: string, seconds: number, cpu: number, rss: number, base: number, note: string) =>
    console.log(
      `${name.padEnd(16)} ${seconds.toFixed(2).padStart(6)} s ${(seconds / py.seconds.total).toFixed(2).padStart(5)}x  CPU ${cpu.toFixed(2).padStart(5)} s ${(cpu / py.cpuSeconds).toFixed(2).padStart(5)}x  peak RSS ${mb(rss).padStart(7)} (at start ${mb(base)})  ${note}`,
    );
  const oursNote = (r: OursResult) =>
    `references ${r.seconds.references.toFixed(2)} s, window ${r.seconds.window.toFixed(2)} s, summary ${r.seconds.summary.toFixed(2)} s, checks ${r.seconds.checks.toFixed(2)} s (generating the records, not timed: ${r.seconds.generating.toFixed(1)} s)`;
  console.log('');
  line('numpy/scipy', py.seconds.total, py.cpuSeconds, py.maxRssMb, py.baseRssMb, `summaries ${py.seconds.summaries.toFixed(2)} s, statistics ${py.seconds.statistics.toFixed(2)} s; columns loaded untimed (RSS ${mb(py.loadedRssMb)} once loaded); numpy ${py.versions.numpy}, scipy ${py.versions.scipy}`);
  line('ours', ours.seconds.total, ours.cpuSeconds, ours.maxRssMb, ours.baseRssMb, oursNote(ours));
  if (older) line('ours (before)', older.seconds.total, older.cpuSeconds, older.maxRssMb, older.baseRssMb, `${oursNote(older)}; ${before}`);

  // Same statistics on the same vectors: ours against scipy's, and the verdicts before and after.
  let worst = { difference: 0, where: '' };
  const methods = new Map<string, number>();
  let sampled = 0;
  let changed = 0;
  for (const regime of ['large', 'small'] as const) {
    for (const [column, mine] of Object.entries(ours.statistics[regime])) {
      const d = difference(mine.statistic, py.statistics[regime][column] ?? null);
      if (d > worst.difference) worst = { difference: d, where: `${regime}/${column} (${mine.method}: ours ${mine.statistic}, scipy ${py.statistics[regime][column]})` };
      const key = `${regime === 'large' ? LARGE_REFERENCE : SMALL_REFERENCE}-row reference: ${mine.method}`;
      methods.set(key, (methods.get(key) ?? 0) + 1);
      if (mine.sampled) sampled += 1;
      const old = older?.statistics[regime][column];
      if (old && (old.statistic !== mine.statistic || old.drifted !== mine.drifted || old.method !== mine.method)) changed += 1;
    }
  }
  console.log(`\nstatistics per regime: ${[...methods].map(([k, n]) => `${k} x${n}`).join(', ')}`);
  console.log(`largest difference from scipy: ${worst.difference === 0 ? '0 (identical doubles)' : `${worst.difference.toExponential(2)} relative at ${worst.where}`}`);
  console.log(`${sampled} of the statistics ran on the window's seeded reservoir (${ROWS.toLocaleString('en-US')} rows -> at most 10,000 a column): a sample, as the report says`);
  if (older) console.log(`before vs after: ${changed === 0 ? 'every statistic, method and verdict identical' : `${changed} statistics differ`}`);
  console.log(`goal, at most ${GOAL}x numpy/scipy: ${ours.cpuSeconds / py.cpuSeconds <= GOAL ? 'met' : 'MISSED'} on CPU time, ${ours.seconds.total / py.seconds.total <= GOAL ? 'met' : 'missed'} on wall time`);
  // The run fails when a statistic leaves scipy's by more than the drift tests allow, or an optimisation changed a result.
  if (worst.difference > MAX_DIFFERENCE) throw new Error(`a statistic differs from scipy's by more than ${MAX_DIFFERENCE} relative: ${worst.where}`);
  if (changed > 0) throw new Error(`${changed} statistics differ between ${before} and this tree`);
}

// ---------------------------------------------------------------------------------------------

const childAt = process.argv.indexOf('--drift-child');
if (childAt !== -1) {
  const exportAt = process.argv.indexOf('--export');
  await child(process.argv[childAt + 1]!, exportAt !== -1 ? process.argv[exportAt + 1] : undefined);
}
