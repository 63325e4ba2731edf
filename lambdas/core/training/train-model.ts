import { ARTIFACT_FORMAT, serializeArtifact, type ModelArtifact } from './artifact.js';
import { sha256Hex } from '../sha256.js';
import { labelText, type Table } from '../data/table.js';
import { DataValidationError } from '../errors.js';
import { fitEstimator } from './estimator.js';
import { isClassification, type ModelSpec } from './model-spec.js';
import { parseDecimal } from '../data/profile.js';
import { createRng, shuffledIndices } from '../random.js';
import { stratifiedSplit, type Split } from './split.js';
import type { Cell } from '../data/table-readers.js';
import { matrix } from './trainers/matrix.js';
import { fitTransforms, transformRow } from './transforms.js';

/** The target as numbers: class indices (classes in sorted order; binary as [negative, positive]) or values. */
export function targetOf(table: Table, spec: ModelSpec): { y: Float64Array; classes?: string[] } {
  const index = table.header.indexOf(spec.target);
  if (index < 0) throw new DataValidationError(`the target "${spec.target}" is not in the dataset`, { field: 'target' });
  const y = new Float64Array(table.rows.length);
  if (!isClassification(spec.task)) {
    table.rows.forEach((row, i) => {
      const cell = row[index] ?? null;
      const value = typeof cell === 'number' ? cell : cell === null ? NaN : parseDecimal(cell);
      if (Number.isNaN(value)) throw new DataValidationError(`the target "${spec.target}" is missing or not a number in data row ${i + 1}`, { field: spec.target });
      y[i] = value;
    });
    return { y };
  }
  const labels = table.rows.map((row, i) => {
    const label = labelText(row[index]);
    if (label === '') throw new DataValidationError(`the target "${spec.target}" is missing in data row ${i + 1}`, { field: spec.target });
    return label;
  });
  let classes = [...new Set(labels)].sort();
  if (spec.task === 'binary_classification') {
    if (classes.length !== 2 || !classes.includes(spec.positiveLabel)) {
      throw new DataValidationError(`binary classification needs 2 classes including "${spec.positiveLabel}"; "${spec.target}" has ${classes.join(', ')}`, { field: spec.target });
    }
    classes = [classes.find((c) => c !== spec.positiveLabel)!, spec.positiveLabel];
  } else if (classes.length < 2) {
    throw new DataValidationError(`classification needs at least 2 classes; "${spec.target}" has ${classes.length}`, { field: spec.target });
  }
  const indexOfClass = new Map(classes.map((label, k) => [label, k]));
  labels.forEach((label, i) => (y[i] = indexOfClass.get(label)!));
  return { y, classes };
}

/** A time value for ordering: a number, or an ISO date/time. */
function timeOf(cell: unknown, row: number, column: string): number {
  const value = typeof cell === 'number' ? cell : typeof cell === 'string' ? (Number.isNaN(parseDecimal(cell)) ? Date.parse(cell) : parseDecimal(cell)) : NaN;
  if (Number.isNaN(value)) throw new DataValidationError(`the time column "${column}" has no usable time in data row ${row + 1}`, { field: column });
  return value;
}

/**
 * The seeded train/test split the spec asks for: by time (the latest rows are held out), stratified
 * by class, or a plain shuffle. Train and Evaluate both call it, so they see the same rows.
 */
export function splitRows(table: Table, spec: ModelSpec, y: Float64Array): Split {
  const { testFraction, seed, stratify, timeColumn } = spec.training;
  const n = table.rows.length;
  if (timeColumn !== undefined) {
    const index = table.header.indexOf(timeColumn);
    if (index < 0) throw new DataValidationError(`the time column "${timeColumn}" is not in the dataset`, { field: 'training.timeColumn' });
    const times = table.rows.map((row, i) => timeOf(row[index], i, timeColumn));
    const order = times.map((_, i) => i).sort((a, b) => times[a]! - times[b]! || a - b);
    const testCount = Math.max(1, Math.round(n * testFraction));
    return { train: order.slice(0, n - testCount).sort((a, b) => a - b), test: order.slice(n - testCount).sort((a, b) => a - b) };
  }
  if (isClassification(spec.task) && stratify) return stratifiedSplit(Array.from(y), testFraction, seed);
  const order = shuffledIndices(n, createRng(seed));
  const testCount = Math.max(1, Math.round(n * testFraction));
  return { train: order.slice(testCount).sort((a, b) => a - b), test: order.slice(0, testCount).sort((a, b) => a - b) };
}

/** Per row, a lookup of cells by column name (the column positions are found once per table). */
export function cellsOf(table: Table): (row: number) => (name: string) => Cell {
  const columns = new Map(table.header.map((name, index) => [name, index]));
  return (row) => (name) => table.rows[row]![columns.get(name) ?? -1] ?? null;
}

/** Train: fits the transforms and the spec's algorithm on the training split; returns the artifact and its hash. */
export function trainModel(table: Table, spec: ModelSpec) {
  const { y, classes } = targetOf(table, spec);
  const split = splitRows(table, spec, y);
  const transforms = fitTransforms(spec.features, table, split.train);
  const width = transforms.outputNames.length;
  const x = matrix(split.train.length, width);
  const cells = cellsOf(table);
  split.train.forEach((row, k) => x.data.set(transformRow(transforms, cells(row), `data row ${row + 1}`), k * width));
  const trainY = Float64Array.from(split.train, (row) => y[row]!);
  const { estimator, report } = fitEstimator(spec, x, trainY, classes?.length ?? 1);
  const artifact: ModelArtifact = {
    format: ARTIFACT_FORMAT,
    model: spec.name,
    task: spec.task,
    target: spec.target,
    ...(classes ? { classes } : {}),
    features: spec.features,
    transforms,
    estimator,
    training: {
      algorithm: spec.training.algorithm,
      params: { ...spec.training.params },
      seed: spec.training.seed,
      rows: split.train.length,
      iterations: report.iterations,
      converged: report.converged,
      ...(report.finalLoss !== undefined && Number.isFinite(report.finalLoss) ? { finalLoss: report.finalLoss } : {}),
    },
  };
  const artifactText = serializeArtifact(artifact);
  return { artifact, artifactText, sha256: sha256Hex(artifactText), split: { trainRows: split.train.length, testRows: split.test.length } };
}
