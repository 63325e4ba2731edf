import { z } from 'zod';
import { canonicalJson } from '../canonical-json.js';
import type { Table } from '../data/table.js';
import { DataValidationError, InputValidationError } from '../errors.js';
import { TASKS, type ModelSpec } from './model-spec.js';
import { cellsOf, splitRows, targetOf } from './train-model.js';
import { parseDecimal } from '../data/profile.js';
import type { Cell } from '../data/table-readers.js';

export const IMPORTED_FORMAT = 'serverless-mlops/onnx@1';

/**
 * An imported model as the registry stores it: a small manifest beside the ONNX file it names by
 * URI and sha256, with what the platform needs to feed it and read it (features in order, class
 * labels, which output and how to read it).
 */
export const ImportedArtifactSchema = z.object({
  format: z.literal(IMPORTED_FORMAT),
  model: z.string(),
  task: z.enum(TASKS),
  target: z.string(),
  classes: z.array(z.string()).min(2).optional(),
  /** Raw numeric features, in the order the ONNX input expects them. */
  features: z.array(z.string()).min(1),
  onnx: z.object({ uri: z.string().startsWith('s3://'), sha256: z.string().regex(/^[a-f0-9]{64}$/) }),
  output: z.string(),
  scale: z.enum(['probability', 'logit']).nullable(),
});
export type ImportedArtifact = z.infer<typeof ImportedArtifactSchema>;

/** An imported model takes the spec's features as raw numbers: its own preprocessing is inside the ONNX graph. */
export function importedFeatureNames(spec: ModelSpec): string[] {
  const categorical = spec.features.filter((feature) => feature.type !== 'numeric').map((feature) => feature.name);
  if (categorical.length > 0) {
    throw new InputValidationError(`an imported ONNX model takes numeric features only; ${categorical.join(', ')} ${categorical.length > 1 ? 'are' : 'is'} categorical in the spec`, { field: 'features' });
  }
  return spec.features.map((feature) => feature.name);
}

const numberOf = (cell: Cell | undefined, feature: string, where: string): number => {
  const value = typeof cell === 'number' ? cell : cell === null || cell === undefined ? NaN : parseDecimal(cell);
  if (Number.isNaN(value)) throw new DataValidationError(`feature "${feature}" is missing or not a number in ${where}; an imported model gets raw values`, { field: feature });
  return value;
};

/** Rows of raw feature values, row-major, as the ONNX input takes them. */
export function featureMatrix(features: readonly string[], value: (row: number, feature: string) => Cell | undefined, rows: readonly number[], where: (row: number) => string): Float32Array {
  const data = new Float32Array(rows.length * features.length);
  rows.forEach((row, k) => features.forEach((feature, j) => (data[k * features.length + j] = numberOf(value(row, feature), feature, where(row)))));
  return data;
}

/** Scores row-major raw features: K probabilities per row (classes K) or [value]. */
export type OnnxScorer = (rows: Float32Array, rowCount: number, width: number, classes: number) => Promise<{ scores: number[][]; output: string; scale: 'probability' | 'logit' | null }>;

/** A table's cells by row and column name, as featureMatrix reads them. */
export function rowCells(table: Table): (row: number, name: string) => Cell {
  const cells = cellsOf(table);
  return (row, name) => cells(row)(name);
}

/** The manifest for an imported model: classes from the data (as a built-in model would order them) and how its output reads, judged on the training split. */
export async function describeImport(table: Table, spec: ModelSpec, onnx: { uri: string; sha256: string }, score: OnnxScorer): Promise<{ manifest: ImportedArtifact; text: string }> {
  const features = importedFeatureNames(spec);
  const { y, classes } = targetOf(table, spec);
  const split = splitRows(table, spec, y);
  const { output, scale } = await score(featureMatrix(features, rowCells(table), split.train, (row) => `data row ${row + 1}`), split.train.length, features.length, classes?.length ?? 1);
  const manifest: ImportedArtifact = { format: IMPORTED_FORMAT, model: spec.name, task: spec.task, target: spec.target, ...(classes ? { classes } : {}), features, onnx, output, scale };
  return { manifest, text: canonicalJson(manifest) };
}
