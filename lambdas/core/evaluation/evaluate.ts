import { labelText, type Table } from '../data/table.js';
import type { DatasetRef } from '../data/dataset-version.js';
import { DataValidationError } from '../errors.js';
import { loadModelFile, type ArtifactBytes, type ModelFile } from '../serving/model-file.js';
import type { RunUpdates, Reports } from '../stores.js';
import type { ImportedArtifact, OnnxScorer } from '../training/imported-model.js';
import type { ModelSpec } from '../training/model-spec.js';
import type { ArtifactRef, RunContext } from '../training/run.js';
import { splitRows, targetOf } from '../training/train-model.js';
import { alignClasses, classesOf, HELD_OUT_FORMAT, modelOutputs, segmentValues, storableOutputs, type HeldOutFile } from './held-out.js';
import { classificationReport, regressionReport, segmentBy } from './metrics.js';

type Metrics = Record<string, number>;

function scoreRows(task: ModelSpec['task'], y: Float64Array, outputs: number[][], rows: readonly number[]): Metrics {
  if (task === 'regression') return regressionReport(rows.map((r) => y[r]!), rows.map((_, k) => outputs[k]![0]!));
  return classificationReport(rows.map((r) => y[r]!), outputs, task === 'binary_classification' ? 1 : undefined);
}

/**
 * Judges held-out outputs (per test row: class probabilities or [value]), for a built-in or an
 * imported model alike: metrics overall and per declared segment, and how much the predictions
 * vary (P(positive), the top class's probability, or the predicted value).
 */
export function scoreHeldOut(table: Table, spec: ModelSpec, y: Float64Array, test: readonly number[], outputs: number[][]) {
  const metrics = scoreRows(spec.task, y, outputs, test);
  const segments: Record<string, Record<string, Metrics>> = {};
  for (const column of spec.segments) {
    const index = table.header.indexOf(column);
    if (index < 0) throw new DataValidationError(`the segment column "${column}" is not in the dataset`, { field: 'segments' });
    const groups = segmentBy(test.map((row) => labelText(table.rows[row]![index]) || '(missing)'), spec.minSegmentRows);
    segments[column] = Object.fromEntries(
      [...groups].map(([value, positions]) => [value, scoreRows(spec.task, y, positions.map((p) => outputs[p]!), positions.map((p) => test[p]!))]),
    );
  }
  const spread = outputs.map((out) => (spec.task === 'binary_classification' ? out[1]! : spec.task === 'regression' ? out[0]! : Math.max(...out)));
  const mean = spread.reduce((sum, p) => sum + p, 0) / spread.length;
  const predictionStd = Math.sqrt(spread.reduce((sum, p) => sum + (p - mean) ** 2, 0) / spread.length);
  return { metrics, segments, predictionStd };
}

/** A clock in milliseconds, for the per-row scoring latency the gate checks. */
export type Clock = () => number;

/**
 * A model file scored on the held-out split the spec's seed sets aside (the rows Train did not
 * see): its outputs, metrics overall and per segment, and the scoring time per row.
 */
export async function scoreOnHeldOut(table: Table, spec: ModelSpec, file: ModelFile, scorer?: OnnxScorer, clock: Clock = () => performance.now()) {
  const { y, classes } = targetOf(table, spec);
  const test = splitRows(table, spec, y).test;
  // One row first, untimed: loading the model (or its ONNX session) is not per-row scoring time.
  if (test.length > 0) await modelOutputs(table, file, test.slice(0, 1), scorer);
  const started = clock();
  const outputs = await modelOutputs(table, file, test, scorer);
  const latencyMsPerRow = (clock() - started) / Math.max(1, test.length);
  const stored = storableOutputs(outputs);
  // Metrics of NaN outputs mean nothing: the gate's predictions_finite check fails such a model by name.
  const scored: ReturnType<typeof scoreHeldOut> | { metrics: Metrics; segments: Record<string, never>; predictionStd: undefined } =
    stored.nonFinite === 0 ? scoreHeldOut(table, spec, y, test, outputs) : { metrics: { rows: test.length }, segments: {}, predictionStd: undefined };
  return { y, classes, test, outputs, stored, latencyMsPerRow, ...scored };
}

