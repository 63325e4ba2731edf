import { z } from 'zod';
import { DEFAULT_MAX_MISSING_RATE_INCREASE, DRIFT_METHODS, MonitoringPolicySchema, type DriftMethod, type DriftMethodChoice, type ModelSpec, type MonitoringPolicy, type Task } from '../training/model-spec.js';
import type { PredictionLogRecord } from '../serving/records.js';
import {
  binnedShares,
  fillEmptyBins,
  histogramBinEdges,
  histogramCounts,
  jensenShannonDistance,
  MAX_DISTINCT_VALUES_AS_CATEGORIES,
  normedWassersteinDistance,
  populationStabilityIndex,
  type Category,
} from './distance.js';
import { judgeMissingRate } from '../data/missing-rate.js';
import { chiSquareSurvival, KS_EXACT_MAX_ROWS, ksTest, normalCdf } from './stat-tests.js';
import { Reservoir, seedFor } from './reservoir.js';

/**
 * The drift check's pure core: a window of logged traffic against the version's reference sample.
 *
 * Verdicts follow Evidently 0.7.x exactly (`_get_default_stattest` and the stattests it picks; the
 * dataset verdict of DataDriftPreset / DatasetDriftMetric), checked against Evidently 0.7.23 by
 * scripts/reference_drift.py (test/fixtures/drift.json, test/unit/drift.test.ts). Beside them, never
 * replacing them: Benjamini-Hochberg across the p-value tests, effect sizes and sample sizes,
 * `insufficient` below policy.minRows, and persistence over policy.consecutiveWindows.
 *
 * Each side is streamed through a DriftAccumulator with bounded memory: exact counts (rows, missing,
 * schema violations, min/max, value counts up to EXACT_COUNTS_LIMIT distinct values) and a seeded
 * reservoir per column for the tests that need raw values. Tests on category counts (chi-square, Z,
 * Jensen-Shannon / PSI over categories) use the exact counts whenever both sides have them; KS,
 * Wasserstein and histogram binning run on the reservoirs, and the report says when those are a
 * sample (`sampled`), with their sizes.
 */

export type ColumnType = 'numeric' | 'categorical';
export interface MonitoredFeature {
  readonly name: string;
  readonly type: ColumnType;
}

/** Rows kept per column for the raw-value tests; the exact KS takes at most this many a side. */
export const DEFAULT_DRIFT_SAMPLE_SIZE = KS_EXACT_MAX_ROWS;
/** Distinct values counted exactly per column; past it the counts are dropped and the tests use the sample. */
export const EXACT_COUNTS_LIMIT = 1000;
/** Evidently's regime switch: references of more rows than this get distances, not p-values (its issue #50). */
export const SMALL_REFERENCE_ROWS = 1000;
/** Evidently's dataset verdict: drift when at least this share of the columns drifted. */
export const DRIFT_SHARE = 0.5;
export const P_VALUE_METHODS: readonly DriftMethod[] = ['ks', 'chisquare', 'z'];
/** Evidently's default thresholds: p-values 0.05, distances 0.1. */
export const DEFAULT_THRESHOLDS: Record<DriftMethod, number> = { ks: 0.05, chisquare: 0.05, z: 0.05, wasserstein: 0.1, jensenshannon: 0.1, psi: 0.1 };
const MAX_EXAMPLES = 5;
/** The column name the model's output is reported under (and overridden with in `monitoring.methods`). */
export const PREDICTION_COLUMN = 'prediction';

// ---------------------------------------------------------------------------------------------
// Summaries: what an accumulator hands to checkDrift (plain JSON, so a side can be stored).

const VALUE = z.union([z.string(), z.number()]);
export const ColumnSummarySchema = z.object({
  name: z.string(),
  type: z.enum(['numeric', 'categorical']),
  /** Rows offered (each row offers every column). */
  rows: z.number().int().min(0),
  /** Null, absent, NaN or ±inf: Evidently drops these before any statistic. */
  missing: z.number().int().min(0),
  /** Of the missing: the row had no such key (a schema violation). */
  absent: z.number().int().min(0),
  /** Values of the wrong type (a string for a numeric column...): schema violations, left out of the statistics. */
  wrongType: z.number().int().min(0),
  wrongTypeExamples: z.array(z.string()),
  /** Clean values: rows - missing - wrongType (Evidently's n for the reference). */
  values: z.number().int().min(0),
  /** Exact count per distinct clean value; null once there were more than EXACT_COUNTS_LIMIT. */
  counts: z.array(z.tuple([VALUE, z.number().int().min(1)])).nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  /** The seeded reservoir of clean values (all of them while values <= the sample size). */
  sample: z.array(VALUE),
  /** Figures counted while streaming against a reference (DriftAccumulatorOptions.reference): exact whatever the window's size. */
  againstReference: z
    .object({
      newCategoryRows: z.number().int().min(0),
      newCategories: z.array(z.string()),
      belowRange: z.number().int().min(0),
      aboveRange: z.number().int().min(0),
      outOfRangeExamples: z.array(z.number()),
    })
    .optional(),
});
export type ColumnSummary = z.infer<typeof ColumnSummarySchema>;

export const WindowSummarySchema = z.object({
  task: z.enum(['binary_classification', 'multiclass_classification', 'regression']),
  rows: z.number().int().min(0),
  sampleSize: z.number().int().min(1),
  seed: z.number().int(),
  columns: z.array(ColumnSummarySchema),
  /** The model's outputs as one column (binary: P(positive); multiclass: the class; regression: the value); null without outputs. */
  prediction: ColumnSummarySchema.nullable(),
  /** Outputs that do not have the task's shape. */
  unreadableOutputs: z.number().int().min(0),
  /** Rows that are not objects, or miss a feature, or carry a wrong type. */
  schemaViolations: z.object({ rows: z.number().int().min(0), examples: z.array(z.object({ column: z.string(), problem: z.string() })) }),
});
export type WindowSummary = z.infer<typeof WindowSummarySchema>;

