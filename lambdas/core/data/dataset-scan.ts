import type { AsyncBuffer } from 'hyparquet';
import { DataValidationError } from '../errors.js';
import { DatasetProfiler, type DatasetProfile, type DatasetSchema, type DeclaredSchema } from './profile.js';
import { readParquetTable, readTextTable, type DatasetFormat, type ReadLimits } from './table-readers.js';
import { sha256OfChunks } from '../sha256.js';

export interface ScanOptions extends ReadLimits {
  readonly schema?: DeclaredSchema;
  readonly target?: string;
  /** Rows the exact duplicate check tracks (8 bytes a slot, at most 3/4 full); past them it estimates. @default 12 million */
  readonly maxDuplicateRows?: number;
}

/** Where a dataset's bytes come from: a stream for text formats; a random-access file plus a stream (for the hash) for Parquet. */
export type DatasetSource =
  | { readonly format: 'csv' | 'jsonl'; readonly chunks: AsyncIterable<Uint8Array> }
  | { readonly format: 'parquet'; readonly file: AsyncBuffer; readonly chunks: AsyncIterable<Uint8Array> };

export interface DatasetScan {
  readonly format: DatasetFormat;
  readonly bytes: number;
  readonly sha256: string;
  readonly rowCount: number;
  readonly schema: DatasetSchema;
  readonly profile: DatasetProfile;
}

/**
 * Registration's single pass over a dataset: checks the format, hashes the bytes, and profiles
 * the table against its declared or inferred schema. Any problem throws a DataValidationError
 * naming it, before anything is written.
 */
export async function scanDataset(source: DatasetSource, options: ScanOptions = {}): Promise<DatasetScan> {
  const profiler = new DatasetProfiler({
    format: source.format,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.target !== undefined ? { target: options.target } : {}),
    ...(options.maxDuplicateRows !== undefined ? { maxDuplicateRows: options.maxDuplicateRows } : {}),
  });
  let bytes: number;
  let sha256: string;
  if (source.format === 'parquet') {
    if (options.maxBytes !== undefined && source.file.byteLength > options.maxBytes) {
      throw new DataValidationError(`the file is larger than the ${options.maxBytes}-byte limit for one dataset`);
    }
    await readParquetTable(source.file, profiler);
    ({ sha256, bytes } = await sha256OfChunks(source.chunks));
  } else {
    ({ sha256, bytes } = await readTextTable(source.chunks, source.format, profiler, options));
  }
  const { schema, profile } = profiler.finish();
  return { format: source.format, bytes, sha256, rowCount: profile.rows, schema, profile };
}
