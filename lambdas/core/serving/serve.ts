import type { Reports } from '../stores.js';
import { featureMatrix, type ImportedArtifact, type OnnxScorer } from '../training/imported-model.js';
import type { ArtifactRef } from '../training/run.js';
import { loadModelFile, type ArtifactBytes, type ModelFile } from './model-file.js';
import { predict, toPrediction, validatePredictionRequest, validateRequestFor, type CheckedRequest, type FeatureRow, type Prediction } from './predict.js';

/** What serving a prediction reads and writes. */
export interface ServingStores {
  readonly registry: {
    findAlias(model: string, alias: 'production'): Promise<{ version: number } | undefined>;
    findModel(model: string): Promise<unknown>;
    getVersion(model: string, version: number): Promise<{ artifact: ArtifactRef }>;
  };
  /** Model files by URI; their sha256 is checked on load. */
  readonly artifacts: ArtifactBytes;
  /** A scorer for an imported model's ONNX file. */
  onnx(manifest: ImportedArtifact): OnnxScorer;
  /** The prediction log: `put` answers the object's URI. */
  readonly logs: Pick<Reports, 'put'>;
}

/** A request the model cannot answer, with the code the caller sees. */
export interface ServeRefusal {
  readonly ok: false;
  readonly code: 'MODEL_NOT_FOUND' | 'NO_PRODUCTION_VERSION' | 'INVALID_REQUEST';
  readonly message: string;
  readonly fields?: { field: string; problem: string }[];
}

export interface ServeAnswer {
  readonly ok: true;
  readonly version: number;
  readonly rows: FeatureRow[];
  readonly predictions: Prediction[];
  readonly latencyMs: number;
}

/** Model files are immutable per version, so a warm function keeps each one it has loaded (by sha256). */
export function cachedModelFiles(artifacts: ArtifactBytes): (artifact: ArtifactRef) => Promise<ModelFile> {
  const files = new Map<string, ModelFile>();
  return async (artifact) => {
    const cached = files.get(artifact.sha256);
    if (cached) return cached;
    const file = await loadModelFile(artifacts, artifact);
    files.set(artifact.sha256, file);
    return file;
  };
}

/** Checks the request against the model's features and scores it: built-in models in-process, imported ones with their ONNX scorer. */
export async function scoreBody(stores: Pick<ServingStores, 'onnx'>, file: ModelFile, body: unknown): Promise<{ checked: CheckedRequest; predictions: Prediction[] }> {
  if (file.kind === 'builtin') {
    const checked = validatePredictionRequest(file.artifact, body);
    return { checked, predictions: checked.ok ? checked.rows.map((row) => predict(file.artifact, row)) : [] };
  }
  const { manifest } = file;
  const checked = validateRequestFor(manifest, manifest.features.map((name) => ({ name, type: 'numeric' as const, nullable: false })), body);
  if (!checked.ok) return { checked, predictions: [] };
  const rows = featureMatrix(manifest.features, (row, feature) => checked.rows[row]![feature], checked.rows.map((_, i) => i), (row) => `instance ${row + 1}`);
  const { scores } = await stores.onnx(manifest)(rows, checked.rows.length, manifest.features.length, manifest.classes?.length ?? 1);
  return { checked, predictions: scores.map((out) => toPrediction(manifest.task, manifest.classes, out)) };
}

/**
 * Serves one prediction request: resolves the model's production alias (on every request, so an
 * alias move or rollback takes effect at once), checks the body against the model's features,
 * predicts, and logs the request with its predictions. A request the model cannot answer is a refusal.
 */
export async function servePrediction(
  stores: ServingStores & { modelFile(artifact: ArtifactRef): Promise<ModelFile> },
  input: { model: string; body: unknown; requestId: string; now: () => Date; elapsedMs: () => number },
): Promise<ServeAnswer | ServeRefusal> {
  const { model, body, requestId } = input;
  const alias = await stores.registry.findAlias(model, 'production');
  if (!alias) {
    return (await stores.registry.findModel(model))
      ? { ok: false, code: 'NO_PRODUCTION_VERSION', message: `model "${model}" has no production version yet` }
      : { ok: false, code: 'MODEL_NOT_FOUND', message: `no model named "${model}"` };
  }
  const version = await stores.registry.getVersion(model, alias.version);
  const { checked, predictions } = await scoreBody(stores, await stores.modelFile(version.artifact), body);
  if (!checked.ok) {
    const summary = checked.errors.map((e) => `${e.field}: ${e.problem}`).join('; ');
    return { ok: false, code: 'INVALID_REQUEST', message: `the request does not match model ${model}'s features: ${summary}`, fields: checked.errors };
  }
  const latencyMs = Math.round(input.elapsedMs() * 1000) / 1000;
  const now = input.now();
  await stores.logs.put(
    `predictions/model=${model}/date=${now.toISOString().slice(0, 10)}/${requestId}.json`,
    JSON.stringify({ requestId, model, version: alias.version, arm: 'production', at: now.toISOString(), inputs: checked.rows, outputs: predictions, latencyMs }),
  );
  return { ok: true, version: alias.version, rows: checked.rows, predictions, latencyMs };
}
