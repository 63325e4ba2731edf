import { z } from 'zod';
import { DataValidationError, InputValidationError, parseOrThrow } from '../errors.js';
import {
  endCellHi,
  endCellLo,
  FINGERPRINT_SEED_HI,
  FINGERPRINT_SEED_LO,
  fingerprintHi,
  fingerprintLo,
  FrequencySketch,
  FrequencySketchJsonSchema,
  NumericSummary,
  type FrequencySketchJson,
  NumericSummaryJsonSchema,
  RowFingerprints,
} from './sketches.js';
import type { Cell, TableSink } from './table-readers.js';
import type { FieldScan } from './csv.js';
import { positionName, type DatasetFormat } from './formats.js';

const COLUMN_NAME = z.string().min(1).max(128);
export const COLUMN_TYPES = ['numeric', 'string'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** A column as a schema file declares it: a contract the file must meet to be registered. */
export const DeclaredColumnSchema = z
  .object({
    name: COLUMN_NAME,
    type: z.enum(COLUMN_TYPES),
    /** Whether values may be missing. @default true */
    nullable: z.boolean().default(true),
    min: z.number().optional(),
    max: z.number().optional(),
    /** The only values a string column may hold. */
    categories: z.array(z.string().min(1)).min(1).max(10_000).optional(),
  })
  .strict()
  .superRefine((column, ctx) => {
    if (column.type !== 'numeric' && (column.min !== undefined || column.max !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: 'min and max apply to numeric columns only' });
    }
    if (column.type !== 'string' && column.categories) {
      ctx.addIssue({ code: 'custom', path: ['categories'], message: 'categories apply to string columns only' });
    }
    if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `max (${column.max}) is below min (${column.min})` });
    }
  });

/** A schema file (`mlops dataset register --schema`), JSON or YAML. */
export const DeclaredSchemaSchema = z
  .object({
    columns: z.array(DeclaredColumnSchema).min(1).max(1000),
    /** Columns the file may have beyond the declared ones. @default false: an extra column is an error */
    allowExtraColumns: z.boolean().default(false),
    target: COLUMN_NAME.optional(),
  })
  .strict()
  .superRefine((schema, ctx) => {
    const seen = new Set<string>();
    schema.columns.forEach((column, index) => {
      if (seen.has(column.name)) ctx.addIssue({ code: 'custom', path: ['columns', index, 'name'], message: `column "${column.name}" is declared twice` });
      seen.add(column.name);
    });
    if (schema.target && !seen.has(schema.target)) ctx.addIssue({ code: 'custom', path: ['target'], message: `target "${schema.target}" is not a declared column` });
  });
export type DeclaredSchema = z.infer<typeof DeclaredSchemaSchema>;
export type DeclaredSchemaInput = z.input<typeof DeclaredSchemaSchema>;
export const parseDeclaredSchema = (value: unknown): DeclaredSchema => parseOrThrow(DeclaredSchemaSchema, value, 'dataset schema');

/** The schema recorded with a dataset version: declared, or inferred from the data. */
export const DatasetSchemaSchema = z.object({
  source: z.enum(['declared', 'inferred']),
  columns: z.array(
    z.object({
      name: z.string(),
      type: z.enum(COLUMN_TYPES),
      nullable: z.boolean(),
      min: z.number().optional(),
      max: z.number().optional(),
      categories: z.array(z.string()).optional(),
    }),
  ),
  target: z.string().optional(),
});
export type DatasetSchema = z.infer<typeof DatasetSchemaSchema>;

export const PROFILE_FORMAT = 'serverless-mlops/dataset-profile@1';

export const ColumnProfileSchema = z.object({
  name: z.string(),
  type: z.enum(COLUMN_TYPES),
  /** Rows, missing values included. */
  count: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  numeric: NumericSummaryJsonSchema.optional(),
  /** Exact counts of each distinct value (as written) while a numeric column has at most 50; null past that. */
  values: z.record(z.string(), z.number().int()).nullable().optional(),
  frequencies: FrequencySketchJsonSchema.optional(),
  /** The most frequent values of a string column (at most 20) and how many rows hold any other value. */
  top: z.array(z.tuple([z.string(), z.number().int()])).optional(),
  other: z.number().int().nonnegative().optional(),
});
export type ColumnProfile = z.infer<typeof ColumnProfileSchema>;

