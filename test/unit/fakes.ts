import type { AsyncBuffer } from 'hyparquet';
import { createHash } from 'node:crypto';
import type { ExecutionDescription } from '../../lambdas/aws/step-functions.js';
import type { ModelRecord } from '../../lambdas/aws/registry-store.js';
import type { DatasetSummary, DatasetVersion, QuarantineEntry } from '../../lambdas/core/data/dataset-version.js';
import type { DatasetRegistrationStores } from '../../lambdas/core/data/register-dataset.js';
import type { Table } from '../../lambdas/core/data/table.js';
import { evaluateRun, type EvaluateStores } from '../../lambdas/core/evaluation/evaluate.js';
import { HeldOutFileSchema, type HeldOutFile } from '../../lambdas/core/evaluation/held-out.js';
import { NotFoundError } from '../../lambdas/core/errors.js';
import type { AliasName } from '../../lambdas/core/registry/keys.js';
import type { DriftCheckRecord } from '../../lambdas/contract/drift.js';
import type { DriftCheckRecords } from '../../lambdas/core/monitoring/drift-check.js';
import type { ModelSchedules, ScheduleKind } from '../../lambdas/core/monitoring/model-schedules.js';
import type { Alias, AuditEvent, ModelSummary, ModelVersion } from '../../lambdas/core/registry/records.js';
import { formatS3Uri, parseS3Uri } from '../../lambdas/core/s3-uri.js';
import type { ArtifactBytes } from '../../lambdas/core/serving/model-file.js';
import { routingStateOf, type RoutingState } from '../../lambdas/core/serving/routing.js';
import type { Alerts, Reports, RunUpdate, RunUpdates } from '../../lambdas/core/stores.js';
import { sha256Hex } from '../../lambdas/core/sha256.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { ArtifactRef, RunContext, RunRecord } from '../../lambdas/core/training/run.js';
import { onnxScorer } from '../../lambdas/aws/onnx-sessions.js';
import type { RegistryApiStores } from '../../lambdas/registry-api/handler.js';

/**
 * In-memory stores for the core flows (the interfaces in lambdas/core/stores.ts and beside each
 * flow): what the DynamoDB and S3 adapters do in production, without AWS.
 */

/** Objects by s3:// URI. */
export class MemoryObjects implements ArtifactBytes {
  readonly objects = new Map<string, Uint8Array>();

  async getBytes(uri: string): Promise<Uint8Array> {
    const bytes = this.objects.get(uri);
    if (!bytes) throw new NotFoundError(`object ${uri} does not exist`, { field: 'uri' });
    return bytes;
  }

  async getText(uri: string): Promise<string> {
    return new TextDecoder('utf-8', { fatal: true }).decode(await this.getBytes(uri));
  }

  async put(bucket: string, key: string, body: string | Uint8Array): Promise<string> {
    const uri = formatS3Uri(bucket, key);
    this.objects.set(uri, typeof body === 'string' ? new TextEncoder().encode(body) : body);
    return uri;
  }

  /** Stores a file and answers the { uri, sha256 } a run or version records for it. */
  store(uri: string, body: string | Uint8Array): ArtifactRef {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    this.objects.set(uri, bytes);
    return { uri, sha256: sha256Hex(bytes) };
  }

  /** A reports store over one bucket of this memory. */
  reports(bucket = 'reports'): Reports {
    return { put: (key, json) => this.put(bucket, key, json), getText: (uri) => this.getText(uri) };
  }

  async json(uri: string): Promise<unknown> {
    return JSON.parse(await this.getText(uri));
  }

  async size(uri: string): Promise<number | undefined> {
    return this.objects.get(uri)?.length;
  }

  async delete(uri: string): Promise<void> {
    this.objects.delete(uri);
  }

  async copy(fromUri: string, bucket: string, key: string): Promise<string> {
    return this.put(bucket, key, await this.getBytes(fromUri));
  }

  async sha256(uri: string): Promise<string> {
    return createHash('sha256').update(await this.getBytes(uri)).digest('hex');
  }

