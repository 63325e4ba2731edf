import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { loadDatasetTable } from '../aws/dataset-table.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { sha256Hex } from '../core/artifact.js';
import { evaluateImported } from '../core/imported-model.js';
import { parseModelFile } from '../core/model-file.js';
import { MlopsError, parseOrThrow } from '../core/errors.js';
import { evaluateModel } from '../core/pipeline.js';
import { ArtifactRefSchema } from '../core/run.js';

const logger = new Logger({ serviceName: 'evaluate' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));

const InputSchema = z.object({ training: z.object({ artifact: ArtifactRefSchema }) });

/** Evaluate: scores the stored artifact on the held-out split the same seed produced, overall and per segment. */
export const handler = async (event: unknown) => {
  const { run, spec, state } = readStepState(event, 'Evaluate');
  const { training } = parseOrThrow(InputSchema, state, 'Evaluate input');
  const text = await objects.getText(training.artifact.uri);
  // The artifact evaluated must be the one Train recorded, byte for byte.
  if (sha256Hex(text) !== training.artifact.sha256) {
    throw new MlopsError('ARTIFACT_MISMATCH', `artifact ${training.artifact.uri} does not match its recorded sha256`, { step: 'Evaluate' });
  }
  const table = await loadDatasetTable(objects, run.dataset);
  const file = parseModelFile(text);
  const { metrics, segments, predictionStd } =
    file.kind === 'builtin'
      ? evaluateModel(table, spec, file.artifact)
      : await evaluateImported(table, spec, file.manifest, onnxScorer(objects, file.manifest.onnx, file.manifest.task, file.manifest));
  // A reproduction ends here (nothing is gated or registered), so its run is complete.
  const finished = run.mode === 'reproduce' ? { status: 'SUCCEEDED' as const, endedAt: new Date().toISOString() } : {};
  await tracking.updateRun(run.runId, { metrics, segmentMetrics: segments, ...finished });
  logger.info('model evaluated', { runId: run.runId, metrics, mode: run.mode });
  return { metrics, predictionStd };
};
