import type { AsyncBuffer } from 'hyparquet';
import type { z } from 'zod';
import { readParquetTable, readTextTable, type Cell, type TableSink } from '../data/table-readers.js';
import { MlopsError, zodIssues } from '../errors.js';
import { parseS3Uri } from '../s3-uri.js';
import type { ModelFile } from '../serving/model-file.js';
import { MAX_INSTANCES } from '../serving/predict.js';
import { scoreBody, type ServingStores } from '../serving/serve.js';
import type { ArtifactRef } from '../training/run.js';
import { modelShape, predictionCells, predictionColumns, requestRow, writeTable, type ModelShape } from './formats.js';
import {
  ChunkFileSchema,
  chunkKey,
  exceedsErrorRate,
  manifestKey,
  PartFileSchema,
  partKey,
  planKey,
  PlanSchema,
  resultKey,
  type BadRow,
  type BatchJob,
  type BatchResult,
  type ChunkFile,
  type ChunkRef,
  type ChunkRow,
  type PartFile,
  type Plan,
  type StepRefusal,
} from './job.js';

/** The objects the steps read and write: S3 in production, memory in the unit tests. */
export interface BatchFiles {
  stream(uri: string): AsyncIterable<Uint8Array>;
  file(uri: string): Promise<AsyncBuffer>;
  getText(uri: string): Promise<string>;
  /** Writes an object and answers its s3:// URI. */
  put(bucket: string, key: string, body: string | Uint8Array, contentType: string): Promise<string>;
}

export interface BatchStores extends Pick<ServingStores, 'onnx'> {
  readonly files: BatchFiles;
  /** The model file of a version, checked against its sha256 (core/serving/model-file.ts), cached per warm function. */
  modelFile(artifact: ArtifactRef): Promise<ModelFile>;
}

/** Chunk writes Prepare lets run at once before it reads on. */
const MAX_PENDING_WRITES = 4;

