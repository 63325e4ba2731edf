import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { DriftCheckRecord } from '../../lambdas/contract/drift.js';
import type { ModelArtifact } from '../../lambdas/core/training/artifact.js';
import { parseModelFile } from '../../lambdas/core/serving/model-file.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import { createRng } from '../../lambdas/core/random.js';

/** The credit-default spec exactly as it ships in config/models, as raw JSON. */
export function creditSpecJson(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL('../../config/models/credit-default.json', import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** The credit-default spec, parsed; `overrides` are merged at the top level before parsing. */
export function creditSpec(overrides: Record<string, unknown> = {}): ModelSpec {
  return parseModelSpec({ ...creditSpecJson(), ...overrides });
}

/** A spec with two numeric features x1, x2 and target `label`. */
export function smallSpec(overrides: Record<string, unknown> = {}): ModelSpec {
  return parseModelSpec({
    name: 'small-model',
    task: 'binary_classification',
    target: 'label',
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'x2', type: 'numeric' },
    ],
    training: { algorithm: 'logistic_regression', testFraction: 0.25 },
    gate: { minRows: 5 },
    ...overrides,
  });
}

/** The error `action` throws, checked to be an instance of `type`; fails when nothing is thrown. */
export function thrownBy<E extends Error>(action: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected ${type.name} but nothing was thrown`);
}

/** The error `promise` rejects with, checked to be an instance of `type`; fails when it resolves. */
export async function rejectedWith<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected ${type.name} but the promise resolved`);
}

/** The task/algorithm pairs the built-in trainers support, as [task, algorithm]. */
export const TASK_ALGORITHMS = [
  ['binary_classification', 'logistic_regression'],
  ['binary_classification', 'gradient_boosting'],
  ['multiclass_classification', 'logistic_regression'],
  ['multiclass_classification', 'gradient_boosting'],
  ['regression', 'linear_regression'],
  ['regression', 'ridge'],
  ['regression', 'gradient_boosting'],
] as const;
export type MixedTask = (typeof TASK_ALGORITHMS)[number][0];
export type MixedAlgorithm = (typeof TASK_ALGORITHMS)[number][1];

/**
 * A seeded CSV table (string cells, as parseCsv gives them) with every kind of column the v2
 * pipeline handles:
 * - age: numeric, never missing (the spec does not impute it)
 * - income: numeric, about 10% missing (blank), imputed
 * - debt: numeric, bucketed into quartiles
 * - plan: categorical basic/plus/pro, about 5% missing
 * - region: segment column, not a feature: north about 55%, south about 40%, island about 5%
 * - day: ISO date, one per row, in a shuffled order (for time splits)
 * - target: yes/no (binary), low/mid/high (multiclass) or a number (regression), driven by the features
 */
export function mixedDataset(task: MixedTask, rows = 400, seed = 11): { header: string[]; rows: string[][] } {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(rng(), 1e-12))) * Math.cos(2 * Math.PI * rng());
  // Days 0..rows-1 in a seeded order, so time order differs from row order.
  const days = Array.from({ length: rows }, (_, i) => i);
  for (let i = rows - 1; i > 0; i -= 1) {
    const j = Math.floor(rng() * (i + 1));
    [days[i], days[j]] = [days[j]!, days[i]!];
  }
  const start = Date.UTC(2024, 0, 1);
  const out: string[][] = [];
  for (let i = 0; i < rows; i += 1) {
    const age = Math.round(Math.min(80, Math.max(18, 42 + 12 * normal())));
    const income = Math.round(Math.max(8000, Math.exp(10.8 + 0.45 * normal())) / 100) * 100;
    const debt = Number(Math.min(1.5, Math.max(0, 0.35 + 0.2 * normal())).toFixed(3));
    const planDraw = rng();
    const plan = planDraw < 0.05 ? '' : planDraw < 0.45 ? 'basic' : planDraw < 0.8 ? 'plus' : 'pro';
    const regionDraw = rng();
    const region = regionDraw < 0.55 ? 'north' : regionDraw < 0.95 ? 'south' : 'island';
    const incomeMissing = rng() < 0.1;
    const planEffect = plan === 'pro' ? 1.2 : plan === 'plus' ? 0.4 : plan === 'basic' ? -0.6 : 0;
    const score = 4 * (debt - 0.35) - 1.5 * (Math.log(income) - 10.8) - 0.03 * (age - 42) + planEffect + 0.7 * normal();
    const target =
      task === 'binary_classification'
        ? score > 0.2 ? 'yes' : 'no'
        : task === 'multiclass_classification'
          ? score < -0.6 ? 'low' : score < 0.6 ? 'mid' : 'high'
          : (50 + 10 * score).toFixed(2);
    const day = new Date(start + days[i]! * 86_400_000).toISOString().slice(0, 10);
    out.push([String(age), incomeMissing ? '' : String(income), String(debt), plan, region, day, target]);
  }
  return { header: ['age', 'income', 'debt', 'plan', 'region', 'day', 'target'], rows: out };
}

/** A spec for mixedDataset: age (not imputed), income (imputed), debt (4 buckets), plan (categorical), segments by region. */
export function mixedSpec(task: MixedTask, algorithm: MixedAlgorithm, overrides: Record<string, unknown> = {}): ModelSpec {
  const params = algorithm === 'gradient_boosting' ? { maxIterations: 20, minSamplesLeaf: 5 } : {};
  return parseModelSpec({
    name: 'mixed-model',
    task,
    target: 'target',
    ...(task === 'binary_classification' ? { positiveLabel: 'yes' } : {}),
    features: [
      { name: 'age', type: 'numeric', impute: 'none' },
      { name: 'income', type: 'numeric', impute: 'median' },
      { name: 'debt', type: 'numeric', buckets: 4 },
      { name: 'plan', type: 'categorical' },
    ],
    training: { algorithm, params, seed: 7, testFraction: 0.25 },
    segments: ['region'],
    minSegmentRows: 10,
    gate: { minRows: 20 },
    ...overrides,
  });
}

/** A built-in model artifact read back from its text, as Evaluate and serving read it. */
export function parseArtifact(text: string): ModelArtifact {
  const file = parseModelFile(text);
  if (file.kind !== 'builtin') throw new Error('expected a built-in model artifact');
  return file.artifact;
}

/** A recorded drift check of `churn` v3 in production (a scheduled check that found drift), with any field replaced. */
export function driftCheckRecord(overrides: Partial<DriftCheckRecord> = {}): DriftCheckRecord {
  return {
    checkId: '20261206T040000000Z-abc123',
    model: 'churn',
    version: 3,
    arm: 'production',
    window: { from: '2026-12-05T04:00:00.000Z', to: '2026-12-06T04:00:00.000Z' },
    status: 'drift',
    datasetDrift: true,
    driftedFeatures: ['age', 'plan'],
    predictionDrift: false,
    rows: 500,
    referenceRows: 800,
    referenceSource: 'training-split',
    reportUri: 's3://reports/drift-checks/churn/x.json',
    trigger: 'schedule',
    actor: 'system:schedule',
    checkedAt: '2026-12-06T04:00:00.000Z',
    ...overrides,
  };
}
