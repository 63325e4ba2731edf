import { describe, expect, it } from 'vitest';
import { bootstrapWeights, compareWithChampion, OTHER_VALUES, segmentSeed, weightedMetric, type PairedHeldOut } from '../../lambdas/core/evaluation/champion-gate.js';
import { evaluateGate, evaluateReleaseGate, type GateCheck, type ReleaseGateInput } from '../../lambdas/core/evaluation/gate.js';
import { classificationReport, regressionReport } from '../../lambdas/core/evaluation/metrics.js';
import { ChampionPolicySchema, GatePolicySchema, type ChampionPolicy, type ChampionTolerance } from '../../lambdas/core/training/model-spec.js';
import { createRng } from '../../lambdas/core/random.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A standard normal draw (Box-Muller) from a seeded generator. */
const gaussian = (rng: () => number) => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());

/**
 * Binary rows and two models' [P(negative), P(positive)]: each scores `strength x (±1) + shared
 * noise + own x its own noise`, so a higher strength is a better model and a small `own` makes
 * the two models' errors move together (as a retrained model's do with its predecessor's).
 */
function binaryModels(n: number, seed: number, strength: { candidate: number; champion: number }, own = 0.3) {
  const rng = createRng(seed);
  const labels: number[] = [];
  const candidate: number[][] = [];
  const champion: number[][] = [];
  for (let i = 0; i < n; i += 1) {
    const y = rng() < 0.4 ? 1 : 0;
    const shared = gaussian(rng);
    const pc = sigmoid(strength.candidate * (2 * y - 1) + shared + own * gaussian(rng));
    const ph = sigmoid(strength.champion * (2 * y - 1) + shared + own * gaussian(rng));
    labels.push(y);
    candidate.push([1 - pc, pc]);
    champion.push([1 - ph, ph]);
  }
  return { labels, candidate, champion };
}

/** Regression rows y ~ N(0, 3²) and two models predicting y + noise of the given scales (shared part + own part). */
function regressionModels(n: number, seed: number, noise: { candidate: number; champion: number }) {
  const rng = createRng(seed);
  const labels: number[] = [];
  const candidate: number[][] = [];
  const champion: number[][] = [];
  for (let i = 0; i < n; i += 1) {
    const y = 3 * gaussian(rng);
    const shared = gaussian(rng);
    const own = 0.1 * gaussian(rng);
    labels.push(y);
    candidate.push([y + noise.candidate * (shared + own)]);
    champion.push([y + noise.champion * (shared - own)]);
  }
  return { labels, candidate, champion };
}

const policyOf = (overrides: Partial<ChampionPolicy> = {}): ChampionPolicy => ChampionPolicySchema.parse({ resamples: 500, ...overrides });

function paired(task: PairedHeldOut['task'], models: { labels: number[]; candidate: number[][]; champion: number[][] }, segments: Record<string, string[]> = {}): PairedHeldOut {
  return { task, labels: models.labels, candidate: models.candidate, champion: models.champion, segments };
}

const byName = (checks: GateCheck[], name: string): GateCheck => {
  const check = checks.find((c) => c.name === name);
  if (!check) throw new Error(`no check ${name} among ${checks.map((c) => c.name).join(', ')}`);
  return check;
};
const width = (check: GateCheck) => check.interval![1] - check.interval![0];

const AUC = { rocAuc: { tolerance: 0.02 } } satisfies Record<string, ChampionTolerance>;

