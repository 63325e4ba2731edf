import { parquetWriteBuffer } from 'hyparquet-writer';
import type { DatasetFormat } from '../data/formats.js';
import { parseDecimal } from '../data/profile.js';
import type { Cell } from '../data/table-readers.js';
import type { ModelFile } from '../serving/model-file.js';
import { requestFeaturesOf, type FeatureRow, type Prediction, type RequestFeature } from '../serving/predict.js';

/**
 * The file side of batch scoring: the model's shape, request rows from input cells, and writing the
 * output in the input's format with the prediction columns added. Pure: bytes in, bytes out. The
 * input is read by the dataset readers (readTextTable, readParquetTable) with a `bad` hook, so a
 * bad row is reported by line instead of failing the file.
 */

/** What batch scoring needs of a model: the features a row must carry, its task and classes. */
export interface ModelShape {
  readonly features: readonly RequestFeature[];
  readonly task: 'binary_classification' | 'multiclass_classification' | 'regression';
  readonly classes?: readonly string[];
}

export function modelShape(file: ModelFile): ModelShape {
  if (file.kind === 'builtin') return { features: requestFeaturesOf(file.artifact), task: file.artifact.task, ...(file.artifact.classes ? { classes: file.artifact.classes } : {}) };
  const { manifest } = file;
  // An imported model gets raw numeric values, all required: the same check its online route makes.
  return {
    features: manifest.features.map((name) => ({ name, type: 'numeric' as const, nullable: false })),
    task: manifest.task,
    ...(manifest.classes ? { classes: manifest.classes } : {}),
  };
}

/**
 * The columns the output adds: `prediction` (the label, or the value for regression) and, for
 * classification, `probability_<class>` per class in the model's class order.
 */
export function predictionColumns(shape: Pick<ModelShape, 'task' | 'classes'>): string[] {
  if (shape.task === 'regression') return ['prediction'];
  return ['prediction', ...(shape.classes ?? []).map((label) => `probability_${label}`)];
}

/** One prediction as the cells of `predictionColumns`. */
export function predictionCells(shape: Pick<ModelShape, 'task' | 'classes'>, prediction: Prediction): Cell[] {
  if ('value' in prediction) return [prediction.value];
  return [prediction.label, ...(shape.classes ?? []).map((label) => prediction.probabilities[label] ?? null)];
}

/**
 * A row's cells as the online request body's row: text in a numeric column becomes a number when it
 * reads as one (blank is missing), so CSV and typed inputs check and score the same way a JSON
 * request does; anything else is left for the request check to refuse, naming the field.
 */
export function requestRow(shape: Pick<ModelShape, 'features'>, columnIndex: ReadonlyMap<string, number>, cells: readonly Cell[]): FeatureRow {
  const row: FeatureRow = {};
  for (const feature of shape.features) {
    const cell = cells[columnIndex.get(feature.name)!] ?? null;
    if (typeof cell !== 'string') row[feature.name] = cell;
    else if (cell.trim() === '') row[feature.name] = null;
    else if (feature.type === 'numeric') {
      const value = parseDecimal(cell);
      row[feature.name] = Number.isNaN(value) ? cell : value;
    } else row[feature.name] = cell;
  }
  return row;
}

/** A CSV field, quoted when it holds a comma, a quote, a line break or edge spaces (RFC 4180). */
function csvField(cell: Cell): string {
  if (cell === null) return '';
  const text = typeof cell === 'number' ? String(cell) : cell;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The output file in `format`: the input's columns then the prediction columns, rows in the order given. */
export function writeTable(format: DatasetFormat, columns: readonly string[], rows: readonly (readonly Cell[])[]): Uint8Array {
  if (format === 'csv') {
    const lines = [columns.map(csvField).join(','), ...rows.map((cells) => cells.map(csvField).join(','))];
    return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  }
  if (format === 'jsonl') {
    const lines = rows.map((cells) => JSON.stringify(Object.fromEntries(columns.map((name, i) => [name, cells[i] ?? null]))));
    return Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'utf8');
  }
  // Parquet: a column of numbers only (nulls allowed) is DOUBLE; any text makes it STRING.
  const columnData = columns.map((name, i) => {
    const data = rows.map((cells) => cells[i] ?? null);
    const numeric = data.every((cell) => cell === null || typeof cell === 'number');
    return numeric
      ? { name, data, type: 'DOUBLE' as const, nullable: true }
      : { name, data: data.map((cell) => (cell === null ? null : String(cell))), type: 'STRING' as const, nullable: true };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}
