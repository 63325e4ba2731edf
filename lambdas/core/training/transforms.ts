import { z } from 'zod';
import type { Table } from '../data/table.js';
import { DataValidationError, InputValidationError } from '../errors.js';
import { parseDecimal } from '../data/profile.js';
import type { Cell } from '../data/table-readers.js';
import { matrix, type Matrix } from './trainers/matrix.js';

/**
 * Feature transforms: fitted once on the training rows, stored in the model artifact as plain
 * JSON, and applied by one function (`encodeInto`) at training, evaluation and serving, so the
 * three can never disagree about what a row means.
 */

/** Names an object already has (`row.constructor`), which a request's rows could not hold as features. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf']);
/** A feature's name: also a key of every request row and log record. */
export const FEATURE_NAME = z
  .string()
  .min(1)
  .max(128)
  .refine((name) => !RESERVED_NAMES.has(name), { message: 'is a name JavaScript objects already carry; rename the column' });

export const NumericFeatureSchema = z
  .object({
    name: FEATURE_NAME,
    type: z.literal('numeric'),
    impute: z.enum(['median', 'mean', 'zero', 'none']).default('median'),
    scale: z.enum(['standard', 'none']).default('standard'),
    /** Quantile bucketing: the value becomes a one-hot of its bucket instead of a scaled number. */
    buckets: z.number().int().min(2).max(100).optional(),
  })
  .strict();

export const CategoricalFeatureSchema = z
  .object({
    name: FEATURE_NAME,
    type: z.literal('categorical'),
    maxCategories: z.number().int().min(1).max(1000).default(50),
    minFrequency: z.number().int().min(1).default(1),
    impute: z.enum(['missing_category', 'most_frequent']).default('missing_category'),
  })
  .strict();

export const FeatureSchema = z.discriminatedUnion('type', [NumericFeatureSchema, CategoricalFeatureSchema]);
export type Feature = z.infer<typeof FeatureSchema>;

export type FittedFeature =
  | { name: string; type: 'numeric'; fill: number | null; center: number; scale: number; edges: number[] | null }
  | { name: string; type: 'categorical'; categories: string[]; fill: string | null };

export interface FittedTransforms {
  features: FittedFeature[];
  /** One name per output column, in column order. */
  outputNames: string[];
}

/** The column a categorical value falls in when it is not one of the fitted categories. */
export const UNKNOWN_CATEGORY = '__unknown__';
/** What a missing categorical value becomes under impute 'missing_category'. */
export const MISSING_CATEGORY = '__missing__';

/** Reads fitted transforms back from an artifact; the shape only (fit produced the values). */
export const FittedTransformsSchema = z
  .object({
    features: z.array(
      z.discriminatedUnion('type', [
        z
          .object({
            name: z.string().min(1),
            type: z.literal('numeric'),
            fill: z.number().nullable(),
            center: z.number(),
            scale: z.number().refine((s) => s !== 0, 'scale cannot be 0'),
            edges: z.array(z.number()).nullable(),
          })
          .strict(),
        z.object({ name: z.string().min(1), type: z.literal('categorical'), categories: z.array(z.string()), fill: z.string().nullable() }).strict(),
      ]),
    ),
    outputNames: z.array(z.string()),
  })
  .strict()
  .refine((fitted) => fitted.outputNames.length === fitted.features.reduce((sum, f) => sum + width(f), 0), 'outputNames does not match the features');

/** Below this, a training standard deviation counts as zero and the feature is only centred. */
const MIN_STD = 1e-12;

const at = (where: string | undefined) => (where === undefined ? '' : ` in ${where}`);
const quote = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);

/** Blank text counts as missing, as the profiler counts it. */
const isBlank = (text: string) => text === '' || text.trim() === '';

/** A numeric cell as a number, or null when missing; text that is not a decimal number fails. */
export function numericValue(name: string, cell: Cell | undefined, where: string | undefined): number | null {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) throw new DataValidationError(`feature "${name}" has a non-finite value ${cell}${at(where)}`, { field: name });
    return cell;
  }
  if (isBlank(cell)) return null;
  const value = parseDecimal(cell);
  if (Number.isNaN(value)) throw new DataValidationError(`feature "${name}" has a non-numeric value ${quote(cell)}${at(where)}`, { field: name });
  return value;
}