  /** The object in chunks of at most `chunkBytes`, as S3 streams it. */
  async *stream(uri: string, chunkBytes = 64): AsyncIterable<Uint8Array> {
    const bytes = await this.getBytes(uri);
    for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, at + chunkBytes);
  }

  async file(uri: string): Promise<AsyncBuffer> {
    const bytes = await this.getBytes(uri);
    return { byteLength: bytes.length, slice: async (start, end) => bytes.slice(start, end).buffer };
  }

  /** Presigned URLs name the object; the tests write through `uploadPart` or `store` instead of HTTP. */
  async presignPut(bucket: string, key: string): Promise<string> {
    return `https://memory.test/${bucket}/${key}?put`;
  }

  async presignGet(uri: string): Promise<string> {
    const { bucket, key } = parseS3Uri(uri);
    return `https://memory.test/${bucket}/${key}?get`;
  }

  /** Multipart uploads by id: their parts until completed. */
  readonly uploads = new Map<string, { bucket: string; key: string; parts: Map<number, Uint8Array> }>();

  async presignUpload(bucket: string, key: string, parts: number): Promise<{ uploadId: string; urls: string[] }> {
    const uploadId = `upload-${this.uploads.size + 1}`;
    this.uploads.set(uploadId, { bucket, key, parts: new Map() });
    return { uploadId, urls: Array.from({ length: parts }, (_, i) => `https://memory.test/${bucket}/${key}?uploadId=${uploadId}&partNumber=${i + 1}`) };
  }

  /** What a client's PUT to a part URL does; answers the part's ETag. */
  uploadPart(uploadId: string, partNumber: number, body: string | Uint8Array): string {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    this.uploads.get(uploadId)!.parts.set(partNumber, bytes);
    return `"etag-${partNumber}"`;
  }

  async completeUpload(bucket: string, key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<string> {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw new NotFoundError(`no upload ${uploadId} of ${key}`, { field: 'uploadId' });
    const chunks = parts.map(({ partNumber }) => upload.parts.get(partNumber) ?? new Uint8Array());
    const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    chunks.reduce((at, chunk) => (bytes.set(chunk, at), at + chunk.length), 0);
    this.uploads.delete(uploadId);
    return this.put(bucket, key, bytes);
  }
}

/** Runs' fields as the steps set them. */
export class MemoryRuns implements RunUpdates {
  readonly runs = new Map<string, RunUpdate>();

  async updateRun(runId: string, fields: RunUpdate): Promise<void> {
    this.runs.set(runId, { ...this.runs.get(runId), ...fields });
  }

  get(runId: string): RunUpdate {
    return this.runs.get(runId) ?? {};
  }
}

/** Model specs, versions and aliases, and the audit events of spec writes (the release steps' writes are tested with their own fakes). */
export class MemoryRegistry {
  readonly models = new Map<string, ModelRecord>();
  readonly versions = new Map<string, ModelVersion>();
  readonly aliases = new Map<string, Alias>();
  readonly audit: AuditEvent[] = [];

  async putModel(spec: ModelSpec, actor: string): Promise<{ created: boolean }> {
    const existing = this.models.get(spec.name);
    const at = '2024-01-02T00:00:00.000Z';
    this.models.set(spec.name, { spec, latestVersion: existing?.latestVersion ?? 0, createdAt: existing?.createdAt ?? at, updatedAt: at });
    this.audit.push({
      model: spec.name,
      eventId: `audit-${this.audit.length + 1}`,
      at,
      actor,
      action: existing ? 'model.updated' : 'model.created',
      reason: existing ? 'spec replaced' : 'model created',
      ...(existing ? { before: existing.spec } : {}),
      after: spec,
    });
    return { created: !existing };
  }

  async findModel(name: string): Promise<ModelRecord | undefined> {
    return this.models.get(name);
  }

  async getModel(name: string): Promise<ModelRecord> {
    const found = this.models.get(name);
    if (!found) throw new NotFoundError(`model "${name}" is not registered`, { field: 'model' });
    return found;
  }

  async listModels(): Promise<ModelSummary[]> {
    return [...this.models.values()].map(({ spec, latestVersion, updatedAt }) => ({
      name: spec.name,
      task: spec.task,
      latestVersion,
      aliases: Object.fromEntries([...this.aliases.values()].filter((a) => a.model === spec.name).map((a) => [a.alias, a.version])),
      updatedAt,
    }));
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    return [...this.versions.values()].filter((v) => v.model === model);
  }

  async listAliases(model: string): Promise<Alias[]> {
    return [...this.aliases.values()].filter((a) => a.model === model);
  }

  async listAudit(model: string, from?: string): Promise<AuditEvent[]> {
    return this.audit.filter((event) => event.model === model && (from === undefined || event.at >= from));
  }

  async resolveVersion(model: string, ref: number | AliasName): Promise<ModelVersion> {
    if (typeof ref === 'number') return this.getVersion(model, ref);
    const alias = this.aliases.get(`${model}/${ref}`);
    if (!alias) throw new NotFoundError(`${ref} of ${model} points at no version`, { field: 'alias' });
    return this.getVersion(model, alias.version);
  }

