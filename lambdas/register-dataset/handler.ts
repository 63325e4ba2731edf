import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { datasetKey, profileKey, RegistrationJobSchema, type RegistrationJob } from '../core/data/dataset-api.js';
import { scanDataset, type DatasetScan, type DatasetSource } from '../core/data/dataset-scan.js';
import { DataValidationError, MlopsError, parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'register-dataset' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const DATASETS_BUCKET = requireEnv('DATASETS_BUCKET');
const MAX_DATASET_BYTES = Number(requireEnv('MAX_DATASET_BYTES'));

async function source(job: RegistrationJob): Promise<DatasetSource> {
  if (job.format === 'parquet') return { format: 'parquet', file: await objects.file(job.uploadUri), chunks: objects.stream(job.uploadUri) };
  return { format: job.format, chunks: objects.stream(job.uploadUri) };
}

/**
 * RegisterDataset: streams an uploaded file once (format, hash, schema, profile), then stores it
 * under its content address with its profile and records the version. A file with any problem
 * is deleted and the result is REJECTED with the error naming it; no version is recorded.
 * The same bytes registered again return the existing version and write nothing.
 */
export const handler = async (event: unknown) => {
  const job = parseOrThrow(RegistrationJobSchema, event, 'registration job');
  const existing = await tracking.findDatasetVersion(job.name, job.sha256);
  if (existing) {
    await objects.delete(job.uploadUri);
    return { status: 'REGISTERED' as const, name: existing.name, version: existing.version, created: false };
  }

  let scan: DatasetScan;
  try {
    scan = await scanDataset(await source(job), {
      maxBytes: MAX_DATASET_BYTES,
      ...(job.schema ? { schema: job.schema } : {}),
      ...(job.target !== undefined ? { target: job.target } : {}),
    });
    if (scan.sha256 !== job.sha256) {
      throw new DataValidationError(`the uploaded bytes have sha256 ${scan.sha256}, not ${job.sha256} as the client computed: the upload changed on the way; register the file again`, {
        field: 'sha256',
      });
    }
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    // A rejected file is an outcome, not a fault: the state machine turns it into a failed
    // execution whose error is the code, so callers see the same code on AWS and the emulator.
    logger.warn('dataset rejected', { name: job.name, sha256: job.sha256, reason: error.message });
    await objects.delete(job.uploadUri);
    return { status: 'REJECTED' as const, error: { code: error.code, message: error.message, field: error.field ?? null } };
  }

  // Retries of these writes are harmless: the keys are content addresses and the record is conditional.
  const uri = await objects.copy(job.uploadUri, DATASETS_BUCKET, datasetKey(job.name, job.sha256, job.format));
  const profileUri = await objects.put(DATASETS_BUCKET, profileKey(job.name, job.sha256), JSON.stringify(scan.profile), 'application/json');
  const { version, created } = await tracking.putDatasetVersion({
    name: job.name,
    version: job.sha256,
    uri,
    format: job.format,
    bytes: scan.bytes,
    rowCount: scan.rowCount,
    schema: scan.schema,
    profileUri,
    owner: job.owner,
    source: job.source,
    arrivedAt: new Date().toISOString(),
    quarantined: false,
    quarantinedFor: [],
  });
  await objects.delete(job.uploadUri);
  logger.info('dataset registered', { name: version.name, version: version.version, rows: version.rowCount, created });
  return { status: 'REGISTERED' as const, name: version.name, version: version.version, created };
};
