import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_FORMAT, serializeArtifact, sha256Hex } from '../../lambdas/core/training/artifact.js';
import { parseCsv, type ParsedCsv } from '../../lambdas/core/data/csv.js';
import { InputValidationError } from '../../lambdas/core/errors.js';
import { evaluateGate } from '../../lambdas/core/evaluation/gate.js';
import { evaluateModel, trainModel } from '../../lambdas/core/training/train-model.js';
import { createRng, shuffledIndices } from '../../lambdas/core/random.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { creditSpec, parseArtifact, thrownBy } from './helpers.js';

let csv: ParsedCsv;
let trained: ReturnType<typeof trainModel>;
beforeAll(() => {
  csv = parseCsv(makeCreditDataset(2000, 7));
  trained = trainModel(csv, creditSpec());
});

const parseError = (text: string) => thrownBy(() => parseArtifact(text), InputValidationError);

describe('trainModel', () => {
  it('is reproducible bit for bit: same data and spec, same artifact text and sha256', () => {
    const again = trainModel(parseCsv(makeCreditDataset(2000, 7)), creditSpec());
    expect(again.artifactText).toBe(trained.artifactText);
    expect(again.sha256).toBe(trained.sha256);
  });

  it('hashes exactly the artifact text', () => {
    expect(trained.sha256).toMatch(/^[a-f0-9]{64}$/);
    expect(trained.sha256).toBe(createHash('sha256').update(trained.artifactText, 'utf8').digest('hex'));
    expect(sha256Hex(trained.artifactText)).toBe(trained.sha256);
  });

  it('gives a different model for a different seed', () => {
    const spec = creditSpec();
    const other = trainModel(csv, { ...spec, training: { ...spec.training, seed: 43 } });
    expect(other.sha256).not.toBe(trained.sha256);
  });

  it('records the split, classes and training facts in the artifact', () => {
    const { artifact, split } = trained;
    expect(split).toEqual({ trainRows: 1500, testRows: 500 });
    expect(artifact.format).toBe(ARTIFACT_FORMAT);
    expect(ARTIFACT_FORMAT).toBe('serverless-mlops/model@2');
    expect(artifact.model).toBe('credit-default');
    expect(artifact.task).toBe('binary_classification');
    // Binary classes are [negative, positive].
    expect(artifact.classes).toEqual(['0', '1']);
    expect(artifact.features.map((f) => f.name)).toEqual(['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments']);
    expect(artifact.transforms.outputNames).toEqual(['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments']);
    const { estimator } = artifact;
    if (estimator.kind !== 'logistic') throw new Error(`expected a logistic estimator, got ${estimator.kind}`);
    expect(estimator.model.coef).toHaveLength(1);
    expect(estimator.model.coef[0]).toHaveLength(5);
    expect(estimator.model.intercept).toHaveLength(1);
    expect(artifact.training.algorithm).toBe('logistic_regression');
    expect(artifact.training.rows).toBe(1500);
    expect(artifact.training.seed).toBe(42);
    expect(artifact.training.params).toEqual({ C: 1, maxIterations: 500, tolerance: 1e-6 });
    expect(artifact.training.converged).toBe(true);
  });

  it('learns the directions the data was generated with', () => {
    const { estimator } = trained.artifact;
    if (estimator.kind !== 'logistic') throw new Error(`expected a logistic estimator, got ${estimator.kind}`);
    const w = Object.fromEntries(trained.artifact.transforms.outputNames.map((name, j) => [name, estimator.model.coef[0]![j]!]));
    expect(w.debt_ratio).toBeGreaterThan(0);
    expect(w.late_payments).toBeGreaterThan(0);
    expect(w.income).toBeLessThan(0);
    expect(w.age).toBeLessThan(0);
  });
});