/** A categorical cell as its text (trimmed; numbers as String(n)), or null when missing. */
export function categoryValue(cell: Cell | undefined): string | null {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'number') return String(cell);
  const text = cell.trim();
  return text === '' ? null : text;
}

/** Code-unit order: the same everywhere, unlike localeCompare. */
const byValue = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The middle value of sorted values; the mean of the two middle ones for an even count. */
function median(sorted: readonly number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The q-quantile of sorted values, interpolating linearly between order statistics (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  const fraction = position - low;
  return fraction === 0 ? sorted[low]! : sorted[low]! + fraction * (sorted[high]! - sorted[low]!);
}

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** Output columns one fitted feature produces. */
function width(feature: FittedFeature): number {
  if (feature.type === 'categorical') return feature.categories.length + 1;
  return feature.edges === null ? 1 : feature.edges.length + 1;
}

function outputNamesOf(feature: FittedFeature): string[] {
  if (feature.type === 'categorical') return [...feature.categories, UNKNOWN_CATEGORY].map((category) => `${feature.name}=${category}`);
  if (feature.edges === null) return [feature.name];
  return Array.from({ length: feature.edges.length + 1 }, (_, i) => `${feature.name}[bucket ${i}]`);
}

function columnIndex(table: Table, name: string): number {
  const index = table.header.indexOf(name);
  if (index < 0) throw new DataValidationError(`column "${name}" is not in the dataset`, { field: name });
  return index;
}

const rowName = (row: number) => `data row ${row + 1}`;

function fitNumeric(feature: z.infer<typeof NumericFeatureSchema>, cells: readonly (readonly [Cell | undefined, number])[]): FittedFeature {
  const { name } = feature;
  const present: number[] = [];
  let missing = 0;
  for (const [cell, row] of cells) {
    const value = numericValue(name, cell, rowName(row));
    if (value === null) {
      if (feature.impute === 'none') throw new DataValidationError(`feature "${name}" has a missing value in ${rowName(row)} and impute is none`, { field: name });
      missing += 1;
    } else {
      present.push(value);
    }
  }
  if (present.length === 0 && (feature.impute === 'median' || feature.impute === 'mean')) {
    throw new DataValidationError(`feature "${name}" has no values in the training rows to take the ${feature.impute} of`, { field: name });
  }
  const sorted = [...present].sort((a, b) => a - b);
  const fill = feature.impute === 'median' ? median(sorted) : feature.impute === 'mean' ? mean(present) : feature.impute === 'zero' ? 0 : null;

  if (feature.buckets !== undefined) {
    const edges: number[] = [];
    if (sorted.length > 0) {
      for (let k = 1; k < feature.buckets; k += 1) {
        const edge = quantile(sorted, k / feature.buckets);
        if (edges.length === 0 || edge !== edges[edges.length - 1]) edges.push(edge);
      }
    }
    // A bucketed feature is one-hot: no centring or scaling applies.
    return { name, type: 'numeric', fill, center: 0, scale: 1, edges };
  }

  if (feature.scale === 'none') return { name, type: 'numeric', fill, center: 0, scale: 1, edges: null };
  // Standardise with the statistics of the training values as the model sees them: after imputation.
  const imputed = fill === null || missing === 0 ? present : [...present, ...new Array<number>(missing).fill(fill)];
  if (imputed.length === 0) return { name, type: 'numeric', fill, center: 0, scale: 1, edges: null };
  const center = mean(imputed);
  const std = Math.sqrt(imputed.reduce((sum, v) => sum + (v - center) ** 2, 0) / imputed.length);
  return { name, type: 'numeric', fill, center, scale: std < MIN_STD ? 1 : std, edges: null };
}

function fitCategorical(feature: z.infer<typeof CategoricalFeatureSchema>, cells: readonly (readonly [Cell | undefined, number])[]): FittedFeature {
  const { name } = feature;
  const counts = new Map<string, number>();
  let missing = 0;
  for (const [cell] of cells) {
    const value = categoryValue(cell);
    if (value === null) missing += 1;
    else counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const byFrequency = (entries: [string, number][]) => entries.sort(([a, ca], [b, cb]) => cb - ca || byValue(a, b));

  let fill: string;
  if (feature.impute === 'most_frequent') {
    const top = byFrequency([...counts])[0];
    if (top === undefined) throw new DataValidationError(`feature "${name}" has no values in the training rows to take the most frequent of`, { field: name });
    fill = top[0];
    if (missing > 0) counts.set(fill, top[1] + missing);
  } else {
    fill = MISSING_CATEGORY;
    if (missing > 0) counts.set(MISSING_CATEGORY, (counts.get(MISSING_CATEGORY) ?? 0) + missing);
  }
  // A literal "__unknown__" in the data cannot be a category of its own: its column is the unknown one.
  counts.delete(UNKNOWN_CATEGORY);
  const categories = byFrequency([...counts].filter(([, count]) => count >= feature.minFrequency))
    .slice(0, feature.maxCategories)
    .map(([category]) => category)
    .sort(byValue);
  return { name, type: 'categorical', categories, fill };
}

/**
 * Fits every feature on the training rows `rows` of `table` (indices into table.rows) and nothing
 * else: imputation values, scaling, bucket edges and category lists come from those rows only.
 */
export function fitTransforms(features: readonly Feature[], table: Table, rows: readonly number[]): FittedTransforms {
  const seen = new Set<string>();
  for (const feature of features) {
    if (seen.has(feature.name)) throw new InputValidationError(`feature "${feature.name}" is declared twice`, { field: feature.name });
    seen.add(feature.name);
  }
  const fitted = features.map((feature) => {
    const index = columnIndex(table, feature.name);
    const cells = rows.map((row) => {
      const cells = table.rows[row];
      if (cells === undefined) throw new RangeError(`row ${row} is not in the table (${table.rows.length} rows)`);
      return [cells[index], row] as const;
    });
    return feature.type === 'numeric' ? fitNumeric(feature, cells) : fitCategorical(feature, cells);
  });
  return { features: fitted, outputNames: fitted.flatMap(outputNamesOf) };
}

/** Index of the bucket v falls in: the first i with v <= edges[i], or edges.length past the last edge. */
function bucketOf(edges: readonly number[], v: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (v <= edges[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** Writes one row's encoding into out[offset..]: the single code path behind transformRow and transformTable. */
function encodeInto(fitted: FittedTransforms, value: (feature: string) => Cell | undefined, out: Float64Array, offset: number, where: string | undefined): void {
  let column = offset;
  for (const feature of fitted.features) {
    const cell = value(feature.name);
    if (feature.type === 'numeric') {
      let v = numericValue(feature.name, cell, where);
      if (v === null) {
        if (feature.fill === null) throw new DataValidationError(`feature "${feature.name}" has a missing value${at(where)} and impute is none`, { field: feature.name });
        v = feature.fill;
      }
      if (feature.edges === null) {
        out[column] = (v - feature.center) / feature.scale;
        column += 1;
      } else {
        out[column + bucketOf(feature.edges, v)] = 1;
        column += feature.edges.length + 1;
      }
    } else {
      const category = categoryValue(cell) ?? feature.fill;
      const position = category === null ? -1 : binarySearch(feature.categories, category);
      out[column + (position < 0 ? feature.categories.length : position)] = 1;
      column += feature.categories.length + 1;
    }
  }
}

/** Position of `value` in `sorted` (code-unit order), or -1. */
function binarySearch(sorted: readonly string[], value: string): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const order = byValue(sorted[mid]!, value);
    if (order === 0) return mid;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

/**
 * Encodes one row, e.g. a serving request: `value(name)` gives the feature's cell (undefined and
 * null are both missing). `where` names the row in error messages ("request", "data row 7").
 */
export function transformRow(fitted: FittedTransforms, value: (feature: string) => Cell | undefined, where?: string): Float64Array {
  const out = new Float64Array(fitted.outputNames.length);
  encodeInto(fitted, value, out, 0, where);
  return out;
}

/** Encodes the rows `rows` of `table`, in that order, as a design matrix; errors name the data row. */
export function transformTable(fitted: FittedTransforms, table: Table, rows: readonly number[]): Matrix {
  const cols = fitted.outputNames.length;
  const indices = new Map(fitted.features.map((feature) => [feature.name, columnIndex(table, feature.name)]));
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, k) => {
    const cells = table.rows[row];
    if (cells === undefined) throw new RangeError(`row ${row} is not in the table (${table.rows.length} rows)`);
    encodeInto(fitted, (name) => cells[indices.get(name)!], data, k * cols, rowName(row));
  });
  return matrix(rows.length, cols, data);
}
