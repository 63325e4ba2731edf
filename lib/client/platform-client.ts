import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import {
  AuditAnswerSchema,
  DecisionAnswerSchema,
  GateReportAnswerSchema,
  ModelDetailSchema,
  ModelListAnswerSchema,
  PromoteAnswerSchema,
  PutModelAnswerSchema,
  RollbackAnswerSchema,
  type GateReportAnswer,
  type ModelDetail,
  type PromoteAnswer,
  type PutModelAnswer,
  type RollbackAnswer,
} from '../../lambdas/contract/registry.js';
import {
  ArtifactAnswerSchema,
  ManyComparisonSchema,
  PairComparisonSchema,
  ReportAnswerSchema,
  RunDetailSchema,
  RunListAnswerSchema,
  StartRunAnswerSchema,
  UploadAnswerSchema,
  type ArtifactAnswer,
  type ComparisonSchema,
  type ReportKind,
  type RunDetail,
  type RunListQuery,
  type StartRunAnswer,
  type StartRunBody,
  type TransferRequest,
  type UploadAnswer,
} from '../../lambdas/contract/runs.js';
import { BatchJobAnswerSchema, BatchUploadAnswerSchema, type BatchJobAnswer, type StartBatchJobRequest } from '../../lambdas/contract/batch.js';
import { DriftCheckAnswerSchema, DriftCheckListSchema, DriftReportLinkSchema, type DriftCheckAnswer, type DriftCheckList, type DriftCheckRequest, type DriftReportLink } from '../../lambdas/contract/drift.js';
import { MonitorAnswerSchema, TriggerListSchema, type MonitorAnswer, type TriggerList } from '../../lambdas/contract/retraining.js';
import { EventsAnswerSchema, type EventsAnswer } from '../../lambdas/contract/events.js';
import { gatewayErrorCode } from '../../lambdas/contract/routes.js';
import {
  RolloutAbortAnswerSchema,
  RolloutStartAnswerSchema,
  RolloutStatusSchema,
  type RolloutAbortAnswer,
  type RolloutStartAnswer,
  type RolloutStatus,
} from '../../lambdas/contract/registry.js';
import type { RolloutStartRequest } from '../../lambdas/core/registry/rollout.js';
import { FeedbackAnswerSchema, type FeedbackAnswer } from '../../lambdas/core/serving/feedback.js';
import { sha256OfChunks } from '../../lambdas/core/sha256.js';
import { ROUTING_KEY_HEADER } from '../../lambdas/core/serving/routing.js';
import type { StackOutputs } from '../../lambdas/contract/stack.js';
import type { ValidationReport } from '../../lambdas/core/data/validation.js';
import { MlopsError, parseOrThrow, zodIssues } from '../../lambdas/core/errors.js';
import type { SettableAlias } from '../../lambdas/core/registry/alias-rules.js';
import { DatasetProfileSchema, type DatasetProfile, type DeclaredSchemaInput } from '../../lambdas/core/data/profile.js';
import {
  DatasetLineageSchema,
  ModelVersionSchema,
  VersionLineageSchema,
  type AuditEvent,
  type DatasetLineage,
  type ModelSummary,
  type ModelVersion,
  type VersionLineage,
} from '../../lambdas/core/registry/records.js';
import { MODEL_NAME, type RunRecord } from '../../lambdas/core/training/run.js';
import { formatFromFileName, type DatasetFormat } from '../../lambdas/core/data/formats.js';
import { DatasetSummarySchema, DatasetVersionSchema, type DatasetSummary, type DatasetVersion } from '../../lambdas/core/data/dataset-version.js';
import { DatasetFromLogsAnswerSchema, type DatasetFromLogsAnswer, type DatasetFromLogsRequest } from '../../lambdas/contract/datasets.js';
import type { VersionRef } from './arguments.js';
import { endpointsFromOutputs, type ApiEndpoints } from './endpoints.js';
import { signedFetch, type SignedResponse } from './signed-fetch.js';

