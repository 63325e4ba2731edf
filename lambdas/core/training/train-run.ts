import type { DatasetRef } from '../data/dataset-version.js';
import type { Table } from '../data/table.js';
import type { RunUpdates } from '../stores.js';
import { sha256Hex } from '../sha256.js';
import { describeImport, type OnnxScorer } from './imported-model.js';
import type { ModelSpec } from './model-spec.js';
import type { ArtifactRef, RunContext } from './run.js';
import { cellsOf, splitRows, targetOf, trainModel } from './train-model.js';
import { buildReference, referenceKey, referenceRef, requestRow, sampleIndices, referenceFeatures } from '../monitoring/reference.js';
import { parseModelFile } from '../serving/model-file.js';

export interface TrainStores {
  datasets: { loadTable(dataset: DatasetRef): Promise<Table> };
  /** A scorer for an import's ONNX file (its sha256 checked by the adapter that loads it). */
  onnx(onnx: ArtifactRef, task: ModelSpec['task']): OnnxScorer;
  /** Writes a model file into the models bucket; answers its URI. */
  models: { put(key: string, text: string): Promise<string> };
  runs: RunUpdates;
}

export const runArtifactKey = (model: string, runId: string) => `models/${model}/runs/${runId}/model.json`;

/**
 * Train: fits the model on the training split and stores the artifact under the run's id. For an
 * import, it writes the manifest of the ONNX model instead (features in order, classes, how its
 * output reads), so Evaluate, the gate and serving treat it like a built-in model. The sha256
 * recorded is over the bytes stored, as every reader verifies it.
 */
export async function trainRun(stores: TrainStores, input: { run: RunContext; spec: ModelSpec }): Promise<{ artifact: ArtifactRef; reference: ArtifactRef }> {
  const { run, spec } = input;
  const table = await stores.datasets.loadTable(run.dataset);
  const text = run.mode === 'import' && run.onnx ? (await describeImport(table, spec, run.onnx, stores.onnx(run.onnx, spec.task))).text : trainModel(table, spec).artifactText;
  const uri = await stores.models.put(runArtifactKey(run.model, run.runId), text);
  const artifact = { uri, sha256: sha256Hex(text) };
  const reference = await storeReference(stores, { run, spec, table, text });
  await stores.runs.updateRun(run.runId, { artifact, reference });
  return { artifact, reference };
}

/**
 * The version's reference data (core/monitoring/reference.ts): a seeded reservoir of at most
 * `monitoring.referenceSampleSize` rows of the training split, scored by the model just stored,
 * through serving's path. The drift check compares traffic with it. Beside it, a reservoir of the
 * same size of the held-out split with the true labels: performance estimation calibrates on rows
 * the model did not learn from (core/monitoring/cbpe.ts).
 */
async function storeReference(stores: TrainStores, input: { run: RunContext; spec: ModelSpec; table: Table; text: string }): Promise<ArtifactRef> {
  const { run, spec, table } = input;
  const file = parseModelFile(input.text);
  const features = referenceFeatures(file);
  const { y, classes } = targetOf(table, spec);
  const split = splitRows(table, spec, y);
  const { indices, population } = sampleIndices(split.train, spec.monitoring.referenceSampleSize, spec.training.seed);
  const cells = cellsOf(table);
  const rows = indices.map((row) => requestRow(features, cells(row), `data row ${row + 1}`));
  const held = sampleIndices(split.test, spec.monitoring.referenceSampleSize, spec.training.seed);
  const heldOut = {
    rows: held.indices.map((row) => requestRow(features, cells(row), `data row ${row + 1}`)),
    // As feedback carries a label: the class as text, or the number.
    labels: held.indices.map((row) => (classes ? classes[y[row]!]! : y[row]!)),
    population: held.population,
  };
  const onnx = (manifest: { onnx: ArtifactRef }) => stores.onnx(manifest.onnx, spec.task);
  const { text } = await buildReference({ file, model: run.model, source: 'training-split', dataset: run.dataset, seed: spec.training.seed, population, rows, onnx, heldOut });
  return referenceRef(await stores.models.put(referenceKey(run.model, run.runId), text), text);
}
