import { describe, expect, it } from 'vitest';
import { parseModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { DatasetSchema } from '../../lambdas/core/data/profile.js';
import { compareManyRuns, compareRuns, reproductionVerdict, specSchemaProblems } from '../../lambdas/core/training/run-comparison.js';
import type { RunRecord } from '../../lambdas/core/training/run.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: 'run-1',
    model: 'credit-default',
    status: 'SUCCEEDED',
    trigger: 'manual',
    actor: 'ana',
    dataset: { name: 'loans', version: 'c'.repeat(64), uri: 's3://data/loans/c.csv' },
    specHash: 'spec-1',
    codeVersion: 'code-1',
    algorithm: 'logistic_regression',
    parameters: { C: 1, maxIterations: 500, tolerance: 1e-6, testFraction: 0.25 },
    mode: 'train',
    seed: 42,
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:train:run-1',
    startedAt: '2026-01-01T00:00:00.000Z',
    artifact: { uri: 's3://models/credit-default/run-1.json', sha256: SHA_A },
    metrics: { accuracy: 0.8, rocAuc: 0.87, logLoss: 0.41, rows: 500 },
    ...overrides,
  };
}

const row = <T extends { name: string }>(rows: readonly T[], name: string): T => {
  const found = rows.find((r) => r.name === name);
  if (!found) throw new Error(`no row ${name} in ${rows.map((r) => r.name).join(', ')}`);
  return found;
};

describe('compareRuns', () => {
  const a = run();
  const b = run({
    runId: 'run-2',
    seed: 43,
    parameters: { C: 0.5, maxIterations: 500, tolerance: 1e-6, testFraction: 0.25 },
    metrics: { accuracy: 0.75, rocAuc: 0.87, logLoss: 0.45, rows: 500, f1: 0.6 },
  });
  const comparison = compareRuns(a, b);

  it('names the two runs and lists parameters and metrics by name, in order', () => {
    expect(comparison.runs).toEqual(['run-1', 'run-2']);
    expect(comparison.parameters.map((p) => p.name)).toEqual(['C', 'maxIterations', 'testFraction', 'tolerance']);
    expect(comparison.metrics.map((m) => m.name)).toEqual(['accuracy', 'f1', 'logLoss', 'rocAuc', 'rows']);
  });

  it('marks the parameters that differ and only those', () => {
    expect(row(comparison.parameters, 'C')).toEqual({ name: 'C', a: 1, b: 0.5, differs: true });
    expect(comparison.parameters.filter((p) => p.differs).map((p) => p.name)).toEqual(['C']);
  });

  it('marks differing metrics with delta b - a, and a metric one run lacks with a null delta', () => {
    expect(row(comparison.metrics, 'accuracy')).toEqual({ name: 'accuracy', a: 0.8, b: 0.75, differs: true, delta: 0.75 - 0.8 });
    expect(row(comparison.metrics, 'logLoss').delta).toBe(0.45 - 0.41);
    expect(row(comparison.metrics, 'logLoss').delta).toBeGreaterThan(0);
    expect(row(comparison.metrics, 'rocAuc')).toEqual({ name: 'rocAuc', a: 0.87, b: 0.87, differs: false, delta: 0 });
    expect(row(comparison.metrics, 'f1')).toEqual({ name: 'f1', a: null, b: 0.6, differs: true, delta: null });
  });

  it('compares the lineage: dataset version, seed, algorithm, status', () => {
    expect(row(comparison.lineage, 'seed')).toEqual({ name: 'seed', a: 42, b: 43, differs: true });
    expect(row(comparison.lineage, 'dataset')).toEqual({ name: 'dataset', a: `loans@${'c'.repeat(64)}`, b: `loans@${'c'.repeat(64)}`, differs: false });
    expect(comparison.lineage.filter((l) => l.differs).map((l) => l.name)).toEqual(['seed']);
    const other = compareRuns(a, run({ algorithm: 'gradient_boosting', status: 'FAILED', dataset: { ...a.dataset, version: 'd'.repeat(64) } }));
    expect(other.lineage.filter((l) => l.differs).map((l) => l.name)).toEqual(['algorithm', 'dataset', 'status']);
  });

  it('handles runs without metrics (a failed run)', () => {
    const { metrics: _metrics, ...failed } = run({ status: 'FAILED' });
    const result = compareRuns(a, failed);
    expect(result.metrics.every((m) => m.differs && m.b === null && m.delta === null)).toBe(true);
  });
});

