import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { loadDatasetTable } from '../aws/dataset-table.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { trainRun, type TrainStores } from '../core/training/train-run.js';

const logger = new Logger({ serviceName: 'train' });

/** Train over the stores it is given: parse the state, train or describe the import (core/training/train-run.ts), answer. */
export function createHandler(stores: TrainStores) {
  return async (event: unknown) => {
    const { run, spec } = readStepState(event, 'Train');
    const answer = await trainRun(stores, { run, spec });
    logger.info(run.mode === 'import' ? 'model imported' : 'model trained', { runId: run.runId, artifact: answer.artifact });
    return answer;
  };
}

function awsStores(): TrainStores {
  const objects = new ObjectStore(createS3Client());
  const modelsBucket = requireEnv('MODELS_BUCKET');
  return {
    datasets: { loadTable: (dataset) => loadDatasetTable(objects, dataset) },
    onnx: (onnx, task) => onnxScorer(objects, onnx, task),
    models: { put: (key, text) => objects.put(modelsBucket, key, text, 'application/json') },
    runs: new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE')),
  };
}

export const handler = createHandler(awsStores());