  addVersion(version: ModelVersion): this {
    this.versions.set(`${version.model}/${version.version}`, version);
    return this;
  }

  pointAlias(model: string, alias: Alias['alias'], version: number, weight = 1): this {
    this.aliases.set(`${model}/${alias}`, { model, alias, version, weight, updatedAt: '2024-01-01T00:00:00.000Z', updatedBy: 'test' });
    return this;
  }

  /** How many routing reads serving made (RegistryStore.readRouting is one BatchGetItem each). */
  routingReads = 0;

  async readRouting(model: string): Promise<RoutingState | undefined> {
    this.routingReads += 1;
    const found = this.models.get(model);
    if (!found) return undefined;
    const [production, canary, shadow] = (['production', 'canary', 'shadow'] as const).map((name) => this.aliases.get(`${model}/${name}`));
    return routingStateOf(model, found.spec, { ...(production ? { production } : {}), ...(canary ? { canary } : {}), ...(shadow ? { shadow } : {}) });
  }

  async findAlias(model: string, alias: Alias['alias']): Promise<Alias | undefined> {
    return this.aliases.get(`${model}/${alias}`);
  }

  async getVersion(model: string, version: number): Promise<ModelVersion> {
    const found = this.versions.get(`${model}/${version}`);
    if (!found) throw new NotFoundError(`model ${model} has no version ${version}`, { field: 'version' });
    return found;
  }
}

export class MemoryAlerts implements Alerts {
  readonly sent: { subject: string; alert: { kind: string } & Record<string, unknown> }[] = [];

  async publish(subject: string, alert: { kind: string } & Record<string, unknown>): Promise<void> {
    this.sent.push({ subject, alert });
  }
}

export const DATASET_VERSION_ID = 'd'.repeat(64);

/** The run context StartRun hands every step, for a spec (overrides merged at the top level). */
export function runContext(spec: ModelSpec, overrides: Partial<RunContext> = {}): RunContext {
  return {
    runId: `${spec.name}-20240101000000-abc123`,
    mode: 'train',
    model: spec.name,
    spec,
    dataset: { name: 'test-data', version: DATASET_VERSION_ID, uri: `s3://datasets/test-data/${DATASET_VERSION_ID}.csv` },
    trigger: 'manual',
    actor: 'arn:aws:iam::000000000000:user/alice',
    release: true,
    ...overrides,
  };
}

/** The Evaluate flow's stores over memory, with one table as every dataset version's rows and a fixed clock. */
export function evaluateStores(table: Table, parts: { objects?: MemoryObjects; registry?: MemoryRegistry; runs?: MemoryRuns } = {}) {
  const objects = parts.objects ?? new MemoryObjects();
  const registry = parts.registry ?? new MemoryRegistry();
  const runs = parts.runs ?? new MemoryRuns();
  let tick = 0;
  const stores: EvaluateStores = {
    datasets: { loadTable: async () => table },
    artifacts: objects,
    // The real ONNX session loader (it checks the file's sha256) over the memory objects.
    onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
    registry,
    runs,
    reports: objects.reports(),
    clock: () => (tick += 1),
  };
  return { stores, objects, registry, runs };
}

/**
 * A model file scored the way the Evaluate step scores it: stored, loaded and verified, scored on
 * the held-out split, its evidence written. Tests use this in place of a scoring helper of their own.
 */
export async function evaluateInMemory(table: Table, spec: ModelSpec, modelFile: string, parts: { objects?: MemoryObjects; registry?: MemoryRegistry } = {}) {
  const { stores, objects, runs } = evaluateStores(table, parts);
  const run = runContext(spec);
  const artifact = objects.store(`s3://models/models/${spec.name}/runs/${run.runId}/model.json`, modelFile);
  const answer = await evaluateRun(stores, { run, spec, artifact });
  const heldOut: HeldOutFile = HeldOutFileSchema.parse(await objects.json(answer.heldOutUri!));
  return { ...answer, metrics: answer.metrics, segments: runs.get(run.runId).segmentMetrics ?? {}, heldOut, run: runs.get(run.runId) };
}

/** The tracking table's runs and dataset versions (run fields set by steps: MemoryRuns). */
export class MemoryTracking {
  readonly runs = new Map<string, RunRecord>();
  readonly datasets: DatasetVersion[] = [];

  addDataset(version: DatasetVersion): this {
    this.datasets.push(version);
    return this;
  }

