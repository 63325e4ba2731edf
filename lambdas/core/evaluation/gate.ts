import { compareWithChampion, percent, short, type PairedHeldOut } from './champion-gate.js';
import type { ChampionTolerance, GatePolicy } from '../training/model-spec.js';
import type { CheckStatus, GateCheck } from './gate-check.js';

export type { CheckStatus, GateCheck } from './gate-check.js';

export type { PairedHeldOut } from './champion-gate.js';


export interface GateReport {
  readonly passed: boolean;
  readonly checks: GateCheck[];
  readonly summary: string;
  /** The production version the candidate was compared with; null when there was none. */
  readonly champion: { readonly version: number } | null;
  /** How many checks had too little evidence for a verdict. */
  readonly insufficient: number;
}

/** Up to 6 decimals; in full when rounding would make a value beside its threshold read wrongly. */
function show(value: number, threshold?: number): string {
  const rounded = String(Number(value.toFixed(6)));
  return threshold !== undefined && Number(rounded) >= threshold !== value >= threshold ? String(value) : rounded;
}

/** The smallest spread of predicted probabilities that still counts as "not constant". */
const MIN_PREDICTION_STD = 1e-6;

const statusOf = (passed: boolean): CheckStatus => (passed ? 'pass' : 'fail');

/** The absolute checks: enough held-out rows, finite metrics, predictions that vary, the spec's thresholds. */
function absoluteChecks(metrics: Readonly<Record<string, number>>, policy: GatePolicy, rows: number): GateCheck[] {
  const checks: GateCheck[] = [];
  checks.push({
    name: 'min_rows',
    passed: rows >= policy.minRows,
    status: statusOf(rows >= policy.minRows),
    value: rows,
    threshold: `>= ${policy.minRows}`,
    detail: `${rows} held-out rows`,
  });
  const nonFinite = Object.entries(metrics).filter(([, value]) => !Number.isFinite(value)).map(([name]) => name);
  checks.push({
    name: 'metrics_finite',
    passed: nonFinite.length === 0,
    status: statusOf(nonFinite.length === 0),
    value: null,
    threshold: 'every metric is a finite number',
    detail: nonFinite.length === 0 ? 'all metrics finite' : `not finite: ${nonFinite.join(', ')}`,
  });
  if (metrics.predictionStd !== undefined) {
    checks.push({
      name: 'predictions_vary',
      passed: metrics.predictionStd > MIN_PREDICTION_STD,
      status: statusOf(metrics.predictionStd > MIN_PREDICTION_STD),
      value: metrics.predictionStd,
      threshold: `std > ${MIN_PREDICTION_STD}`,
      detail: `prediction std ${show(metrics.predictionStd)} (a constant model predicts the same for every row)`,
    });
  }
  const threshold = (name: string, bound: number | undefined, direction: 'min' | 'max') => {
    if (bound === undefined) return;
    const value = metrics[name];
    const within = (v: number) => (direction === 'min' ? v >= bound : v <= bound);
    const passed = value !== undefined && Number.isFinite(value) && within(value);
    const [ok, not] = direction === 'min' ? ['>=', '<'] : ['<=', '>'];
    checks.push({
      name,
      passed,
      status: statusOf(passed),
      metric: name,
      value: value ?? null,
      threshold: `${ok} ${bound}`,
      detail: value === undefined ? `${name} was not measured` : `${name} ${show(value, bound)} ${passed ? ok : not} ${bound}`,
    });
  };
  threshold('accuracy', policy.minAccuracy, 'min');
  threshold('rocAuc', policy.minRocAuc, 'min');
  for (const [name, bounds] of Object.entries(policy.metrics)) {
    threshold(name, bounds.min, 'min');
    threshold(name, bounds.max, 'max');
  }
  return checks;
}

/**
 * The evaluation gate on absolute thresholds alone: the spec's thresholds, plus sanity checks that
 * no spec can switch off (enough held-out rows, finite metrics, predictions that vary).
 * `evaluateReleaseGate` adds the output sanity checks and the comparison with production.
 */
export function evaluateGate(metrics: Readonly<Record<string, number>>, policy: GatePolicy, rows: number): GateReport {
  const checks = absoluteChecks(metrics, policy, rows);
  const failed = checks.filter((check) => !check.passed);
  const summary =
    failed.length === 0
      ? `gate passed: ${checks.map((check) => check.detail).join('; ')}`
      : `gate failed: ${failed.map((check) => check.detail).join('; ')}`;
  return { passed: failed.length === 0, checks, summary, champion: null, insufficient: 0 };
}

