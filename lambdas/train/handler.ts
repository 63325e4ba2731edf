import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { loadDatasetTable } from '../aws/dataset-table.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { trainModel } from '../core/pipeline.js';

const logger = new Logger({ serviceName: 'train' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const MODELS_BUCKET = requireEnv('MODELS_BUCKET');

/** Train: fits the model on the training split and stores the artifact under the run's id. */
export const handler = async (event: unknown) => {
  const { run, spec } = readStepState(event, 'Train');
  const result = trainModel(await loadDatasetTable(objects, run.dataset), spec);
  const uri = await objects.put(MODELS_BUCKET, `models/${run.model}/runs/${run.runId}/model.json`, result.artifactText, 'application/json');
  const artifact = { uri, sha256: result.sha256 };
  await tracking.updateRun(run.runId, { artifact });
  logger.info('model trained', { runId: run.runId, artifact, split: result.split });
  return { artifact, split: result.split };
};