/** The features a check can judge: a dropped field is not logged, and a hashed one never matches the reference's values. */
export function monitoredFeatures(spec: Pick<ModelSpec, 'features' | 'logging'>): { features: MonitoredFeature[]; skipped: { column: string; reason: string }[] } {
  const features: MonitoredFeature[] = [];
  const skipped: { column: string; reason: string }[] = [];
  for (const feature of spec.features) {
    if (spec.logging.drop.includes(feature.name)) skipped.push({ column: feature.name, reason: 'dropped from the prediction log (logging.drop)' });
    else if (spec.logging.hash.includes(feature.name)) skipped.push({ column: feature.name, reason: 'hashed in the prediction log (logging.hash)' });
    else features.push({ name: feature.name, type: feature.type });
  }
  return { features, skipped };
}

const describe = (value: unknown): string => (value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value)).slice(0, 100));

/** One column of one side, streamed. */
class ColumnAccumulator {
  rows = 0;
  missing = 0;
  absent = 0;
  wrongType = 0;
  readonly wrongTypeExamples: string[] = [];
  /**
   * Exact counts, kept as each distinct value's slot (in order of first appearance) and a count per
   * slot, so that a value already seen costs one map lookup; null past EXACT_COUNTS_LIMIT values.
   */
  private slots: Map<string | number, number> | null = new Map();
  private tallies: number[] = [];
  /** Per slot: a category the reference lacks, decided once when the value first appears. */
  private fresh: boolean[] = [];
  min = Infinity;
  max = -Infinity;
  readonly reservoir: Reservoir<string | number>;
  /** The name is a property every object inherits, so a defined value may not be the row's own. */
  readonly inherited: boolean;
  private readonly quality?: { categories: Set<Category> | null; min: number | null; max: number | null; newRows: number; newValues: Set<string>; below: number; above: number; examples: number[] };

  constructor(
    readonly name: string,
    readonly type: ColumnType,
    sampleSize: number,
    seed: number,
    reference?: ColumnSummary,
  ) {
    this.reservoir = new Reservoir(sampleSize, seedFor(seed, name));
    this.inherited = name in Object.prototype;
    if (reference) {
      this.quality = {
        categories: reference.counts ? new Set(reference.counts.map(([value]) => value)) : null,
        min: reference.min,
        max: reference.max,
        newRows: 0,
        newValues: new Set(),
        below: 0,
        above: 0,
        examples: [],
      };
    }
  }

  /** Returns a schema problem, if any. */
  add(value: unknown, present: boolean): string | undefined {
    this.rows += 1;
    if (!present) {
      this.missing += 1;
      this.absent += 1;
      return 'missing';
    }
    if (value === null || (typeof value === 'number' && !Number.isFinite(value))) {
      this.missing += 1;
      return undefined;
    }
    let clean: string | number;
    if (this.type === 'numeric' && typeof value === 'number') clean = value;
    // Serving accepts a number for a categorical feature; the transforms read it as its string.
    else if (this.type === 'categorical' && (typeof value === 'string' || typeof value === 'number')) clean = String(value);
    else {
      this.wrongType += 1;
      if (this.wrongTypeExamples.length < MAX_EXAMPLES) this.wrongTypeExamples.push(describe(value));
      return `expected ${this.type === 'numeric' ? 'a number' : 'a string'}, got ${describe(value)}`;
    }
    this.addClean(clean);
    return undefined;
  }

  addClean(clean: string | number): void {
    const quality = this.quality;
    // Whether the value is a category the reference lacks: looked up once per distinct value while the counts are kept.
    let isNew = false;
    const slots = this.slots;
    if (slots) {
      const slot = slots.get(clean);
      if (slot !== undefined) {
        this.tallies[slot]! += 1;
        isNew = this.fresh[slot]!;
      } else {
        isNew = typeof clean === 'string' && quality !== undefined && quality.categories !== null && !quality.categories.has(clean);
        slots.set(clean, this.tallies.length);
        this.tallies.push(1);
        this.fresh.push(isNew);
        if (slots.size > EXACT_COUNTS_LIMIT) {
          this.slots = null;
          this.tallies = [];
          this.fresh = [];
        }
      }
    } else {
      isNew = typeof clean === 'string' && quality !== undefined && quality.categories !== null && !quality.categories.has(clean);
    }
    if (typeof clean === 'number') {
      if (clean < this.min) this.min = clean;
      if (clean > this.max) this.max = clean;
    }
    this.reservoir.add(clean);
    if (!quality) return;
    if (isNew) {
      quality.newRows += 1;
      if (quality.newValues.size < MAX_EXAMPLES) quality.newValues.add(clean as string);
    }
    if (typeof clean === 'number' && quality.min !== null && quality.max !== null && (clean < quality.min || clean > quality.max)) {
      if (clean < quality.min) quality.below += 1;
      else quality.above += 1;
      if (quality.examples.length < MAX_EXAMPLES) quality.examples.push(clean);
    }
  }

  summary(): ColumnSummary {
    const q = this.quality;
    return {
      name: this.name,
      type: this.type,
      rows: this.rows,
      missing: this.missing,
      absent: this.absent,
      wrongType: this.wrongType,
      wrongTypeExamples: [...this.wrongTypeExamples],
      values: this.rows - this.missing - this.wrongType,
      counts: this.slots ? Array.from(this.slots, ([value, slot]): [string | number, number] => [value, this.tallies[slot]!]) : null,
      min: this.min === Infinity ? null : this.min,
      max: this.max === -Infinity ? null : this.max,
      sample: this.reservoir.values(),
      ...(q && {
        againstReference: {
          newCategoryRows: q.newRows,
          newCategories: [...q.newValues],
          belowRange: q.below,
          aboveRange: q.above,
          outOfRangeExamples: [...q.examples],
        },
      }),
    };
  }
}