describe('reproductionVerdict', () => {
  const original = run();
  const reproduction = (overrides: Partial<RunRecord> = {}) => run({ runId: 'run-9', mode: 'reproduce', reproduces: 'run-1', trigger: 'reproduce', ...overrides });

  it('matches when the artifact sha256 and every metric are equal and the reproduction SUCCEEDED', () => {
    const verdict = reproductionVerdict(original, reproduction());
    expect(verdict).toMatchObject({ run: 'run-1', reproducedBy: 'run-9', matches: true, artifact: { recorded: SHA_A, reproduced: SHA_A, matches: true } });
    expect(verdict.metrics.map((m) => [m.name, m.matches])).toEqual([
      ['accuracy', true],
      ['logLoss', true],
      ['rocAuc', true],
      ['rows', true],
    ]);
  });

  it('does not match when the artifact differs, even with equal metrics', () => {
    const verdict = reproductionVerdict(original, reproduction({ artifact: { uri: 's3://models/x.json', sha256: SHA_B } }));
    expect(verdict.matches).toBe(false);
    expect(verdict.artifact).toEqual({ recorded: SHA_A, reproduced: SHA_B, matches: false });
    expect(verdict.metrics.every((m) => m.matches)).toBe(true);
  });

  it('does not match when one metric differs in the last digit, naming it', () => {
    const verdict = reproductionVerdict(original, reproduction({ metrics: { ...original.metrics!, logLoss: 0.41000000000000003 } }));
    expect(verdict.matches).toBe(false);
    expect(verdict.artifact.matches).toBe(true);
    expect(verdict.metrics.filter((m) => !m.matches)).toEqual([{ name: 'logLoss', recorded: 0.41, reproduced: 0.41000000000000003, matches: false }]);
  });

  it('does not match when a metric is missing from the reproduction', () => {
    const { rocAuc: _rocAuc, ...fewer } = original.metrics!;
    const verdict = reproductionVerdict(original, reproduction({ metrics: fewer }));
    expect(verdict.matches).toBe(false);
    expect(verdict.metrics.find((m) => m.name === 'rocAuc')).toEqual({ name: 'rocAuc', recorded: 0.87, reproduced: null, matches: false });
  });

  it.each(['FAILED', 'RUNNING'] as const)('does not match a reproduction that is %s, even with equal artifact and metrics', (status) => {
    const verdict = reproductionVerdict(original, reproduction({ status }));
    expect(verdict.artifact.matches).toBe(true);
    expect(verdict.metrics.every((m) => m.matches)).toBe(true);
    expect(verdict.matches).toBe(false);
  });

  it('does not match when neither run has an artifact', () => {
    const { artifact: _a, ...noArtifact } = original;
    const { artifact: _b, ...reproducedNoArtifact } = reproduction();
    const verdict = reproductionVerdict(noArtifact, reproducedNoArtifact);
    expect(verdict.artifact).toEqual({ recorded: null, reproduced: null, matches: false });
    expect(verdict.matches).toBe(false);
  });
});

