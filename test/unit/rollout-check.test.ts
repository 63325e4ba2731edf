import { describe, expect, it } from 'vitest';
import { createRng } from '../../lambdas/core/random.js';
import { RolloutPolicySchema, type RolloutPolicy, type Task } from '../../lambdas/core/training/model-spec.js';
import type { Arm, FeedbackRecord, PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import {
  checkRollout,
  RolloutCheckResultSchema,
  pairedMetricInterval,
  unpairedMetricInterval,
  type RolloutCheckInput,
  type RolloutCheckResult,
  type RolloutMode,
} from '../../lambdas/core/serving/rollout-check.js';

// Each window is built from seeded draws, so every figure below is the same on every run.

const policyOf = (overrides: Partial<RolloutPolicy> = {}): RolloutPolicy => RolloutPolicySchema.parse({ minRequests: 200, minLabels: 100, ...overrides });

const binaryOutput = (p: number) => ({ label: p > 0.5 ? 'yes' : 'no', probability: p, probabilities: { no: 1 - p, yes: p } });
const multiclassOutput = (label: string) => ({ label, probabilities: { a: label === 'a' ? 1 : 0, b: label === 'b' ? 1 : 0, c: label === 'c' ? 1 : 0 } });
const regressionOutput = (value: number) => ({ value });

interface RequestSpec {
  output: unknown;
  latencyMs?: number;
  failed?: boolean;
}

/** One logged request per spec, ids `r<i>` (the same ids in both arms, as a shadow would have). */
function armRecords(arm: Arm, requests: readonly RequestSpec[]): PredictionLogRecord[] {
  return requests.map((spec, i) => ({
    requestId: `r${i}`,
    at: '2026-12-06T03:00:00.000Z',
    model: 'churn',
    version: arm === 'production' ? 1 : 2,
    arm,
    inputs: [{ x: i }],
    outputs: spec.failed ? [] : [spec.output],
    latencyMs: spec.latencyMs ?? 40,
    ...(spec.failed ? { error: { code: 'MODEL_LOAD_FAILED', message: 'could not load' } } : {}),
  }));
}

const label = (requestId: string, value: string | number): FeedbackRecord => ({
  requestId,
  row: 0,
  model: 'churn',
  version: 1,
  arm: 'production',
  label: value,
  at: '2026-12-06T03:10:00.000Z',
  actor: 'arn:aws:iam::000000000000:user/tester',
});

const uniforms = (seed: number, n: number) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng());
};
const normals = (seed: number, n: number, mean = 0, sd = 1) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
};
/** The same values in a seeded random order: the same distribution, different per request. */
const shuffled = <T>(values: readonly T[], seed: number) => {
  const rng = createRng(seed);
  const copy = [...values];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
};

const N = 1000;
/** Production and a healthy candidate: scores from one law (independent draws), fast, no errors. */
const productionScores = uniforms(11, N);
const candidateScores = uniforms(12, N);

function check(overrides: Partial<RolloutCheckInput> & { baseline: PredictionLogRecord[]; candidate: PredictionLogRecord[] }): RolloutCheckResult {
  return checkRollout({ policy: policyOf(), task: 'binary_classification', mode: 'canary', extensions: 0, ...overrides });
}

const failingNames = (result: RolloutCheckResult) => result.signals.filter((s) => !s.ok).map((s) => s.name);
const signal = (result: RolloutCheckResult, name: string) => result.signals.find((s) => s.name === name)!;

describe('checkRollout: a healthy candidate', () => {
  it('advances when every signal is within its limit, and says so with the values', () => {
    const result = check({
      baseline: armRecords('production', productionScores.map((p) => ({ output: binaryOutput(p) }))),
      candidate: armRecords('canary', candidateScores.map((p) => ({ output: binaryOutput(p) }))),
    });
    expect(failingNames(result)).toEqual([]);
    expect(result.decision).toBe('advance');
    expect(result.signals.map((s) => s.name)).toEqual(['traffic', 'errorRate', 'latencyP99Ms', 'predictionShift', 'liveMetric.accuracy']);
    expect(signal(result, 'predictionShift').value).toBeLessThan(0.1);
    expect(result.reason).toMatch(/^All signals within their limits: traffic 1000, errorRate 0, latencyP99Ms 40, predictionShift 0\.\d+/);
  });

  it('answers plain JSON that its schema accepts (it goes into Step Functions and the report)', () => {
    const result = check({
      baseline: armRecords('production', productionScores.map((p) => ({ output: binaryOutput(p) }))),
      candidate: armRecords('canary', candidateScores.map((p, i) => ({ output: binaryOutput(p), failed: i < 100 }))),
    });
    expect(RolloutCheckResultSchema.parse(JSON.parse(JSON.stringify(result)))).toEqual(result);
  });

  it('gives the same result for the same window (seeded)', () => {
    const input = {
      baseline: armRecords('production', productionScores.map((p) => ({ output: binaryOutput(p) }))),
      candidate: armRecords('canary', candidateScores.map((p) => ({ output: binaryOutput(p) }))),
    };
    expect(check(input)).toEqual(check(input));
  });
});

