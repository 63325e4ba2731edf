import type { GatePolicy } from './model-spec.js';

export interface GateCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly value: number | null;
  readonly threshold: string;
  readonly detail: string;
}

export interface GateReport {
  readonly passed: boolean;
  readonly checks: GateCheck[];
  readonly summary: string;
}

/** Up to 6 decimals; in full when rounding would make a value beside its threshold read wrongly. */
function show(value: number, threshold?: number): string {
  const rounded = String(Number(value.toFixed(6)));
  return threshold !== undefined && Number(rounded) >= threshold !== value >= threshold ? String(value) : rounded;
}

/** The smallest spread of predicted probabilities that still counts as "not constant". */
const MIN_PREDICTION_STD = 1e-6;

/**
 * The evaluation gate: absolute thresholds from the model spec, plus sanity checks that no
 * spec can switch off (enough held-out rows, finite metrics, predictions that vary).
 */
export function evaluateGate(metrics: Readonly<Record<string, number>>, policy: GatePolicy, rows: number): GateReport {
  const checks: GateCheck[] = [];
  checks.push({
    name: 'min_rows',
    passed: rows >= policy.minRows,
    value: rows,
    threshold: `>= ${policy.minRows}`,
    detail: `${rows} held-out rows`,
  });
  const nonFinite = Object.entries(metrics).filter(([, value]) => !Number.isFinite(value)).map(([name]) => name);
  checks.push({
    name: 'metrics_finite',
    passed: nonFinite.length === 0,
    value: null,
    threshold: 'every metric is a finite number',
    detail: nonFinite.length === 0 ? 'all metrics finite' : `not finite: ${nonFinite.join(', ')}`,
  });
  if (metrics.predictionStd !== undefined) {
    checks.push({
      name: 'predictions_vary',
      passed: metrics.predictionStd > MIN_PREDICTION_STD,
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

  const failed = checks.filter((check) => !check.passed);
  const summary =
    failed.length === 0
      ? `gate passed: ${checks.map((check) => check.detail).join('; ')}`
      : `gate failed: ${failed.map((check) => check.detail).join('; ')}`;
  return { passed: failed.length === 0, checks, summary };
}