/** The model's output as the drift check compares it (the log's shapes, as serving writes them). */
function predictionValue(task: Task, output: unknown): string | number | undefined {
  if (output === null || typeof output !== 'object') return undefined;
  const o = output as { label?: unknown; probability?: unknown; value?: unknown };
  if (task === 'binary_classification') return typeof o.probability === 'number' && Number.isFinite(o.probability) ? o.probability : undefined;
  if (task === 'multiclass_classification') return typeof o.label === 'string' ? o.label : undefined;
  return typeof o.value === 'number' && Number.isFinite(o.value) ? o.value : undefined;
}

export interface DriftAccumulatorOptions {
  readonly features: readonly MonitoredFeature[];
  readonly task: Task;
  /** Reservoir size per column. @default 10,000 (the exact KS takes at most that many rows a side) */
  readonly sampleSize?: number;
  /** Seeds every column's reservoir (each column its own stream, from this seed and its name). @default 1 */
  readonly seed?: number;
  /** The reference side's summary: new categories and out-of-range values are then counted exactly while streaming. */
  readonly reference?: WindowSummary;
}

/**
 * One side of a drift check (the window, or the reference sample), streamed row by row or partition
 * by partition with bounded memory: per column a few counters, at most EXACT_COUNTS_LIMIT value
 * counts and a reservoir of `sampleSize` values. Same rows in the same order and the same seed give
 * the same summary.
 */
export class DriftAccumulator {
  private readonly columns: ColumnAccumulator[];
  private readonly prediction: ColumnAccumulator;
  private readonly task: Task;
  private readonly sampleSize: number;
  private readonly seed: number;
  private rowCount = 0;
  private unreadableOutputs = 0;
  private violatingRows = 0;
  private readonly violationExamples: { column: string; problem: string }[] = [];
  private hasOutputs = false;

  constructor(options: DriftAccumulatorOptions) {
    this.task = options.task;
    this.sampleSize = options.sampleSize ?? DEFAULT_DRIFT_SAMPLE_SIZE;
    if (!Number.isInteger(this.sampleSize) || this.sampleSize < 1 || this.sampleSize > KS_EXACT_MAX_ROWS) {
      throw new Error(`the drift sample size is between 1 and ${KS_EXACT_MAX_ROWS} (the exact KS test's limit), got ${this.sampleSize}`);
    }
    this.seed = options.seed ?? 1;
    const reference = new Map(options.reference?.columns.map((column) => [column.name, column]));
    this.columns = options.features.map((f) => new ColumnAccumulator(f.name, f.type, this.sampleSize, this.seed, reference.get(f.name)));
    const predictionType: ColumnType = options.task === 'multiclass_classification' ? 'categorical' : 'numeric';
    this.prediction = new ColumnAccumulator(PREDICTION_COLUMN, predictionType, this.sampleSize, this.seed, options.reference?.prediction ?? undefined);
  }

  get rows(): number {
    return this.rowCount;
  }

  /** One row, and the model's output on it when known. */
  addRow(row: unknown, output?: unknown): void {
    this.rowCount += 1;
    const isObject = row !== null && typeof row === 'object' && !Array.isArray(row);
    const record = (isObject ? row : {}) as Record<string, unknown>;
    let violated = !isObject;
    if (!isObject && this.violationExamples.length < MAX_EXAMPLES) this.violationExamples.push({ column: '(row)', problem: `expected an object, got ${describe(row)}` });
    for (const column of this.columns) {
      const value = record[column.name];
      // A defined value is the row's own unless the name is also Object.prototype's (constructor, toString...): one lookup, not two.
      const present = value !== undefined && !column.inherited ? true : isObject && Object.hasOwn(record, column.name);
      const problem = column.add(value, present);
      if (problem && isObject) {
        violated = true;
        if (this.violationExamples.length < MAX_EXAMPLES) this.violationExamples.push({ column: column.name, problem });
      }
    }
    if (violated) this.violatingRows += 1;
    if (output === undefined) return;
    this.hasOutputs = true;
    const value = predictionValue(this.task, output);
    if (value === undefined) {
      this.unreadableOutputs += 1;
      return;
    }
    this.prediction.rows += 1;
    this.prediction.addClean(value);
  }

  /** Rows, and the model's outputs on them (same order) when known: the reference sample. */
  addRows(rows: readonly unknown[], outputs?: readonly unknown[]): void {
    rows.forEach((row, i) => this.addRow(row, outputs?.[i]));
  }

  /** A partition of the prediction log (the caller picks the arm). A failed request's inputs count; it has no outputs. */
  addRecords(records: readonly PredictionLogRecord[]): void {
    for (const record of records) record.inputs.forEach((row, i) => this.addRow(row, record.error ? undefined : record.outputs[i]));
  }