describe('artifact serialization', () => {
  it('round-trips through parseArtifact', () => {
    const parsed = parseArtifact(serializeArtifact(trained.artifact));
    expect(parsed).toEqual(trained.artifact);
    expect(serializeArtifact(parsed)).toBe(trained.artifactText);
  });

  it('serializes with sorted keys, so key order does not change the hash', () => {
    const reordered = Object.fromEntries(Object.entries(trained.artifact).reverse()) as typeof trained.artifact;
    expect(serializeArtifact(reordered)).toBe(trained.artifactText);
  });

  it('rejects text that is not JSON', () => {
    const error = parseError('{"format": ');
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/not JSON/);
  });

  it('rejects coefficients that do not match the transformed features', () => {
    const { estimator } = trained.artifact;
    if (estimator.kind !== 'logistic') throw new Error(`expected a logistic estimator, got ${estimator.kind}`);
    const shorter = { ...trained.artifact, estimator: { kind: 'logistic', model: { ...estimator.model, coef: [estimator.model.coef[0]!.slice(1)] } } };
    expect(parseError(JSON.stringify(shorter)).message).toMatch(/estimator/);
    const names = trained.artifact.transforms.outputNames;
    const longer = { ...trained.artifact, transforms: { ...trained.artifact.transforms, outputNames: [...names, 'extra'] } };
    expect(parseError(JSON.stringify(longer)).message).toMatch(/transforms/);
  });

  it('rejects a wrong format, naming the field', () => {
    expect(parseError(JSON.stringify({ ...trained.artifact, format: 'other@1' })).message).toMatch(/format: /);
    expect(parseError(JSON.stringify({ ...trained.artifact, format: 'serverless-mlops/logistic-regression@1' })).message).toMatch(/format: /);
  });

  it('rejects a zero scale, naming the field', () => {
    const [first, ...rest] = trained.artifact.transforms.features;
    if (first?.type !== 'numeric') throw new Error('expected a numeric first feature');
    const zeroScale = { ...trained.artifact, transforms: { ...trained.artifact.transforms, features: [{ ...first, scale: 0 }, ...rest] } };
    expect(parseError(JSON.stringify(zeroScale)).message).toMatch(/transforms\.features\.0\.scale: /);
  });

  it('rejects a classification artifact without its classes, naming the field', () => {
    const { classes: _classes, ...withoutClasses } = trained.artifact;
    expect(parseError(JSON.stringify(withoutClasses)).message).toMatch(/classes: /);
  });
});

describe('evaluateModel', () => {
  it('scores the held-out rows of the demo dataset above the credit-default gate', () => {
    const spec = creditSpec();
    const { metrics, predictionStd } = evaluateModel(csv, spec, trained.artifact);
    expect(metrics.rows).toBe(trained.split.testRows);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.75);
    expect(metrics.rocAuc).toBeGreaterThanOrEqual(0.8);
    expect(predictionStd).toBeGreaterThan(0.05);
    const gate = evaluateGate({ ...metrics, predictionStd }, spec.gate, metrics.rows ?? 0);
    expect(gate.passed).toBe(true);
  });

  it('fails the gate when the labels are shuffled', () => {
    const spec = creditSpec();
    const target = csv.header.indexOf('defaulted');
    const order = shuffledIndices(csv.rows.length, createRng(99));
    const shuffled: ParsedCsv = {
      header: csv.header,
      rows: csv.rows.map((row, i) => row.map((value, j) => (j === target ? csv.rows[order[i]!]![target]! : value))),
    };
    const model = trainModel(shuffled, spec);
    const { metrics, predictionStd } = evaluateModel(shuffled, spec, model.artifact);
    expect(metrics.rocAuc).toBeLessThan(0.65);
    const gate = evaluateGate({ ...metrics, predictionStd }, spec.gate, metrics.rows ?? 0);
    expect(gate.passed).toBe(false);
    expect(gate.checks.find((c) => c.name === 'rocAuc')?.passed).toBe(false);
    expect(gate.summary).toMatch(/rocAuc 0\.\d+ < 0\.8/);
  });
});