describe('compareWithChampion: overall verdict', () => {
  it('passes identical outputs with a zero interval, and two equally good models with an interval around 0', () => {
    // Prepare
    const models = binaryModels(2000, 1, { candidate: 1, champion: 1 });
    // Act
    const same = compareWithChampion(paired('binary_classification', { ...models, champion: models.candidate }), AUC, policyOf());
    const peers = compareWithChampion(paired('binary_classification', models), AUC, policyOf());
    // Assess
    expect(same).toEqual([expect.objectContaining({ name: 'champion.rocAuc', status: 'pass', passed: true, value: 0, interval: [0, 0] })]);
    const check = byName(peers, 'champion.rocAuc');
    expect(check.status).toBe('pass');
    expect(check.interval![0]).toBeLessThan(0);
    expect(check.interval![1]).toBeGreaterThan(0);
    expect(width(check)).toBeGreaterThan(0);
    expect(check.rows).toBe(2000);
  });

  it('fails a clearly worse candidate, naming the metric and both values', () => {
    const models = binaryModels(1000, 2, { candidate: 0.4, champion: 1.5 });
    const [check] = compareWithChampion(paired('binary_classification', models), AUC, policyOf());
    expect(check).toMatchObject({ name: 'champion.rocAuc', metric: 'rocAuc', status: 'fail', passed: false, tolerance: 0.02 });
    expect(check!.interval![1]).toBeLessThan(-0.02);
    expect(check!.candidate!).toBeLessThan(check!.champion!);
    expect(check!.value).toBeCloseTo(check!.candidate! - check!.champion!, 12);
    expect(check!.detail).toMatch(/^candidate 0\.\d+ vs production 0\.\d+, difference -0\.\d+, 95% CI \[-0\.\d+, -0\.\d+\] below -0\.02$/);
  });

  it('passes a slightly worse candidate within the tolerance, and fails it with no tolerance', () => {
    const models = binaryModels(3000, 3, { candidate: 1, champion: 1.04 }, 0.1);
    const lenient = byName(compareWithChampion(paired('binary_classification', models), AUC, policyOf()), 'champion.rocAuc');
    const strict = byName(compareWithChampion(paired('binary_classification', models), { rocAuc: { tolerance: 0 } }, policyOf()), 'champion.rocAuc');
    expect(lenient.value!).toBeLessThan(0);
    expect(lenient.interval![1]).toBeLessThan(0);
    expect(lenient.interval![0]).toBeGreaterThan(-0.02);
    expect(lenient.status).toBe('pass');
    expect(strict.interval).toEqual(lenient.interval);
    expect(strict.status).toBe('fail');
  });

  it('scales a relative tolerance by the champion value (rmse)', () => {
    // The candidate's errors are 3% larger than the champion's and move with them.
    const models = regressionModels(2000, 4, { candidate: 1.03, champion: 1 });
    const loose = byName(compareWithChampion(paired('regression', models), { rmse: { relativeTolerance: 0.05 } }, policyOf()), 'champion.rmse');
    const tight = byName(compareWithChampion(paired('regression', models), { rmse: { relativeTolerance: 0.01 } }, policyOf()), 'champion.rmse');
    expect(loose.tolerance).toBeCloseTo(0.05 * loose.champion!, 12);
    expect(tight.tolerance).toBeCloseTo(0.01 * tight.champion!, 12);
    expect(loose.status).toBe('pass');
    expect(tight.status).toBe('fail');
  });

  it('orients lower-is-better metrics so that a lower rmse counts as better', () => {
    const models = regressionModels(1000, 5, { candidate: 0.8, champion: 1 });
    const better = byName(compareWithChampion(paired('regression', models), { rmse: { tolerance: 0 }, mae: { tolerance: 0 }, r2: { tolerance: 0 } }, policyOf()), 'champion.rmse');
    expect(better.candidate!).toBeLessThan(better.champion!);
    expect(better.value).toBeCloseTo(better.champion! - better.candidate!, 12);
    expect(better.interval![0]).toBeGreaterThan(0);
    expect(better.status).toBe('pass');
    const swapped = compareWithChampion(paired('regression', { ...models, candidate: models.champion, champion: models.candidate }), { rmse: { tolerance: 0 }, mae: { tolerance: 0 }, r2: { tolerance: 0 } }, policyOf());
    expect(swapped.map((c) => [c.name, c.status])).toEqual([
      ['champion.rmse', 'fail'],
      ['champion.mae', 'fail'],
      ['champion.r2', 'fail'],
    ]);
    expect(byName(swapped, 'champion.rmse').interval![1]).toBeLessThan(0);
  });

  it('refuses a metric the task cannot compare', () => {
    const models = regressionModels(50, 6, { candidate: 1, champion: 1 });
    expect(() => compareWithChampion(paired('regression', models), AUC, policyOf())).toThrow(/regression can use rmse, mae, r2; not rocAuc/);
  });

  it('refuses outputs that do not line up with the labels', () => {
    const models = binaryModels(50, 6, { candidate: 1, champion: 1 });
    expect(() => compareWithChampion(paired('binary_classification', { ...models, champion: models.champion.slice(1) }), AUC, policyOf())).toThrow(/do not line up/);
    expect(() => compareWithChampion(paired('binary_classification', models, { region: ['a'] }), AUC, policyOf())).toThrow(/segment column "region" has 1 values for 50 rows/);
  });

  it('gives no verdict on non-finite outputs, and says whose they are', () => {
    const models = binaryModels(200, 7, { candidate: 1, champion: 1 });
    const champion = models.champion.map((row, i) => (i === 3 ? [NaN, NaN] : row));
    const [check] = compareWithChampion(paired('binary_classification', { ...models, champion }), AUC, policyOf());
    expect(check).toMatchObject({ status: 'insufficient', passed: true });
    expect(check!.detail).toMatch(/production version has 2 non-finite outputs/);
    const [blocked] = compareWithChampion(paired('binary_classification', { ...models, champion }), AUC, policyOf({ insufficientEvidence: 'block' }));
    expect(blocked).toMatchObject({ status: 'insufficient', passed: false });
  });
});