  async createRun(run: RunRecord): Promise<{ run: RunRecord; created: boolean }> {
    const existing = this.runs.get(run.runId);
    if (existing) return { run: existing, created: false };
    this.runs.set(run.runId, run);
    return { run, created: true };
  }

  async findRun(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId);
  }

  async getRun(runId: string): Promise<RunRecord> {
    const run = this.runs.get(runId);
    if (!run) throw new NotFoundError(`run ${runId} does not exist`, { field: 'runId' });
    return run;
  }

  async findRuns(filter: { model: string; status?: RunRecord['status']; limit: number }): Promise<RunRecord[]> {
    return [...this.runs.values()]
      .filter((run) => run.model === filter.model && (!filter.status || run.status === filter.status))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .slice(0, filter.limit);
  }

  async findDatasetVersion(name: string, version: string): Promise<DatasetVersion | undefined> {
    return this.datasets.find((d) => d.name === name && d.version === version);
  }

  /** A version by id, or the newest when none is named. */
  async getDatasetVersion(name: string, version?: string): Promise<DatasetVersion> {
    const found = version ? await this.findDatasetVersion(name, version) : (await this.listDatasetVersions(name))[0];
    if (!found) throw new NotFoundError(`dataset version ${name}@${version ?? 'latest'} does not exist`, { field: 'dataset.version' });
    return found;
  }

  /** Newest first. */
  async listDatasetVersions(name: string): Promise<DatasetVersion[]> {
    return this.datasets.filter((d) => d.name === name).sort((a, b) => b.arrivedAt.localeCompare(a.arrivedAt));
  }

  async listDatasets(): Promise<DatasetSummary[]> {
    const names = [...new Set(this.datasets.map((d) => d.name))];
    return Promise.all(
      names.map(async (name) => {
        const versions = await this.listDatasetVersions(name);
        return { name, latestVersion: versions[0]!.version, latestArrivedAt: versions[0]!.arrivedAt, versionCount: versions.length };
      }),
    );
  }

  async putDatasetVersion(version: DatasetVersion): Promise<{ version: DatasetVersion; created: boolean }> {
    const existing = await this.findDatasetVersion(version.name, version.version);
    if (existing) return { version: existing, created: false };
    this.datasets.push(version);
    return { version, created: true };
  }

  async quarantineDatasetVersion(name: string, version: string, entry: QuarantineEntry): Promise<{ quarantined: boolean }> {
    const index = this.datasets.findIndex((d) => d.name === name && d.version === version);
    if (index === -1) throw new NotFoundError(`dataset version ${name}@${version} does not exist`, { field: 'dataset.version' });
    const found = this.datasets[index]!;
    if (found.quarantinedFor.some((q) => q.model === entry.model)) return { quarantined: false };
    this.datasets[index] = { ...found, quarantined: true, quarantineReason: entry.reason, quarantinedFor: [...found.quarantinedFor, entry] };
    return { quarantined: true };
  }
}

/** Step Functions executions by ARN: what was started, and how each one stands. */
export class MemoryStepFunctions {
  readonly started: { stateMachineArn: string; name: string; input: unknown }[] = [];
  readonly executions = new Map<string, ExecutionDescription & { steps?: string[] }>();

  async start(stateMachineArn: string, name: string, input: unknown): Promise<{ executionArn: string; startedAt: string }> {
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const startedAt = '2024-01-02T00:00:00.000Z';
    this.started.push({ stateMachineArn, name, input });
    this.executions.set(executionArn, { executionArn, name, status: 'RUNNING', startedAt });
    return { executionArn, startedAt };
  }

  async describe(executionArn: string): Promise<ExecutionDescription> {
    const found = this.executions.get(executionArn);
    if (!found) throw new NotFoundError(`execution ${executionArn} does not exist`, { field: 'executionArn' });
    const { steps: _steps, ...description } = found;
    return description;
  }

  async steps(executionArn: string): Promise<string[]> {
    return this.executions.get(executionArn)?.steps ?? [];
  }
}

/**
 * A store of which a test uses some methods: the rest throw when called, so a route that reaches
 * for a store the test did not expect fails loudly instead of passing by accident.
 */
export function partialStore<T extends object>(part: Partial<T>): T {
  return new Proxy(part, {
    get: (target, key) =>
      key in target
        ? (target as Record<PropertyKey, unknown>)[key]
        : () => {
            throw new Error(`the test did not expect a call to ${String(key)}`);
          },
  }) as T;
}