export const DatasetProfileSchema = z.object({
  format: z.literal(PROFILE_FORMAT),
  rows: z.number().int().nonnegative(),
  /** Rows that repeat an earlier row exactly (by a 64-bit fingerprint). */
  duplicateRows: z.number().int().nonnegative(),
  /** False when the file had more rows than the duplicate check tracks, or the profile is a merge of parts. */
  duplicatesComplete: z.boolean(),
  /**
   * When the file had more rows than the exact duplicate table tracks (`duplicatesComplete` false,
   * `duplicateRows` then counts only repeats of tracked rows): the duplicate rows of the whole
   * file estimated with a HyperLogLog count of its distinct rows. Absent in older profiles, in
   * exact ones and in merges.
   */
  duplicatesEstimate: z
    .object({
      method: z.literal('hyperloglog'),
      /** Rows minus the estimated distinct rows, kept within what the exact table proves. */
      duplicateRows: z.number().int().nonnegative(),
      /** The true count lies within duplicateRows ± bound at three standard errors (1.04 / sqrt(registers) each, relative to the distinct rows). */
      bound: z.number().int().nonnegative(),
      registers: z.number().int().positive(),
    })
    .optional(),
  columns: z.array(ColumnProfileSchema),
  target: z
    .object({
      column: z.string(),
      kind: z.enum(['classes', 'distribution']),
      classes: z.record(z.string(), z.number().int()).optional(),
    })
    .optional(),
});
export type DatasetProfile = z.infer<typeof DatasetProfileSchema>;

/** A plain decimal number, as text: `''`, `0x1`, `Infinity` and `1e400` are not. Returns NaN otherwise. */
export function parseDecimal(text: string): number {
  const value = +text;
  if (!Number.isFinite(value)) return NaN;
  const trimmed = hasEdgeSpace(text) ? text.trim() : text;
  // Number() reads blank text (Unicode spaces included) as 0, and hex, octal and binary literals; a CSV number is none of those.
  if (trimmed === '') return NaN;
  const second = trimmed.charCodeAt(1) | 32;
  if (trimmed.charCodeAt(0) === 48 && (second === 120 || second === 111 || second === 98)) return NaN;
  return value;
}
export const isNumeric = (text: string) => !Number.isNaN(parseDecimal(text));

/** Whether text may start or end with whitespace (anything but printable ASCII there): only then is trimming needed. */
function hasEdgeSpace(text: string): boolean {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return !(first > 32 && first < 127) || !(last > 32 && last < 127);
}
const isMissing = (cell: Cell): boolean => cell === null || (typeof cell === 'string' && (cell === '' || (hasEdgeSpace(cell) && cell.trim() === '')));
const asText = (cell: string | number) => (typeof cell === 'string' ? cell.trim() : String(cell));
/** What a batch slot holds once its row is profiled, so the batch does not keep rows alive. */
const EMPTY_ROW: readonly Cell[] = [];

/** Rows read before column types are decided, when no schema is declared (as Arrow and Polars do). */
export const INFERENCE_ROWS = 10_000;
/** In the inference rows, a column at least this numeric is a numeric column with stray values, not a text column. */
const STRAY_VALUE_SHARE = 0.05;
const MAX_EXACT_VALUES = 50;
const TOP_K = 20;
const MAX_EXAMPLES = 3;
const INFERRED_CATEGORY_LIMIT = 50;

interface Violation {
  readonly column: string;
  /** Reads after a count: "3 value(s) ...". */
  readonly problem: string;
  readonly hint: string;
  count: number;
  readonly positions: number[];
  /** Where it was first seen within its batch (row * columns + column), to keep the row-by-row order. */
  order: number;
}

class ColumnAccumulator {
  missing = 0;
  numeric: NumericSummary | undefined;
  values: Map<string, number> | null = new Map();
  frequencies: FrequencySketch | undefined;
  readonly categories: ReadonlySet<string> | undefined;

  constructor(
    readonly name: string,
    readonly type: ColumnType,
    readonly declared: z.infer<typeof DeclaredColumnSchema> | undefined,
    categoryCapacity: number,
  ) {
    if (type === 'numeric') this.numeric = new NumericSummary();
    else this.frequencies = new FrequencySketch(categoryCapacity);
    this.categories = declared?.categories ? new Set(declared.categories) : undefined;
  }
}

export interface ProfilerOptions {
  readonly format: DatasetFormat;
  readonly schema?: DeclaredSchema;
  /** The target column (overrides the schema's). */
  readonly target?: string;
  /** @default 1000 */
  readonly categoryCapacity?: number;
  /** Rows the exact duplicate check tracks before it estimates. @default 12 million (DEFAULT_MAX_DUPLICATE_ROWS) */
  readonly maxDuplicateRows?: number;
}

