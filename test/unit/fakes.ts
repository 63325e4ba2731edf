import type { Table } from '../../lambdas/core/data/table.js';
import { evaluateRun, type EvaluateStores } from '../../lambdas/core/evaluation/evaluate.js';
import { HeldOutFileSchema, type HeldOutFile } from '../../lambdas/core/evaluation/held-out.js';
import { NotFoundError } from '../../lambdas/core/errors.js';
import type { Alias, ModelVersion } from '../../lambdas/core/registry/records.js';
import { formatS3Uri } from '../../lambdas/core/s3-uri.js';
import type { ArtifactBytes } from '../../lambdas/core/serving/model-file.js';
import type { Alerts, Reports, RunUpdate, RunUpdates } from '../../lambdas/core/stores.js';
import { sha256Hex } from '../../lambdas/core/training/artifact.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { ArtifactRef, RunContext } from '../../lambdas/core/training/run.js';
import { onnxScorer } from '../../lambdas/aws/onnx-sessions.js';

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

/** Model versions and aliases, read-only (the release steps' writes are tested with their own fakes). */
export class MemoryRegistry {
  readonly versions = new Map<string, ModelVersion>();
  readonly aliases = new Map<string, Alias>();

  addVersion(version: ModelVersion): this {
    this.versions.set(`${version.model}/${version.version}`, version);
    return this;
  }

  pointAlias(model: string, alias: Alias['alias'], version: number): this {
    this.aliases.set(`${model}/${alias}`, { model, alias, version, weight: 1, updatedAt: '2024-01-01T00:00:00.000Z', updatedBy: 'test' });
    return this;
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