describe('compareWithChampion: determinism and the paired design', () => {
  const models = binaryModels(1500, 8, { candidate: 0.5, champion: 1.2 });
  const segments = { region: models.labels.map((_, i) => ['north', 'south', 'east'][i % 3]!) };
  const metrics = { rocAuc: { tolerance: 0.02 }, accuracy: { tolerance: 0.02 } };

  it('gives the same report for the same input and seed, byte for byte', () => {
    const first = compareWithChampion(paired('binary_classification', models, segments), metrics, policyOf({ seed: 11 }));
    const second = compareWithChampion(paired('binary_classification', models, segments), metrics, policyOf({ seed: 11 }));
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });

  it('moves the interval endpoints but not a clear verdict with another seed', () => {
    const a = compareWithChampion(paired('binary_classification', models, segments), metrics, policyOf({ seed: 11 }));
    const b = compareWithChampion(paired('binary_classification', models, segments), metrics, policyOf({ seed: 12 }));
    expect(a.map((c) => c.name)).toEqual(b.map((c) => c.name));
    a.forEach((check, i) => {
      expect(b[i]!.interval).not.toEqual(check.interval);
      expect(b[i]!.value).toBe(check.value);
      expect(b[i]!.status).toBe(check.status);
    });
    expect(a.every((c) => c.status === 'fail')).toBe(true);
  });

  it('seeds each segment from its column and value, not from the order it is judged in', () => {
    const two = { region: segments.region, parity: models.labels.map((_, i) => (i % 2 === 0 ? 'even' : 'odd')) };
    const together = compareWithChampion(paired('binary_classification', models, two), metrics, policyOf());
    const reversed = compareWithChampion(paired('binary_classification', models, { parity: two.parity, region: two.region }), metrics, policyOf());
    const alone = compareWithChampion(paired('binary_classification', models, { region: two.region }), metrics, policyOf());
    for (const check of alone) {
      expect(byName(together, check.name)).toEqual(check);
      expect(byName(reversed, check.name)).toEqual(check);
    }
  });

  it('seeds a segment with a stable hash of the policy seed, column and value', () => {
    // Pinned: a change here changes every stored segment verdict for the same inputs.
    expect(segmentSeed(1, 'region', 'north')).toBe(71271219);
    expect(segmentSeed(1, 'region', 'south')).not.toBe(segmentSeed(1, 'region', 'north'));
    expect(segmentSeed(2, 'region', 'north')).not.toBe(segmentSeed(1, 'region', 'north'));
    expect(segmentSeed(1, 'regio', 'nnorth')).not.toBe(segmentSeed(1, 'region', 'north'));
  });

  it('draws exactly createRng(seed)\'s sequence, as multinomial counts', () => {
    const rows = 37;
    const rng = createRng(123);
    for (const w of bootstrapWeights(123, rows, 5)) {
      const expected = new Float64Array(rows);
      for (let draw = 0; draw < rows; draw += 1) expected[Math.floor(rng() * rows)]! += 1;
      expect(w).toEqual(expected);
    }
  });

  it('is much narrower for two models whose errors move together than the metric\'s own spread', () => {
    // The champion is the candidate plus tiny noise; a constant champion has AUC 0.5 in every
    // resample, so comparing with it shows the candidate's own bootstrap spread.
    const rng = createRng(9);
    const close = models.candidate.map((row) => {
      const p = Math.min(1, Math.max(0, row[1]! + 0.005 * gaussian(rng)));
      return [1 - p, p];
    });
    const pairedCheck = byName(compareWithChampion(paired('binary_classification', { ...models, champion: close }), AUC, policyOf()), 'champion.rocAuc');
    const constant = models.candidate.map(() => [0.5, 0.5]);
    const ownSpread = byName(compareWithChampion(paired('binary_classification', { ...models, champion: constant }), AUC, policyOf()), 'champion.rocAuc');
    expect(width(pairedCheck)).toBeGreaterThan(0);
    expect(width(pairedCheck)).toBeLessThan(0.1 * width(ownSpread));
  });
});

