// `npm run bench -- --only gate`: the release gate's comparison with the champion (the paired
// bootstrap of lambdas/core/champion-gate.ts) against the textbook bootstrap, on the same generated
// held-out rows, measured in the same run.
//
// The data: BENCH_GATE_ROWS rows (default 10,000) of a binary classification, seeded: a 0/1 label
// per row and two correlated models' P(positive), the candidate a little better than the champion,
// plus five segment columns of 4, 20, 3, 50 and 2 values.
//
//   reference       the textbook bootstrap: per resample, materialize the resampled labels and both
//                   models' outputs and call classificationReport for each model (accuracy, rocAuc),
//                   then the percentile interval of the differences, as one would write it without
//                   the weighted trick
//   ours            compareWithChampion({ rocAuc, accuracy }, tolerance 0.02, 1000 resamples), no segments
//   ours+segments   the same with the five segment columns (every value of 4, 20, 3 and 2, the 20 most
//                   frequent of the 50 and the rest together: 50 groups besides the overall one)
//
// All three draw their resamples with the policy's seed; reference draws row floor(u * n) for each
// u of createRng(seed), the rows bootstrapWeights counts, so its intervals should match ours up
// to rounding. The run fails unless the rocAuc and accuracy intervals of reference and ours agree
// within 0.01 at both ends and the verdicts match, and unless ours+segments repeats ours's overall
// checks exactly.
//
// Every run is its own child process, so its peak RSS is its own; the figure is the median of
// BENCH_GATE_REPEATS runs (default 3).
//
//   npm run bench -- --only gate
//   BENCH_GATE_ROWS=2000 BENCH_GATE_REPEATS=1 npx tsx scripts/bench-gate.ts
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compareWithChampion, type PairedHeldOut } from '../lambdas/core/evaluation/champion-gate.js';
import type { GateCheck } from '../lambdas/core/evaluation/gate.js';
import { classificationReport } from '../lambdas/core/evaluation/metrics.js';
import { ChampionPolicySchema, type ChampionTolerance } from '../lambdas/core/training/model-spec.js';
import { createRng } from '../lambdas/core/random.js';

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = Number(raw ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** Read when a gate run starts, so a bad value does not stop bench.ts's other parts at import. */
const gateRows = () => positiveInteger('BENCH_GATE_ROWS', 10_000);
const gateRepeats = () => positiveInteger('BENCH_GATE_REPEATS', 3);
const DATA_SEED = 20_240_917;
const METRICS: Record<string, ChampionTolerance> = { rocAuc: { tolerance: 0.02 }, accuracy: { tolerance: 0.02 } };
const POLICY = ChampionPolicySchema.parse({ resamples: 1000, seed: 7 });
/** How far reference's and ours's interval ends may be apart (they share the resamples, so in practice rounding only). */
const AGREEMENT = 0.01;
/** Segment columns and their number of values. */
const SEGMENT_COLUMNS: readonly [string, number][] = [
  ['channel', 4],
  ['region', 20],
  ['tier', 3],
  ['product', 50],
  ['returning', 2],
];

// ---------------------------------------------------------------------------------------------
// The generated held-out rows

function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * A latent risk per row draws the label; each model sees the risk through noise shared by both
 * (what makes them correlated, as two versions of one model are) plus noise of its own, the
 * candidate's a little smaller. Segment values are skewed (value k of K with probability
 * sqrt((k+1)/K) - sqrt(k/K)), so the 50-value column has rare values.
 */
function makePairedHeldOut(rows: number, withSegments: boolean): PairedHeldOut {
  const rng = createRng(DATA_SEED);
  const labels: number[] = [];
  const candidate: number[][] = [];
  const champion: number[][] = [];
  const segments: Record<string, string[]> = Object.fromEntries(SEGMENT_COLUMNS.map(([column]) => [column, []]));
  for (let i = 0; i < rows; i += 1) {
    const risk = 1.3 * normal(rng);
    labels.push(rng() < sigmoid(risk) ? 1 : 0);
    const shared = 0.7 * normal(rng);
    const pChampion = sigmoid(risk + shared + 0.6 * normal(rng));
    const pCandidate = sigmoid(risk + shared + 0.5 * normal(rng));
    champion.push([1 - pChampion, pChampion]);
    candidate.push([1 - pCandidate, pCandidate]);
    for (const [column, values] of SEGMENT_COLUMNS) segments[column]!.push(`${column}-${Math.floor(values * rng() ** 2)}`);
  }
  return { task: 'binary_classification', labels, candidate, champion, segments: withSegments ? segments : {} };
}

// ---------------------------------------------------------------------------------------------
// The textbook bootstrap

