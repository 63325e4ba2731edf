import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT_FORMAT, parseArtifact, serializeArtifact, sha256Hex } from '../../lambdas/core/artifact.js';
import { parseCsv, type ParsedCsv } from '../../lambdas/core/csv.js';
import { InputValidationError } from '../../lambdas/core/errors.js';
import { evaluateGate } from '../../lambdas/core/gate.js';
import { evaluateModel, trainModel } from '../../lambdas/core/pipeline.js';
import { createRng, shuffledIndices } from '../../lambdas/core/random.js';
import { makeCreditDataset } from '../../scripts/make-demo-dataset.js';
import { creditSpec, thrownBy } from './helpers.js';

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

  it('records the split, labels and training facts in the artifact', () => {
    const { artifact, split } = trained;
    expect(split).toEqual({ trainRows: 1500, testRows: 500 });
    expect(artifact.format).toBe(ARTIFACT_FORMAT);
    expect(artifact.model).toBe('credit-default');
    expect(artifact.labels).toEqual({ positive: '1', negative: '0' });
    expect(artifact.features.map((f) => f.name)).toEqual(['age', 'income', 'debt_ratio', 'credit_lines', 'late_payments']);
    expect(artifact.weights).toHaveLength(5);
    expect(artifact.training.rows).toBe(1500);
    expect(artifact.training.seed).toBe(42);
    expect(artifact.training.params.testFraction).toBe(0.25);
  });

  it('learns the directions the data was generated with', () => {
    const w = Object.fromEntries(trained.artifact.features.map((f, j) => [f.name, trained.artifact.weights[j]!]));
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

  it('rejects weights that do not match the features', () => {
    const broken = { ...trained.artifact, weights: trained.artifact.weights.slice(1) };
    expect(parseError(JSON.stringify(broken)).message).toMatch(/one entry per feature/);
    const longer = { ...trained.artifact, standardization: { ...trained.artifact.standardization, mean: [...trained.artifact.standardization.mean, 0] } };
    expect(parseError(JSON.stringify(longer)).message).toMatch(/one entry per feature/);
  });

  it('rejects a wrong format and a non-positive std, naming the field', () => {
    expect(parseError(JSON.stringify({ ...trained.artifact, format: 'other@1' })).message).toMatch(/format: /);
    const zeroStd = { ...trained.artifact, standardization: { ...trained.artifact.standardization, std: [0, 1, 1, 1, 1] } };
    expect(parseError(JSON.stringify(zeroStd)).message).toMatch(/standardization\.std\.0: /);
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
    const gate = evaluateGate({ ...metrics, predictionStd }, spec.gate, metrics.rows);
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
    const gate = evaluateGate({ ...metrics, predictionStd }, spec.gate, metrics.rows);
    expect(gate.passed).toBe(false);
    expect(gate.checks.find((c) => c.name === 'rocAuc')?.passed).toBe(false);
    expect(gate.summary).toMatch(/rocAuc 0\.\d+ < 0\.8/);
  });
});