/** What Evaluate reads and writes, behind small interfaces (S3 and DynamoDB in production, memory in tests). */
export interface EvaluateStores {
  /** A registered dataset version's rows, read through the readers that profiled it. */
  datasets: { loadTable(dataset: DatasetRef): Promise<Table> };
  /** Model files by URI; their sha256 is checked here. */
  artifacts: ArtifactBytes;
  /** A scorer for an imported model's ONNX file. */
  onnx(manifest: ImportedArtifact): OnnxScorer;
  registry: {
    findAlias(model: string, alias: 'production'): Promise<{ version: number } | undefined>;
    getVersion(model: string, version: number): Promise<{ artifact: ArtifactRef }>;
  };
  runs: RunUpdates;
  reports: Pick<Reports, 'put'>;
  clock?: Clock;
}

/** The Evaluate step's answer, which the Gate reads from the state. */
export interface EvaluateAnswer {
  metrics: Metrics;
  predictionStd?: number | undefined;
  heldOutUri?: string;
  champion?: { version: number } | null;
  latencyMsPerRow?: number;
  nonFinitePredictions?: number;
}

export const heldOutKey = (model: string, runId: string) => `evaluations/${model}/${runId}.json`;

/**
 * Evaluate: scores the run's artifact on the held-out split, overall and per segment, and scores
 * the current production version on the same rows, so the Gate can compare the two pairwise. The
 * per-row evidence goes to the reports store and the answer carries its URI. A reproduction ends
 * here: its run is complete with its metrics.
 */
export async function evaluateRun(stores: EvaluateStores, input: { run: RunContext; spec: ModelSpec; artifact: ArtifactRef }): Promise<EvaluateAnswer> {
  const { run, spec } = input;
  const scorerFor = (file: ModelFile) => (file.kind === 'imported' ? stores.onnx(file.manifest) : undefined);
  const file = await loadModelFile(stores.artifacts, input.artifact);
  const table = await stores.datasets.loadTable(run.dataset);
  const candidate = await scoreOnHeldOut(table, spec, file, scorerFor(file), stores.clock);
  const { metrics, segments, predictionStd, test, y, classes, latencyMsPerRow } = candidate;

  if (run.mode === 'reproduce') {
    await stores.runs.updateRun(run.runId, { metrics, segmentMetrics: segments, status: 'SUCCEEDED', endedAt: new Date().toISOString() });
    return { metrics, predictionStd };
  }

  const production = await stores.registry.findAlias(run.model, 'production');
  let champion: HeldOutFile['champion'] = null;
  // A promotion judges the version against production; it is not its own champion.
  if (production && production.version !== run.promotion?.version) {
    const version = await stores.registry.getVersion(run.model, production.version);
    const championFile = await loadModelFile(stores.artifacts, version.artifact);
    let championOutputs: number[][];
    try {
      championOutputs = await modelOutputs(table, championFile, test, scorerFor(championFile));
    } catch (error) {
      // Without the champion's scores there is no comparison, and no comparison is no release.
      throw new DataValidationError(`production (version ${production.version}) cannot be scored on this dataset, so the candidate cannot be compared with it: ${(error as Error).message}`, { step: 'Evaluate', cause: error });
    }
    champion = { version: production.version, outputs: storableOutputs(alignClasses(championOutputs, classesOf(championFile), classes)).outputs };
  }
  const heldOut: HeldOutFile = {
    format: HELD_OUT_FORMAT,
    model: run.model,
    runId: run.runId,
    task: spec.task,
    ...(classes ? { classes } : {}),
    dataset: run.dataset,
    rows: test,
    labels: test.map((row) => y[row]!),
    candidate: candidate.stored.outputs,
    champion,
    segments: segmentValues(table, spec, test),
    latencyMsPerRow,
  };
  const heldOutUri = await stores.reports.put(heldOutKey(run.model, run.runId), JSON.stringify(heldOut));
  await stores.runs.updateRun(run.runId, { metrics, segmentMetrics: segments });
  return { metrics, predictionStd, heldOutUri, champion: champion ? { version: champion.version } : null, latencyMsPerRow, nonFinitePredictions: candidate.stored.nonFinite };
}
