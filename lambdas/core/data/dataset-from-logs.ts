import type { AsyncBuffer } from 'hyparquet';
import { DatasetFromLogsRequestSchema, type DatasetFromLogsAnswer } from '../../contract/datasets.js';
import { writeTable } from '../batch/formats.js';
import { sha256Hex } from '../sha256.js';
import { MlopsError, parseOrThrow } from '../errors.js';
import { driftWindow, MAX_WINDOW_DAYS } from '../monitoring/drift-check.js';
import { readLabelledWindow, type LabelledRow } from '../monitoring/labelled-window.js';
import type { AliasName } from '../registry/keys.js';
import type { Alias, ModelVersion } from '../registry/records.js';
import type { LogObjects } from '../serving/rollout-evidence.js';
import type { ModelSpec } from '../training/model-spec.js';
import { uploadKeyPrefix, type RegistrationJob } from './dataset-api.js';
import type { LogWindowLineage, DatasetVersion } from './dataset-version.js';
import type { DatasetFormat } from './formats.js';
import type { DeclaredSchema } from './profile.js';
import type { RegistrationAnswer } from './register-dataset.js';
import { readParquetTable, readTextTable, type Cell } from './table-readers.js';

/**
 * `mlops dataset from-logs`: a new dataset version from the prediction log, so a retrain learns
 * from what production saw. The window's logged inputs of one arm are joined with their feedback
 * labels (core/monitoring/labelled-window.ts); each labelled row becomes a row of the spec's
 * features plus its target column; rows without a label are left out and counted.
 *
 * What the new version holds (what a user retraining expects):
 * - by default, the rows of the dataset version production was trained on, then the window's
 *   labelled rows, so a retrain does not forget what it learnt before; with `logsOnly` (or when
 *   no version is in production) only the logged rows.
 * - the base's columns first (in its order), then any feature or the target it lacks. A logged row
 *   leaves the base's other columns (ids, segments the log does not carry) empty.
 * - the base's format (CSV without a base); logged rows ordered by request time, id and row, so the
 *   same window gives the same bytes, hence the same content-addressed version (a repeat is EXISTS).
 *
 * The file goes through the ONE registration path (core/data/register-dataset.ts, the data gate
 * every dataset passes: format, schema, profile), with the window's lineage recorded on the
 * version. Refusals are checked before anything is written: a refused build writes nothing.
 */

export { DatasetFromLogsAnswerSchema, DatasetFromLogsRequestSchema, type DatasetFromLogsAnswer, type DatasetFromLogsRequest } from '../../contract/datasets.js';

/** A build holds its rows in memory (the function's answer waits on it): past this many rows it is refused. */
export const DEFAULT_MAX_ROWS = 200_000;
/** The largest base file a build reads (bytes): past it, build with `logsOnly`. */
export const DEFAULT_MAX_BASE_BYTES = 256 * 1024 * 1024;
/** The window read when the request names none. */
export const DEFAULT_FROM_LOGS_WINDOW = '7d';

export interface DatasetFromLogsStores {
  readonly registry: {
    getModel(model: string): Promise<{ spec: ModelSpec }>;
    findAlias(model: string, alias: AliasName): Promise<Alias | undefined>;
    getVersion(model: string, version: number): Promise<ModelVersion>;
  };
  readonly datasets: {
    findDatasetVersion(name: string, version: string): Promise<DatasetVersion | undefined>;
    getDatasetVersion(name: string, version: string): Promise<DatasetVersion>;
  };
  /** The prediction-logs bucket. */
  readonly logs: LogObjects;
  /** The datasets bucket. */
  readonly files: {
    stream(uri: string): AsyncIterable<Uint8Array>;
    /** Random access, for a Parquet base. */
    file(uri: string): Promise<AsyncBuffer>;
    /** Writes the built file under a key of the datasets bucket (uploads/<name>/...); answers its URI. */
    putUpload(key: string, bytes: Uint8Array, contentType: string): Promise<string>;
  };
  /**
   * Registers the file: the API starts the registration state machine (RUNNING, poll the
   * registration); a trigger may run core/data/register-dataset.ts registerDataset inline.
   */
  register(job: RegistrationJob): Promise<{ status: 'RUNNING'; registrationId: string } | RegistrationAnswer>;
}

export interface DatasetFromLogsSettings {
  /** The log's delivery buffer (LOG_BUFFER_SECONDS): a window ending now ends this long before now. */
  readonly bufferSeconds: number;
  /** @default DEFAULT_MAX_ROWS */
  readonly maxRows?: number;
  /** @default DEFAULT_MAX_BASE_BYTES */
  readonly maxBaseBytes?: number;
}

