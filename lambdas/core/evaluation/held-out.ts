import { z } from 'zod';
import { labelText, type Table } from '../data/table.js';
import { featureMatrix, rowCells, type OnnxScorer } from '../training/imported-model.js';
import type { ModelFile } from '../serving/model-file.js';
import { TASKS, type ModelSpec } from '../training/model-spec.js';
import { cellsOf } from '../training/train-model.js';
import { predictFeatures } from '../serving/predict.js';
import { MODEL_NAME } from '../training/run.js';
import { DatasetRefSchema } from '../data/dataset-version.js';

/**
 * The held-out evidence Evaluate leaves for the Gate: per test row, the label, the candidate's
 * output, the production version's output on the same row, and the row's segment values. It is
 * written to S3 and only its URI travels through the state machine.
 */
export const HELD_OUT_FORMAT = 'serverless-mlops/held-out@1';

/** JSON has no NaN: a non-finite output is stored as null (and counted by the gate). */
const Outputs = z.array(z.array(z.number().nullable()));

export const HeldOutFileSchema = z.object({
  format: z.literal(HELD_OUT_FORMAT),
  model: MODEL_NAME,
  runId: z.string(),
  task: z.enum(TASKS),
  classes: z.array(z.string()).optional(),
  dataset: DatasetRefSchema,
  /** Data row numbers (0-based) of the held-out split. */
  rows: z.array(z.number().int().nonnegative()),
  labels: z.array(z.number()),
  candidate: Outputs,
  champion: z.object({ version: z.number().int().positive(), outputs: Outputs }).nullable(),
  segments: z.record(z.string(), z.array(z.string())),
  latencyMsPerRow: z.number().nonnegative(),
});
export type HeldOutFile = z.infer<typeof HeldOutFileSchema>;

/** A model's outputs on some data rows: class probabilities in the model's own class order, or [value]. */
export async function modelOutputs(table: Table, file: ModelFile, rows: readonly number[], score?: OnnxScorer): Promise<number[][]> {
  const where = (row: number) => `data row ${row + 1}`;
  if (file.kind === 'builtin') {
    const cells = cellsOf(table);
    return rows.map((row) => predictFeatures(file.artifact, cells(row), where(row)));
  }
  if (!score) throw new Error('an imported model needs an ONNX scorer');
  const { manifest } = file;
  const matrix = featureMatrix(manifest.features, rowCells(table), rows, where);
  return (await score(matrix, rows.length, manifest.features.length, manifest.classes?.length ?? 1)).scores;
}

export const classesOf = (file: ModelFile): string[] | undefined => (file.kind === 'builtin' ? file.artifact.classes : file.manifest.classes);

/**
 * Re-orders class probabilities from one model's class order to another's, so two models trained
 * on different data can be compared row by row; a class one model never saw gets probability 0.
 */
export function alignClasses(outputs: readonly (readonly number[])[], from: readonly string[] | undefined, to: readonly string[] | undefined): number[][] {
  if (!from || !to) return outputs.map((out) => [...out]);
  const position = to.map((label) => from.indexOf(label));
  return outputs.map((out) => position.map((k) => (k < 0 ? 0 : out[k]!)));
}

/** Each declared segment column's value on the given rows, as Evaluate groups them. */
export function segmentValues(table: Table, spec: ModelSpec, rows: readonly number[]): Record<string, string[]> {
  return Object.fromEntries(
    spec.segments.map((column) => {
      const index = table.header.indexOf(column);
      return [column, rows.map((row) => (index < 0 ? '(missing)' : labelText(table.rows[row]![index]) || '(missing)'))];
    }),
  );
}

/** Outputs as JSON can carry them, and how many were not finite numbers. */
export function storableOutputs(outputs: readonly (readonly number[])[]): { outputs: (number | null)[][]; nonFinite: number } {
  let nonFinite = 0;
  const stored = outputs.map((out) =>
    out.map((value) => {
      if (Number.isFinite(value)) return value;
      nonFinite += 1;
      return null;
    }),
  );
  return { outputs: stored, nonFinite };
}