/** Hyndman & Fan type 7 (numpy.quantile's default) of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const below = Math.floor(h);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (h - below) * (sorted[above]! - sorted[below]!);
}

interface MetricResult {
  readonly candidate: number;
  readonly champion: number;
  readonly interval: [number, number];
  readonly verdict: 'pass' | 'fail';
}

function referenceBootstrap(input: PairedHeldOut): Record<string, MetricResult> {
  const { labels, candidate, champion } = input;
  const n = labels.length;
  const pointCandidate = classificationReport(labels, candidate);
  const pointChampion = classificationReport(labels, champion);
  const rng = createRng(POLICY.seed);
  const diffs: Record<string, number[]> = Object.fromEntries(Object.keys(METRICS).map((metric) => [metric, []]));
  for (let b = 0; b < POLICY.resamples; b += 1) {
    const rows = Array.from({ length: n }, () => Math.floor(rng() * n));
    const resampledLabels = rows.map((row) => labels[row]!);
    const c = classificationReport(resampledLabels, rows.map((row) => candidate[row]!));
    const h = classificationReport(resampledLabels, rows.map((row) => champion[row]!));
    for (const metric of Object.keys(METRICS)) {
      const d = c[metric]! - h[metric]!; // both metrics are higher-is-better
      if (Number.isFinite(d)) diffs[metric]!.push(d);
    }
  }
  const alpha = (1 - POLICY.confidence) / 2;
  return Object.fromEntries(
    Object.entries(METRICS).map(([metric, limit]) => {
      const sorted = diffs[metric]!.sort((a, b) => a - b);
      if (sorted.length < POLICY.resamples) throw new Error(`reference: ${metric} undefined in ${POLICY.resamples - sorted.length} resamples`);
      const interval: [number, number] = [quantile(sorted, alpha), quantile(sorted, 1 - alpha)];
      const result: MetricResult = {
        candidate: pointCandidate[metric]!,
        champion: pointChampion[metric]!,
        interval,
        verdict: interval[0] >= -limit.tolerance! ? 'pass' : 'fail',
      };
      return [metric, result];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Stages (each run in a child process)

const STAGES = ['reference', 'ours', 'ours-segments'] as const;
type Stage = (typeof STAGES)[number];

interface Measurement {
  seconds: number;
  maxRssMb: number;
  /** Peak RSS when the stage started (Node, tsx, modules and the generated rows). */
  baseRssMb: number;
  /** Overall result per metric. */
  overall: Record<string, MetricResult>;
  /** ours / ours-segments: the overall checks as JSON, to compare the two. */
  overallChecks?: string;
  /** Checks by status. */
  statuses: Record<string, number>;
}

function overallOf(checks: readonly GateCheck[]): Record<string, MetricResult> {
  return Object.fromEntries(
    checks
      .filter((check) => !check.segment)
      .map((check) => {
        if (!check.interval || check.status === 'insufficient') throw new Error(`${check.name} gave no interval: ${check.detail}`);
        const result: MetricResult = { candidate: check.candidate!, champion: check.champion!, interval: check.interval, verdict: check.passed ? 'pass' : 'fail' };
        return [check.metric!, result];
      }),
  );
}

function runStage(stage: Stage): void {
  const input = makePairedHeldOut(gateRows(), stage === 'ours-segments');
  const rssBefore = process.resourceUsage().maxRSS;
  const started = performance.now();
  let measured: Omit<Measurement, 'seconds' | 'maxRssMb' | 'baseRssMb'>;
  if (stage === 'reference') {
    const overall = referenceBootstrap(input);
    const statuses = { pass: 0, fail: 0, insufficient: 0 };
    for (const result of Object.values(overall)) statuses[result.verdict] += 1;
    measured = { overall, statuses };
  } else {
    const checks = compareWithChampion(input, METRICS, POLICY);
    const statuses = { pass: 0, fail: 0, insufficient: 0 };
    for (const check of checks) statuses[check.status] += 1;
    measured = { overall: overallOf(checks), overallChecks: JSON.stringify(checks.filter((check) => !check.segment)), statuses };
  }
  const seconds = (performance.now() - started) / 1000;
  const maxRssMb = Math.max(process.resourceUsage().maxRSS, rssBefore) / 1024;
  process.stdout.write(JSON.stringify({ seconds, maxRssMb, baseRssMb: rssBefore / 1024, ...measured } satisfies Measurement));
}

// ---------------------------------------------------------------------------------------------
// The parent: runs the stages, checks they agree, prints the table

function measure(stage: Stage, rows: number, repeats: number): Measurement {
  const runs: Measurement[] = [];
  for (let i = 0; i < repeats; i += 1) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--stage', stage], {
      env: { ...process.env, BENCH_GATE_ROWS: String(rows) },
      encoding: 'utf8',
      maxBuffer: 16 << 20,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const run = JSON.parse(out) as Measurement;
    if (repeats > 1) process.stderr.write(`  ${stage} run ${i + 1}/${repeats}: ${run.seconds.toFixed(2)} s, peak RSS ${run.maxRssMb.toFixed(0)} MB\n`);
    runs.push(run);
  }
  // The median run, so one slow or lucky run does not move the figure.
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en');
const fmtInterval = ([lo, hi]: [number, number]) => `[${lo.toFixed(4)}, ${hi.toFixed(4)}]`;

