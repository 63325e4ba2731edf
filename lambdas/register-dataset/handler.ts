import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { RegistrationJobSchema } from '../core/data/dataset-api.js';
import { registerDataset, type DatasetRegistrationStores } from '../core/data/register-dataset.js';
import { parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'register-dataset' });

/**
 * RegisterDataset over the stores it is given: parse the registration job, scan, store and
 * record the file (core/data/register-dataset.ts), answer REGISTERED or REJECTED with the code.
 */
export function createHandler(stores: DatasetRegistrationStores, settings: { maxBytes: number; clock?: () => Date }) {
  const clock = settings.clock ?? (() => new Date());
  return async (event: unknown) => {
    const job = parseOrThrow(RegistrationJobSchema, event, 'registration job');
    const answer = await registerDataset(stores, job, {
      maxBytes: settings.maxBytes,
      now: clock(),
      onRejected: (error) => logger.warn('dataset rejected', { name: job.name, sha256: job.sha256, reason: error.message }),
    });
    if (answer.status === 'REGISTERED') logger.info('dataset registered', { name: answer.name, version: answer.version, created: answer.created });
    return answer;
  };
}

function awsStores(): DatasetRegistrationStores {
  const objects = new ObjectStore(createS3Client());
  const bucket = requireEnv('DATASETS_BUCKET');
  return {
    versions: new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE')),
    files: {
      stream: (uri) => objects.stream(uri),
      file: (uri) => objects.file(uri),
      delete: (uri) => objects.delete(uri),
      keep: (fromUri, key) => objects.copy(fromUri, bucket, key),
      putJson: (key, json) => objects.put(bucket, key, json, 'application/json'),
    },
  };
}

export const handler = createHandler(awsStores(), { maxBytes: Number(requireEnv('MAX_DATASET_BYTES')) });
