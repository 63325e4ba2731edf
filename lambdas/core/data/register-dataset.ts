import type { AsyncBuffer } from 'hyparquet';
import { DataValidationError, MlopsError } from '../errors.js';
import { datasetKey, profileKey, type RegistrationJob } from './dataset-api.js';
import { scanDataset, type DatasetScan, type DatasetSource } from './dataset-scan.js';
import type { DatasetVersion } from './dataset-version.js';

/** What registering an uploaded dataset file reads and writes. */
export interface DatasetRegistrationStores {
  readonly versions: {
    findDatasetVersion(name: string, version: string): Promise<DatasetVersion | undefined>;
    /** Records the version once; the same bytes again answer the existing record. */
    putDatasetVersion(version: DatasetVersion): Promise<{ version: DatasetVersion; created: boolean }>;
  };
  readonly files: {
    /** The object's bytes, in chunks. */
    stream(uri: string): AsyncIterable<Uint8Array>;
    /** Random access to the object, as the Parquet reader needs. */
    file(uri: string): Promise<AsyncBuffer>;
    delete(uri: string): Promise<void>;
    /** Copies an object to a key of the datasets bucket; answers its URI. */
    keep(fromUri: string, key: string): Promise<string>;
    /** Writes JSON under a key of the datasets bucket; answers its URI. */
    putJson(key: string, json: string): Promise<string>;
  };
}

export type RegistrationAnswer =
  | { readonly status: 'REGISTERED'; readonly name: string; readonly version: string; readonly created: boolean }
  | { readonly status: 'REJECTED'; readonly error: { readonly code: string; readonly message: string; readonly field: string | null } };

async function sourceOf(files: DatasetRegistrationStores['files'], job: RegistrationJob): Promise<DatasetSource> {
  if (job.format === 'parquet') return { format: 'parquet', file: await files.file(job.uploadUri), chunks: files.stream(job.uploadUri) };
  return { format: job.format, chunks: files.stream(job.uploadUri) };
}

/**
 * RegisterDataset's flow: streams an uploaded file once (format, hash, schema, profile), then
 * stores it under its content address with its profile and records the version. A file with any
 * problem is deleted and the answer is REJECTED with the error naming it; no version is recorded.
 * The same bytes registered again answer the existing version and write nothing.
 */
export async function registerDataset(
  stores: DatasetRegistrationStores,
  job: RegistrationJob,
  settings: { maxBytes: number; now: Date; onRejected?: (error: MlopsError) => void },
): Promise<RegistrationAnswer> {
  const { versions, files } = stores;
  const existing = await versions.findDatasetVersion(job.name, job.sha256);
  if (existing) {
    await files.delete(job.uploadUri);
    return { status: 'REGISTERED', name: existing.name, version: existing.version, created: false };
  }

  let scan: DatasetScan;
  try {
    scan = await scanDataset(await sourceOf(files, job), {
      maxBytes: settings.maxBytes,
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
    settings.onRejected?.(error);
    await files.delete(job.uploadUri);
    return { status: 'REJECTED', error: { code: error.code, message: error.message, field: error.field ?? null } };
  }

  // Retries of these writes are harmless: the keys are content addresses and the record is conditional.
  const uri = await files.keep(job.uploadUri, datasetKey(job.name, job.sha256, job.format));
  const profileUri = await files.putJson(profileKey(job.name, job.sha256), JSON.stringify(scan.profile));
  const { version, created } = await versions.putDatasetVersion({
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
    arrivedAt: settings.now.toISOString(),
    quarantined: false,
    quarantinedFor: [],
    ...(job.lineage ? { lineage: job.lineage } : {}),
  });
  await files.delete(job.uploadUri);
  return { status: 'REGISTERED', name: version.name, version: version.version, created };
}
