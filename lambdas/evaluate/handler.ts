import { Logger } from '@aws-lambda-powertools/logger';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { loadDatasetTable } from '../aws/dataset-table.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { sha256Hex } from '../core/training/artifact.js';
import { DataValidationError, MlopsError, parseOrThrow } from '../core/errors.js';
import { alignClasses, classesOf, HELD_OUT_FORMAT, modelOutputs, segmentValues, storableOutputs, type HeldOutFile } from '../core/evaluation/held-out.js';
import { parseModelFile, type ModelFile } from '../core/serving/model-file.js';
import { scoreHeldOut, splitRows, targetOf } from '../core/training/train-model.js';
import { ArtifactRefSchema, type ArtifactRef } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'evaluate' });
const objects = new ObjectStore(createS3Client());
const doc = createDocumentClient();
const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
const REPORTS_BUCKET = requireEnv('REPORTS_BUCKET');

const InputSchema = z.object({ training: z.object({ artifact: ArtifactRefSchema }) });

/** A registered model file, checked byte for byte against the sha256 recorded for it. */
async function loadModelFile(artifact: ArtifactRef): Promise<ModelFile> {
  const text = await objects.getText(artifact.uri);
  if (sha256Hex(text) !== artifact.sha256) {
    throw new MlopsError('ARTIFACT_MISMATCH', `artifact ${artifact.uri} does not match its recorded sha256`, { step: 'Evaluate' });
  }
  return parseModelFile(text);
}

const scorerFor = (file: ModelFile) =>
  file.kind === 'imported' ? onnxScorer(objects, file.manifest.onnx, file.manifest.task, file.manifest) : undefined;

/**
 * Evaluate: scores the artifact on the held-out split the same seed produced, overall and per
 * segment, and scores the current production version on the same rows, so the Gate can compare
 * the two pairwise. The per-row evidence goes to S3; the state carries its URI.
 */
export const handler = async (event: unknown) => {
  const { run, spec, state } = readStepState(event, 'Evaluate');
  const { training } = parseOrThrow(InputSchema, state, 'Evaluate input');
  const file = await loadModelFile(training.artifact);
  const table = await loadDatasetTable(objects, run.dataset);
  const { y, classes } = targetOf(table, spec);
  const test = splitRows(table, spec, y).test;

  const scorer = scorerFor(file);
  // One row first, untimed: loading the model (or its ONNX session) is not per-row scoring time.
  if (test.length > 0) await modelOutputs(table, file, test.slice(0, 1), scorer);
  const started = performance.now();
  const outputs = await modelOutputs(table, file, test, scorer);
  const latencyMsPerRow = (performance.now() - started) / Math.max(1, test.length);
  const candidate = storableOutputs(outputs);
  // Metrics of NaN outputs mean nothing: the gate's predictions_finite check fails such a model by name.
  const { metrics, segments, predictionStd } =
    candidate.nonFinite === 0 ? scoreHeldOut(table, spec, y, test, outputs) : { metrics: { rows: test.length }, segments: {}, predictionStd: undefined };

  // A reproduction ends here (nothing is gated or registered), so its run is complete.
  if (run.mode === 'reproduce') {
    await tracking.updateRun(run.runId, { metrics, segmentMetrics: segments, status: 'SUCCEEDED', endedAt: new Date().toISOString() });
    logger.info('model evaluated', { runId: run.runId, metrics, mode: run.mode });
    return { metrics, predictionStd };
  }

  const production = await registry.findAlias(run.model, 'production');
  let champion: HeldOutFile['champion'] = null;
  if (production && production.version !== run.promotion?.version) {
    const version = await registry.getVersion(run.model, production.version);
    const championFile = await loadModelFile(version.artifact);
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
    candidate: candidate.outputs,
    champion,
    segments: segmentValues(table, spec, test),
    latencyMsPerRow,
  };
  const heldOutUri = await objects.put(REPORTS_BUCKET, `evaluations/${run.model}/${run.runId}.json`, JSON.stringify(heldOut), 'application/json');
  await tracking.updateRun(run.runId, { metrics, segmentMetrics: segments });
  logger.info('model evaluated', { runId: run.runId, metrics, mode: run.mode, champion: champion?.version ?? null, latencyMsPerRow });
  return { metrics, predictionStd, heldOutUri, champion: champion ? { version: champion.version } : null, latencyMsPerRow, nonFinitePredictions: candidate.nonFinite };
};