/** A JSON file a step wrote, checked against its schema: S3 is a boundary like any other. */
async function readJson<S extends z.ZodType>(files: BatchFiles, uri: string, schema: S, what: string): Promise<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await files.getText(uri));
  } catch (error) {
    throw new MlopsError('BATCH_FILE_INVALID', `${what} ${uri} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new MlopsError('BATCH_FILE_INVALID', `${what} ${uri} does not match its schema: ${zodIssues(parsed.error).map((i) => `${i.field}: ${i.problem}`).join('; ')}`);
  return parsed.data;
}

const refusal = (code: string, message: string): StepRefusal => ({ status: 'REJECTED', error: { code, message } });

/**
 * Prepare: reads the input once (CSV, JSON Lines or Parquet), checks that it carries every feature
 * of the model and none of the prediction columns, and cuts it into chunk files of `chunkRows`
 * rows. Writes the plan (columns, chunks) and the manifest the Distributed Map's ItemReader reads.
 * A file that cannot be read as a table is refused with its code; a bad row is kept, as a bad row.
 */
export async function prepareJob(stores: BatchStores, job: BatchJob): Promise<{ status: 'PREPARED'; manifestKey: string; chunks: number; rows: number } | StepRefusal> {
  const shape = modelShape(await stores.modelFile(job.artifact));
  const added = predictionColumns(shape);
  const chunks: ChunkRef[] = [];
  const pending = new Set<Promise<unknown>>();
  let columns: string[] | undefined;
  let rows: ChunkRow[] = [];
  let total = 0;
  let problem: StepRefusal | undefined;
  let writeFailed: unknown;

  const flush = () => {
    const index = chunks.length;
    const ref: ChunkRef = { index, chunkKey: chunkKey(job.jobId, index), partKey: partKey(job.jobId, index), rows: rows.length };
    chunks.push(ref);
    const file: ChunkFile = { index, rows };
    rows = [];
    const write = stores.files.put(job.bucket, ref.chunkKey, JSON.stringify(file), 'application/json');
    pending.add(write);
    // A failed write is kept and rethrown after the read: the promise leaves `pending` either way.
    write.then(
      () => pending.delete(write),
      (error: unknown) => {
        pending.delete(write);
        writeFailed ??= error;
      },
    );
  };
  const add = (row: ChunkRow) => {
    if (problem) return;
    rows.push(row);
    total += 1;
    if (rows.length >= job.chunkRows) flush();
  };
  const sink: TableSink = {
    columns(names: string[]) {
      columns = names;
      const missing = shape.features.filter((feature) => !names.includes(feature.name)).map((feature) => feature.name);
      if (missing.length > 0) problem = refusal('MISSING_FEATURES', `the input has no column for feature(s) ${missing.join(', ')} of ${job.model} v${job.version}`);
      const clashing = added.filter((name) => names.includes(name));
      if (clashing.length > 0) problem = refusal('COLUMN_CONFLICT', `the input already has column(s) ${clashing.join(', ')}, which the output adds; rename them`);
    },
    // The readers hand over a fresh array per row (as loadDatasetTable relies on): kept, not copied.
    row: (cells, at) => add({ at, cells: cells as Cell[] }),
    bad: (at: number, field: string, issue: string) => add({ at, field, problem: issue }),
    async drain() {
      while (pending.size >= MAX_PENDING_WRITES) await Promise.race(pending);
    },
  };

  try {
    if (job.format === 'parquet') await readParquetTable(await stores.files.file(job.input), sink);
    else await readTextTable(stores.files.stream(job.input), job.format, sink);
  } catch (error) {
    if (error instanceof MlopsError) return refusal(error.code, `${job.input}: ${error.message}`);
    throw error;
  }
  if (problem) {
    await Promise.allSettled(pending);
    return problem;
  }
  if (rows.length > 0 || chunks.length === 0) flush();
  await Promise.allSettled(pending);
  if (writeFailed) throw writeFailed;
  const plan: Plan = { columns: columns!, predictionColumns: added, rows: total, chunks };
  await stores.files.put(job.bucket, planKey(job.jobId), JSON.stringify(plan), 'application/json');
  // The ItemReader's file: a JSON array, one item per chunk.
  await stores.files.put(job.bucket, manifestKey(job.jobId), JSON.stringify(chunks), 'application/json');
  return { status: 'PREPARED', manifestKey: manifestKey(job.jobId), chunks: chunks.length, rows: total };
}

/** The row index and feature a request-check field names: `instances.3.age` -> [3, 'age']. */
function rowOfField(field: string): [number, string] | undefined {
  const match = /^instances\.(\d+)(?:\.(.+))?$/.exec(field);
  return match ? [Number(match[1]), match[2] ?? '(row)'] : undefined;
}

/**
 * Scores rows with the online path's check and scorer (scoreBody), MAX_INSTANCES at a time. A row
 * the check refuses is a bad row with the check's field and problem; the others are scored.
 */
async function scoreRows(stores: BatchStores, file: ModelFile, shape: ModelShape, columns: readonly string[], rows: { at: number; cells: Cell[] }[]) {
  const index = new Map(columns.map((name, i) => [name, i]));
  const scored: PartFile['rows'] = [];
  const bad: BadRow[] = [];
  for (let start = 0; start < rows.length; start += MAX_INSTANCES) {
    let batch = rows.slice(start, start + MAX_INSTANCES);
    const first = await scoreBody(stores, file, { instances: batch.map((row) => requestRow(shape, index, row.cells)) });
    let answer = first;
    if (!first.checked.ok) {
      const refused = new Set<number>();
      for (const error of first.checked.errors) {
        const found = rowOfField(error.field);
        if (!found) throw new MlopsError('BATCH_SCORING_FAILED', `the request check refused a whole batch: ${error.field}: ${error.problem}`);
        refused.add(found[0]);
        bad.push({ line: batch[found[0]]!.at, field: found[1], problem: error.problem });
      }
      batch = batch.filter((_, i) => !refused.has(i));
      if (batch.length === 0) continue;
      answer = await scoreBody(stores, file, { instances: batch.map((row) => requestRow(shape, index, row.cells)) });
      if (!answer.checked.ok) throw new MlopsError('BATCH_SCORING_FAILED', `rows still refused after removing the bad ones: ${answer.checked.errors[0]?.field}`);
    }
    batch.forEach((row, i) => scored.push({ at: row.at, cells: row.cells, predicted: predictionCells(shape, answer.predictions[i]!) }));
  }
  return { scored, bad };
}

/** ScoreChunk: scores one chunk with the version's artifact, writes its part (scored rows and bad rows, in input order). */
export async function scoreChunk(stores: BatchStores, job: BatchJob, chunk: ChunkRef): Promise<{ index: number; scored: number; bad: number }> {
  const bucketUri = (key: string) => `s3://${job.bucket}/${key}`;
  const [plan, file, model] = await Promise.all([
    readJson(stores.files, bucketUri(planKey(job.jobId)), PlanSchema, 'batch plan'),
    readJson(stores.files, bucketUri(chunk.chunkKey), ChunkFileSchema, 'chunk file'),
    stores.modelFile(job.artifact),
  ]);
  const shape = modelShape(model);
  const readable = file.rows.filter((row): row is { at: number; cells: Cell[] } => 'cells' in row);
  const unreadable: BadRow[] = file.rows.filter((row) => 'problem' in row).map((row) => ({ line: row.at, field: (row as { field: string }).field, problem: (row as { problem: string }).problem }));
  const { scored, bad } = await scoreRows(stores, model, shape, plan.columns, readable);
  const part: PartFile = { index: chunk.index, rows: scored, bad: [...unreadable, ...bad].sort((a, b) => a.line - b.line) };
  await stores.files.put(job.bucket, chunk.partKey, JSON.stringify(part), 'application/json');
  return { index: chunk.index, scored: scored.length, bad: new Set(part.bad.map((row) => row.line)).size };
}

/**
 * Finish: concatenates the parts in chunk order into the output (the input's format, prediction
 * columns added, row order kept), writes the bad rows as JSON Lines next to it, and judges the
 * bad-row share against the job's threshold. The result is stored whether or not it passed.
 */
export async function finishJob(stores: BatchStores, job: BatchJob): Promise<BatchResult> {
  const bucketUri = (key: string) => `s3://${job.bucket}/${key}`;
  const plan = await readJson(stores.files, bucketUri(planKey(job.jobId)), PlanSchema, 'batch plan');
  const rows: Cell[][] = [];
  const bad: BadRow[] = [];
  for (const chunk of plan.chunks) {
    const part = await readJson(stores.files, bucketUri(chunk.partKey), PartFileSchema, 'scored part');
    if (part.index !== chunk.index) throw new MlopsError('BATCH_FILE_INVALID', `part ${chunk.partKey} holds chunk ${part.index}, not ${chunk.index}`);
    for (const row of part.rows) rows.push([...row.cells, ...row.predicted]);
    bad.push(...part.bad);
  }
  const output = parseS3Uri(job.output);
  const errors = parseS3Uri(job.errors);
  await stores.files.put(output.bucket, output.key, writeTable(job.format, [...plan.columns, ...plan.predictionColumns], rows), contentTypes[job.format]);
  await stores.files.put(errors.bucket, errors.key, bad.map((row) => `${JSON.stringify(row)}\n`).join(''), 'application/x-ndjson');
  const counts = { rows: plan.rows, scored: rows.length, bad: new Set(bad.map((row) => row.line)).size };
  const errorRate = counts.rows === 0 ? 0 : counts.bad / counts.rows;
  const failed = exceedsErrorRate(counts, job.maxErrorRate);
  const result: BatchResult = {
    status: failed ? 'FAILED' : 'SUCCEEDED',
    counts,
    errorRate,
    output: job.output,
    errors: job.errors,
    ...(failed
      ? { error: { code: 'TOO_MANY_BAD_ROWS', message: `${counts.bad} of ${counts.rows} rows are bad (${(errorRate * 100).toFixed(2)}%), above the ${(job.maxErrorRate * 100).toFixed(2)}% allowed; see ${job.errors}` } }
      : {}),
  };
  await stores.files.put(job.bucket, resultKey(job.jobId), JSON.stringify(result), 'application/json');
  return result;
}

const contentTypes = { csv: 'text/csv', jsonl: 'application/x-ndjson', parquet: 'application/vnd.apache.parquet' } as const;