  summary(): WindowSummary {
    return {
      task: this.task,
      rows: this.rowCount,
      sampleSize: this.sampleSize,
      seed: this.seed,
      columns: this.columns.map((column) => column.summary()),
      prediction: this.hasOutputs ? this.prediction.summary() : null,
      unreadableOutputs: this.unreadableOutputs,
      schemaViolations: { rows: this.violatingRows, examples: [...this.violationExamples] },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The report.

const finiteOrNull = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? value : null);

export const EffectSizeSchema = z.object({
  /** ks_d: the KS statistic D; cramers_v: Cramér's V of the reference-vs-current table; proportion_difference: |p_current - p_reference|; otherwise the distance itself. */
  measure: z.enum(['ks_d', 'cramers_v', 'proportion_difference', 'wasserstein_normed', 'jensenshannon', 'psi']),
  value: z.number(),
});

export const FeatureDriftSchema = z.object({
  column: z.string(),
  type: z.enum(['numeric', 'categorical']),
  method: z.enum(DRIFT_METHODS),
  /** default: Evidently's selection; override: monitoring.methods. */
  methodSource: z.enum(['default', 'override']),
  /** Evidently's drift score: the p-value (ks, chisquare, z) or the distance; null when not judged (or undefined, as chi-square over one category). */
  statistic: z.number().nullable(),
  /** The test's own statistic (KS D, chi-square, z); null when infinite (a category only the window has). */
  testStatistic: z.number().nullable().optional(),
  threshold: z.number(),
  /** Evidently's verdict on this window: p < threshold (ks: <=), distance >= threshold. Null when not judged. */
  drifted: z.boolean().nullable(),
  /** Drifted in this window and the consecutiveWindows - 1 judged windows before it. */
  persistent: z.boolean().nullable(),
  pValue: z.number().optional(),
  /** Benjamini-Hochberg at policy.fdr across the features' p-value tests. */
  bhRejected: z.boolean().optional(),
  effectSize: EffectSizeSchema.nullable(),
  /** Clean rows (NaN, ±inf, null dropped) on each side. */
  referenceRows: z.number().int().min(0),
  currentRows: z.number().int().min(0),
  /** Present when the statistic ran on reservoir samples smaller than the clean rows: their sizes. */
  sampled: z.object({ reference: z.number().int(), current: z.number().int() }).optional(),
  /** Bins the distance used (histogram bins or categories). */
  bins: z.number().int().optional(),
  /** Why the column was not judged. */
  insufficient: z.string().optional(),
});
export type FeatureDrift = z.infer<typeof FeatureDriftSchema>;

export const ColumnQualitySchema = z.object({
  column: z.string(),
  type: z.enum(['numeric', 'categorical']),
  /**
   * The change, judged by the data gate's rule (core/data/missing-rate.ts): rose when the one-sided
   * 95% lower bound of the change exceeds validation.maxMissingRateIncrease. Absent on older records.
   */
  missingRate: z.object({
    reference: z.number(),
    current: z.number(),
    change: z.number(),
    lowerBound: z.number().optional(),
    tolerance: z.number().optional(),
    rose: z.boolean().optional(),
  }),
  schemaViolations: z.object({ absent: z.number().int(), wrongType: z.number().int(), examples: z.array(z.string()) }),
  /** Categorical: window rows whose value the reference never had. exact: false when counted on the window's sample (sampleRows of it). */
  newCategories: z.object({ rows: z.number().int(), values: z.array(z.string()), exact: z.boolean(), sampleRows: z.number().int().optional() }).optional(),
  /** Numeric: window values outside the reference's [min, max]. */
  outOfRange: z
    .object({ rows: z.number().int(), below: z.number().int(), above: z.number().int(), min: z.number(), max: z.number(), examples: z.array(z.number()), exact: z.boolean(), sampleRows: z.number().int().optional() })
    .optional(),
});
export type ColumnQuality = z.infer<typeof ColumnQualitySchema>;

/** Bars a categorical chart shows at most; the rest are summed into `other`. */
export const HISTOGRAM_MAX_CATEGORIES = 30;
/** Equal-width bins of a numeric chart (between both sides' exact min and max). */
export const HISTOGRAM_BINS = 20;

/**
 * What a report's chart of one column draws: counts per bin (numeric: `edges`, bins + 1 of them) or
 * per value (`categories`: categorical columns, and numeric ones with few distinct values), for both
 * sides. Counted over every clean row when both sides kept exact counts, else over their samples.
 */
export const HistogramSchema = z.object({
  column: z.string(),
  kind: z.enum(['bins', 'categories']),
  edges: z.array(z.number()).optional(),
  categories: z.array(z.string()).optional(),
  reference: z.array(z.number().int().min(0)),
  current: z.array(z.number().int().min(0)),
  /** Categories past HISTOGRAM_MAX_CATEGORIES (by both sides' total), summed. */
  other: z.object({ reference: z.number().int().min(0), current: z.number().int().min(0) }).optional(),
  exact: z.boolean(),
});
export type Histogram = z.infer<typeof HistogramSchema>;

export const DriftReportSchema = z.object({
  /** insufficient: too few rows (or no column could be judged), never a pass; drift: dataset or prediction drift persisted consecutiveWindows windows. */
  status: z.enum(['drift', 'no_drift', 'insufficient']),
  window: z.object({ from: z.string(), to: z.string() }).optional(),
  insufficient: z.object({ window: z.boolean(), rows: z.number().int(), minRows: z.number().int(), reason: z.string().optional() }),
  features: z.array(FeatureDriftSchema),
  /** Evidently's dataset verdict over the judged features, with what is reported beside it. */
  dataset: z.object({
    columns: z.number().int(),
    driftedColumns: z.number().int(),
    share: z.number(),
    driftShare: z.number(),
    drifted: z.boolean().nullable(),
    persistent: z.boolean().nullable(),
    persistentColumns: z.number().int(),
    bh: z.object({ fdr: z.number(), tests: z.number().int(), rejected: z.number().int() }),
  }),
  prediction: FeatureDriftSchema.nullable(),
  dataQuality: z.object({
    rows: z.object({ reference: z.number().int(), current: z.number().int() }),
    schemaViolations: z.object({ rows: z.number().int(), examples: z.array(z.object({ column: z.string(), problem: z.string() })) }),
    unreadableOutputs: z.number().int(),
    features: z.array(ColumnQualitySchema),
  }),
  skipped: z.array(z.object({ column: z.string(), reason: z.string() })),
  sampleSize: z.number().int(),
  seed: z.number().int(),
  policy: MonitoringPolicySchema,
  /** What the HTML report's charts draw: each judged-or-not feature with values on both sides, and the prediction. */
  histograms: z.object({ features: z.array(HistogramSchema), prediction: HistogramSchema.nullable() }).optional(),
});
export type DriftReport = z.infer<typeof DriftReportSchema>;

/** Earlier windows' verdicts, oldest first; null marks an insufficient window (skipped, it neither breaks nor extends a run). */
export interface PreviousVerdicts {
  readonly features?: Readonly<Record<string, readonly (boolean | null)[]>>;
  readonly prediction?: readonly (boolean | null)[];
  readonly dataset?: readonly (boolean | null)[];
}

/** The verdicts of stored reports (oldest first), as checkDrift's `previous`. */
export function verdictsOf(reports: readonly DriftReport[]): PreviousVerdicts {
  const features: Record<string, (boolean | null)[]> = {};
  for (const report of reports) for (const f of report.features) (features[f.column] ??= []).push(f.drifted);
  return {
    features,
    prediction: reports.map((r) => r.prediction?.drifted ?? null),
    dataset: reports.map((r) => r.dataset.drifted),
  };
}

export interface DriftCheckInput {
  readonly policy: MonitoringPolicy;
  readonly task: Task;
  readonly reference: WindowSummary;
  readonly current: WindowSummary;
  readonly previous?: PreviousVerdicts;
  readonly window?: { from: string; to: string };
  readonly skipped?: readonly { column: string; reason: string }[];
  /** The spec's validation.maxMissingRateIncrease: the missing-rate change the data gate tolerates. @default its spec default */
  readonly maxMissingRateIncrease?: number;
}

// ---------------------------------------------------------------------------------------------
// Method selection and the tests.

/**
 * Evidently 0.7.x `_get_default_stattest`: n is the reference's clean rows, u the distinct values of
 * both sides together. n <= 1000: numeric u > 5 KS; numeric u 3..5 and categorical u > 2
 * chi-square; u <= 2 Z. n > 1000: numeric u > 5 Wasserstein (normed); anything else Jensen-Shannon.
 */
export function defaultDriftMethod(type: ColumnType, referenceRows: number, distinct: number): DriftMethod {
  if (referenceRows <= SMALL_REFERENCE_ROWS) {
    if (type === 'numeric' && distinct > 5) return 'ks';
    return distinct > 2 ? 'chisquare' : 'z';
  }
  return type === 'numeric' && distinct > 5 ? 'wasserstein' : 'jensenshannon';
}

/** Evidently's comparisons: ks drifts at p <= threshold, chisquare and z at p < threshold, the distances at >= threshold. */
export function isDrift(method: DriftMethod, score: number, threshold: number): boolean {
  if (method === 'ks') return score <= threshold;
  if (method === 'chisquare' || method === 'z') return score < threshold;
  return score >= threshold;
}

interface Counts {
  readonly keys: Category[];
  readonly reference: number[];
  readonly current: number[];
  readonly referenceTotal: number;
  readonly currentTotal: number;
}

function tally(values: readonly Category[]): Map<Category, number> {
  const map = new Map<Category, number>();
  for (const value of values) map.set(value, (map.get(value) ?? 0) + 1);
  return map;
}

/** Category counts of both sides over the values either has: exact when both sides kept their counts, else from the samples. */
function categoryCountsOf(reference: ColumnSummary, current: ColumnSummary): { counts: Counts; exact: boolean } {
  const exact = reference.counts !== null && current.counts !== null;
  const ref = exact ? new Map(reference.counts) : tally(reference.sample);
  const cur = exact ? new Map(current.counts) : tally(current.sample);
  const keys = [...new Set([...ref.keys(), ...cur.keys()])];
  const total = (map: Map<Category, number>) => [...map.values()].reduce((a, b) => a + b, 0);
  return {
    exact,
    counts: { keys, reference: keys.map((k) => ref.get(k) ?? 0), current: keys.map((k) => cur.get(k) ?? 0), referenceTotal: total(ref), currentTotal: total(cur) },
  };
}

/** Evidently's chi-square stattest on counts: current against the reference scaled to the current's size, k - 1 degrees of freedom. */
function chiSquareOfCounts(c: Counts): { statistic: number; pValue: number } {
  const scale = c.currentTotal / c.referenceTotal;
  let statistic = 0;
  c.keys.forEach((_, i) => {
    const expected = c.reference[i]! * scale;
    statistic += (c.current[i]! - expected) ** 2 / expected;
  });
  return { statistic, pValue: chiSquareSurvival(statistic, c.keys.length - 1) };
}

/** Cramér's V of the 2 x k table (reference, current) x categories: a size-free effect for chi-square. */
function cramersV(c: Counts): number {
  const n = c.referenceTotal + c.currentTotal;
  let chi = 0;
  c.keys.forEach((_, i) => {
    const column = c.reference[i]! + c.current[i]!;
    for (const [observed, rowTotal] of [[c.reference[i]!, c.referenceTotal], [c.current[i]!, c.currentTotal]] as const) {
      const expected = (rowTotal * column) / n;
      if (expected > 0) chi += (observed - expected) ** 2 / expected;
    }
  });
  return c.keys.length < 2 ? 0 : Math.sqrt(chi / n);
}

/** Python's order of the values (numbers numerically, strings by code point), for Evidently's sorted(keys). */
const pythonOrder = (a: Category, b: Category): number => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

/** Evidently's Z stattest on counts: the two-proportion Z-test of "not the smallest value", pooled variance; p = 1 when both sides hold one same value. */
function zTestOfCounts(c: Counts): { statistic: number; pValue: number; difference: number } {
  const present = (side: number[]) => c.keys.filter((_, i) => side[i]! > 0);
  const [r, k] = [present(c.reference), present(c.current)];
  if (r.length === 1 && k.length === 1 && r[0] === k[0]) return { statistic: 0, pValue: 1, difference: 0 };
  const first = [...c.keys].sort(pythonOrder)[0];
  const at = c.keys.indexOf(first!);
  const [n1, n2] = [c.referenceTotal, c.currentTotal];
  const p1 = (n1 - c.reference[at]!) / n1;
  const p2 = (n2 - c.current[at]!) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic, pValue: 2 * (1 - normalCdf(Math.abs(statistic))), difference: Math.abs(p2 - p1) };
}

interface Shares {
  readonly reference: number[];
  readonly current: number[];
  readonly exact: boolean;
}

/**
 * Evidently's `get_binned_data` for a column: numeric data whose reference has more than 20
 * distinct values is binned on the samples (numpy's sturges, or the bins asked for); anything else
 * is one bin per value, from exact counts when both sides have them. Asked-for bins on numeric
 * data are always used (Evidently ignores them: its issue #1400).
 */
function sharesOf(reference: ColumnSummary, current: ColumnSummary, bins: number | undefined): Shares {
  const referenceDistinct = reference.counts?.length ?? Infinity;
  if (reference.type === 'numeric' && bins !== undefined) {
    const [r, c] = [reference.sample as number[], current.sample as number[]];
    const edges = histogramBinEdges([...r, ...c], bins);
    return { reference: histogramCounts(r, edges).map((n) => n / r.length), current: histogramCounts(c, edges).map((n) => n / c.length), exact: false };
  }
  if (reference.type === 'numeric' && referenceDistinct > MAX_DISTINCT_VALUES_AS_CATEGORIES) {
    const shares = binnedShares(reference.sample, current.sample, 'numeric');
    return { reference: shares.reference, current: shares.current, exact: false };
  }
  const { counts, exact } = categoryCountsOf(reference, current);
  return { reference: counts.reference.map((n) => n / counts.referenceTotal), current: counts.current.map((n) => n / counts.currentTotal), exact };
}

type Judged = Pick<FeatureDrift, 'statistic' | 'testStatistic' | 'pValue' | 'effectSize' | 'bins'> & { usedSample: boolean };

function runMethod(method: DriftMethod, reference: ColumnSummary, current: ColumnSummary, bins: number | undefined): Judged {
  switch (method) {
    case 'ks':
    case 'wasserstein': {
      if (reference.type !== 'numeric') throw new DriftMethodError(`${method} applies to numeric columns`);
      const [r, c] = [reference.sample as number[], current.sample as number[]];
      if (method === 'ks') {
        const ks = ksTest(r, c);
        return { statistic: ks.pValue, pValue: ks.pValue, testStatistic: ks.statistic, effectSize: { measure: 'ks_d', value: ks.statistic }, usedSample: true };
      }
      const distance = normedWassersteinDistance(r, c);
      return { statistic: distance, effectSize: { measure: 'wasserstein_normed', value: distance }, usedSample: true };
    }
    case 'chisquare':
    case 'z': {
      const { counts, exact } = categoryCountsOf(reference, current);
      if (method === 'chisquare') {
        const chi = chiSquareOfCounts(counts);
        const p = finiteOrNull(chi.pValue);
        return { statistic: p, ...(p !== null && { pValue: p }), testStatistic: finiteOrNull(chi.statistic), effectSize: { measure: 'cramers_v', value: cramersV(counts) }, usedSample: !exact };
      }
      const z = zTestOfCounts(counts);
      return { statistic: z.pValue, pValue: z.pValue, testStatistic: finiteOrNull(z.statistic), effectSize: { measure: 'proportion_difference', value: z.difference }, usedSample: !exact };
    }
    case 'jensenshannon':
    case 'psi': {
      const shares = sharesOf(reference, current, bins);
      const value = method === 'psi' ? populationStabilityIndex(fillEmptyBins(shares.reference), fillEmptyBins(shares.current)) : jensenShannonDistance(shares.reference, shares.current);
      return { statistic: value, effectSize: { measure: method, value }, bins: shares.reference.length, usedSample: !shares.exact };
    }
  }
}

class DriftMethodError extends Error {}

function notJudged(column: ColumnSummary, reference: ColumnSummary | undefined, method: DriftMethod, source: 'default' | 'override', threshold: number, reason: string): FeatureDrift {
  return {
    column: column.name,
    type: column.type,
    method,
    methodSource: source,
    statistic: null,
    threshold,
    drifted: null,
    persistent: null,
    effectSize: null,
    referenceRows: reference?.values ?? 0,
    currentRows: column.values,
    insufficient: reason,
  };
}

/** Drifted in this window and in the k - 1 judged windows before it (insufficient windows skipped). */
function persists(drifted: boolean | null, previous: readonly (boolean | null)[] | undefined, k: number): boolean | null {
  if (drifted === null) return null;
  if (!drifted) return false;
  const judged = (previous ?? []).filter((v): v is boolean => v !== null);
  if (judged.length < k - 1) return false;
  return judged.slice(judged.length - (k - 1)).every(Boolean);
}

function judgeColumn(current: ColumnSummary, reference: ColumnSummary | undefined, choice: DriftMethodChoice | undefined, windowReason: string | undefined): FeatureDrift {
  const source = choice ? 'override' : 'default';
  const provisional = choice?.method ?? (current.type === 'numeric' ? 'ks' : 'chisquare');
  const provisionalThreshold = choice?.threshold ?? DEFAULT_THRESHOLDS[provisional];
  if (!reference) return notJudged(current, reference, provisional, source, provisionalThreshold, 'the reference has no such column');
  if (reference.type !== current.type) return notJudged(current, reference, provisional, source, provisionalThreshold, `the reference holds it as ${reference.type}`);
  if (reference.values === 0) return notJudged(current, reference, provisional, source, provisionalThreshold, 'the reference has no values for it');
  const distinct = reference.counts && current.counts ? new Set([...reference.counts.map(([v]) => v), ...current.counts.map(([v]) => v)]).size : Infinity;
  const method = choice?.method ?? defaultDriftMethod(current.type, reference.values, distinct);
  const threshold = choice?.threshold ?? DEFAULT_THRESHOLDS[method];
  if (windowReason) return notJudged(current, reference, method, source, threshold, windowReason);
  if (current.values === 0) return notJudged(current, reference, method, source, threshold, 'the window has no values for it');
  let judged: Judged;
  try {
    judged = runMethod(method, reference, current, choice?.bins);
  } catch (error) {
    if (error instanceof DriftMethodError) return notJudged(current, reference, method, source, threshold, error.message);
    throw error;
  }
  const { usedSample, ...result } = judged;
  const sampled = usedSample && (reference.sample.length < reference.values || current.sample.length < current.values);
  return {
    column: current.name,
    type: current.type,
    method,
    methodSource: source,
    ...result,
    threshold,
    // Evidently: a NaN score (chi-square over one category) compares false: no drift.
    drifted: result.statistic === null ? false : isDrift(method, result.statistic, threshold),
    persistent: null,
    referenceRows: reference.values,
    currentRows: current.values,
    ...(sampled && { sampled: { reference: reference.sample.length, current: current.sample.length } }),
  };
}

/** Benjamini-Hochberg step-up at rate q: indices (into pValues) of the rejected hypotheses. */
export function benjaminiHochberg(pValues: readonly number[], q: number): Set<number> {
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  let largest = -1;
  order.forEach(([p], rank) => {
    if (p <= ((rank + 1) / order.length) * q) largest = rank;
  });
  return new Set(order.slice(0, largest + 1).map(([, i]) => i));
}

function quality(current: ColumnSummary, reference: ColumnSummary | undefined, maxMissingRateIncrease: number): ColumnQuality {
  // Missing values (absent keys included) judged as the data gate judges a dataset against its reference.
  const judged = judgeMissingRate({ missing: reference?.missing ?? 0, rows: reference?.rows ?? 0 }, { missing: current.missing, rows: current.rows }, maxMissingRateIncrease);
  const result: ColumnQuality = {
    column: current.name,
    type: current.type,
    missingRate: { reference: judged.reference, current: judged.current, change: judged.change, lowerBound: judged.lowerBound, tolerance: judged.tolerance, rose: judged.rose },
    schemaViolations: { absent: current.absent, wrongType: current.wrongType, examples: current.wrongTypeExamples },
  };
  if (!reference || reference.type !== current.type) return result;
  const streamed = current.againstReference;
  // The window's values with their weights: exact counts, or else its sample.
  const exact = current.counts !== null;
  // Built only when nothing was counted while streaming (a stored summary from before): 10,000 pairs a column otherwise wasted.
  const weighted = (): [string | number, number][] => current.counts ?? current.sample.map((v) => [v, 1]);
  const sampleRows = exact ? {} : { sampleRows: current.sample.length };
  if (current.type === 'categorical' && reference.counts) {
    if (streamed) result.newCategories = { rows: streamed.newCategoryRows, values: streamed.newCategories, exact: true };
    else {
      const known = new Set(reference.counts.map(([v]) => v));
      const fresh = weighted().filter(([v]) => !known.has(v));
      result.newCategories = { rows: fresh.reduce((a, [, n]) => a + n, 0), values: [...new Set(fresh.map(([v]) => String(v)))].slice(0, MAX_EXAMPLES), exact, ...sampleRows };
    }
  }
  if (current.type === 'numeric' && reference.min !== null && reference.max !== null) {
    const [min, max] = [reference.min, reference.max];
    if (streamed) {
      result.outOfRange = { rows: streamed.belowRange + streamed.aboveRange, below: streamed.belowRange, above: streamed.aboveRange, min, max, examples: streamed.outOfRangeExamples, exact: true };
    } else {
      let below = 0;
      let above = 0;
      const examples: number[] = [];
      for (const [v, n] of weighted() as [number, number][]) {
        if (v >= min && v <= max) continue;
        if (v < min) below += n;
        else above += n;
        if (examples.length < MAX_EXAMPLES) examples.push(v);
      }
      result.outOfRange = { rows: below + above, below, above, min, max, examples, exact, ...sampleRows };
    }
  }
  return result;
}

/**
 * The drift check of one window against the reference: Evidently's per-column verdicts and its
 * dataset verdict, with BH, effect and sample sizes, `insufficient` and persistence beside them,
 * prediction drift and the window's data quality. Pure: the Lambda streams both sides through
 * DriftAccumulator and writes the result (DriftReportSchema) to S3.
 */
export function checkDrift(input: DriftCheckInput): DriftReport {
  const { policy, reference, current } = input;
  const k = policy.consecutiveWindows;
  const windowReason = current.rows < policy.minRows ? `the window has ${current.rows} rows, fewer than monitoring.minRows (${policy.minRows})` : undefined;
  const referenceColumns = new Map(reference.columns.map((c) => [c.name, c]));

  const features = current.columns.map((column) => judgeColumn(column, referenceColumns.get(column.name), policy.methods[column.name], windowReason));
  const tested = features.map((f, i) => [f, i] as const).filter(([f]) => f.pValue !== undefined && P_VALUE_METHODS.includes(f.method));
  const rejected = benjaminiHochberg(tested.map(([f]) => f.pValue!), policy.fdr);
  tested.forEach(([f], j) => {
    f.bhRejected = rejected.has(j);
  });
  for (const f of features) f.persistent = persists(f.drifted, input.previous?.features?.[f.column], k);

  const judged = features.filter((f) => f.drifted !== null);
  const driftedColumns = judged.filter((f) => f.drifted).length;
  const share = judged.length > 0 ? driftedColumns / judged.length : 0;
  const datasetDrifted = judged.length > 0 ? share >= DRIFT_SHARE : null;

  let prediction: FeatureDrift | null = null;
  if (current.prediction) {
    prediction = judgeColumn(current.prediction, reference.prediction ?? undefined, policy.methods[PREDICTION_COLUMN], windowReason);
    prediction.persistent = persists(prediction.drifted, input.previous?.prediction, k);
  }

  const datasetPersistent = persists(datasetDrifted, input.previous?.dataset, k);
  const insufficient = windowReason !== undefined || judged.length === 0;
  const status = insufficient ? 'insufficient' : datasetPersistent || prediction?.persistent ? 'drift' : 'no_drift';
  const report: DriftReport = {
    status,
    ...(input.window && { window: input.window }),
    insufficient: {
      window: insufficient,
      rows: current.rows,
      minRows: policy.minRows,
      ...(insufficient && { reason: windowReason ?? 'no feature could be judged (see each feature)' }),
    },
    features,
    dataset: {
      columns: judged.length,
      driftedColumns,
      share,
      driftShare: DRIFT_SHARE,
      drifted: datasetDrifted,
      persistent: datasetPersistent,
      persistentColumns: features.filter((f) => f.persistent).length,
      bh: { fdr: policy.fdr, tests: tested.length, rejected: rejected.size },
    },
    prediction,
    dataQuality: {
      rows: { reference: reference.rows, current: current.rows },
      schemaViolations: current.schemaViolations,
      unreadableOutputs: current.unreadableOutputs,
      features: current.columns.map((column) => quality(column, referenceColumns.get(column.name), input.maxMissingRateIncrease ?? DEFAULT_MAX_MISSING_RATE_INCREASE)),
    },
    skipped: [...(input.skipped ?? [])],
    sampleSize: current.sampleSize,
    seed: current.seed,
    policy,
    histograms: {
      features: current.columns.flatMap((column) => histogramOf(referenceColumns.get(column.name), column) ?? []),
      prediction: current.prediction && reference.prediction ? histogramOf(reference.prediction, current.prediction) : null,
    },
  };
  return report;
}

/** Whether the arrays hold more than `limit` distinct values together (stops counting there). */
function distinctExceeds(parts: readonly (readonly Category[])[], limit: number): boolean {
  const seen = new Set<Category>();
  for (const values of parts) {
    for (const value of values) {
      seen.add(value);
      if (seen.size > limit) return true;
    }
  }
  return false;
}

/** The counts a chart of one column draws (HistogramSchema); null when a side has no values or the types differ. */
export function histogramOf(reference: ColumnSummary | undefined, current: ColumnSummary): Histogram | null {
  if (!reference || reference.type !== current.type || reference.values === 0 || current.values === 0) return null;
  const exact = reference.counts !== null && current.counts !== null;
  const binned = (r: Iterable<readonly [number, number]>, c: Iterable<readonly [number, number]>): Histogram => {
    const ends = [reference.min, reference.max, current.min, current.max].filter((v): v is number => v !== null);
    const edges = histogramBinEdges([Math.min(...ends), Math.max(...ends)], HISTOGRAM_BINS);
    const count = (values: Iterable<readonly [number, number]>) => {
      const bins = new Array<number>(HISTOGRAM_BINS).fill(0);
      for (const [value, n] of values) {
        // numpy's rule (histogramCounts): edges[i] <= x < edges[i + 1], the last bin closed.
        let at = 0;
        while (at < HISTOGRAM_BINS - 1 && value >= edges[at + 1]!) at += 1;
        bins[at]! += n;
      }
      return bins;
    };
    return { column: current.name, kind: 'bins', edges, reference: count(r), current: count(c), exact };
  };
  // Samples of many distinct numbers: binned value by value (weight 1 each), without tallying them first.
  if (!exact && current.type === 'numeric' && distinctExceeds([reference.sample, current.sample], MAX_DISTINCT_VALUES_AS_CATEGORIES)) {
    const ones = (sample: readonly (string | number)[]) => (function* () {
      for (const value of sample) yield [value as number, 1] as const;
    })();
    return binned(ones(reference.sample), ones(current.sample));
  }
  // Each side's values with their weights: exact counts, or else its sample.
  const weighted = (side: ColumnSummary): [string | number, number][] => (exact ? side.counts! : ([...tally(side.sample)] as [string | number, number][]));
  const [r, c] = [weighted(reference), weighted(current)];
  const distinct = new Set([...r.map(([v]) => v), ...c.map(([v]) => v)]);
  if (current.type === 'numeric' && distinct.size > MAX_DISTINCT_VALUES_AS_CATEGORIES) return binned(r as [number, number][], c as [number, number][]);
  const [rm, cm] = [new Map(r), new Map(c)];
  const total = (v: string | number) => (rm.get(v) ?? 0) + (cm.get(v) ?? 0);
  const values = [...distinct].sort((a, b) => (current.type === 'numeric' ? (a as number) - (b as number) : total(b) - total(a) || pythonOrder(a, b)));
  const shown = values.slice(0, HISTOGRAM_MAX_CATEGORIES);
  const rest = values.slice(HISTOGRAM_MAX_CATEGORIES);
  return {
    column: current.name,
    kind: 'categories',
    categories: shown.map(String),
    reference: shown.map((v) => rm.get(v) ?? 0),
    current: shown.map((v) => cm.get(v) ?? 0),
    ...(rest.length > 0 && { other: { reference: rest.reduce<number>((a, v) => a + (rm.get(v) ?? 0), 0), current: rest.reduce<number>((a, v) => a + (cm.get(v) ?? 0), 0) } }),
    exact,
  };
}
