/** The dataset file formats, a leaf of their own: the CLI names them without loading the readers (and their Parquet library). */
export const DATASET_FORMATS = ['csv', 'parquet', 'jsonl'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** The dataset format a file name implies, if any. */
export function formatFromFileName(fileName: string): DatasetFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

/** How rows are located in error messages, per format. */
export const positionName = (format: DatasetFormat) => (format === 'parquet' ? 'row' : 'line');