describe('compareWithChampion: segments', () => {
  /** 2000 rows in four regions; in "north" (200 rows) the candidate is noise while elsewhere it matches the champion. */
  function regional() {
    const models = binaryModels(2000, 10, { candidate: 1.2, champion: 1.2 }, 0.05);
    const region = models.labels.map((_, i) => (i % 10 === 0 ? 'north' : ['south', 'east', 'west'][i % 3]!));
    const rng = createRng(99);
    const candidate = models.candidate.map((row, i) => {
      if (region[i] !== 'north') return row;
      const p = rng();
      return [1 - p, p];
    });
    return { models: { ...models, candidate }, region };
  }

  it('fails a segment where the candidate is much worse even though the overall comparison passes', () => {
    const { models, region } = regional();
    const checks = compareWithChampion(paired('binary_classification', models, { region }), { rocAuc: { tolerance: 0.05 } }, policyOf());
    expect(checks.map((c) => c.name)).toEqual([
      'champion.rocAuc',
      'champion.rocAuc[region=east]',
      'champion.rocAuc[region=north]',
      'champion.rocAuc[region=south]',
      'champion.rocAuc[region=west]',
    ]);
    expect(byName(checks, 'champion.rocAuc').status).toBe('pass');
    const north = byName(checks, 'champion.rocAuc[region=north]');
    expect(north).toMatchObject({ status: 'fail', passed: false, segment: { column: 'region', value: 'north' }, rows: 200 });
    expect(north.interval![1]).toBeLessThan(-0.05);
    expect(checks.filter((c) => c.segment?.value !== 'north').every((c) => c.status === 'pass')).toBe(true);
  });

  it('calls a segment below minSegmentRows insufficient: a warning under warn, a failure under block', () => {
    const models = binaryModels(1000, 19, { candidate: 1.2, champion: 1.2 }, 0.05);
    const region = models.labels.map((_, i) => (i < 12 ? 'tiny' : 'big'));
    const warn = compareWithChampion(paired('binary_classification', models, { region }), AUC, policyOf({ minSegmentRows: 30 }));
    const tiny = byName(warn, 'champion.rocAuc[region=tiny]');
    expect(tiny).toMatchObject({ status: 'insufficient', passed: true, rows: 12, value: null });
    expect(tiny.interval).toBeUndefined();
    expect(tiny.detail).toMatch(/12 rows, fewer than the 30 a segment needs/);
    expect(byName(warn, 'champion.rocAuc[region=big]').status).toBe('pass');
    const block = compareWithChampion(paired('binary_classification', models, { region }), AUC, policyOf({ minSegmentRows: 30, insufficientEvidence: 'block' }));
    expect(byName(block, 'champion.rocAuc[region=tiny]')).toMatchObject({ status: 'insufficient', passed: false });
  });

  it('calls a one-class segment insufficient for rocAuc, with the reason, while accuracy is still judged', () => {
    const models = binaryModels(600, 11, { candidate: 1, champion: 1 });
    const group = models.labels.map((label) => (label === 1 ? 'positives' : 'negatives'));
    const checks = compareWithChampion(paired('binary_classification', models, { group }), { rocAuc: { tolerance: 0.02 }, accuracy: { tolerance: 0.05 } }, policyOf());
    const auc = byName(checks, 'champion.rocAuc[group=positives]');
    expect(auc).toMatchObject({ status: 'insufficient', passed: true });
    expect(auc.detail).toMatch(/rocAuc is undefined for the candidate and production on these \d+ rows: it needs both classes/);
    expect(byName(checks, 'champion.accuracy[group=positives]').status).not.toBe('insufficient');
  });

  it('calls a metric insufficient when too many resamples cannot define it', () => {
    // 40 rows with 2 positives: many resamples draw no positive at all.
    const models = binaryModels(40, 12, { candidate: 1, champion: 1 });
    const labels = models.labels.map((_, i) => (i < 2 ? 1 : 0));
    const [check] = compareWithChampion(paired('binary_classification', { ...models, labels }), AUC, policyOf());
    expect(check!.status).toBe('insufficient');
    expect(check!.detail).toMatch(/rocAuc is undefined in \d+ of 500 resamples of these 40 rows/);
  });

  it('judges the 20 most frequent values of a column one by one and the rest together', () => {
    // Value v00 has the most rows, v24 the fewest (40 + 2 x (24 - k) rows for value k).
    const values: string[] = [];
    for (let k = 0; k < 25; k += 1) for (let r = 0; r < 40 + 2 * (24 - k); r += 1) values.push(`v${String(k).padStart(2, '0')}`);
    const models = binaryModels(values.length, 13, { candidate: 1, champion: 1 });
    const checks = compareWithChampion(paired('binary_classification', models, { bucket: values }), AUC, policyOf({ resamples: 100 }));
    const segmentChecks = checks.filter((c) => c.segment);
    expect(segmentChecks.map((c) => c.segment!.value)).toEqual([...Array.from({ length: 20 }, (_, k) => `v${String(k).padStart(2, '0')}`), OTHER_VALUES]);
    const other = byName(checks, `champion.rocAuc[bucket=${OTHER_VALUES}]`);
    expect(other.rows).toBe(values.filter((v) => v >= 'v20').length);
    expect(other.status).not.toBe('insufficient');
  });
});

