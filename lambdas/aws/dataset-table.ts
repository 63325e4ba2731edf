import { DataValidationError } from '../core/errors.js';
import type { Table } from '../core/data/table.js';
import type { DatasetRef } from '../core/data/dataset-version.js';
import { formatFromFileName, readParquetTable, readTextTable, type Cell } from '../core/data/table-readers.js';
import type { ObjectStore } from './object-store.js';
import { Reservoir } from '../core/monitoring/reservoir.js';

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

/**
 * A seeded sample of at most `size` rows of a registered dataset version (a drift check's reference
 * for a version stored before reference samples), read through the same readers in bounded memory.
 */
export async function sampleDatasetRows(objects: ObjectStore, dataset: DatasetRef, size: number, seed: number): Promise<{ header: string[]; rows: Cell[][]; population: number }> {
  const format = formatFromFileName(dataset.uri) ?? 'csv';
  let header: string[] = [];
  const reservoir = new Reservoir<Cell[]>(size, seed);
  const sink = { columns: (names: string[]) => (header = names), row: (cells: readonly Cell[]) => reservoir.add(cells as Cell[]) };
  if (format === 'parquet') await readParquetTable(await objects.file(dataset.uri), sink);
  else await readTextTable(objects.stream(dataset.uri), format, sink);
  return { header, rows: reservoir.values(), population: reservoir.seen };
}