/** Throws unless reference and ours give the same verdicts and intervals within AGREEMENT. */
function checkAgreement(reference: Measurement, ours: Measurement, segmented: Measurement): string[] {
  const problems: string[] = [];
  const lines: string[] = [];
  for (const metric of Object.keys(METRICS)) {
    const r = reference.overall[metric];
    const o = ours.overall[metric];
    if (!r || !o) {
      problems.push(`${metric}: missing from ${r ? 'ours' : 'reference'}`);
      continue;
    }
    const gap = Math.max(Math.abs(r.interval[0] - o.interval[0]), Math.abs(r.interval[1] - o.interval[1]));
    if (!(gap <= AGREEMENT)) problems.push(`${metric}: intervals ${fmtInterval(r.interval)} (reference) and ${fmtInterval(o.interval)} (ours) differ by ${gap}, more than ${AGREEMENT}`);
    if (r.verdict !== o.verdict) problems.push(`${metric}: reference says ${r.verdict}, ours ${o.verdict}`);
    lines.push(
      `${metric} difference: candidate ${o.candidate.toFixed(4)} vs champion ${o.champion.toFixed(4)}, 95% CI ours ${fmtInterval(o.interval)}, ` +
        `reference ${fmtInterval(r.interval)}, largest end gap ${gap === 0 ? '0' : gap.toExponential(1)} (limit ${AGREEMENT}), verdict ${o.verdict} in both`,
    );
  }
  if (segmented.overallChecks !== ours.overallChecks) problems.push('ours+segments did not repeat the overall checks of ours');
  if (problems.length > 0) throw new Error(`the gate benchmark's implementations disagree:\n  ${problems.join('\n  ')}`);
  return lines;
}

export function runGate(): void {
  const rows = gateRows();
  const repeats = gateRepeats();
  const segmentValues = SEGMENT_COLUMNS.map(([, values]) => values).join(', ');
  console.log(
    `gate: ${fmtInt(rows)} generated held-out rows (binary, two correlated models), ${POLICY.resamples} paired resamples, ` +
      `metrics rocAuc and accuracy (tolerance 0.02), ${POLICY.confidence * 100}% intervals; median of ${repeats} run(s) per stage, Node ${process.version}\n`,
  );
  const reference = measure('reference', rows, repeats);
  const ours = measure('ours', rows, repeats);
  const segmented = measure('ours-segments', rows, repeats);
  const agreement = checkAgreement(reference, ours, segmented);
  const checks = (m: Measurement) => Object.values(m.statuses).reduce((sum, count) => sum + count, 0);
  const statusNote = (m: Measurement) => `${checks(m)} checks: ${Object.entries(m.statuses).filter(([, count]) => count > 0).map(([status, count]) => `${count} ${status}`).join(', ')}`;
  const lines: [string, Measurement, string][] = [
    ['reference (textbook)', reference, `2 x ${fmtInt(POLICY.resamples)} classificationReport calls on materialized resamples; ${statusNote(reference)}`],
    ['ours', ours, `compareWithChampion, no segments; ${statusNote(ours)}`],
    ['ours + 5 segment columns', segmented, `${SEGMENT_COLUMNS.length} columns of ${segmentValues} values (${checks(segmented) / Object.keys(METRICS).length - 1} groups + overall); ${statusNote(segmented)}`],
  ];
  console.log(`${'stage'.padEnd(26)} ${'seconds'.padStart(8)} ${'x reference'.padStart(12)} ${'peak RSS'.padStart(9)} ${'at start'.padStart(9)}  note`);
  for (const [name, m, note] of lines) {
    const ratio = m === reference ? '1.00' : (m.seconds / reference.seconds).toPrecision(3);
    console.log(
      `${name.padEnd(26)} ${m.seconds.toFixed(3).padStart(8)} ${ratio.padStart(12)} ${`${m.maxRssMb.toFixed(0)} MB`.padStart(9)} ${`${m.baseRssMb.toFixed(0)} MB`.padStart(9)}  ${note}`,
    );
  }
  console.log('');
  for (const line of agreement) console.log(line);
}

function argValue(name: string): string | undefined {
  const args = process.argv.slice(2);
  const index = args.indexOf(name);
  if (index >= 0) return args[index + 1];
  return args.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const stage = argValue('--stage');
  if (stage === undefined) runGate();
  else if ((STAGES as readonly string[]).includes(stage)) runStage(stage as Stage);
  else throw new Error(`unknown stage "${stage}"; the stages are ${STAGES.join(', ')}`);
}