/** A file to register: a path on disk (streamed, any size), bytes in memory, or a URL (read by range, any size). */
export interface DatasetFile {
  readonly path?: string;
  readonly bytes?: Uint8Array;
  /** Another environment's dataset version on a presigned GET: its sha256 and size are known, so it is read once, part by part. */
  readonly remote?: { readonly url: string; readonly sha256: string; readonly bytes: number };
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
  if (file.remote) {
    const end = Math.min(start + length, file.remote.bytes) - 1;
    const response = await fetch(file.remote.url, { headers: { range: `bytes=${start}-${end}` } });
    if (response.status !== 206 && !(response.status === 200 && start === 0 && end === file.remote.bytes - 1)) {
      throw new MlopsError('DOWNLOAD_FAILED', `cannot read bytes ${start}-${end} of the source: HTTP ${response.status}`);
    }
    return new Uint8Array(await response.arrayBuffer());
  }
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

export interface PromoteOptions {
  /** Why; recorded with the move in the audit log. */
  readonly reason?: string;
  /** Where the caller saw the alias (null: nowhere); the move fails with CONFLICT if it points elsewhere. */
  readonly expectedVersion?: number | null;
  /** Traffic share; @default the alias's (production 1, canary 0.1, others 0) */
  readonly weight?: number;
}

const decisionAnswer = <S extends 'APPROVED' | 'REJECTED'>(status: S) => DecisionAnswerSchema.extend({ status: z.literal(status) });
export type DecisionAnswer<S extends 'APPROVED' | 'REJECTED'> = { status: S; version: ModelVersion };

// The registry's answer schemas live in the contract module, shared with the server.
export { ModelDetailSchema, PromoteAnswerSchema, RollbackAnswerSchema, type GateReportAnswer, type ModelDetail, type PromoteAnswer, type PutModelAnswer, type RollbackAnswer };

const modelPath = (model: string) => `/models/${encodeURIComponent(model)}`;

/** The feedback route's report; a refused batch (400) carries its refusal beside it. */
const FeedbackReportSchema = FeedbackAnswerSchema.extend({ error: z.object({ code: z.string(), message: z.string() }).optional() });

/**
 * Everything the CLI, the demo and the e2e tests do against a deployed platform, through its signed
 * HTTP APIs. Every answer is parsed with the schema the server builds it from; a malformed answer
 * is an INVALID_ANSWER error naming the route and the field.
 */
export class PlatformClient {
  constructor(readonly endpoints: ApiEndpoints) {}

  /** A client for a stack whose outputs the caller has; `endpoint` is an emulator's (AWS_ENDPOINT_URL). */
  static fromStackOutputs(outputs: StackOutputs, region: string, endpoint?: string): PlatformClient {
    return new PlatformClient(endpointsFromOutputs(outputs, region, endpoint));
  }

  get region(): string {
    return this.endpoints.region;
  }

  /**
   * Calls the management API with a SigV4-signed request; an error answer becomes an MlopsError
   * with the API's code, message and field. Prefer `call`, which also parses the answer.
   */
  async api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await signedFetch(`${this.endpoints.managementUrl}${path}`, {
      method,
      region: this.endpoints.region,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.status >= 400) {
      const error = (response.body as { error?: { code?: string; message?: string; field?: string } })?.error;
      throw new MlopsError(error?.code ?? gatewayErrorCode(response.status), error?.message ?? response.text.slice(0, 500), error?.field ? { field: error.field } : {});
    }
    return { status: response.status, body: response.body as T };
  }

  /** `api`, then the answer parsed with `schema` (the one the server answers with). */
  async call<S extends z.ZodType>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, schema: S, body?: unknown): Promise<{ status: number; body: z.output<S> }> {
    const answer = await this.api<unknown>(method, path, body);
    return { status: answer.status, body: parseAnswer(schema, answer.body, `${method} ${path}`) };
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
    let sha256: string;
    let bytes = 0;
    if (input.remote) {
      // The version id is the sha256: the server checks it when it registers the upload.
      ({ sha256, bytes } = input.remote);
    } else {
      ({ sha256, bytes } = await sha256OfChunks(fileChunks(input)));
    }
    const path = `/datasets/${encodeURIComponent(input.name)}`;
    const { body: plan } = await this.api<UploadPlan>('POST', `${path}/uploads`, { sha256, bytes, format });
    if (plan.status === 'EXISTS') return { dataset: parseAnswer(DatasetVersionSchema, plan.dataset, `POST ${path}/uploads`), created: false };

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
    return this.waitForRegistration(input.name, started.registrationId, input.timeoutMs ?? 60 * 60_000);
  }

