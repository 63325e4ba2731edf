import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { recordExternalArtifact, type ExternalArtifactStores } from '../core/training/external-artifact.js';

const logger = new Logger({ serviceName: 'register-external-artifact' });

const InputSchema = z.object({ artifactUri: z.string().regex(/^s3:\/\/[^/]+\/.+/, 'must be an s3://bucket/key URI') });

/**
 * RegisterExternalArtifact over the stores it is given: parse the state, check and record the
 * model file an external job wrote (core/training/external-artifact.ts), answer { artifact, source }.
 */
export function createHandler(stores: ExternalArtifactStores) {
  return async (event: unknown) => {
    const { run, spec, state } = readStepState(event, 'RegisterExternalArtifact');
    const { artifactUri } = parseOrThrow(InputSchema, state, 'RegisterExternalArtifact input');
    const answer = await recordExternalArtifact(stores, { run, spec, artifactUri });
    logger.info('external artifact recorded', { runId: run.runId, artifact: answer.artifact, source: artifactUri });
    return answer;
  };
}

function awsStores(): ExternalArtifactStores {
  const objects = new ObjectStore(createS3Client());
  const bucket = requireEnv('MODELS_BUCKET');
  return {
    objects,
    models: { bucket, put: (key, bytes) => objects.put(bucket, key, bytes, 'application/json') },
    runs: new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE')),
  };
}

export const handler = createHandler(awsStores());
