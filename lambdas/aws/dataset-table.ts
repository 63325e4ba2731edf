import { DataValidationError } from '../core/errors.js';
import type { Table } from '../core/data/table.js';
import type { DatasetRef } from '../core/data/dataset-version.js';
import { formatFromFileName, readParquetTable, readTextTable, type Cell } from '../core/data/table-readers.js';
import type { ObjectStore } from './object-store.js';

/**
 * Loads a registered dataset version into memory for training or evaluation, through the same
 * readers that profiled it. Text formats are hashed on the way in and must match the version id.
 */
export async function loadDatasetTable(objects: ObjectStore, dataset: DatasetRef): Promise<Table> {
  const format = formatFromFileName(dataset.uri) ?? 'csv';
  let header: string[] = [];
  const rows: Cell[][] = [];
  const sink = { columns: (names: string[]) => (header = names), row: (cells: readonly Cell[]) => rows.push(cells as Cell[]) };
  if (format === 'parquet') {
    await readParquetTable(await objects.file(dataset.uri), sink);
  } else {
    const { sha256 } = await readTextTable(objects.stream(dataset.uri), format, sink);
    if (sha256 !== dataset.version) {
      throw new DataValidationError(`dataset ${dataset.name}@${dataset.version} has changed in S3 since it was registered (its sha256 is now ${sha256})`, { field: 'dataset.version' });
    }
  }
  return { header, rows };
}
