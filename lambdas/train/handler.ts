import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { loadDatasetTable } from '../aws/dataset-table.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { sha256Hex } from '../core/training/artifact.js';
import { describeImport } from '../core/training/imported-model.js';
import { trainModel } from '../core/training/train-model.js';

const logger = new Logger({ serviceName: 'train' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const MODELS_BUCKET = requireEnv('MODELS_BUCKET');

/**
 * Train: fits the model on the training split and stores the artifact under the run's id. For an
 * import, it writes the manifest of the ONNX model instead (features in order, classes, how its
 * output reads), so Evaluate, the gate and serving treat it like a built-in model.
 */
export const handler = async (event: unknown) => {
  const { run, spec } = readStepState(event, 'Train');
  const table = await loadDatasetTable(objects, run.dataset);
  let text: string;
  if (run.mode === 'import' && run.onnx) {
    ({ text } = await describeImport(table, spec, run.onnx, onnxScorer(objects, run.onnx, spec.task)));
  } else {
    text = trainModel(table, spec).artifactText;
  }
  const uri = await objects.put(MODELS_BUCKET, `models/${run.model}/runs/${run.runId}/model.json`, text, 'application/json');
  const artifact = { uri, sha256: sha256Hex(text) };
  await tracking.updateRun(run.runId, { artifact });
  logger.info(run.mode === 'import' ? 'model imported' : 'model trained', { runId: run.runId, artifact });
  return { artifact };
};
