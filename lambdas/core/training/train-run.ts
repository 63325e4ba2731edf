import type { DatasetRef } from '../data/dataset-version.js';
import type { Table } from '../data/table.js';
import type { RunUpdates } from '../stores.js';
import { sha256Hex } from '../sha256.js';
import { describeImport, type OnnxScorer } from './imported-model.js';
import type { ModelSpec } from './model-spec.js';
import type { ArtifactRef, RunContext } from './run.js';
import { trainModel } from './train-model.js';

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
export async function trainRun(stores: TrainStores, input: { run: RunContext; spec: ModelSpec }): Promise<{ artifact: ArtifactRef }> {
  const { run, spec } = input;
  const table = await stores.datasets.loadTable(run.dataset);
  const text = run.mode === 'import' && run.onnx ? (await describeImport(table, spec, run.onnx, stores.onnx(run.onnx, spec.task))).text : trainModel(table, spec).artifactText;
  const uri = await stores.models.put(runArtifactKey(run.model, run.runId), text);
  const artifact = { uri, sha256: sha256Hex(text) };
  await stores.runs.updateRun(run.runId, { artifact });
  return { artifact };
}
