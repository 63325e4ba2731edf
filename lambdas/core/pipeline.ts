import { ARTIFACT_FORMAT, serializeArtifact, sha256Hex, type ModelArtifact } from './artifact.js';
import { labelText, toTrainingTable, type Table } from './dataset.js';
import { DataValidationError } from './errors.js';
import { fitLogisticRegression, predictProbability } from './logistic-regression.js';
import { classificationMetrics } from './metrics.js';
import type { ModelSpec } from './model-spec.js';
import { stratifiedSplit } from './split.js';

function splitTable(table: Table, spec: ModelSpec) {
  const data = toTrainingTable(table, spec);
  const split = stratifiedSplit(data.y, spec.training.testFraction, spec.training.seed);
  return { data, split };
}

/** The label that is not the positive one, as it is spelled in the data. */
function negativeLabel(table: Table, spec: ModelSpec): string {
  const index = table.header.indexOf(spec.target);
  for (const row of table.rows) {
    const label = labelText(row[index]);
    if (label !== '' && label !== spec.positiveLabel) return label;
  }
  throw new DataValidationError(`"${spec.target}" has no label other than "${spec.positiveLabel}"`, { field: spec.target });
}

/** Train: fits the spec's algorithm on the training split and returns the artifact and its hash. */
export function trainModel(table: Table, spec: ModelSpec) {
  const { data, split } = splitTable(table, spec);
  const { model, report } = fitLogisticRegression(
    split.train.map((i) => data.x[i]!),
    split.train.map((i) => data.y[i]!),
    spec.training.params,
  );
  const artifact: ModelArtifact = {
    format: ARTIFACT_FORMAT,
    model: spec.name,
    task: spec.task,
    target: spec.target,
    labels: { positive: spec.positiveLabel, negative: negativeLabel(table, spec) },
    features: spec.features,
    standardization: model.standardization,
    weights: model.weights,
    bias: model.bias,
    training: { algorithm: spec.training.algorithm, params: { ...spec.training.params, testFraction: spec.training.testFraction }, seed: spec.training.seed, rows: split.train.length, ...report },
  };
  const artifactText = serializeArtifact(artifact);
  return { artifact, artifactText, sha256: sha256Hex(artifactText), split: { trainRows: split.train.length, testRows: split.test.length } };
}

/** Evaluate: scores the artifact on the held-out rows that the same seed set aside at training. */
export function evaluateModel(table: Table, spec: ModelSpec, artifact: ModelArtifact) {
  const { data, split } = splitTable(table, spec);
  const model = { standardization: artifact.standardization, weights: artifact.weights, bias: artifact.bias };
  const probabilities = split.test.map((i) => predictProbability(model, data.x[i]!));
  const metrics = classificationMetrics(split.test.map((i) => data.y[i]!), probabilities);
  const mean = probabilities.reduce((s, p) => s + p, 0) / probabilities.length;
  const predictionStd = Math.sqrt(probabilities.reduce((s, p) => s + (p - mean) ** 2, 0) / probabilities.length);
  return { metrics: { ...metrics }, predictionStd };
}