describe('weightedMetric', () => {
  const binary = binaryModels(300, 14, { candidate: 1, champion: 1 });
  // Rounded to 1 decimal so that many scores tie (the AUC's half-credit path).
  const tiedProbabilities = binary.candidate.map((row) => {
    const p = Math.round(row[1]! * 10) / 10;
    return [1 - p, p];
  });
  const rng = createRng(15);
  const multiLabels = Array.from({ length: 300 }, () => Math.floor(rng() * 4));
  // Five classes of which the fifth never occurs nor is predicted: macro averages leave it out.
  const multiProbabilities = multiLabels.map((label) => {
    const raw = [0, 1, 2, 3].map((k) => rng() + (k === label ? 0.4 : 0) + (k === 3 ? -0.9 : 0));
    const total = raw.reduce((sum, p) => sum + Math.max(p, 0), 0);
    return [...raw.map((p) => Math.max(p, 0) / total), 0];
  });
  const regression = regressionModels(300, 16, { candidate: 1, champion: 1 });

  it('agrees with classificationReport and regressionReport when every weight is 1', () => {
    for (const probabilities of [binary.candidate, tiedProbabilities]) {
      const report = classificationReport(binary.labels, probabilities);
      for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'logLoss']) {
        expect(Math.abs(weightedMetric('binary_classification', metric, binary.labels, probabilities) - report[metric]!)).toBeLessThan(1e-9);
      }
    }
    const multi = classificationReport(multiLabels, multiProbabilities);
    // Class 3 is rarely predicted: the macro average must follow the classes that appear.
    for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'logLoss']) {
      expect(Math.abs(weightedMetric('multiclass_classification', metric, multiLabels, multiProbabilities) - multi[metric]!)).toBeLessThan(1e-9);
    }
    const values = regression.candidate;
    const reg = regressionReport(regression.labels, values.map((v) => v[0]!));
    for (const metric of ['rmse', 'mae', 'r2']) {
      expect(Math.abs(weightedMetric('regression', metric, regression.labels, values) - reg[metric]!)).toBeLessThan(1e-9);
    }
  });

  it('weighs a row with weight k as k copies of it, and leaves out rows of weight 0', () => {
    const weights = binary.labels.map((_, i) => i % 4);
    const copies = binary.labels.flatMap((_, i) => Array.from({ length: weights[i]! }, () => i));
    const check = (task: PairedHeldOut['task'], metric: string, labels: number[], outputs: number[][], expected: number) =>
      expect(Math.abs(weightedMetric(task, metric, labels, outputs, weights) - expected)).toBeLessThan(1e-9);
    const tiedReport = classificationReport(copies.map((i) => binary.labels[i]!), copies.map((i) => tiedProbabilities[i]!));
    for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'logLoss']) check('binary_classification', metric, binary.labels, tiedProbabilities, tiedReport[metric]!);
    const multi = classificationReport(copies.map((i) => multiLabels[i]!), copies.map((i) => multiProbabilities[i]!));
    for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'logLoss']) check('multiclass_classification', metric, multiLabels, multiProbabilities, multi[metric]!);
    const reg = regressionReport(copies.map((i) => regression.labels[i]!), copies.map((i) => regression.candidate[i]![0]!));
    for (const metric of ['rmse', 'mae', 'r2']) check('regression', metric, regression.labels, regression.candidate, reg[metric]!);
  });
});