export interface DatasetFromLogsInput {
  readonly model: string;
  /** The request body (DatasetFromLogsRequestSchema). */
  readonly request: unknown;
  readonly actor: string;
  readonly now: Date;
  /** Random hex, for the upload key. */
  readonly suffix: string;
}

/** A logged value as a table cell: the log keeps the request's JSON (numbers, text, null; anything else as its text). */
function cellOf(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The features the log cannot give back: dropped (absent) or hashed (not the value the model trains on). */
function unloggedFeatures(spec: ModelSpec): string[] {
  const lost = new Set([...spec.logging.drop, ...spec.logging.hash]);
  return spec.features.map((feature) => feature.name).filter((name) => lost.has(name));
}

/** The dataset version production was trained on, or undefined when nothing is in production. */
async function productionDataset(stores: DatasetFromLogsStores, model: string): Promise<DatasetVersion | undefined> {
  const alias = await stores.registry.findAlias(model, 'production');
  if (!alias) return undefined;
  const version = await stores.registry.getVersion(model, alias.version);
  return stores.datasets.getDatasetVersion(version.dataset.name, version.dataset.version);
}

/** A dataset version's rows, through the same readers registration uses. */
async function readBase(files: DatasetFromLogsStores['files'], base: DatasetVersion): Promise<{ header: string[]; rows: Cell[][] }> {
  let header: string[] = [];
  const rows: Cell[][] = [];
  const sink = { columns: (names: string[]) => void (header = names), row: (cells: readonly Cell[]) => void rows.push([...cells]) };
  if (base.format === 'parquet') await readParquetTable(await files.file(base.uri), sink);
  else await readTextTable(files.stream(base.uri), base.format, sink);
  return { header, rows };
}

/** The window, checked as a drift check's (driftWindow), with this command's name in the too-long refusal. */
function buildWindow(request: { window?: string | undefined; from?: string | undefined; to?: string | undefined }, now: Date, bufferSeconds: number) {
  try {
    return driftWindow(request, DEFAULT_FROM_LOGS_WINDOW, now, bufferSeconds);
  } catch (error) {
    if (error instanceof MlopsError && error.code === 'WINDOW_TOO_LONG') {
      throw new MlopsError(error.code, `a dataset build reads at most ${MAX_WINDOW_DAYS} days of the log: build several shorter windows`, { field: error.field ?? 'window', cause: error });
    }
    throw error;
  }
}

const CONTENT_TYPES: Record<DatasetFormat, string> = { csv: 'text/csv', jsonl: 'application/x-ndjson', parquet: 'application/vnd.apache.parquet' };

/** Builds (or refuses) a dataset version from a window of the prediction log joined with its labels. */
export async function buildDatasetFromLogs(stores: DatasetFromLogsStores, settings: DatasetFromLogsSettings, input: DatasetFromLogsInput): Promise<DatasetFromLogsAnswer> {
  const request = parseOrThrow(DatasetFromLogsRequestSchema, input.request ?? {}, 'dataset from-logs request');
  const { model, now } = input;
  const maxRows = settings.maxRows ?? DEFAULT_MAX_ROWS;
  const { spec } = await stores.registry.getModel(model);

  const name = request.name ?? spec.dataset;
  if (!name) {
    throw new MlopsError('NO_DATASET_NAME', `model "${model}" names no dataset in its spec: say which dataset the version is added to (--name)`, { field: 'name' });
  }
  const lost = unloggedFeatures(spec);
  if (lost.length > 0) {
    throw new MlopsError(
      'FEATURES_NOT_LOGGED',
      `the prediction log cannot rebuild feature(s) ${lost.map((f) => `"${f}"`).join(', ')}: the spec's logging drops or hashes them; a dataset from the log would lack them`,
      { field: 'logging' },
    );
  }
  const window = buildWindow(request, now, settings.bufferSeconds);
  const base = request.logsOnly ? undefined : await productionDataset(stores, model);
  if (base && base.rowCount >= maxRows) {
    throw new MlopsError('TOO_MANY_ROWS', `the base dataset ${base.name}@${base.version.slice(0, 12)} has ${base.rowCount} rows; a build holds at most ${maxRows}: build with --logs-only`, { field: 'logsOnly' });
  }
  if (base && base.bytes > (settings.maxBaseBytes ?? DEFAULT_MAX_BASE_BYTES)) {
    throw new MlopsError('TOO_MANY_ROWS', `the base dataset ${base.name}@${base.version.slice(0, 12)} is ${base.bytes} bytes; a build reads at most ${settings.maxBaseBytes ?? DEFAULT_MAX_BASE_BYTES}: build with --logs-only`, { field: 'logsOnly' });
  }
  const room = maxRows - (base?.rowCount ?? 0);

  // The join: labelled rows kept (features and label only), the rest counted.
  const features = spec.features.map((feature) => feature.name);
  const logged: { at: string; requestId: string; row: number; cells: Cell[] }[] = [];
  const requests = new Set<string>();
  const read = await readLabelledWindow(stores.logs, model, { arm: request.arm }, window, now, (row: LabelledRow) => {
    if (logged.length >= room) {
      throw new MlopsError('TOO_MANY_ROWS', `the window has more than ${room} labelled rows${base ? ` beside the base's ${base.rowCount}` : ''}; a build holds at most ${maxRows} rows: choose a shorter window`, {
        field: request.from ? 'from' : 'window',
      });
    }
    requests.add(row.requestId);
    logged.push({ at: row.at, requestId: row.requestId, row: row.row, cells: [...features.map((f) => cellOf(row.input[f])), row.label] });
  });
  if (read.labelled === 0) {
    throw new MlopsError(
      'NO_LABELLED_ROWS',
      `no labelled ${request.arm} rows of ${model} between ${window.from} and ${window.to} (${read.rows} logged row(s), none with feedback yet): send labels with \`mlops feedback\`, or choose another window`,
      { field: request.from ? 'from' : 'window' },
    );
  }
  logged.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : a.row - b.row));

  // The table: the base's columns, then what it lacks; logged rows fill features and target.
  const baseTable = base ? await readBase(stores.files, base) : { header: [], rows: [] as Cell[][] };
  const columns = [...baseTable.header];
  for (const column of [...features, spec.target]) if (!columns.includes(column)) columns.push(column);
  const sourceIndex = [...features, spec.target];
  const place = columns.map((column) => sourceIndex.indexOf(column));
  const rows: Cell[][] = baseTable.rows.map((cells) => columns.map((_, i) => cells[i] ?? null));
  for (const { cells } of logged) rows.push(place.map((at) => (at < 0 ? null : cells[at]!)));
  const format: DatasetFormat = base?.format ?? 'csv';
  const bytes = writeTable(format, columns, rows);
  const sha256 = sha256Hex(bytes);

  const lineage: LogWindowLineage = {
    source: 'prediction-log',
    model,
    window,
    arm: request.arm,
    versions: read.versions,
    requests: requests.size,
    loggedRows: read.rows,
    labelledRows: read.labelled,
    unlabelledRows: read.rows - read.labelled - read.repeatedRows,
    duplicateLabels: read.duplicateLabels,
    base: base ? { name: base.name, version: base.version, rows: baseTable.rows.length } : null,
    builtAt: now.toISOString(),
    actor: input.actor,
  };
  const dataset = { name, version: sha256, format, rows: rows.length, bytes: bytes.byteLength };
  const emptyColumns = columns.filter((_, i) => place[i]! < 0);
  const answer = { model, dataset, lineage, emptyColumns };

  // A base registered against a declared schema: the new rows meet the same contract; a column
  // the logged rows leave empty may be missing, and the added columns are allowed.
  const schema: DeclaredSchema | undefined =
    base?.schema.source === 'declared'
      ? {
          columns: base.schema.columns.map((column) => ({ ...column, nullable: column.nullable || emptyColumns.includes(column.name) })),
          allowExtraColumns: true,
          ...(base.schema.target !== undefined ? { target: base.schema.target } : {}),
        }
      : undefined;

  // Content-addressed: the same rows again are the version that exists; nothing is written.
  if (await stores.datasets.findDatasetVersion(name, sha256)) return { status: 'EXISTS', ...answer };
  const uploadUri = await stores.files.putUpload(`${uploadKeyPrefix(name)}${sha256}-logs-${input.suffix}`, bytes, CONTENT_TYPES[format]);
  const registered = await stores.register({
    name,
    uploadUri,
    sha256,
    bytes: bytes.byteLength,
    format,
    ...(schema ? { schema } : {}),
    target: spec.target,
    owner: input.actor,
    source: `prediction-log:${model}:${request.arm}:${window.from}..${window.to}`,
    lineage,
  });
  if (registered.status === 'RUNNING') return { status: 'RUNNING', registrationId: registered.registrationId, ...answer };
  if (registered.status === 'REJECTED') throw new MlopsError(registered.error.code, registered.error.message, { field: registered.error.field ?? 'dataset' });
  return { status: 'REGISTERED', created: registered.created, ...answer };
}
