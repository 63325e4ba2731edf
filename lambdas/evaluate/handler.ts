import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { loadDatasetTable } from '../aws/dataset-table.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { evaluateRun, type EvaluateStores } from '../core/evaluation/evaluate.js';
import { ArtifactRefSchema } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'evaluate' });

const InputSchema = z.object({ training: z.object({ artifact: ArtifactRefSchema }) });

/** Evaluate over the stores it is given: parse the state, run the core flow (core/evaluation/evaluate.ts), answer. */
export function createHandler(stores: EvaluateStores) {
  return async (event: unknown) => {
    const { run, spec, state } = readStepState(event, 'Evaluate');
    const { training } = parseOrThrow(InputSchema, state, 'Evaluate input');
    const answer = await evaluateRun(stores, { run, spec, artifact: training.artifact });
    logger.info('model evaluated', { runId: run.runId, mode: run.mode, metrics: answer.metrics, champion: answer.champion?.version ?? null, latencyMsPerRow: answer.latencyMsPerRow });
    return answer;
  };
}

function awsStores(): EvaluateStores {
  const objects = new ObjectStore(createS3Client());
  const doc = createDocumentClient();
  const reportsBucket = requireEnv('REPORTS_BUCKET');
  return {
    datasets: { loadTable: (dataset) => loadDatasetTable(objects, dataset) },
    artifacts: objects,
    onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
    registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
    runs: new TrackingStore(doc, requireEnv('TRACKING_TABLE')),
    reports: { put: (key, json) => objects.put(reportsBucket, key, json, 'application/json') },
  };
}

export const handler = createHandler(awsStores());
