// `npm run bench`: speed and memory of the training path's pure core, each measured against a
// floor measured in the same run, so the figures read as ratios rather than machine-bound times.
//
//   parse      read the CSV text into fields (the floor: every later stage starts from this)
//   pipeline   parse + validate + train + evaluate, what the ValidateData/Train/Evaluate Lambdas do
//   predict    validate a 1,000-row request and score it, against JSON.parse of the same body
//
// Every stage runs in its own child process, so its peak memory (max RSS) is its own.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../lambdas/core/csv.js';
import { validateDataset } from '../lambdas/core/dataset.js';
import { parseModelSpec } from '../lambdas/core/model-spec.js';
import { evaluateModel, trainModel } from '../lambdas/core/pipeline.js';
import { predict, validatePredictionRequest } from '../lambdas/core/predict.js';
import { makeCreditDataset } from './make-demo-dataset.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const PREDICT_ROUNDS = 200;

const spec = parseModelSpec({
  name: 'bench-credit',
  task: 'binary_classification',
  target: 'defaulted',
  features: ['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments'].map((name) => ({ name, type: 'numeric' })),
  training: { algorithm: 'logistic_regression', params: { learningRate: 0.5, maxIterations: 500 } },
  gate: { minAccuracy: 0.75, minRocAuc: 0.8, minRows: 100 },
});

type Stage = 'parse' | 'pipeline' | 'predict-floor' | 'predict';
interface Measurement {
  seconds: number;
  maxRssMb: number;
  note?: string;
}

/** Runs one stage in this process and prints its measurement as JSON. */
function runStage(stage: Stage): void {
  const text = stage.startsWith('predict') ? '' : makeCreditDataset(ROWS, 7);
  const request = JSON.stringify({
    instances: Array.from({ length: 1000 }, (_, i) => ({ age: 20 + (i % 50), income: 20000 + i * 90, debt_ratio: (i % 100) / 100, credit_lines: i % 9, late_payments: i % 4 })),
  });
  const artifact = stage === 'predict' ? trainModel(parseCsv(makeCreditDataset(2000, 7)), spec).artifact : undefined;
  const rssBefore = process.resourceUsage().maxRSS;
  const started = performance.now();
  let note: string | undefined;
  if (stage === 'parse') {
    note = `${parseCsv(text).rows.length} rows`;
  } else if (stage === 'pipeline') {
    const csv = parseCsv(text);
    const report = validateDataset(csv, spec);
    const { artifact: trained } = trainModel(csv, spec);
    const { metrics } = evaluateModel(csv, spec, trained);
    note = `${report.passed ? 'valid' : 'invalid'}, ${trained.training.iterations} iterations, accuracy ${metrics.accuracy.toFixed(3)}`;
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
    note = `${scored} rows`;
  }
  const seconds = (performance.now() - started) / 1000;
  const maxRssMb = Math.max(process.resourceUsage().maxRSS, rssBefore) / 1024;
  process.stdout.write(JSON.stringify({ seconds, maxRssMb, note } satisfies Measurement));
}

function measure(stage: Stage): Measurement {
  const runs: Measurement[] = [];
  for (let i = 0; i < REPEATS; i += 1) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--stage', stage], {
      env: { ...process.env, BENCH_ROWS: String(ROWS) },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    runs.push(JSON.parse(out) as Measurement);
  }
  // The median run, so one slow or lucky run does not move the figure.
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

function main(): void {
  console.log(`bench: ${ROWS.toLocaleString('en')} generated rows x 6 columns, median of ${REPEATS} runs per stage, Node ${process.version}\n`);
  const parse = measure('parse');
  const pipeline = measure('pipeline');
  const predictFloor = measure('predict-floor');
  const predicted = measure('predict');
  const rowsPerSecond = (m: Measurement, rows: number) => Math.round(rows / m.seconds).toLocaleString('en');
  const lines: [string, Measurement, string, string][] = [
    ['parse (floor)', parse, `${rowsPerSecond(parse, ROWS)} rows/s`, '1.00'],
    ['validate+train+evaluate', pipeline, `${rowsPerSecond(pipeline, ROWS)} rows/s`, (pipeline.seconds / parse.seconds).toFixed(2)],
    ['predict: JSON.parse (floor)', predictFloor, `${rowsPerSecond(predictFloor, 1000 * PREDICT_ROUNDS)} rows/s`, '1.00'],
    ['predict: validate+score', predicted, `${rowsPerSecond(predicted, 1000 * PREDICT_ROUNDS)} rows/s`, (predicted.seconds / predictFloor.seconds).toFixed(2)],
  ];
  console.log(`${'stage'.padEnd(28)} ${'seconds'.padStart(8)} ${'throughput'.padStart(18)} ${'x floor'.padStart(8)} ${'peak RSS'.padStart(10)}  note`);
  for (const [name, m, throughput, ratio] of lines) {
    console.log(`${name.padEnd(28)} ${m.seconds.toFixed(3).padStart(8)} ${throughput.padStart(18)} ${ratio.padStart(8)} ${`${m.maxRssMb.toFixed(0)} MB`.padStart(10)}  ${m.note ?? ''}`);
  }
}

const stageIndex = process.argv.indexOf('--stage');
if (stageIndex > 0) runStage(process.argv[stageIndex + 1] as Stage);
else main();