describe('specSchemaProblems', () => {
  const schema: DatasetSchema = {
    source: 'inferred',
    columns: [
      { name: 'age', type: 'numeric', nullable: false },
      { name: 'income', type: 'numeric', nullable: true },
      { name: 'plan', type: 'string', nullable: true },
      { name: 'signup', type: 'string', nullable: false },
      { name: 'churned', type: 'string', nullable: false },
      { name: 'spend', type: 'numeric', nullable: false },
    ],
  };
  const spec = (overrides: Record<string, unknown> = {}) =>
    parseModelSpec({
      name: 'churn',
      task: 'binary_classification',
      target: 'churned',
      features: [
        { name: 'age', type: 'numeric' },
        { name: 'income', type: 'numeric' },
        { name: 'plan', type: 'categorical' },
      ],
      training: { algorithm: 'logistic_regression' },
      ...overrides,
    });

  it('finds nothing wrong with a spec that fits the schema; a categorical feature may be a numeric column', () => {
    expect(specSchemaProblems(spec(), schema)).toEqual([]);
    expect(specSchemaProblems(spec({ features: [{ name: 'age', type: 'categorical' }] }), schema)).toEqual([]);
  });

  it('names target when the target is not a column, listing the columns', () => {
    expect(specSchemaProblems(spec({ target: 'cancelled' }), schema)).toEqual([
      { field: 'target', problem: expect.stringMatching(/"cancelled" is not a column of the dataset \(columns: age, income, plan, signup, churned, spend\)/) },
    ]);
  });

  it('names features.N.name for a feature the dataset lacks', () => {
    const features = [{ name: 'age', type: 'numeric' }, { name: 'tenure', type: 'numeric' }, { name: 'plan', type: 'categorical' }, { name: 'region', type: 'categorical' }];
    expect(specSchemaProblems(spec({ features }), schema)).toEqual([
      { field: 'features.1.name', problem: 'the dataset has no column "tenure"' },
      { field: 'features.3.name', problem: 'the dataset has no column "region"' },
    ]);
  });

  it('names features.N.type for a numeric feature that is text in the dataset', () => {
    const features = [{ name: 'age', type: 'numeric' }, { name: 'plan', type: 'numeric' }];
    expect(specSchemaProblems(spec({ features }), schema)).toEqual([{ field: 'features.1.type', problem: '"plan" is numeric in the spec but text in the dataset' }]);
  });

  it('names target for a regression target that is text, and training.timeColumn for a missing time column', () => {
    const regression = spec({ task: 'regression', target: 'signup', training: { algorithm: 'ridge' } });
    expect(specSchemaProblems(regression, schema)).toEqual([{ field: 'target', problem: 'regression needs a numeric target; "signup" is text' }]);
    expect(specSchemaProblems(spec({ task: 'regression', target: 'spend', training: { algorithm: 'ridge' } }), schema)).toEqual([]);
    const timed = spec({ training: { algorithm: 'logistic_regression', timeColumn: 'created_at' } });
    expect(specSchemaProblems(timed, schema)).toEqual([{ field: 'training.timeColumn', problem: 'the dataset has no column "created_at"' }]);
  });

  it('reports every problem at once', () => {
    const bad = spec({ target: 'cancelled', features: [{ name: 'plan', type: 'numeric' }, { name: 'tenure', type: 'numeric' }] });
    expect(specSchemaProblems(bad, schema).map((p) => p.field)).toEqual(['target', 'features.0.type', 'features.1.name']);
  });
});

describe('compareManyRuns', () => {
  const a = run({ runId: 'run-a' });
  const b = run({ runId: 'run-b', parameters: { ...run().parameters, C: 0.5 }, metrics: { accuracy: 0.82, rocAuc: 0.86, logLoss: 0.4, rows: 500 } });
  const c = run({ runId: 'run-c', metrics: { accuracy: 0.79, rocAuc: 0.9, rows: 500 } });

  it('holds one value per run in the order given, and marks the rows that differ', () => {
    const comparison = compareManyRuns([a, b, c]);
    expect(comparison.runs).toEqual(['run-a', 'run-b', 'run-c']);
    expect(row(comparison.parameters, 'C')).toEqual({ name: 'C', values: [1, 0.5, 1], differs: true });
    expect(row(comparison.parameters, 'maxIterations').differs).toBe(false);
    expect(row(comparison.lineage, 'seed')).toEqual({ name: 'seed', values: [42, 42, 42], differs: false });
  });

  it('names the run with the highest and lowest value of a metric every run has, and null where one lacks it', () => {
    const comparison = compareManyRuns([a, b, c]);
    expect(row(comparison.metrics, 'accuracy')).toMatchObject({ values: [0.8, 0.82, 0.79], highest: 'run-b', lowest: 'run-c', differs: true });
    expect(row(comparison.metrics, 'rocAuc')).toMatchObject({ highest: 'run-c', lowest: 'run-b' });
    expect(row(comparison.metrics, 'logLoss')).toMatchObject({ values: [0.41, 0.4, null], highest: null, lowest: null });
  });

  it('agrees with compareRuns on which rows differ for two runs', () => {
    const many = compareManyRuns([a, b]);
    const pair = compareRuns(a, b);
    for (const section of ['lineage', 'parameters', 'metrics'] as const) {
      expect(many[section].map((r) => [r.name, r.differs])).toEqual(pair[section].map((r) => [r.name, r.differs]));
    }
  });
});
