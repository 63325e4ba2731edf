import { z } from 'zod';
import { canonicalJson } from '../canonical-json.js';
import type { DatasetRef } from '../data/dataset-version.js';
import type { Cell } from '../data/table-readers.js';
import { DataValidationError, InputValidationError, parseOrThrow } from '../errors.js';
import { Reservoir } from './reservoir.js';
import { sha256Hex } from '../sha256.js';
import type { ImportedArtifact, OnnxScorer } from '../training/imported-model.js';
import { MODEL_NAME, type ArtifactRef } from '../training/run.js';
import { categoryValue, numericValue } from '../training/transforms.js';
import { verifyArtifact, type ArtifactBytes, type ModelFile } from '../serving/model-file.js';
import { MAX_INSTANCES, type FeatureRow } from '../serving/predict.js';
import { scoreBody } from '../serving/serve.js';

/**
 * A version's reference data: a seeded sample of the rows it learned from, as serving would have
 * received them, with the model's outputs on those rows from the same scoring path serving uses
 * (serve.ts scoreBody). The drift check compares a window of the prediction log with it, so both
 * sides have the same shape: `rows` like the log's `inputs`, `outputs` like its `outputs`.
 */

export const REFERENCE_FORMAT = 'serverless-mlops/reference@1';
/** The default sample size (spec `monitoring.referenceSampleSize`). */
export const DEFAULT_REFERENCE_SAMPLE_SIZE = 10_000;

export const ReferenceFeatureSchema = z.object({ name: z.string().min(1), type: z.enum(['numeric', 'categorical']) }).strict();
export type ReferenceFeature = z.infer<typeof ReferenceFeatureSchema>;

/** The held-out part of a reference: labels as feedback carries them (a class as text, a number for regression). */
export const HeldOutSampleSchema = z
  .object({
    /** Rows of the held-out split the sample was drawn from. */
    population: z.number().int().nonnegative(),
    labels: z.array(z.union([z.string(), z.number()])),
    /** One prediction per label, as serving answers it. */
    outputs: z.array(z.unknown()),
  })
  .strict()
  .refine((sample) => sample.labels.length === sample.outputs.length, { message: 'one output per label', path: ['outputs'] });
export type HeldOutSample = z.infer<typeof HeldOutSampleSchema>;

export const ReferenceSampleSchema = z
  .object({
    format: z.literal(REFERENCE_FORMAT),
    model: MODEL_NAME,
    /** `training-split`: stored by Train; `dataset`: drawn from the version's dataset at check time (versions older than reference data). */
    source: z.enum(['training-split', 'dataset']),
    dataset: z.object({ name: z.string(), version: z.string() }).strict(),
    seed: z.number().int(),
    /** Rows the sample was drawn from (the training split, or the dataset). */
    population: z.number().int().nonnegative(),
    features: z.array(ReferenceFeatureSchema).min(1),
    /** Numeric features as numbers, categorical ones as text, missing values as null. */
    rows: z.array(z.record(z.string(), z.union([z.number(), z.string(), z.null()]))),
    /** One prediction per row, as serving answers it. */
    outputs: z.array(z.unknown()),
    /**
     * A seeded sample of the held-out split (rows the model did not learn from) with the true label and
     * the model's output through serving's path: what performance estimation (core/monitoring/cbpe.ts)
     * calibrates on. Absent on references from before it: then no estimate, and the check says why.
     */
    heldOut: HeldOutSampleSchema.optional(),
  })
  .strict()
  .refine((reference) => reference.rows.length === reference.outputs.length, { message: 'one output per row', path: ['outputs'] });
export type ReferenceSample = z.infer<typeof ReferenceSampleSchema>;

/** Where Train stores a run's reference: next to its model file. */
export const referenceKey = (model: string, runId: string) => `models/${model}/runs/${runId}/reference.json`;