/** Rows profiled together, column by column. */
const BATCH_ROWS = 1024;
/** Marks a string value's hash in the row fingerprint (above every character code). */
const STRING_VALUE_TAG = 0x2000_0000;
/** Marks a plain decimal's shape in the row fingerprint (above every character code). */
const PLAIN_DECIMAL_TAG = 0x4000_0000;
/** Powers of ten a plain decimal's digits are divided by: all exact doubles (up to 1e22). */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** 2^27 + 1: splits a double into two halves whose products are exact (Veltkamp). */
const SPLITTER = 134_217_729;
/** The rounding error of the product p = fl(a * b): a * b - p exactly (Dekker), for a and b far from overflow and underflow. */
function productError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}
/** A double's bits, read through a shared buffer (little-endian: the high word is index 1). */
const BITS_F64 = new Float64Array(1);
const BITS_U32 = new Uint32Array(BITS_F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** 2^(e - 1075): the spacing of doubles whose biased exponent is e. */
const ULP_OF_EXPONENT = Float64Array.from({ length: 2048 }, (_, e) => 2 ** (e - 1075));

/**
 * (high * scale + low) / divisor rounded to the nearest double, the same double as Number()
 * reads from the decimal text, for the integer M = high * scale + low from 2^53 to 10^18 (high
 * and low below 10^9, scale and divisor exact powers of ten, divisor at most 1e22); NaN when the
 * quotient lies too near a tie between two doubles to decide cheaply (the caller then uses Number).
 *
 * The candidate q = fl(M / divisor) is within about one spacing of the true quotient; the
 * remainder r = M - q * divisor, computed with exact products, says which double is nearest:
 * q when |r| is under half a spacing times the divisor, else the neighbour r points to.
 */
export function decimalQuotient(high: number, scale: number, low: number, divisor: number): number {
  if (!LITTLE_ENDIAN) return NaN;
  const th = high * scale;
  const tl = productError(high, scale, th);
  const q = (th + low) / divisor;
  const ph = q * divisor;
  const pl = productError(q, divisor, ph);
  // th and ph are integers near M (M is at least 2^53 and low under 2^30), so th - ph + low is
  // exact; tl and pl are below 2^11, so the remainder is off by far less than the margin below.
  const r = th - ph + low + (tl - pl);
  BITS_F64[0] = q;
  const exponent = BITS_U32[1]! >>> 20;
  if (exponent === 0 || exponent === 0x7ff) return NaN;
  const spacing = ULP_OF_EXPONENT[exponent]!;
  const half = (divisor * spacing) / 2;
  const distance = Math.abs(r);
  if (distance < half * (1 - 1e-9)) return q;
  if (distance <= half * (1 + 1e-9) || distance >= 3 * half * (1 - 1e-9)) return NaN;
  if (r > 0) return q + spacing;
  // Below a power of two the spacing halves: rare enough to leave to Number.
  if ((BITS_U32[1]! & 0xfffff) === 0 && BITS_U32[0] === 0) return NaN;
  return q - spacing;
}

/**
 * Profiles a table in one streaming pass: column types (declared, or inferred from the first
 * rows), per-column statistics and sketches, duplicate rows, and the target's classes. Values
 * that break the declared or inferred schema are collected with their positions and fail the
 * registration at the end, all of them in one message.
 *
 * Rows are profiled in batches of BATCH_ROWS, one column at a time, so each column's loop does
 * one kind of work on one kind of value. One pass over a cell's characters both hashes them
 * into the row's fingerprint (kept per row of the batch in typed arrays) and, in a numeric
 * column, reads a plain decimal; anything else is read as before. The results are the same as
 * row by row: each column sees its values in row order, and schema violations are reported in
 * the order a row-by-row pass would meet them.
 */
export class DatasetProfiler implements TableSink {
  private names: string[] = [];
  private accumulators: ColumnAccumulator[] = [];
  private pending: { cells: readonly Cell[]; position: number }[] | undefined = [];
  private rows = 0;
  private readonly fingerprints: RowFingerprints;
  private readonly violations = new Map<string, Violation>();
  /** Violations first met in the batch being profiled; they join `violations` in row order when it ends. */
  private readonly fresh = new Map<string, Violation>();
  private readonly where: string;
  private readonly target: string | undefined;
  // The batch: its rows, their positions, and their fingerprints so far (reused from batch to batch).
  private readonly batch: (readonly Cell[])[] = [];
  private readonly positions = new Float64Array(BATCH_ROWS);
  private readonly hashHi = new Int32Array(BATCH_ROWS);
  private readonly hashLo = new Int32Array(BATCH_ROWS);
  private batched = 0;
  // What the CSV tokenizer read of the numeric columns' fields (see FieldScan), per column and row of the batch.
  private fieldScan: FieldScan | undefined;
  private numericIndex = new Int32Array(0);
  private scanMeta = new Int32Array(0);
  private scanChunk = new Int32Array(0);
  private scanHigh = new Int32Array(0);

  constructor(private readonly options: ProfilerOptions) {
    this.where = positionName(options.format);
    this.target = options.target ?? options.schema?.target;
    this.fingerprints = new RowFingerprints(options.maxDuplicateRows);
  }

  useFieldScan(scan: FieldScan): void {
    this.fieldScan = scan;
  }

  columns(names: string[]): void {
    this.names = names;
    const present = new Set(names);
    const schema = this.options.schema;
    if (schema) {
      const missing = schema.columns.filter((column) => !present.has(column.name)).map((column) => column.name);
      if (missing.length > 0) throw new DataValidationError(`the file lacks declared column(s): ${missing.join(', ')}`, { field: 'schema.columns' });
      const declared = new Set(schema.columns.map((column) => column.name));
      const extra = names.filter((name) => !declared.has(name));
      if (extra.length > 0 && !schema.allowExtraColumns) {
        throw new DataValidationError(`the file has column(s) the schema does not declare: ${extra.join(', ')} (set allowExtraColumns: true to accept them)`, {
          field: 'schema.columns',
        });
      }
    }
    if (this.target !== undefined && !present.has(this.target)) {
      throw new DataValidationError(`target "${this.target}" is not a column of the file (columns: ${names.join(', ')})`, { field: 'target' });
    }
    // With every type declared there is nothing to infer: no rows are held back.
    if (schema && !schema.allowExtraColumns) this.decideTypes();
  }

  row(cells: readonly Cell[], position: number): void {
    this.rows += 1;
    if (this.pending) {
      // A copy: the reader's row arrays all come from one allocation site, and if the 10,000 rows
      // held here survive young-generation collections as themselves, V8 learns to allocate every
      // later row of that site in the old generation (allocation-site pretenuring), where they die
      // and cost full collections: measured at 20-35% of the profile's CPU time.
      this.pending.push({ cells: cells.slice(), position });
      if (this.pending.length >= INFERENCE_ROWS) this.decideTypes();
      return;
    }
    this.enqueue(cells, position, true);
  }

  private decideTypes(): void {
    const pending = this.pending ?? [];
    const declared = new Map((this.options.schema?.columns ?? []).map((column) => [column.name, column]));
    const capacity = this.options.categoryCapacity ?? 1000;
    this.accumulators = this.names.map((name, index) => {
      const declaration = declared.get(name);
      if (declaration) return new ColumnAccumulator(name, declaration.type, declaration, capacity);
      let present = 0;
      let numbers = 0;
      for (const { cells } of pending) {
        const cell = cells[index] ?? null;
        if (isMissing(cell)) continue;
        present += 1;
        if (typeof cell === 'number' || isNumeric(cell as string)) numbers += 1;
      }
      const numeric = present > 0 && numbers >= present * (1 - STRAY_VALUE_SHARE);
      return new ColumnAccumulator(name, numeric ? 'numeric' : 'string', undefined, capacity);
    });
    this.pending = undefined;
    this.numericIndex = Int32Array.from(this.accumulators.flatMap((column, index) => (column.numeric ? [index] : [])));
    this.scanMeta = new Int32Array(BATCH_ROWS * this.names.length);
    this.scanChunk = new Int32Array(BATCH_ROWS * this.names.length);
    this.scanHigh = new Int32Array(BATCH_ROWS * this.names.length);
    // Rows held back for inference are read from their text (the tokenizer has moved on).
    for (const { cells, position } of pending) this.enqueue(cells, position, false);
  }

  /** `row` is the row's index in the batch and `c` the column's, which place the violation in row-by-row order. */
  private violate(c: number, row: number, column: string, problem: string, position: number, hint = ''): void {
    const key = `${column}\u0000${problem}`;
    let violation = this.violations.get(key) ?? this.fresh.get(key);
    if (!violation) {
      violation = { column, problem, hint, count: 0, positions: [], order: row * this.accumulators.length + c };
      this.fresh.set(key, violation);
    }
    violation.count += 1;
    if (violation.positions.length < MAX_EXAMPLES) violation.positions.push(position);
  }

  /** `scanned`: the row is the one the tokenizer has just read, so its FieldScan describes it. */
  private enqueue(cells: readonly Cell[], position: number, scanned: boolean): void {
    const n = this.batched;
    const numeric = this.numericIndex;
    const scan = scanned ? this.fieldScan : undefined;
    for (let k = 0; k < numeric.length; k += 1) {
      const c = numeric[k]!;
      const at = c * BATCH_ROWS + n;
      const meta = scan !== undefined ? scan.meta[c]! : 0;
      this.scanMeta[at] = meta;
      if (meta !== 0) {
        this.scanChunk[at] = scan!.chunk[c]!;
        this.scanHigh[at] = scan!.high[c]!;
      }
    }
    this.batch[n] = cells;
    this.positions[n] = position;
    this.batched = n + 1;
    if (this.batched === BATCH_ROWS) this.flush();
  }

  /** Profiles the rows batched so far, column by column, then adds their fingerprints in row order. */
  private flush(): void {
    const n = this.batched;
    if (n === 0) return;
    this.hashHi.fill(FINGERPRINT_SEED_HI, 0, n);
    this.hashLo.fill(FINGERPRINT_SEED_LO, 0, n);
    const accumulators = this.accumulators;
    for (let c = 0; c < accumulators.length; c += 1) {
      const column = accumulators[c]!;
      if (column.numeric) this.numericColumn(column, c, n);
      else this.stringColumn(column, c, n);
    }
    for (let i = 0; i < n; i += 1) this.fingerprints.addLater(this.hashHi[i]!, this.hashLo[i]!);
    if (this.fresh.size > 0) {
      const fresh = [...this.fresh].sort((a, b) => a[1].order - b[1].order);
      for (const [key, violation] of fresh) this.violations.set(key, violation);
      this.fresh.clear();
    }
    this.batch.fill(EMPTY_ROW, 0, n);
    this.batched = 0;
  }

  /** Adds a cell that is not a string to row i's fingerprint, as its text (missing: the character 0). */
  private hashOther(i: number, cell: Cell | undefined): void {
    const text = cell === null || cell === undefined ? '\u0000' : String(cell);
    let h1 = this.hashHi[i]!;
    let h2 = this.hashLo[i]!;
    for (let k = 0; k < text.length; k += 1) {
      const code = text.charCodeAt(k);
      h1 = fingerprintHi(h1, code);
      h2 = fingerprintLo(h2, code);
    }
    this.hashHi[i] = endCellHi(h1);
    this.hashLo[i] = endCellLo(h2);
  }

  private numericColumn(column: ColumnAccumulator, c: number, n: number): void {
    const batch = this.batch;
    const hashHi = this.hashHi;
    const hashLo = this.hashLo;
    const summary = column.numeric!;
    const declared = column.declared;
    const scanMeta = this.scanMeta;
    const scanChunk = this.scanChunk;
    const scanHigh = this.scanHigh;
    const base = c * BATCH_ROWS;
    for (let i = 0; i < n; i += 1) {
      const cell = batch[i]![c];
      let value = NaN;
      let plain = false;
      if (typeof cell === 'string') {
        // Read the text as a plain decimal ([-]digits[.digits]) if it is one, in one pass.
        let h1 = hashHi[i]!;
        let h2 = hashLo[i]!;
        const length = cell.length;
        // The digits in chunks of up to 9 (an integer chain, cheaper than a double one): `high`
        // holds the chunks before the last, `chunk` the last one's `chunkDigits` digits.
        let chunk = 0;
        let chunkDigits = 0;
        let high = 0;
        let flushes = 0;
        let dotAt = -1;
        let negative = false;
        const meta = scanMeta[base + i]!;
        if (meta !== 0) {
          // The tokenizer read these digits while splitting the row, with the steps of the loop below.
          chunk = scanChunk[base + i]!;
          high = scanHigh[base + i]!;
          chunkDigits = (meta >>> 1) & 15;
          flushes = (meta >>> 5) & 1;
          dotAt = ((meta >>> 6) & 31) - 1;
          negative = (meta & (1 << 11)) !== 0;
        }
        plain = length > 0;
        for (let k = meta !== 0 ? length : 0; k < length; k += 1) {
          const code = cell.charCodeAt(k);
          const digit = code - 48;
          if (digit >>> 0 <= 9) {
            if (chunkDigits === 9) {
              high = high * 1e9 + chunk;
              flushes += 1;
              chunk = digit;
              chunkDigits = 1;
            } else {
              chunk = chunk * 10 + digit;
              chunkDigits += 1;
            }
          } else if (code === 46 && dotAt < 0) dotAt = 9 * flushes + chunkDigits;
          else if (code === 45 && k === 0) negative = true;
          else {
            plain = false;
            break;
          }
        }
        const digits = 9 * flushes + chunkDigits;
        plain = plain && digits > 0;
        if (plain && flushes <= 1) {
          // The row fingerprint takes a plain decimal of up to 18 digits as what spells it out:
          // its digits as two integers (the first 9, the rest), how many digits, where the point
          // is, and the sign. That is one to one with the text, so rows still match exactly when
          // their texts do, without hashing each character.
          const shape = PLAIN_DECIMAL_TAG | digits | ((dotAt + 1) << 8) | (negative ? 1 << 16 : 0);
          h1 = fingerprintHi(fingerprintHi(fingerprintHi(h1, shape), high), chunk);
          h2 = fingerprintLo(fingerprintLo(fingerprintLo(h2, shape), high), chunk);
        } else {
          for (let k = 0; k < length; k += 1) {
            const code = cell.charCodeAt(k);
            h1 = fingerprintHi(h1, code);
            h2 = fingerprintLo(h2, code);
          }
        }
        hashHi[i] = endCellHi(h1);
        hashLo[i] = endCellLo(h2);
        // While the digits as an integer stay below 2^53 (every partial result is then exact: each
        // is smaller) and the power of ten is at most 1e22, both are exact doubles, so one division
        // rounds correctly (Clinger's fast path): the same number as Number(text). Up to 18 digits,
        // the quotient is rounded exactly by decimalQuotient, unless it lies too near a tie.
        if (plain) {
          const fraction = dotAt < 0 ? 0 : digits - dotAt;
          const mantissa = flushes === 0 ? chunk : high * POWERS_OF_TEN[chunkDigits]! + chunk;
          let magnitude = NaN;
          if (fraction < POWERS_OF_TEN.length) {
            if (mantissa <= Number.MAX_SAFE_INTEGER) magnitude = fraction === 0 ? mantissa : mantissa / POWERS_OF_TEN[fraction]!;
            else if (flushes === 1) magnitude = decimalQuotient(high, POWERS_OF_TEN[chunkDigits]!, chunk, POWERS_OF_TEN[fraction]!);
          }
          if (magnitude === magnitude) {
            value = negative ? -magnitude : magnitude;
          } else {
            // More digits than an exact double holds: the engine's correctly rounded read. A plain
            // decimal needs none of parseDecimal's checks, but one with hundreds of digits may overflow.
            value = +cell;
            plain = Number.isFinite(value);
          }
        }
      } else {
        this.hashOther(i, cell);
      }
      if (!plain) {
        const other = cell ?? null;
        if (isMissing(other)) {
          column.missing += 1;
          if (declared && !declared.nullable) this.violate(c, i, column.name, 'missing value(s)', this.positions[i]!, 'the schema says the column is not nullable');
          continue;
        }
        value = typeof other === 'number' ? other : parseDecimal(other as string);
        if (Number.isNaN(value)) {
          const hint = declared
            ? 'the schema declares the column numeric'
            : `the column is numeric, as inferred from the first ${INFERENCE_ROWS} rows; if it holds text, declare it as string in a --schema file`;
          // The first offending value is the example; later ones are only counted.
          this.violate(c, i, column.name, 'value(s) not a number', this.positions[i]!, `${hint}; first bad value ${JSON.stringify(String(other)).slice(0, 40)}`);
          continue;
        }
      }
      summary.add(value);
      if (column.values) {
        // A plain decimal has no spaces to trim.
        const key = plain ? (cell as string) : asText(cell as string | number);
        column.values.set(key, (column.values.get(key) ?? 0) + 1);
        if (column.values.size > MAX_EXACT_VALUES) column.values = null;
      }
      if (declared?.min !== undefined && value < declared.min) this.violate(c, i, column.name, `value(s) below the declared min ${declared.min}`, this.positions[i]!);
      if (declared?.max !== undefined && value > declared.max) this.violate(c, i, column.name, `value(s) above the declared max ${declared.max}`, this.positions[i]!);
    }
  }

  private stringColumn(column: ColumnAccumulator, c: number, n: number): void {
    const batch = this.batch;
    const hashHi = this.hashHi;
    const hashLo = this.hashLo;
    const frequencies = column.frequencies!;
    const declared = column.declared;
    const categories = column.categories;
    for (let i = 0; i < n; i += 1) {
      const cell = batch[i]![c] ?? null;
      if (typeof cell === 'string' && cell.length > 0 && !hasEdgeSpace(cell)) {
        // A value that is its own text. Its cache slot in the frequency sketch comes from its
        // length and three of its characters; its counter keeps a 64-bit hash of its characters,
        // computed once per value kept, which enters the row fingerprint in their place.
        const length = cell.length;
        const slot = Math.imul(Math.imul(cell.charCodeAt(0), 31) ^ Math.imul(cell.charCodeAt(length - 1), 0x9e3779b1) ^ cell.charCodeAt(length >> 1), 0x01000193) ^ length;
        const counter = frequencies.addCounted(cell, slot ^ (slot >>> 16));
        let w1: number;
        let w2: number;
        if (counter !== undefined && counter.lo !== 0) {
          w1 = counter.hi;
          w2 = counter.lo;
        } else {
          w1 = FINGERPRINT_SEED_HI;
          w2 = FINGERPRINT_SEED_LO;
          for (let k = 0; k < length; k += 1) {
            const code = cell.charCodeAt(k);
            w1 = fingerprintHi(w1, code);
            w2 = fingerprintLo(w2, code);
          }
          w2 |= 1;
          if (counter !== undefined) {
            counter.hi = w1;
            counter.lo = w2;
          }
        }
        hashHi[i] = endCellHi(fingerprintHi(fingerprintHi(fingerprintHi(hashHi[i]!, STRING_VALUE_TAG), w1), w2));
        hashLo[i] = endCellLo(fingerprintLo(fingerprintLo(fingerprintLo(hashLo[i]!, STRING_VALUE_TAG), w1), w2));
        if (categories && !categories.has(cell)) {
          this.violate(c, i, column.name, 'value(s) outside the declared categories', this.positions[i]!, `first one ${JSON.stringify(cell).slice(0, 40)}`);
        }
        continue;
      }
      // Anything else (missing, spaces at an edge, a number): its characters enter the fingerprint.
      if (typeof cell === 'string') {
        let h1 = hashHi[i]!;
        let h2 = hashLo[i]!;
        for (let k = 0; k < cell.length; k += 1) {
          const code = cell.charCodeAt(k);
          h1 = fingerprintHi(h1, code);
          h2 = fingerprintLo(h2, code);
        }
        hashHi[i] = endCellHi(h1);
        hashLo[i] = endCellLo(h2);
      } else {
        this.hashOther(i, cell);
      }
      if (isMissing(cell)) {
        column.missing += 1;
        if (declared && !declared.nullable) this.violate(c, i, column.name, 'missing value(s)', this.positions[i]!, 'the schema says the column is not nullable');
        continue;
      }
      const text = asText(cell as string | number);
      frequencies.add(text);
      if (categories && !categories.has(text)) {
        this.violate(c, i, column.name, 'value(s) outside the declared categories', this.positions[i]!, `first one ${JSON.stringify(text).slice(0, 40)}`);
      }
    }
  }

  /** Ends the pass: fails on any schema violation, a header-only file or a target with no values; returns the schema and profile. */
  finish(): { schema: DatasetSchema; profile: DatasetProfile } {
    if (this.pending) this.decideTypes();
    this.flush();
    if (this.violations.size > 0) {
      const groups = [...this.violations.values()];
      const describe = (v: Violation) =>
        `column "${v.column}": ${v.count} ${v.problem}, on ${this.where}${v.positions.length > 1 ? 's' : ''} ${v.positions.join(', ')}${v.count > v.positions.length ? ` and ${v.count - v.positions.length} more` : ''}${v.hint ? ` (${v.hint})` : ''}`;
      throw new DataValidationError(
        `the file does not match its ${this.options.schema ? 'declared' : 'inferred'} schema: ${groups.slice(0, 5).map(describe).join('; ')}${groups.length > 5 ? `; and ${groups.length - 5} more problems` : ''}`,
        { field: groups[0]!.column },
      );
    }
    if (this.rows === 0) throw new DataValidationError('the file has a header but no data rows', { field: 'rows' });

    const columns: ColumnProfile[] = this.accumulators.map((column) => ({
      name: column.name,
      type: column.type,
      count: this.rows,
      missing: column.missing,
      ...(column.numeric ? { numeric: column.numeric.toJSON(), values: column.values ? sortedRecord(column.values) : null } : {}),
      ...(column.frequencies ? frequencyFields(column.frequencies.toJSON()) : {}),
    }));
    const estimate = this.fingerprints.estimate();
    const profile: DatasetProfile = {
      format: PROFILE_FORMAT,
      rows: this.rows,
      duplicateRows: this.fingerprints.duplicateRows,
      duplicatesComplete: this.fingerprints.complete,
      ...(estimate ? { duplicatesEstimate: estimate } : {}),
      columns,
      ...(this.target !== undefined ? { target: targetSummary(columns.find((column) => column.name === this.target)!) } : {}),
    };
    if (profile.target && columns.find((column) => column.name === this.target)!.missing === this.rows) {
      throw new DataValidationError(`target "${this.target}" has no values`, { field: 'target' });
    }
    const schema: DatasetSchema = {
      source: this.options.schema ? 'declared' : 'inferred',
      columns: this.accumulators.map((column) => schemaColumn(column, columns.find((c) => c.name === column.name)!)),
      ...(this.target !== undefined ? { target: this.target } : {}),
    };
    return { schema, profile };
  }
}

/** The sketch itself (what merges) and its readable top-k plus other. */
function frequencyFields(frequencies: FrequencySketchJson): Pick<ColumnProfile, 'frequencies' | 'top' | 'other'> {
  const top = frequencies.counters.slice(0, TOP_K);
  return { frequencies, top, other: frequencies.total - top.reduce((sum, [, count]) => sum + count, 0) };
}

const sortedRecord = (counts: Map<string, number>) =>
  Object.fromEntries([...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));

function schemaColumn(column: ColumnAccumulator, profile: ColumnProfile): DatasetSchema['columns'][number] {
  const declared = column.declared;
  if (declared) {
    const { name, type, nullable, min, max, categories } = declared;
    return { name, type, nullable, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}), ...(categories ? { categories } : {}) };
  }
  const base = { name: column.name, type: column.type, nullable: profile.missing > 0 };
  if (profile.numeric && profile.numeric.count > 0) return { ...base, min: profile.numeric.min!, max: profile.numeric.max! };
  const frequencies = profile.frequencies;
  if (frequencies?.exact && frequencies.counters.length <= INFERRED_CATEGORY_LIMIT) {
    return { ...base, categories: frequencies.counters.map(([value]) => value).sort() };
  }
  return base;
}