export interface ReleaseGateInput {
  /** The candidate's held-out metrics (incl. rows). */
  metrics: Readonly<Record<string, number>>;
  policy: GatePolicy;
  rows: number;
  predictionStd?: number;
  /** Outputs that are NaN or infinite among the candidate's held-out predictions. */
  nonFinitePredictions: number;
  latencyMsPerRow?: number;
  /** Paired outputs with the current production version; absent when there is no champion (first version). */
  paired?: PairedHeldOut;
  championMetrics: Record<string, ChampionTolerance>;
  /** The production version `paired.champion` came from; required with `paired`. */
  championVersion?: number;
}

/** Failed checks named one by one in a summary; the rest are counted. */
const SUMMARY_FAILURES = 10;
/** Insufficient-evidence checks named one by one in a summary's warning. */
const SUMMARY_WARNINGS = 5;

const isChampionCheck = (check: GateCheck) => check.name.startsWith('champion.');

/**
 * The release gate: the absolute checks, the candidate's outputs sanity checks (all finite, scoring
 * within the latency budget) and, when a version serves in production, the paired comparison with
 * it on the same held-out rows, overall and per segment (see compareWithChampion). The summary
 * names every failed check with its metric, values and interval or threshold, and mentions
 * insufficient evidence as warnings.
 */
export function evaluateReleaseGate(input: ReleaseGateInput): GateReport {
  const { policy } = input;
  const metrics = input.predictionStd === undefined ? input.metrics : { ...input.metrics, predictionStd: input.predictionStd };
  const checks = absoluteChecks(metrics, policy, input.rows);
  const finite = input.nonFinitePredictions === 0;
  checks.push({
    name: 'predictions_finite',
    passed: finite,
    status: statusOf(finite),
    value: input.nonFinitePredictions,
    threshold: 'no NaN or infinite outputs',
    detail: finite ? 'all held-out outputs finite' : `${input.nonFinitePredictions} held-out outputs are NaN or infinite`,
  });
  if (input.latencyMsPerRow !== undefined) {
    const latency = input.latencyMsPerRow;
    const budget = policy.maxLatencyMsPerRow;
    const within = latency <= budget;
    checks.push({
      name: 'latency_per_row',
      passed: within,
      status: statusOf(within),
      value: latency,
      threshold: `<= ${budget} ms`,
      detail: `scoring took ${short(latency, budget)} ms per row, ${within ? '<=' : '>'} ${budget} ms`,
    });
  }
  if (input.paired) {
    if (input.championVersion === undefined) throw new Error('paired outputs need the championVersion they came from');
    checks.push(...compareWithChampion(input.paired, input.championMetrics, policy.champion));
  }

  const production = input.championVersion === undefined ? 'production' : `production v${input.championVersion}`;
  const level = percent(policy.champion.confidence);
  const describe = (check: GateCheck): string => {
    if (!isChampionCheck(check)) return check.detail;
    if (!check.interval) return `${check.name}: ${check.detail}`;
    const [lo, hi] = check.interval;
    const bound = -(check.tolerance ?? 0);
    return (
      `${check.name}: candidate ${short(check.candidate ?? NaN)} vs ${production} ${short(check.champion ?? NaN)}, ` +
      `difference ${level} CI [${short(lo, bound)}, ${short(hi)}] ${check.passed ? 'within' : 'below'} ${short(bound)}`
    );
  };
  const list = (selected: GateCheck[], most: number) =>
    [...selected.slice(0, most).map(describe), ...(selected.length > most ? [`and ${selected.length - most} more`] : [])];

  const failed = checks.filter((check) => !check.passed);
  const warned = checks.filter((check) => check.passed && check.status === 'insufficient');
  const parts: string[] = [];
  if (failed.length > 0) {
    parts.push(...list(failed, SUMMARY_FAILURES));
  } else {
    parts.push(...checks.filter((check) => !isChampionCheck(check)).map(describe));
    const overall = checks.filter((check) => isChampionCheck(check) && !check.segment && check.status === 'pass');
    parts.push(...overall.map(describe));
    const segments = checks.filter((check) => isChampionCheck(check) && check.segment && check.status === 'pass').length;
    if (segments > 0) parts.push(`${segments} segment comparisons with ${production} passed`);
  }
  if (!input.paired) parts.push('no production version: judged on absolute thresholds alone');
  if (warned.length > 0) parts.push(`warning: ${warned.length} checks had insufficient evidence: ${list(warned, SUMMARY_WARNINGS).join('; ')}`);
  return {
    passed: failed.length === 0,
    checks,
    summary: `gate ${failed.length === 0 ? 'passed' : 'failed'}: ${parts.join('; ')}`,
    champion: input.paired ? { version: input.championVersion! } : null,
    insufficient: checks.filter((check) => check.status === 'insufficient').length,
  };
}
