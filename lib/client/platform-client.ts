import { DescribeExecutionCommand, GetExecutionHistoryCommand, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { createDocumentClient, createS3Client, createSfnClient } from '../../lambdas/aws/clients.js';
import { ObjectStore } from '../../lambdas/aws/object-store.js';
import { RegistryStore } from '../../lambdas/aws/registry-store.js';
import { TrackingStore } from '../../lambdas/aws/tracking-store.js';
import type { ValidationReport } from '../../lambdas/core/data/validation.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import type { SettableAlias } from '../../lambdas/core/registry/alias-rules.js';
import type { ModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { DatasetProfile, DeclaredSchemaInput } from '../../lambdas/core/data/profile.js';
import type { Alias, AuditEvent, DatasetLineage, ModelSummary, ModelVersion, VersionLineage } from '../../lambdas/core/registry/records.js';
import type { AliasName } from '../../lambdas/core/registry/keys.js';
import { newRunId, TrainingRequestSchema, type RunRecord, type TrainingRequest } from '../../lambdas/core/training/run.js';
import { type DatasetFormat } from '../../lambdas/core/data/table-readers.js';
import { type DatasetVersion } from '../../lambdas/core/data/dataset-version.js';
import { formatFromFileName } from '../../lambdas/core/data/table-readers.js';
import type { DatasetSummary } from '../../lambdas/aws/tracking-store.js';
import { signedFetch, type SignedResponse } from './signed-fetch.js';
import { apiBaseUrl, managementApiUrl, type StackOutputs } from './stack-outputs.js';

/** A file to register: a path on disk (streamed, any size) or bytes in memory. */
export interface DatasetFile {
  readonly path?: string;
  readonly bytes?: Uint8Array;
  /** Names the format (by extension) and is the default source. */
  readonly fileName: string;
}

export interface RegisterDatasetInput extends DatasetFile {
  readonly name: string;
  readonly format?: DatasetFormat;
  readonly schema?: DeclaredSchemaInput;
  readonly target?: string;
  readonly owner?: string;
  readonly source?: string;
  readonly onProgress?: (line: string) => void;
  /** @default 60 minutes, the registration state machine's own limit */
  readonly timeoutMs?: number;
}

interface UploadPlan {
  status: 'UPLOAD' | 'EXISTS';
  dataset?: DatasetVersion;
  uploadId: string;
  uploadKey: string;
  partBytes: number;
  parts: { partNumber: number; url: string }[];
}

async function* fileChunks(file: DatasetFile): AsyncIterable<Uint8Array> {
  if (file.bytes) yield file.bytes;
  else for await (const chunk of createReadStream(file.path!, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
}

async function readRange(file: DatasetFile, start: number, length: number): Promise<Uint8Array> {
  if (file.bytes) return file.bytes.subarray(start, start + length);
  const handle = await open(file.path!, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** The state where a release waits for a person's decision (a task token with the registry). */
export const APPROVAL_STATE = 'WaitForApproval';

/** An execution's status, or `WAITING_FOR_APPROVAL` when a wait stopped at the approval state (the execution goes on). */
export type OutcomeStatus = ExecutionStatus | 'WAITING_FOR_APPROVAL';

export interface PipelineOutcome {
  runId: string;
  executionArn: string;
  status: OutcomeStatus;
  /** States the execution entered, in order. */
  steps: string[];
  /** The `stopAt` state the wait stopped in, while the execution was still running there. */
  stoppedAt?: string;
  run: RunRecord | undefined;
}

/** A version by number, or the alias pointing at it. */
export type VersionRef = number | AliasName;

/** `GET /models/{model}`. */
export interface ModelDetail {
  name: string;
  spec: ModelSpec;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  /** In ALIASES order. */
  aliases: Alias[];
  /** Oldest first. */
  versions: ModelVersion[];
}

export interface PromoteOptions {
  /** Why; recorded with the move in the audit log. */
  readonly reason?: string;
  /** Where the caller saw the alias (null: nowhere); the move fails with CONFLICT if it points elsewhere. */
  readonly expectedVersion?: number | null;
  /** Traffic share; @default the alias's (production 1, canary 0.1, others 0) */
  readonly weight?: number;
}

/** Production starts the release path (202); any other alias moves at once (200). */
export type PromoteAnswer =
  | { status: 'RUNNING'; runId: string; executionArn: string; version: number; expectedVersion?: number | null }
  | { status: 'MOVED'; alias: Alias; before: Alias | null };

export interface RollbackAnswer {
  status: 'ROLLED_BACK';
  production: Alias;
  before: Alias;
}

export interface DecisionAnswer<S extends 'APPROVED' | 'REJECTED'> {
  status: S;
  version: ModelVersion;
}

const modelPath = (model: string) => `/models/${encodeURIComponent(model)}`;

/** Everything the CLI, the demo and the e2e tests do against a deployed platform. */
export class PlatformClient {
  readonly registry: RegistryStore;
  readonly tracking: TrackingStore;
  readonly objects: ObjectStore;
  private readonly sfn = createSfnClient();

  constructor(
    readonly outputs: StackOutputs,
    private readonly region: string,
  ) {
    const doc = createDocumentClient();
    this.registry = new RegistryStore(doc, outputs.RegistryTable);
    this.tracking = new TrackingStore(doc, outputs.TrackingTable);
    this.objects = new ObjectStore(createS3Client());
  }

  /**
   * Calls the management API with a SigV4-signed request; an error answer becomes an MlopsError
   * with the API's code, message and field.
   */
  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await signedFetch(`${managementApiUrl(this.outputs)}${path}`, {
      method,
      region: this.region,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.status >= 400) {
      const error = (response.body as { error?: { code?: string; message?: string; field?: string } })?.error;
      throw new MlopsError(error?.code ?? `HTTP_${response.status}`, error?.message ?? response.text.slice(0, 500), error?.field ? { field: error.field } : {});
    }
    return { status: response.status, body: response.body as T };
  }

  /**
   * Registers a file as an immutable dataset version whose id is its sha256, through the
   * management API: the bytes go straight to S3 on presigned multipart URLs, then the platform
   * streams the upload once (format, schema, profile) and records the version. The same bytes
   * registered again return the existing version without an upload. A rejected file leaves no
   * version and the error names the problem.
   */
  async registerDataset(input: RegisterDatasetInput): Promise<{ dataset: DatasetVersion; created: boolean }> {
    const progress = input.onProgress ?? (() => {});
    const format = input.format ?? formatFromFileName(input.fileName);
    if (!format) throw new MlopsError('INVALID_INPUT', `cannot tell the format of ${input.fileName}; name it .csv, .parquet or .jsonl, or pass --format`, { field: 'format' });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of fileChunks(input)) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
    const sha256 = hash.digest('hex');
    const path = `/datasets/${encodeURIComponent(input.name)}`;
    const { body: plan } = await this.api<UploadPlan>('POST', `${path}/uploads`, { sha256, bytes, format });
    if (plan.status === 'EXISTS') return { dataset: plan.dataset!, created: false };

    progress(`uploading ${bytes} bytes in ${plan.parts.length} part(s)`);
    const etags: { partNumber: number; etag: string }[] = [];
    for (const part of plan.parts) {
      const body = await readRange(input, (part.partNumber - 1) * plan.partBytes, plan.partBytes);
      const response = await fetch(part.url, { method: 'PUT', body });
      const etag = response.headers.get('etag');
      if (!response.ok || !etag) throw new MlopsError('UPLOAD_FAILED', `S3 refused part ${part.partNumber}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
      etags.push({ partNumber: part.partNumber, etag });
    }
    const { body: started } = await this.api<{ registrationId: string }>('POST', `${path}/versions`, {
      uploadId: plan.uploadId,
      uploadKey: plan.uploadKey,
      parts: etags,
      sha256,
      bytes,
      format,
      ...(input.schema ? { schema: input.schema } : {}),
      ...(input.target !== undefined ? { target: input.target } : {}),
      ...(input.owner ? { owner: input.owner } : {}),
      source: input.source ?? basename(input.fileName),
    });
    progress(`registration ${started.registrationId}: profiling`);
    const deadline = Date.now() + (input.timeoutMs ?? 60 * 60_000);
    for (;;) {
      const { body: status } = await this.api<{ status: string; created?: boolean; dataset?: DatasetVersion; error?: { code: string; message: string } }>(
        'GET',
        `${path}/registrations/${started.registrationId}`,
      );
      if (status.status === 'SUCCEEDED') return { dataset: status.dataset!, created: status.created === true };
      if (status.status === 'FAILED') throw new MlopsError(status.error?.code ?? 'REGISTRATION_FAILED', status.error?.message ?? 'registration failed', { field: 'file' });
      if (Date.now() > deadline) throw new MlopsError('TIMEOUT', `registration ${started.registrationId} is still running; check it later`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async listDatasets(): Promise<DatasetSummary[]> {
    return (await this.api<{ datasets: DatasetSummary[] }>('GET', '/datasets')).body.datasets;
  }

  async listDatasetVersions(name: string): Promise<DatasetVersion[]> {
    return (await this.api<{ versions: DatasetVersion[] }>('GET', `/datasets/${encodeURIComponent(name)}/versions`)).body.versions;
  }

  /** A version by sha256, or the newest one. */
  async getDatasetVersion(name: string, version?: string): Promise<DatasetVersion> {
    return (await this.api<DatasetVersion>('GET', `/datasets/${encodeURIComponent(name)}/versions/${version ?? 'latest'}`)).body;
  }

  async getDatasetProfile(name: string, version?: string): Promise<DatasetProfile> {
    return (await this.api<{ profile: DatasetProfile }>('GET', `/datasets/${encodeURIComponent(name)}/versions/${version ?? 'latest'}/profile`)).body.profile;
  }

  /** The data validation gate on its own, for a model; the report is stored and returned, nothing is quarantined. */
  async validateDataset(name: string, version: string | undefined, model: string): Promise<ValidationReport & { reportUri: string; dataset: { name: string; version: string } }> {
    return (await this.api<ValidationReport & { reportUri: string; dataset: { name: string; version: string } }>(
      'POST',
      `/datasets/${encodeURIComponent(name)}/versions/${version ?? 'latest'}/validate`,
      { model },
    )).body;
  }

  createModel(spec: ModelSpec, actor: string) {
    return this.registry.putModel(spec, actor);
  }

  /** Starts the training pipeline; the execution name is the run id. */
  async startTraining(request: TrainingRequest): Promise<{ runId: string; executionArn: string }> {
    const parsed = TrainingRequestSchema.parse(request);
    const runId = newRunId(parsed.model, new Date(), randomBytes(3).toString('hex'));
    const { executionArn } = await this.sfn.send(
      new StartExecutionCommand({ stateMachineArn: this.outputs.TrainingPipelineArn, name: runId, input: JSON.stringify(parsed) }),
    );
    if (!executionArn) throw new Error('Step Functions returned no execution ARN');
    return { runId, executionArn };
  }

  /**
   * Polls an execution to its end, reporting each state it enters. With `stopAt`, it also returns
   * while the execution sits in one of those states (status `RUNNING`, `stoppedAt` naming it).
   */
  async waitForRun(
    runId: string,
    executionArn: string,
    options: { onStep?: (step: string) => void; timeoutMs?: number; pollMs?: number; stopAt?: readonly string[] } = {},
  ): Promise<PipelineOutcome> {
    const timeoutMs = options.timeoutMs ?? 15 * 60_000;
    const deadline = Date.now() + timeoutMs;
    const steps: string[] = [];
    for (;;) {
      // Status first: a history read after the execution ended holds every state it entered.
      const { status } = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      for (const name of (await this.history(executionArn)).slice(steps.length)) {
        steps.push(name);
        options.onStep?.(name);
      }
      if (status && status !== 'RUNNING') {
        return { runId, executionArn, status: status as ExecutionStatus, steps, run: await this.tracking.findRun(runId) };
      }
      // Only the state it is in now: one it passed between two polls is no reason to stop.
      const current = steps.at(-1);
      if (current !== undefined && options.stopAt?.includes(current)) {
        return { runId, executionArn, status: 'RUNNING', stoppedAt: current, steps, run: await this.tracking.findRun(runId) };
      }
      if (Date.now() > deadline) throw new Error(`run ${runId} still running after ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    }
  }

  /**
   * Waits for a run that may release a version (a promotion, or a training run in an environment
   * that needs approval): to its end, or until it waits for approval, which may take days
   * (status `WAITING_FOR_APPROVAL`).
   */
  async waitForRelease(
    runId: string,
    executionArn: string,
    onStep?: (step: string) => void,
    options: { timeoutMs?: number; pollMs?: number } = {},
  ): Promise<PipelineOutcome> {
    const outcome = await this.waitForRun(runId, executionArn, { ...options, ...(onStep ? { onStep } : {}), stopAt: [APPROVAL_STATE] });
    return outcome.stoppedAt === APPROVAL_STATE ? { ...outcome, status: 'WAITING_FOR_APPROVAL' } : outcome;
  }

  private async history(executionArn: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      for (const event of page.events ?? ([] as HistoryEvent[])) {
        const name = event.stateEnteredEventDetails?.name;
        if (name) names.push(name);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  // The model registry, through the management API. The caller's identity (who promoted,
  // approved, rolled back) is taken from the signed request by the API; nothing here sends one.

  /** Every model with its newest version number and where its aliases point. */
  async listModels(): Promise<ModelSummary[]> {
    return (await this.api<{ models: ModelSummary[] }>('GET', '/models')).body.models;
  }

  /** A model's spec, aliases and versions. */
  async showModel(model: string): Promise<ModelDetail> {
    return (await this.api<ModelDetail>('GET', modelPath(model))).body;
  }

  /** A version by number, or the version an alias points at. */
  async getVersion(model: string, version: VersionRef): Promise<ModelVersion> {
    return (await this.api<ModelVersion>('GET', `${modelPath(model)}/versions/${encodeURIComponent(String(version))}`)).body;
  }

  /**
   * Points an alias at a version. `production` starts the release path (Evaluate, Gate, approval
   * where required, Promote) and answers with its run; follow it with `waitForRelease`. Any other
   * alias moves at once.
   */
  async promote(model: string, version: number, alias: SettableAlias, options: PromoteOptions = {}): Promise<PromoteAnswer> {
    const body = {
      version,
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}),
      ...(options.weight !== undefined ? { weight: options.weight } : {}),
    };
    return (await this.api<PromoteAnswer>('POST', `${modelPath(model)}/aliases/${encodeURIComponent(alias)}`, body)).body;
  }

  /** Production goes back to the `previous` version, which is then cleared. */
  async rollback(model: string, options: { reason?: string; expectedVersion?: number | null } = {}): Promise<RollbackAnswer> {
    const body = {
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}),
    };
    return (await this.api<RollbackAnswer>('POST', `${modelPath(model)}/rollback`, body)).body;
  }

  /** Approves a version waiting for approval; its waiting release resumes and moves production. */
  async approve(model: string, version: number, reason: string): Promise<DecisionAnswer<'APPROVED'>> {
    return (await this.api<DecisionAnswer<'APPROVED'>>('POST', `${modelPath(model)}/versions/${version}/approve`, { reason })).body;
  }

  /** Rejects a version waiting for approval: its release ends, and it never serves. */
  async reject(model: string, version: number, reason: string): Promise<DecisionAnswer<'REJECTED'>> {
    return (await this.api<DecisionAnswer<'REJECTED'>>('POST', `${modelPath(model)}/versions/${version}/reject`, { reason })).body;
  }

  /** Where a version (by number or alias) came from (dataset, run) and where it went (alias moves). */
  async versionLineage(model: string, version: VersionRef): Promise<VersionLineage> {
    return (await this.api<VersionLineage>('GET', `${modelPath(model)}/versions/${encodeURIComponent(String(version))}/lineage`)).body;
  }

  /** The model versions trained on a dataset version (a sha256, or the newest). */
  async datasetLineage(name: string, version = 'latest'): Promise<DatasetLineage> {
    return (await this.api<DatasetLineage>('GET', `/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/lineage`)).body;
  }

  /** A model's audit events, oldest first. */
  async audit(model: string): Promise<AuditEvent[]> {
    return (await this.api<{ events: AuditEvent[] }>('GET', `${modelPath(model)}/audit`)).body.events;
  }

  /** POST /models/{model}/predict, signed with the caller's credentials. */
  predict(model: string, body: string, options: { unsigned?: boolean } = {}): Promise<SignedResponse> {
    return signedFetch(`${apiBaseUrl(this.outputs)}/models/${encodeURIComponent(model)}/predict`, {
      method: 'POST',
      body,
      region: this.region,
      ...options,
    });
  }
}