/** A dataset version record over a table's schema (the profile lives at its profileUri, if a test stores one). */
export function datasetVersion(overrides: Partial<DatasetVersion> & Pick<DatasetVersion, 'schema'>): DatasetVersion {
  const version = overrides.version ?? DATASET_VERSION_ID;
  const name = overrides.name ?? 'test-data';
  return {
    name,
    version,
    uri: `s3://datasets/datasets/${name}/${version}.csv`,
    format: 'csv',
    bytes: 100,
    rowCount: 40,
    profileUri: `s3://datasets/profiles/${name}/${version}.json`,
    owner: 'arn:aws:iam::000000000000:user/alice',
    source: 'upload',
    arrivedAt: '2024-01-01T00:00:00.000Z',
    quarantined: false,
    quarantinedFor: [],
    ...overrides,
  };
}

/** A registered version of a spec's model with an artifact (APPROVED unless overridden). */
export function modelVersion(spec: ModelSpec, version: number, artifact: ArtifactRef, overrides: Partial<ModelVersion> = {}): ModelVersion {
  return {
    model: spec.name,
    version,
    runId: `${spec.name}-run-${version}`,
    artifact,
    dataset: runContext(spec).dataset,
    metrics: {},
    gateReportUri: `s3://reports/gates/${spec.name}/${spec.name}-run-${version}.json`,
    gateSummary: 'all checks passed',
    judgedAgainst: null,
    codeVersion: 'test',
    createdBy: 'arn:aws:iam::000000000000:user/alice',
    status: 'APPROVED',
    createdAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  } as ModelVersion;
}

/** RegisterDataset's stores over memory, the datasets bucket being `datasets`. */
export function registrationStores(objects: MemoryObjects, versions: MemoryTracking): DatasetRegistrationStores {
  return {
    versions,
    files: {
      stream: (uri) => objects.stream(uri),
      file: (uri) => objects.file(uri),
      delete: (uri) => objects.delete(uri),
      keep: (fromUri, key) => objects.copy(fromUri, 'datasets', key),
      putJson: (key, json) => objects.put('datasets', key, json),
    },
  };
}

/** Model schedules in memory: the expression per `<kind> <model>`, and every call made, in order. */
export class MemoryModelSchedules implements ModelSchedules {
  readonly schedules = new Map<string, string>();
  readonly calls: string[] = [];
  /** When set, the next put or remove throws it (once). */
  failNext: Error | undefined;

  async put(kind: ScheduleKind, model: string, expression: string): Promise<void> {
    this.calls.push(`put ${kind} ${model} ${expression}`);
    this.throwIfFailing();
    this.schedules.set(`${kind} ${model}`, expression);
  }

  async remove(kind: ScheduleKind, model: string): Promise<void> {
    this.calls.push(`remove ${kind} ${model}`);
    this.throwIfFailing();
    this.schedules.delete(`${kind} ${model}`);
  }

  private throwIfFailing() {
    const error = this.failNext;
    this.failNext = undefined;
    if (error) throw error;
  }
}

/** Drift check records in memory, newest first as the registry table's reverse Query answers them. */
export class MemoryChecks implements DriftCheckRecords {
  readonly records: DriftCheckRecord[] = [];
  async put(record: DriftCheckRecord) {
    this.records.push(record);
  }
  async list(model: string, limit: number) {
    return this.records.filter((r) => r.model === model).sort((a, b) => (a.checkId < b.checkId ? 1 : -1)).slice(0, limit);
  }
  async find(model: string, checkId: string) {
    return this.records.find((r) => r.model === model && r.checkId === checkId);
  }
  async listChecksFrom(model: string, fromCheckId: string) {
    return this.records.filter((r) => r.model === model && r.checkId >= fromCheckId).sort((a, b) => (a.checkId < b.checkId ? -1 : 1));
  }
}

/**
 * The registry API's stores for a handler test: the registry given (a memory registry, as far as the test
 * drives it), memory tracking, objects and schedules, and nothing behind the release path, the rollouts
 * or the drift checks unless `parts` hands them over.
 */
export function registryApiStores(registry: object, parts: Partial<RegistryApiStores> = {}): RegistryApiStores {
  return {
    registry: partialStore<RegistryApiStores['registry']>(registry as Partial<RegistryApiStores['registry']>),
    tracking: new MemoryTracking(),
    objects: new MemoryObjects(),
    pipeline: partialStore({}),
    releaseTasks: partialStore({}),
    rollouts: partialStore({}),
    schedules: new MemoryModelSchedules(),
    driftChecks: partialStore({}),
    environment: 'local',
    ...parts,
  };
}