  /** Polls a registration (an upload's or a from-logs build's) until the version is recorded or refused. */
  private async waitForRegistration(name: string, registrationId: string, timeoutMs: number): Promise<{ dataset: DatasetVersion; created: boolean }> {
    const path = `/datasets/${encodeURIComponent(name)}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body: status } = await this.api<{ status: string; created?: boolean; dataset?: DatasetVersion; error?: { code: string; message: string } }>(
        'GET',
        `${path}/registrations/${registrationId}`,
      );
      if (status.status === 'SUCCEEDED') return { dataset: parseAnswer(DatasetVersionSchema, status.dataset, `GET ${path}/registrations`), created: status.created === true };
      if (status.status === 'FAILED') throw new MlopsError(status.error?.code ?? 'REGISTRATION_FAILED', status.error?.message ?? 'registration failed', { field: 'file' });
      if (Date.now() > deadline) throw new MlopsError('TIMEOUT', `registration ${registrationId} is still running; check it later`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  /**
   * A dataset version from a window of the prediction log joined with its feedback labels
   * (`mlops dataset from-logs`): the platform builds the file and registers it through the same
   * data gate as an upload; this waits for the registration. A refused build writes nothing.
   */
  async datasetFromLogs(
    model: string,
    request: DatasetFromLogsRequest,
    options: { timeoutMs?: number; onProgress?: (message: string) => void } = {},
  ): Promise<{ build: DatasetFromLogsAnswer; dataset: DatasetVersion; created: boolean }> {
    const { body: build } = await this.call('POST', `${modelPath(model)}/datasets/from-logs`, DatasetFromLogsAnswerSchema, request);
    if (build.status === 'RUNNING' && build.registrationId) {
      options.onProgress?.(`built ${build.dataset.rows} rows (${build.lineage.labelledRows} from the log); registration ${build.registrationId}: profiling`);
      return { build, ...(await this.waitForRegistration(build.dataset.name, build.registrationId, options.timeoutMs ?? 15 * 60_000)) };
    }
    return { build, dataset: await this.getDatasetVersion(build.dataset.name, build.dataset.version), created: build.created === true };
  }

  async listDatasets(): Promise<DatasetSummary[]> {
    return (await this.call('GET', '/datasets', z.object({ datasets: z.array(DatasetSummarySchema) }))).body.datasets;
  }

  async listDatasetVersions(name: string): Promise<DatasetVersion[]> {
    return (await this.call('GET', `/datasets/${encodeURIComponent(name)}/versions`, z.object({ versions: z.array(DatasetVersionSchema) }))).body.versions;
  }

  /** A version by sha256, or the newest one. */
  async getDatasetVersion(name: string, version?: string): Promise<DatasetVersion> {
    return (await this.call('GET', `/datasets/${encodeURIComponent(name)}/versions/${version ?? 'latest'}`, DatasetVersionSchema)).body;
  }

  async getDatasetProfile(name: string, version?: string): Promise<DatasetProfile> {
    return (await this.call('GET', `/datasets/${encodeURIComponent(name)}/versions/${version ?? 'latest'}/profile`, z.object({ profile: DatasetProfileSchema }))).body.profile;
  }

  /** The data validation gate on its own, for a model; the report is stored and returned, nothing is quarantined. */
  async validateDataset(name: string, version: string | undefined, model: string): Promise<ValidationReport & { reportUri: string; dataset: { name: string; version: string } }> {
    return (await this.api<ValidationReport & { reportUri: string; dataset: { name: string; version: string } }>(
      'POST',
      `/datasets/${encodeURIComponent(name)}/versions/${version ?? 'latest'}/validate`,
      { model },
    )).body;
  }

  // Runs, through the runs API. The actor of every run is the signed caller: nothing here sends one.

  /**
   * Starts a run of `model` (a training by default, an import or a reproduction): the API checks
   * everything it can first, so a refused request starts nothing. The answer says which dataset
   * version the run uses and why.
   */
  async startRun(model: string, body: StartRunBody = {}): Promise<StartRunAnswer> {
    return (await this.call('POST', `${modelPath(model)}/runs`, StartRunAnswerSchema, body)).body;
  }

  /**
   * Uploads an ONNX file for an import of `model`, streamed from disk to a presigned PUT (never
   * whole in memory); name the answer in `startRun(model, { mode: 'import', onnx })`.
   */
  async uploadOnnx(model: string, path: string): Promise<{ uploadKey: string; sha256: string }> {
    const { sha256, bytes } = await sha256OfChunks(createReadStream(path, { highWaterMark: 1 << 20 }));
    const upload = (await this.call('POST', `${modelPath(model)}/imports/uploads`, UploadAnswerSchema, { sha256, bytes })).body;
    await putStream(upload.url, Readable.toWeb(createReadStream(path, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>, bytes);
    return { uploadKey: upload.uploadKey, sha256 };
  }

  /** A run's record (null until its first step wrote it) and its execution: status and the states it entered. */
  async getRun(runId: string): Promise<RunDetail> {
    return (await this.call('GET', `/runs/${encodeURIComponent(runId)}`, RunDetailSchema)).body;
  }

  /** A model's runs, newest first, filtered by status and start time ([since, until)). */
  async listRuns(filter: RunListQuery): Promise<RunRecord[]> {
    const query = new URLSearchParams(Object.entries(filter).filter(([, value]) => value !== undefined).map(([key, value]): [string, string] => [key, String(value)]));
    return (await this.call('GET', `/runs?${query}`, RunListAnswerSchema)).body.runs;
  }

  /** Two runs side by side (the `runs compare` shape), or three to ten with one value per run in each row. */
  async compareRuns(runIds: readonly [string, string]): Promise<z.output<typeof PairComparisonSchema>>;
  async compareRuns(runIds: readonly [string, string, string, ...string[]]): Promise<z.output<typeof ManyComparisonSchema>>;
  async compareRuns(runIds: readonly string[]): Promise<z.output<typeof ComparisonSchema>>;
  async compareRuns(runIds: readonly string[]): Promise<z.output<typeof ComparisonSchema>> {
    return (await this.call('POST', '/runs/compare', runIds.length === 2 ? PairComparisonSchema : ManyComparisonSchema, { runIds })).body;
  }

  /** The validation or gate report a run stored, parsed. */
  async getRunReport(runId: string, kind: ReportKind): Promise<z.output<typeof ReportAnswerSchema>> {
    return (await this.call('GET', `/runs/${encodeURIComponent(runId)}/reports/${kind}`, ReportAnswerSchema)).body;
  }

  /**
   * Polls GET /runs/{runId} to the run's end, reporting each state it enters. With `stopAt`, it also
   * returns while the execution sits in one of those states (status `RUNNING`, `stoppedAt` naming it).
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
      const { run, execution } = await this.getRun(runId);
      for (const name of execution.steps.slice(steps.length)) {
        steps.push(name);
        options.onStep?.(name);
      }
      const outcome = { runId, executionArn: execution.executionArn ?? executionArn, steps, run: run ?? undefined };
      if (execution.status !== 'RUNNING') return { ...outcome, status: execution.status };
      // Only the state it is in now: one it passed between two polls is no reason to stop.
      const current = steps.at(-1);
      if (current !== undefined && options.stopAt?.includes(current)) return { ...outcome, status: 'RUNNING', stoppedAt: current };
      if (Date.now() > deadline) throw new MlopsError('TIMEOUT', `run ${runId} still running after ${Math.round(timeoutMs / 1000)} s`);
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

  // Cross-environment promotion: the source's artifact route, the target's transfer routes (lib/client/transfer.ts).

  /** A version's model file and dataset version on presigned GETs, with the model's spec. */
  async versionArtifact(model: string, version: VersionRef): Promise<ArtifactAnswer> {
    return (await this.call('GET', `${modelPath(model)}/versions/${encodeURIComponent(String(version))}/artifact`, ArtifactAnswerSchema)).body;
  }

  /** A presigned PUT for an artifact coming from another environment. */
  async transferUpload(model: string, file: { sha256: string; bytes: number }): Promise<UploadAnswer> {
    return (await this.call('POST', `${modelPath(model)}/transfers/uploads`, UploadAnswerSchema, file)).body;
  }

  /** Starts the transfer-mode run that judges an uploaded artifact here and registers it as a new version with its origin. */
  async startTransfer(model: string, body: TransferRequest): Promise<StartRunAnswer> {
    return (await this.call('POST', `${modelPath(model)}/transfers`, StartRunAnswerSchema, body)).body;
  }

  // Batch scoring (`mlops score`), through the batch API. The job's actor is the signed caller.

  /** Uploads a local input for a batch job of `model`, streamed from disk to a presigned PUT; name the answer's key as the job's input. */
  async uploadBatchInput(model: string, path: string, format: DatasetFormat): Promise<{ uploadKey: string; sha256: string; bytes: number }> {
    const { sha256, bytes } = await sha256OfChunks(createReadStream(path, { highWaterMark: 1 << 20 }));
    const upload = (await this.call('POST', `${modelPath(model)}/batch-jobs/uploads`, BatchUploadAnswerSchema, { sha256, bytes, format })).body;
    await putStream(upload.url, Readable.toWeb(createReadStream(path, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>, bytes);
    return { uploadKey: upload.uploadKey, sha256, bytes };
  }

  /** Starts a batch scoring job; the API checks the version, input, format and output first, so a refused request starts nothing. */
  async startBatchJob(model: string, body: StartBatchJobRequest): Promise<BatchJobAnswer> {
    return (await this.call('POST', `${modelPath(model)}/batch-jobs`, BatchJobAnswerSchema, body)).body;
  }

  /** A batch job: its record, status and step, and once it ended its counts and presigned downloads. */
  async getBatchJob(jobId: string): Promise<BatchJobAnswer> {
    return (await this.call('GET', `/batch-jobs/${encodeURIComponent(jobId)}`, BatchJobAnswerSchema)).body;
  }

  // Drift checks (`mlops drift`), through the DriftCheck function. The check's actor is the signed caller.

  /** Runs a drift check now over a window of one arm's traffic; a refused check leaves no record. */
  async runDriftCheck(model: string, body: DriftCheckRequest): Promise<DriftCheckAnswer> {
    return (await this.call('POST', `${modelPath(model)}/drift-checks`, DriftCheckAnswerSchema, body)).body;
  }

  /** The model's latest drift checks, newest first. */
  async listDriftChecks(model: string, limit?: number): Promise<DriftCheckList> {
    return (await this.call('GET', `${modelPath(model)}/drift-checks${limit === undefined ? '' : `?limit=${limit}`}`, DriftCheckListSchema)).body;
  }

  /** One drift check's record and report. */
  async getDriftCheck(model: string, checkId: string): Promise<DriftCheckAnswer> {
    return (await this.call('GET', `${modelPath(model)}/drift-checks/${encodeURIComponent(checkId)}`, DriftCheckAnswerSchema)).body;
  }

  /** A presigned GET of one drift check's HTML report. */
  async getDriftReportLink(model: string, checkId: string): Promise<DriftReportLink> {
    return (await this.call('GET', `${modelPath(model)}/drift-checks/${encodeURIComponent(checkId)}/report`, DriftReportLinkSchema)).body;
  }

  // Retraining guardrails (`mlops monitor`), through the retrain-trigger function.

  /** The model's latest retraining trigger decisions (started or suppressed, with their evidence), newest first. */
  async listTriggers(model: string, limit?: number): Promise<TriggerList> {
    return (await this.call('GET', `${modelPath(model)}/triggers${limit === undefined ? '' : `?limit=${limit}`}`, TriggerListSchema)).body;
  }

  /** What `mlops monitor` shows: the latest drift checks, the open alarms and the trigger history. */
  async getMonitor(model: string, limit?: number): Promise<MonitorAnswer> {
    return (await this.call('GET', `${modelPath(model)}/monitor${limit === undefined ? '' : `?limit=${limit}`}`, MonitorAnswerSchema)).body;
  }

  /** Registry events after a cursor (or an ISO time), of one model or all, oldest first (`mlops events tail`). */
  async listEvents(query: { model?: string; after?: string; limit?: number }): Promise<EventsAnswer> {
    const params = new URLSearchParams();
    if (query.model !== undefined) params.set('model', query.model);
    if (query.after !== undefined) params.set('after', query.after);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const search = params.toString();
    return (await this.call('GET', `/events${search ? `?${search}` : ''}`, EventsAnswerSchema)).body;
  }

  // The model registry, through the management API. The caller's identity (who promoted,
  // approved, rolled back) is taken from the signed request by the API; nothing here sends one.

  /** Every model with its newest version number and where its aliases point. */
  async listModels(): Promise<ModelSummary[]> {
    return (await this.call('GET', '/models', ModelListAnswerSchema)).body.models;
  }

  /**
   * Creates a model, or replaces its spec: `spec` is a spec file's content. Features it leaves out
   * come from `dataset`'s schema (default: the spec's dataset, newest version), and the spec is
   * checked against that schema by the API; the signed caller is recorded as the actor.
   */
  async createModel(spec: unknown, options: { dataset?: { name: string; version?: string } } = {}): Promise<PutModelAnswer> {
    // The path names the model; the API checks the whole spec.
    const { name } = parseOrThrow(z.looseObject({ name: MODEL_NAME }), spec, 'model spec');
    return (await this.call('PUT', modelPath(name), PutModelAnswerSchema, { spec, ...(options.dataset ? { dataset: options.dataset } : {}) })).body;
  }

  /** The gate report stored when a version (by number or alias) was judged. */
  async gateReport(model: string, version: VersionRef): Promise<GateReportAnswer> {
    return (await this.call('GET', `${modelPath(model)}/versions/${encodeURIComponent(String(version))}/gate-report`, GateReportAnswerSchema)).body;
  }

  /** A model's spec, aliases and versions. */
  async showModel(model: string): Promise<ModelDetail> {
    return (await this.call('GET', modelPath(model), ModelDetailSchema)).body;
  }

  /** A version by number, or the version an alias points at. */
  async getVersion(model: string, version: VersionRef): Promise<ModelVersion> {
    return (await this.call('GET', `${modelPath(model)}/versions/${encodeURIComponent(String(version))}`, ModelVersionSchema)).body;
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
    return (await this.call('POST', `${modelPath(model)}/aliases/${encodeURIComponent(alias)}`, PromoteAnswerSchema, body)).body;
  }

  /** Production goes back to the `previous` version, which is then cleared. */
  async rollback(model: string, options: { reason?: string; expectedVersion?: number | null } = {}): Promise<RollbackAnswer> {
    const body = {
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}),
    };
    return (await this.call('POST', `${modelPath(model)}/rollback`, RollbackAnswerSchema, body)).body;
  }

  /** Starts a rollout of a version (202): gate against production, shadow and canary steps with checks, then the release path's Promote. */
  async startRollout(model: string, request: RolloutStartRequest): Promise<RolloutStartAnswer> {
    return (await this.call('POST', `${modelPath(model)}/rollouts`, RolloutStartAnswerSchema, request)).body;
  }

  /** The model's rollout (running, or the last one), its execution and its decisions. */
  async rolloutStatus(model: string): Promise<RolloutStatus> {
    return (await this.call('GET', `${modelPath(model)}/rollout`, RolloutStatusSchema)).body;
  }

  /** Stops the running (or held) rollout: canary and shadow are cleared; production stays. */
  async abortRollout(model: string, reason?: string): Promise<RolloutAbortAnswer> {
    return (await this.call('POST', `${modelPath(model)}/rollout/abort`, RolloutAbortAnswerSchema, reason === undefined ? {} : { reason })).body;
  }

  /** Approves a version waiting for approval; its waiting release resumes and moves production. */
  async approve(model: string, version: number, reason: string): Promise<DecisionAnswer<'APPROVED'>> {
    return (await this.call('POST', `${modelPath(model)}/versions/${version}/approve`, decisionAnswer('APPROVED'), { reason })).body;
  }

  /** Rejects a version waiting for approval: its release ends, and it never serves. */
  async reject(model: string, version: number, reason: string): Promise<DecisionAnswer<'REJECTED'>> {
    return (await this.call('POST', `${modelPath(model)}/versions/${version}/reject`, decisionAnswer('REJECTED'), { reason })).body;
  }

  /** Where a version (by number or alias) came from (dataset, run) and where it went (alias moves). */
  async versionLineage(model: string, version: VersionRef): Promise<VersionLineage> {
    return (await this.call('GET', `${modelPath(model)}/versions/${encodeURIComponent(String(version))}/lineage`, VersionLineageSchema)).body;
  }

  /** The model versions trained on a dataset version (a sha256, or the newest). */
  async datasetLineage(name: string, version = 'latest'): Promise<DatasetLineage> {
    return (await this.call('GET', `/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/lineage`, DatasetLineageSchema)).body;
  }

  /** A model's audit events, oldest first. */
  async audit(model: string): Promise<AuditEvent[]> {
    return (await this.call('GET', `${modelPath(model)}/audit`, AuditAnswerSchema)).body.events;
  }

  /**
   * POST /models/{model}/predict, signed with the caller's credentials. A routing key (a user or
   * session id) keeps the caller on one arm while a canary runs; without one the arm is random.
   */
  async predict(model: string, body: string, options: { unsigned?: boolean; routingKey?: string } = {}): Promise<SignedResponse> {
    if (!this.endpoints.servingUrl) {
      throw new MlopsError('NO_SERVING_URL', `predict needs the prediction API's URL: set MLOPS_SERVING_URL (or "servingUrl" in the config file) beside ${this.endpoints.source}`, { field: 'MLOPS_SERVING_URL' });
    }
    const { routingKey, ...signing } = options;
    return signedFetch(`${this.endpoints.servingUrl}/models/${encodeURIComponent(model)}/predict`, {
      method: 'POST',
      body,
      region: this.endpoints.region,
      ...(routingKey === undefined ? {} : { headers: { [ROUTING_KEY_HEADER]: routingKey } }),
      ...signing,
    });
  }

  /**
   * POST /models/{model}/feedback on the serving API, signed: one batch of labels (up to 1,000).
   * Answers the report; a batch of which nothing was stored (400) answers its report too, with the
   * refusal in `error`. Any other error answer is an MlopsError with its code.
   */
  async sendFeedback(model: string, labels: readonly unknown[]): Promise<FeedbackAnswer & { error?: { code: string; message: string } }> {
    if (!this.endpoints.servingUrl) {
      throw new MlopsError('NO_SERVING_URL', `feedback needs the prediction API's URL: set MLOPS_SERVING_URL (or "servingUrl" in the config file) beside ${this.endpoints.source}`, { field: 'MLOPS_SERVING_URL' });
    }
    const route = `POST /models/${model}/feedback`;
    const response = await signedFetch(`${this.endpoints.servingUrl}/models/${encodeURIComponent(model)}/feedback`, { method: 'POST', body: JSON.stringify({ labels }), region: this.endpoints.region });
    if (response.status === 200 || (response.status === 400 && FeedbackReportSchema.safeParse(response.body).success)) return parseAnswer(FeedbackReportSchema, response.body, route);
    const error = (response.body as { error?: { code?: string; message?: string; field?: string } })?.error;
    throw new MlopsError(error?.code ?? gatewayErrorCode(response.status), error?.message ?? response.text.slice(0, 500), error?.field ? { field: error.field } : {});
  }
}

/** An API answer parsed with its schema; a malformed one is an error naming the route and the fields. */
export function parseAnswer<S extends z.ZodType>(schema: S, body: unknown, route: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = zodIssues(parsed.error).slice(0, 5).map((i) => `${i.field}: ${i.problem}`);
  throw new MlopsError('INVALID_ANSWER', `the API answered ${route} with a body the CLI does not understand (${problems.join('; ')}); are the CLI and the stack the same version?`);
}

/** PUTs a stream of known length to a presigned URL: S3 needs the length up front, and the bytes never sit whole in memory. */
export async function putStream(url: string, body: ReadableStream<Uint8Array>, bytes: number): Promise<void> {
  const response = await fetch(url, { method: 'PUT', body, duplex: 'half', headers: { 'content-length': String(bytes) } } as RequestInit & { duplex: 'half' });
  if (!response.ok) throw new MlopsError('UPLOAD_FAILED', `S3 refused the upload: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
}