/** The features a model file takes: a built-in model's declared ones; an imported model's are numeric. */
export function referenceFeatures(file: ModelFile): ReferenceFeature[] {
  return file.kind === 'builtin' ? file.artifact.features.map(({ name, type }) => ({ name, type })) : file.manifest.features.map((name) => ({ name, type: 'numeric' as const }));
}

/** A table row as a request row: numeric cells as numbers, categorical ones as trimmed text, missing as null. */
export function requestRow(features: readonly ReferenceFeature[], cell: (name: string) => Cell | undefined, where: string): FeatureRow {
  const row: FeatureRow = {};
  for (const feature of features) row[feature.name] = feature.type === 'numeric' ? numericValue(feature.name, cell(feature.name), where) : categoryValue(cell(feature.name));
  return row;
}

/** Scores rows in requests of at most MAX_INSTANCES with serving's own path; a row serving would refuse fails the sample. */
export async function scoreReferenceRows(file: ModelFile, rows: readonly FeatureRow[], onnx: (manifest: ImportedArtifact) => OnnxScorer): Promise<unknown[]> {
  const outputs: unknown[] = [];
  for (let start = 0; start < rows.length; start += MAX_INSTANCES) {
    const { checked, predictions } = await scoreBody({ onnx }, file, { instances: rows.slice(start, start + MAX_INSTANCES) });
    if (!checked.ok) {
      const [first] = checked.errors;
      throw new DataValidationError(`a reference row is not one serving would accept: ${first?.field}: ${first?.problem}`, { field: first?.field });
    }
    outputs.push(...predictions);
  }
  return outputs;
}

/** A seeded reservoir of row indices 0..n-1 (in ascending order, so the sample reads like the table). */
export function sampleIndices(rows: Iterable<number>, size: number, seed: number): { indices: number[]; population: number } {
  const reservoir = new Reservoir<number>(size, seed);
  for (const row of rows) reservoir.add(row);
  return { indices: reservoir.values().sort((a, b) => a - b), population: reservoir.seen };
}

export interface BuildReferenceInput {
  file: ModelFile;
  model: string;
  source: ReferenceSample['source'];
  dataset: Pick<DatasetRef, 'name' | 'version'>;
  seed: number;
  population: number;
  /** The sampled rows, as request rows. */
  rows: FeatureRow[];
  /** A scorer for an imported model's ONNX file (serving's ServingStores.onnx). */
  onnx: (manifest: ImportedArtifact) => OnnxScorer;
  /** Sampled held-out rows (as request rows) with their labels, scored the same way (Train stores them; the dataset fallback has none). */
  heldOut?: { rows: FeatureRow[]; labels: (string | number)[]; population: number };
}

/** The reference document and its stored text (canonical JSON, so its sha256 is reproducible). */
export async function buildReference(input: BuildReferenceInput): Promise<{ reference: ReferenceSample; text: string }> {
  const outputs = await scoreReferenceRows(input.file, input.rows, input.onnx);
  const reference: ReferenceSample = {
    format: REFERENCE_FORMAT,
    model: input.model,
    source: input.source,
    dataset: { name: input.dataset.name, version: input.dataset.version },
    seed: input.seed,
    population: input.population,
    features: referenceFeatures(input.file),
    rows: input.rows,
    outputs,
    ...(input.heldOut && { heldOut: { population: input.heldOut.population, labels: input.heldOut.labels, outputs: await scoreReferenceRows(input.file, input.heldOut.rows, input.onnx) } }),
  };
  return { reference, text: canonicalJson(reference) };
}

export const referenceRef = (uri: string, text: string): ArtifactRef => ({ uri, sha256: sha256Hex(text) });

/** A stored reference: read, checked against its recorded sha256, parsed. */
export async function loadReference(store: ArtifactBytes, ref: ArtifactRef): Promise<ReferenceSample> {
  const bytes = verifyArtifact(await store.getBytes(ref.uri), ref, 'reference sample');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InputValidationError(`the reference sample ${ref.uri} is not JSON: ${(error as Error).message}`, { field: 'reference' });
  }
  return parseOrThrow(ReferenceSampleSchema, raw, 'reference sample');
}