/** Every value of a column with its exact count, when the profile knows them all. */
export function exactValueCounts(column: ColumnProfile): Record<string, number> | undefined {
  if (column.values) return column.values;
  if (column.frequencies?.exact) return Object.fromEntries(column.frequencies.counters);
  return undefined;
}

function targetSummary(column: ColumnProfile): NonNullable<DatasetProfile['target']> {
  const classes = exactValueCounts(column);
  return classes && Object.keys(classes).length <= MAX_EXACT_VALUES
    ? { column: column.name, kind: 'classes', classes }
    : { column: column.name, kind: 'distribution' };
}

/**
 * Combines the profiles of two parts of one dataset (same columns and types) into the profile of
 * both. Duplicates across the parts are unknown, so the merged count covers each part alone (and
 * a part's duplicate estimate, which is not mergeable, is left out).
 */
export function mergeProfiles(a: DatasetProfile, b: DatasetProfile): DatasetProfile {
  const sameShape = a.columns.length === b.columns.length && a.columns.every((column, i) => column.name === b.columns[i]!.name && column.type === b.columns[i]!.type);
  if (!sameShape) throw new InputValidationError('profiles with different columns or types cannot be merged', { field: 'columns' });
  const columns = a.columns.map((left, i): ColumnProfile => {
    const right = b.columns[i]!;
    const merged: ColumnProfile = { name: left.name, type: left.type, count: left.count + right.count, missing: left.missing + right.missing };
    if (left.numeric && right.numeric) {
      const summary = NumericSummary.fromJSON(left.numeric);
      summary.merge(NumericSummary.fromJSON(right.numeric));
      merged.numeric = summary.toJSON();
      merged.values = left.values && right.values ? mergeCounts(left.values, right.values) : null;
    }
    if (left.frequencies && right.frequencies) {
      const sketch = FrequencySketch.fromJSON(left.frequencies);
      sketch.merge(FrequencySketch.fromJSON(right.frequencies));
      Object.assign(merged, frequencyFields(sketch.toJSON()));
    }
    return merged;
  });
  const target = a.target ? targetSummary(columns.find((column) => column.name === a.target!.column)!) : undefined;
  return {
    format: PROFILE_FORMAT,
    rows: a.rows + b.rows,
    duplicateRows: a.duplicateRows + b.duplicateRows,
    duplicatesComplete: false,
    columns,
    ...(target ? { target } : {}),
  };
}

function mergeCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> | null {
  const counts = new Map(Object.entries(a));
  for (const [value, count] of Object.entries(b)) counts.set(value, (counts.get(value) ?? 0) + count);
  return counts.size > MAX_EXACT_VALUES ? null : sortedRecord(counts);
}