describe('evaluateReleaseGate', () => {
  const policy = GatePolicySchema.parse({ minRocAuc: 0.6, minRows: 100, maxLatencyMsPerRow: 5 });
  const models = binaryModels(1000, 17, { candidate: 0.4, champion: 1.5 });
  const metrics = { ...classificationReport(models.labels, models.candidate) };
  const base: ReleaseGateInput = { metrics, policy, rows: 1000, predictionStd: 0.2, nonFinitePredictions: 0, latencyMsPerRow: 1, championMetrics: AUC };
  const failing = (input: ReleaseGateInput) => evaluateReleaseGate(input).checks.filter((c) => !c.passed).map((c) => c.name);

  it('judges on absolute thresholds alone when no version serves in production, and says so', () => {
    const report = evaluateReleaseGate(base);
    expect(report.passed).toBe(true);
    expect(report.champion).toBeNull();
    expect(report.insufficient).toBe(0);
    expect(report.checks.map((c) => c.name)).toEqual(['min_rows', 'metrics_finite', 'predictions_vary', 'rocAuc', 'predictions_finite', 'latency_per_row']);
    expect(report.checks.every((c) => c.status === 'pass')).toBe(true);
    expect(report.summary).toMatch(/^gate passed: .*no production version: judged on absolute thresholds alone$/);
  });

  it('fails on NaN or infinite outputs', () => {
    expect(failing({ ...base, nonFinitePredictions: 3 })).toEqual(['predictions_finite']);
    expect(evaluateReleaseGate({ ...base, nonFinitePredictions: 3 }).summary).toMatch(/^gate failed: 3 held-out outputs are NaN or infinite/);
  });

  it('fails a candidate slower than the latency budget, and skips the check when latency was not measured', () => {
    expect(failing({ ...base, latencyMsPerRow: 5 })).toEqual([]);
    expect(failing({ ...base, latencyMsPerRow: 5.2 })).toEqual(['latency_per_row']);
    expect(evaluateReleaseGate({ ...base, latencyMsPerRow: 5.2 }).summary).toMatch(/scoring took 5\.2 ms per row, > 5 ms/);
    // Rounding must never print a value over budget as the budget itself.
    expect(evaluateReleaseGate({ ...base, latencyMsPerRow: 5.000001 }).summary).toMatch(/scoring took 5\.000001 ms per row, > 5 ms/);
    const { latencyMsPerRow: _omitted, ...unmeasured } = base;
    expect(evaluateReleaseGate(unmeasured).checks.map((c) => c.name)).not.toContain('latency_per_row');
  });

  it('fails a candidate worse than production, naming the metric, both values and the interval', () => {
    const report = evaluateReleaseGate({ ...base, paired: paired('binary_classification', models), championVersion: 3 });
    expect(report.passed).toBe(false);
    expect(report.champion).toEqual({ version: 3 });
    expect(failing({ ...base, paired: paired('binary_classification', models), championVersion: 3 })).toEqual(['champion.rocAuc']);
    expect(report.summary).toMatch(/^gate failed: champion\.rocAuc: candidate 0\.\d+ vs production v3 0\.\d+, difference 95% CI \[-0\.\d+, -0\.\d+\] below -0\.02$/);
  });

  it('passes a candidate as good as production and mentions insufficient segments as warnings', () => {
    const peers = binaryModels(1000, 18, { candidate: 1.5, champion: 1.5 }, 0.05);
    const region = peers.labels.map((_, i) => (i < 10 ? 'tiny' : 'big'));
    const report = evaluateReleaseGate({ ...base, paired: paired('binary_classification', peers, { region }), championVersion: 3 });
    expect(report.passed).toBe(true);
    expect(report.insufficient).toBe(1);
    expect(report.summary).toMatch(/champion\.rocAuc: candidate 0\.\d+ vs production v3 0\.\d+, difference 95% CI \[[-\d.]+, [-\d.]+\] within -0\.02/);
    expect(report.summary).toMatch(/1 segment comparisons with production v3 passed/);
    expect(report.summary).toMatch(/warning: 1 checks had insufficient evidence: champion\.rocAuc\[region=tiny\]: insufficient evidence: 10 rows, fewer than the 30/);
    expect(report.summary).not.toMatch(/no production version/);
  });

  it('blocks on insufficient evidence when the policy says so', () => {
    const peers = binaryModels(1000, 18, { candidate: 1.5, champion: 1.5 }, 0.05);
    const region = peers.labels.map((_, i) => (i < 10 ? 'tiny' : 'big'));
    const strict = GatePolicySchema.parse({ minRows: 100, champion: { insufficientEvidence: 'block' } });
    const report = evaluateReleaseGate({ ...base, policy: strict, paired: paired('binary_classification', peers, { region }), championVersion: 3 });
    expect(report.passed).toBe(false);
    expect(report.summary).toMatch(/^gate failed: champion\.rocAuc\[region=tiny\]: insufficient evidence \(blocks\): 10 rows/);
  });

  it('keeps evaluateGate as the absolute-threshold gate', () => {
    const report = evaluateGate({ ...metrics, predictionStd: 0.2 }, policy, 1000);
    expect(report.champion).toBeNull();
    expect(report.checks.every((c) => c.status === (c.passed ? 'pass' : 'fail'))).toBe(true);
  });
});