describe('checkRollout: each signal trips on its own', () => {
  const healthyBaseline = armRecords('production', productionScores.map((p) => ({ output: binaryOutput(p) })));

  it('error rate: 3% of canary requests failed against maxErrorRate 0.01', () => {
    const candidate = armRecords('canary', candidateScores.map((p, i) => ({ output: binaryOutput(p), failed: i % 100 < 3 })));
    const result = check({ baseline: healthyBaseline, candidate });
    expect(failingNames(result)).toEqual(['errorRate']);
    expect(result.decision).toBe('rollback');
    expect(signal(result, 'errorRate').value).toBe(0.03);
    expect(result.reason).toMatch(/^Rolling back: errorRate 0\.03 above 0\.01 \(30 of 1000 canary requests failed/);
  });

  it('latency: a slow tail puts p99 over maxLatencyP99Ms', () => {
    const candidate = armRecords('canary', candidateScores.map((p, i) => ({ output: binaryOutput(p), latencyMs: i % 50 === 0 ? 2500 : 45 })));
    const result = check({ baseline: healthyBaseline, candidate });
    expect(failingNames(result)).toEqual(['latencyP99Ms']);
    expect(result.decision).toBe('rollback');
    expect(signal(result, 'latencyP99Ms').value).toBe(2500);
    expect(result.reason).toMatch(/^Rolling back: latencyP99Ms 2500 above 1000 \(canary p99 2500 ms/);
  });

  it('prediction shift (binary, Jensen-Shannon on P(positive)): the canary scores everything higher', () => {
    const candidate = armRecords('canary', candidateScores.map((p) => ({ output: binaryOutput(p ** 0.3) })));
    const result = check({ baseline: healthyBaseline, candidate });
    expect(failingNames(result)).toEqual(['predictionShift']);
    const shift = signal(result, 'predictionShift');
    expect(shift.value).toBeGreaterThan(0.3);
    expect(shift.threshold).toBe(0.1);
    expect(result.reason).toMatch(/^Rolling back: predictionShift 0\.\d+ above 0\.1 \(Jensen-Shannon distance between the P\(positive\) scores/);
  });

  it('prediction shift by PSI, with its own default limit 0.2', () => {
    const candidate = armRecords('canary', candidateScores.map((p) => ({ output: binaryOutput(p ** 0.6) })));
    const result = check({ baseline: healthyBaseline, candidate, policy: policyOf({ shiftMethod: 'psi' }) });
    expect(failingNames(result)).toEqual(['predictionShift']);
    expect(signal(result, 'predictionShift').threshold).toBe(0.2);
    expect(signal(result, 'predictionShift').value).toBeGreaterThan(0.2);
    expect(result.reason).toContain('PSI between the P(positive) scores');
  });

  it('prediction shift (multiclass, class shares) and its explicit limit', () => {
    const classes = (shares: [number, number, number], seed: number) =>
      uniforms(seed, N).map((u) => multiclassOutput(u < shares[0] ? 'a' : u < shares[0] + shares[1] ? 'b' : 'c'));
    const baseline = armRecords('production', classes([0.5, 0.3, 0.2], 21).map((output) => ({ output })));
    const task: Task = 'multiclass_classification';
    const same = check({ task, baseline, candidate: armRecords('canary', classes([0.5, 0.3, 0.2], 22).map((output) => ({ output }))) });
    expect(same.decision).toBe('advance');
    const moved = check({ task, baseline, candidate: armRecords('canary', classes([0.3, 0.3, 0.4], 22).map((output) => ({ output }))), policy: policyOf({ maxPredictionShift: 0.15 }) });
    expect(failingNames(moved)).toEqual(['predictionShift']);
    expect(moved.reason).toContain('class shares');
    expect(signal(moved, 'predictionShift').threshold).toBe(0.15);
  });

  it('prediction shift (regression, values)', () => {
    const baseline = armRecords('production', normals(31, N, 10, 2).map((v) => ({ output: regressionOutput(v) })));
    const task: Task = 'regression';
    expect(check({ task, baseline, candidate: armRecords('canary', normals(32, N, 10, 2).map((v) => ({ output: regressionOutput(v) }))) }).decision).toBe('advance');
    const moved = check({ task, baseline, candidate: armRecords('canary', normals(32, N, 13, 2).map((v) => ({ output: regressionOutput(v) }))) });
    expect(failingNames(moved)).toEqual(['predictionShift']);
    expect(moved.reason).toContain('predicted values');
  });

  it('shadow agreement: the same score distribution, but a different answer per request', () => {
    const shadow = armRecords('shadow', shuffled(productionScores, 5).map((p) => ({ output: binaryOutput(p) })));
    const result = check({ mode: 'shadow', baseline: healthyBaseline, candidate: shadow });
    expect(signal(result, 'predictionShift').value).toBe(0);
    expect(failingNames(result)).toEqual(['agreement']);
    const agreement = signal(result, 'agreement').value!;
    expect(agreement).toBeGreaterThan(0.4);
    expect(agreement).toBeLessThan(0.6);
    expect(result.reason).toMatch(/^Rolling back: agreement 0\.\d+ below 0\.9 \(the shadow gave the same class on \d+ of 1000 rows/);
  });

  it('shadow agreement for regression counts values within maxRelativeError of production', () => {
    const values = normals(41, N, 50, 5);
    const baseline = armRecords('production', values.map((v) => ({ output: regressionOutput(v) })));
    const close = armRecords('shadow', values.map((v) => ({ output: regressionOutput(v * 1.05) })));
    const task: Task = 'regression';
    expect(signal(check({ task, mode: 'shadow', baseline, candidate: close }), 'agreement').value).toBe(1);
    // The same values given to other requests: no shift, but about half land outside 10% of production's.
    const far = armRecords('shadow', shuffled(values, 42).map((v) => ({ output: regressionOutput(v) })));
    const result = check({ task, mode: 'shadow', baseline, candidate: far });
    expect(signal(result, 'predictionShift').value).toBe(0);
    expect(failingNames(result)).toEqual(['agreement']);
    expect(signal(result, 'agreement').value).toBeLessThan(0.7);
    expect(signal(result, 'agreement').detail).toContain("within 0.1 of production's value (maxRelativeError)");
  });

  it('live accuracy (unpaired for a canary): the same predictions, but the canary is right less often', () => {
    // Truth per request: production right on 90%, the canary on 70%; the prediction distributions match.
    const baseline = healthyBaseline;
    const candidate = armRecords('canary', candidateScores.map((p) => ({ output: binaryOutput(p) })));
    const truth = (p: number, right: boolean) => ((p > 0.5) === right ? 'yes' : 'no');
    const labels = [
      ...productionScores.map((p, i) => label(`r${i}`, truth(p, uniforms(100 + i, 1)[0]! < 0.9))),
    ];
    // The canary's requests need ids of their own: these are different requests.
    const canary = candidate.map((record) => ({ ...record, requestId: `c${record.requestId}` }));
    const canaryLabels = candidateScores.map((p, i) => label(`cr${i}`, truth(p, uniforms(5000 + i, 1)[0]! < 0.7)));
    const result = check({ baseline, candidate: canary, labels: [...labels, ...canaryLabels] });
    expect(failingNames(result)).toEqual(['liveMetric.accuracy']);
    const live = signal(result, 'liveMetric.accuracy');
    expect(live.threshold).toBe(-0.02);
    expect(live.interval![1]).toBeLessThan(-0.1);
    expect(live.detail).toMatch(/accuracy canary 0\.\d+ vs production 0\.\d+ on 1000 and 1000 labelled rows \(unpaired bootstrap\), 95% CI/);
    expect(result.reason).toMatch(/^Rolling back: liveMetric\.accuracy -0\.\d+ below -0\.02 \(/);
  });

  it('live rmse (regression) is judged against a tolerance relative to production, as the gate', () => {
    const predictions = normals(51, N, 20, 4);
    const baseline = armRecords('production', predictions.map((v) => ({ output: regressionOutput(v) })));
    const candidate = armRecords('canary', predictions.map((v) => ({ output: regressionOutput(v) }))).map((r) => ({ ...r, requestId: `c${r.requestId}` }));
    const noise = (seed: number, sd: number) => normals(seed, N, 0, sd);
    const [small, large] = [noise(52, 1), noise(53, 1.5)];
    const labels = [...predictions.map((v, i) => label(`r${i}`, v + small[i]!)), ...predictions.map((v, i) => label(`cr${i}`, v + large[i]!))];
    const result = check({ task: 'regression', baseline, candidate, labels });
    expect(failingNames(result)).toEqual(['liveMetric.rmse']);
    const live = signal(result, 'liveMetric.rmse');
    expect(live.threshold).toBeCloseTo(-0.05 * Number(/production (\S+)/.exec(live.detail)![1]), 3);
  });

  it('live metrics wait for minLabels per arm and do not block meanwhile', () => {
    const candidate = armRecords('canary', candidateScores.map((p) => ({ output: binaryOutput(p) })));
    const labels = productionScores.slice(0, 50).map((p, i) => label(`r${i}`, p > 0.5 ? 'no' : 'yes'));
    const result = check({ baseline: healthyBaseline, candidate, labels });
    const live = signal(result, 'liveMetric.accuracy');
    expect(live).toMatchObject({ value: null, ok: true });
    expect(live.detail).toMatch(/^awaiting labels: .*fewer than minLabels 100/);
    expect(result.decision).toBe('advance');
  });
});

describe('checkRollout: several failing signals', () => {
  it('names the first in full and the others with their values', () => {
    const baseline = armRecords('production', productionScores.map((p) => ({ output: binaryOutput(p) })));
    const candidate = armRecords('canary', candidateScores.map((p, i) => ({ output: binaryOutput(p ** 0.3), failed: i % 10 === 0, latencyMs: 1500 })));
    const result = check({ baseline, candidate });
    expect(failingNames(result)).toEqual(['errorRate', 'latencyP99Ms', 'predictionShift']);
    expect(result.reason).toMatch(/^Rolling back: errorRate 0\.1 above 0\.01 \(100 of 1000 canary requests failed.*\); also latencyP99Ms 1500 above 1000, predictionShift 0\.\d+ above 0\.1\.$/);
  });

  it('counts a record Firehose delivered twice once', () => {
    const baseline = armRecords('production', productionScores.map((p) => ({ output: binaryOutput(p) })));
    const candidate = armRecords('canary', candidateScores.map((p, i) => ({ output: binaryOutput(p), failed: i < 5 })));
    const result = check({ baseline, candidate: [...candidate, ...candidate.slice(0, 5)] });
    expect(signal(result, 'errorRate').value).toBe(0.005);
    expect(signal(result, 'traffic').detail).toContain('canary 1000');
  });

  it('leaves outputs without the task\'s shape out of the distributions, and says how many', () => {
    const baseline = armRecords('production', productionScores.map((p) => ({ output: binaryOutput(p) })));
    const candidate = armRecords('canary', candidateScores.map((p, i) => ({ output: i < 5 ? { value: p } : binaryOutput(p) })));
    const shift = signal(check({ baseline, candidate }), 'predictionShift');
    expect(shift.detail).toContain('the canary (995 rows)');
    expect(shift.detail).toContain('5 logged outputs without the task\'s shape left out');
  });
});

describe('checkRollout: too little traffic', () => {
  const few = (arm: Arm, n: number) => armRecords(arm, uniforms(61, n).map((p) => ({ output: binaryOutput(p) })));

  it('extends the bake while extensions remain, then holds; it never advances', () => {
    const input = { baseline: few('production', 900), candidate: few('canary', 120), policy: policyOf({ maxBakeExtensions: 2 }) };
    const first = check({ ...input, extensions: 0 });
    expect(first.decision).toBe('extend');
    expect(first.reason).toMatch(/^Too little traffic \(traffic 120: .*canary has fewer than minRequests 200\): extending the bake \(extension 1 of 2\)/);
    expect(check({ ...input, extensions: 1 }).decision).toBe('extend');
    const last = check({ ...input, extensions: 2 });
    expect(last.decision).toBe('hold');
    expect(last.reason).toContain('never promotes on too little evidence');
  });

  it('does not roll back on too little evidence either, but still reports the signals', () => {
    const candidate = armRecords('canary', uniforms(62, 50).map((p, i) => ({ output: binaryOutput(p), failed: i < 10 })));
    const result = check({ baseline: few('production', 900), candidate });
    expect(result.decision).toBe('extend');
    expect(signal(result, 'errorRate')).toMatchObject({ value: 0.2, ok: false });
  });

  it('counts, for a shadow, the requests both arms answered', () => {
    const baseline = few('production', 300);
    // The shadow scored 300 requests too, but only 150 of them share an id with production's.
    const shadow = few('shadow', 300).map((r, i) => (i < 150 ? r : { ...r, requestId: `other${i}` }));
    const result = check({ mode: 'shadow', baseline, candidate: shadow });
    expect(result.decision).toBe('extend');
    expect(signal(result, 'traffic')).toMatchObject({ value: 150, ok: false });
    expect(signal(result, 'traffic').detail).toContain('both arms answered 150');
  });
});

describe('live metric intervals: paired (shadow) vs unpaired (canary)', () => {
  // 1000 rows; production is right on 80%, the candidate on exactly the same rows except 10 it
  // newly gets right and 10 it newly gets wrong: the same accuracy, and highly correlated.
  const n = 1000;
  const u = uniforms(71, n);
  const production = Float64Array.from(u, (v) => (v < 0.8 ? 1 : 0));
  const candidate = Float64Array.from(production);
  let flippedUp = 0;
  let flippedDown = 0;
  for (let i = 0; i < n && (flippedUp < 10 || flippedDown < 10); i += 1) {
    if (production[i] === 0 && flippedUp < 10) [candidate[i], flippedUp] = [1, flippedUp + 1];
    else if (production[i] === 1 && flippedDown < 10) [candidate[i], flippedDown] = [0, flippedDown + 1];
  }
  const settings = { confidence: 0.95, resamples: 1000, seed: 1 };

  it('the paired interval is several times narrower on correlated rows, around the same difference', () => {
    const paired = pairedMetricInterval('accuracy', production, candidate, settings);
    const unpaired = unpairedMetricInterval('accuracy', production, candidate, settings);
    expect(paired.difference).toBe(0);
    expect(unpaired.difference).toBe(0);
    const width = (interval: [number, number]) => interval[1] - interval[0];
    expect(width(unpaired.interval)).toBeGreaterThan(3 * width(paired.interval));
    expect(paired.interval[0]).toBeGreaterThan(-0.02);
    expect(unpaired.interval[0]).toBeLessThan(-0.02);
  });

  it('so on the same requests a shadow advances where the unpaired canary comparison cannot tell', () => {
    const scores = uniforms(72, n);
    const records = (arm: Arm) => armRecords(arm, scores.map((p) => ({ output: binaryOutput(p) })));
    // Labels chosen so that production's correctness is `production` and the candidate's is `candidate`:
    // both arms predict the same class, so the candidate's outputs flip where its correctness differs.
    const truth = scores.map((p, i) => ((p > 0.5) === (production[i] === 1) ? 'yes' : 'no'));
    const candidateScoresFlipped = scores.map((p, i) => (candidate[i] === production[i] ? p : 1 - p));
    const baseline = records('production');
    const labels = truth.map((t, i) => label(`r${i}`, t));
    const candidateRecords = (arm: Arm) => armRecords(arm, candidateScoresFlipped.map((p) => ({ output: binaryOutput(p) })));
    const shadow = check({ mode: 'shadow', baseline, candidate: candidateRecords('shadow'), labels });
    const canary = check({ mode: 'canary' as RolloutMode, baseline, candidate: candidateRecords('canary'), labels });
    expect(signal(shadow, 'liveMetric.accuracy').detail).toContain('paired bootstrap');
    expect(signal(shadow, 'liveMetric.accuracy').ok).toBe(true);
    expect(shadow.decision).toBe('advance');
    expect(signal(canary, 'liveMetric.accuracy').detail).toContain('unpaired bootstrap');
    expect(canary.decision).toBe('rollback');
    expect(failingNames(canary)).toEqual(['liveMetric.accuracy']);
  });

  it('refuses a paired interval over rows that do not line up', () => {
    expect(() => pairedMetricInterval('accuracy', new Float64Array(3), new Float64Array(4), settings)).toThrow(/same rows/);
  });
});
