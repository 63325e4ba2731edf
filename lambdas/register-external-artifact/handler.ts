import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { sha256Hex } from '../core/training/artifact.js';
import { MlopsError, parseOrThrow } from '../core/errors.js';
import { readModelFile } from '../core/serving/model-file.js';
import { formatS3Uri } from '../core/s3-uri.js';
import { readTarGzEntry } from './tarball.js';

const logger = new Logger({ serviceName: 'register-external-artifact' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const MODELS_BUCKET = requireEnv('MODELS_BUCKET');

/** The artifact's file name, inside SageMaker's model.tar.gz and in the run's folder. */
const ARTIFACT_NAME = 'model.json';
/** Largest training output read (packed and unpacked): well inside the function's memory. */
const MAX_OUTPUT_BYTES = 512 * 1024 ** 2;

const InputSchema = z.object({ artifactUri: z.string().regex(/^s3:\/\/[^/]+\/.+/, 'must be an s3://bucket/key URI') });

class ExternalArtifactError extends MlopsError {
  constructor(message: string) {
    super('EXTERNAL_ARTIFACT_INVALID', message, { step: 'RegisterExternalArtifact' });
    this.name = 'ExternalArtifactError';
  }
}

/**
 * RegisterExternalArtifact: what Train does after fitting, for a model an external job (SageMaker
 * or ECS) trained. It reads the job's output (SageMaker's model.tar.gz, or the model.json an ECS
 * task wrote), checks that it is a model file of this run's model (lambdas/core/model-file.ts),
 * stores it as the run's model.json when it is not there yet, and records { uri, sha256 } on the run.
 */
export const handler = async (event: unknown) => {
  const { run, spec, state } = readStepState(event, 'RegisterExternalArtifact');
  const { artifactUri } = parseOrThrow(InputSchema, state, 'RegisterExternalArtifact input');

  const size = await objects.size(artifactUri);
  if (size === undefined) throw new ExternalArtifactError(`the training job left no artifact at ${artifactUri}`);
  if (size > MAX_OUTPUT_BYTES) throw new ExternalArtifactError(`the training output ${artifactUri} is ${size} bytes; at most ${MAX_OUTPUT_BYTES} are read`);
  let bytes: Uint8Array;
  if (artifactUri.endsWith('.tar.gz')) {
    const entry = readTarGzEntry(await objects.getBytes(artifactUri), ARTIFACT_NAME, MAX_OUTPUT_BYTES);
    if (!entry) throw new ExternalArtifactError(`${artifactUri} holds no ${ARTIFACT_NAME} at its top level (write it to /opt/ml/model/${ARTIFACT_NAME})`);
    bytes = entry;
  } else {
    bytes = await objects.getBytes(artifactUri);
  }

  // The bytes are stored and hashed as they are, and read back the way Evaluate and serving read
  // them (lambdas/core/serving/model-file.ts): a built-in artifact, or the manifest of an ONNX model.
  const recordedSha256 = sha256Hex(bytes);
  const file = readModelFile(bytes, { uri: artifactUri, sha256: recordedSha256 });
  const artifact = file.kind === 'builtin' ? file.artifact : file.manifest;
  const mismatch = (['model', 'task', 'target'] as const).find((key) => artifact[key] !== (key === 'model' ? run.model : spec[key]));
  if (mismatch) {
    throw new ExternalArtifactError(`the artifact's ${mismatch} is "${artifact[mismatch]}", but run ${run.runId} trains ${run.model} (${spec.task}, target ${spec.target})`);
  }

  const key = `models/${run.model}/runs/${run.runId}/${ARTIFACT_NAME}`;
  const uri = artifactUri === formatS3Uri(MODELS_BUCKET, key) ? artifactUri : await objects.put(MODELS_BUCKET, key, bytes, 'application/json');
  const recorded = { uri, sha256: recordedSha256 };
  await tracking.updateRun(run.runId, { artifact: recorded });
  logger.info('external artifact recorded', { runId: run.runId, artifact: recorded, source: artifactUri });
  return { artifact: recorded, source: artifactUri };
};
