import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { createDocumentClient, createS3Client, createSfnClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { apiHandler, pathParam, type ApiRequest, type ApiRoute } from '../aws/http-api.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { runStores, uploadReader } from '../aws/run-stores.js';
import { startTrainingRun, StepFunctions } from '../aws/step-functions.js';
import { TrackingStore } from '../aws/tracking-store.js';
import type { RunsRoute } from '../contract/routes.js';
import {
  ArtifactAnswerSchema,
  CompareRequestSchema,
  REPORT_KINDS,
  RunListQuerySchema,
  TransferRequestSchema,
  UploadRequestSchema,
  ValidationReportFileSchema,
  type ArtifactAnswer,
  type RunDetail,
  type StartRunAnswer,
  type UploadAnswer,
} from '../contract/runs.js';
import { StoredGateReportSchema } from '../core/evaluation/gate-report.js';
import { InputValidationError, MlopsError, NotFoundError, parseOrThrow } from '../core/errors.js';
import { parseVersionRef } from '../core/registry/requests.js';
import { formatS3Uri } from '../core/s3-uri.js';
import { compareManyRuns, compareRuns } from '../core/training/run-comparison.js';
import { MODEL_NAME, type TrainingRequest } from '../core/training/run.js';
import { importUploadPrefix, planRun } from '../core/training/start-run.js';

const logger = new Logger({ serviceName: 'runs-api' });
const URL_TTL_SECONDS = 3600;

/** What the runs API reads and writes: the adapters in production, memory in the unit tests. */
export interface RunsApiStores {
  readonly registry: Pick<RegistryStore, 'getModel' | 'getVersion' | 'resolveVersion'>;
  readonly tracking: Pick<TrackingStore, 'getDatasetVersion' | 'listDatasetVersions' | 'getRun' | 'findRun' | 'findRuns' | 'createRun'>;
  readonly objects: Pick<ObjectStore, 'getBytes' | 'getText' | 'size' | 'sha256' | 'presignGet' | 'presignPut'>;
  readonly stepFunctions: Pick<StepFunctions, 'start' | 'describe' | 'steps'>;
}

export interface RunsApiSettings {
  readonly trainingPipelineArn: string;
  readonly modelsBucket: string;
}

/** Execution names allow letters, digits, - and _ up to 80 characters; a run id is one. */
const RUN_ID = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a run id (letters, digits, - and _, at most 80)');

const modelOf = ({ params }: ApiRequest) => pathParam(params, 'model', MODEL_NAME, 'model name');
const runIdOf = ({ params }: ApiRequest) => pathParam(params, 'runId', RUN_ID, 'run id');
const transferUploadPrefix = (model: string) => `models/${model}/transfers/`;
const expiresAt = () => new Date(Date.now() + URL_TTL_SECONDS * 1000).toISOString();

/**
 * The runs HTTP API over the stores it is given: IAM-authorized routes that start, show, list and
 * compare runs; the actor is always the signed caller.
 */
export function createHandler(stores: RunsApiStores, settings: RunsApiSettings) {
  const { registry, tracking, objects, stepFunctions } = stores;
  const { trainingPipelineArn: TRAINING_PIPELINE_ARN, modelsBucket: MODELS_BUCKET } = settings;
  const planStores = { ...runStores(registry, tracking), ...uploadReader(objects, MODELS_BUCKET) };

  /** Starts the training pipeline with an execution named by a fresh run id: the one way a run starts. */
  async function startPipeline(request: TrainingRequest): Promise<{ runId: string; executionArn: string }> {
    const { runId, executionArn } = await startTrainingRun(stepFunctions, TRAINING_PIPELINE_ARN, request);
    logger.info('run started', { runId, model: request.model, mode: request.mode, actor: request.actor });
    return { runId, executionArn };
  }

  /** A presigned PUT for a file of `model` under `prefix`; the key names the sha256 and a random part, so two uploads never collide. */
  async function uploadUrl(request: ApiRequest, prefix: (model: string) => string, extension: string): Promise<{ status: number; body: UploadAnswer }> {
    const model = modelOf(request);
    const { sha256 } = parseOrThrow(UploadRequestSchema, request.body, 'upload request');
    await registry.getModel(model);
    const uploadKey = `${prefix(model)}${sha256}-${randomBytes(4).toString('hex')}.${extension}`;
    return { status: 201, body: { uploadKey, url: await objects.presignPut(MODELS_BUCKET, uploadKey, URL_TTL_SECONDS), expiresAt: expiresAt() } };
  }

  const routes = {
    /** Checks everything checkable, then starts the pipeline; a refused request starts nothing and writes nothing. */
    'POST /models/{model}/runs': async (request) => {
      const model = modelOf(request);
      const plan = await planRun(planStores, model, request.body, request.actor);
      const { runId, executionArn } = await startPipeline(plan.request);
      const body: StartRunAnswer = { status: 'RUNNING', runId, executionArn, dataset: plan.dataset };
      return { status: 202, body };
    },

    'POST /models/{model}/imports/uploads': (request) => uploadUrl(request, importUploadPrefix, 'onnx'),

    'GET /runs': async ({ query }) => {
      const filter = parseOrThrow(RunListQuerySchema, query, 'run filter');
      return { status: 200, body: { runs: await tracking.findRuns(filter) } };
    },

    /** The run record (null until StartRun wrote it) and its execution: status, the states it entered, and why it failed. */
    'GET /runs/{runId}': async (request) => {
      const runId = runIdOf(request);
      let execution;
      try {
        // A run's execution is named by its run id.
        execution = await stepFunctions.describe(StepFunctions.executionArn(TRAINING_PIPELINE_ARN, runId));
      } catch (error) {
        if (error instanceof NotFoundError) throw new NotFoundError(`run ${runId} does not exist`, { field: 'runId', cause: error });
        throw error;
      }
      // Status first, record and history second: read after the execution ended, they hold all it wrote and entered.
      const run = (await tracking.findRun(runId)) ?? null;
      const steps = await stepFunctions.steps(execution.executionArn);
      const { output: _output, name: _name, ...described } = execution;
      const body: RunDetail = { run, execution: { ...described, steps } };
      return { status: 200, body };
    },

    /** Two runs in the shape `runs compare` has always printed; three to ten with one value per run in each row. */
    'POST /runs/compare': async ({ body }) => {
      const { runIds } = parseOrThrow(CompareRequestSchema, body, 'comparison request');
      const runs = await Promise.all(runIds.map((runId) => tracking.getRun(runId)));
      return { status: 200, body: runs.length === 2 ? compareRuns(runs[0]!, runs[1]!) : compareManyRuns(runs) };
    },

    'GET /runs/{runId}/reports/{kind}': async (request) => {
      const runId = runIdOf(request);
      const kind = parseOrThrow(z.enum(REPORT_KINDS), request.params.kind ?? '', 'report kind');
      const run = await tracking.getRun(runId);
      const uri = kind === 'validation' ? run.validationReportUri : run.gateReportUri;
      if (!uri) throw new NotFoundError(`run ${runId} has no ${kind} report (status ${run.status}${run.failure ? `, failed in ${run.failure.step}` : ''})`, { field: 'kind' });
      const text = await objects.getText(uri);
      const report = parseOrThrow(kind === 'validation' ? ValidationReportFileSchema : StoredGateReportSchema, JSON.parse(text), `stored ${kind} report`);
      return { status: 200, body: { runId, kind, uri, report } };
    },

    /** What another environment needs to take a version over: its model file and dataset version on presigned GETs, and the model's spec. */
    'GET /models/{model}/versions/{version}/artifact': async (request) => {
      const model = modelOf(request);
      const version = await registry.resolveVersion(model, parseVersionRef(request.params.version));
      if (version.status === 'REJECTED') throw new MlopsError('VERSION_REJECTED', `version ${version.version} of ${model} was rejected and cannot be promoted`, { field: 'version' });
      const [{ spec }, run, dataset, artifactBytes] = await Promise.all([
        registry.getModel(model),
        tracking.findRun(version.runId),
        tracking.getDatasetVersion(version.dataset.name, version.dataset.version),
        objects.size(version.artifact.uri),
      ]);
      if (artifactBytes === undefined) throw new NotFoundError(`the artifact ${version.artifact.uri} of ${model} v${version.version} is gone`, { field: 'version' });
      const body: ArtifactAnswer = ArtifactAnswerSchema.parse({
        model,
        version: version.version,
        status: version.status,
        runId: version.runId,
        ...(version.codeVersion ? { codeVersion: version.codeVersion } : {}),
        gateReportUri: version.gateReportUri,
        artifact: {
          url: await objects.presignGet(version.artifact.uri, URL_TTL_SECONDS),
          sha256: version.artifact.sha256,
          bytes: artifactBytes,
          kind: run?.mode === 'import' ? 'imported' : 'built-in',
        },
        spec,
        dataset: { name: dataset.name, version: dataset.version, url: await objects.presignGet(dataset.uri, URL_TTL_SECONDS), bytes: dataset.bytes, format: dataset.format, owner: dataset.owner },
        expiresAt: expiresAt(),
      });
      return { status: 200, body };
    },

    'POST /models/{model}/transfers/uploads': (request) => uploadUrl(request, transferUploadPrefix, 'json'),

    /**
     * Judges a version of another environment here: its artifact (uploaded on a URL from
     * `.../transfers/uploads`) must hash to its sha256 and its dataset version must be registered
     * here; the pipeline then evaluates, gates and registers it as a new version with its origin.
     */
    'POST /models/{model}/transfers': async (request) => {
      const model = modelOf(request);
      const body = parseOrThrow(TransferRequestSchema, request.body, 'transfer request');
      if (!body.uploadKey.startsWith(transferUploadPrefix(model))) throw new InputValidationError(`uploadKey must be one this API issued for model ${model}`, { field: 'uploadKey' });
      if (body.source.model !== model) throw new InputValidationError(`the source is a version of ${body.source.model}, not ${model}`, { field: 'source.model' });
      await registry.getModel(model);
      const dataset = await tracking.getDatasetVersion(body.source.dataset.name, body.source.dataset.version);
      const uri = formatS3Uri(MODELS_BUCKET, body.uploadKey);
      const size = await objects.size(uri);
      if (size === undefined) throw new NotFoundError(`nothing was uploaded to ${body.uploadKey}`, { field: 'uploadKey' });
      if ((await objects.sha256(uri)) !== body.sha256) throw new InputValidationError(`the uploaded artifact's sha256 is not ${body.sha256}`, { field: 'sha256' });
      const { runId, executionArn } = await startPipeline({
        model,
        dataset: { name: dataset.name, version: dataset.version },
        mode: 'transfer',
        trigger: 'promote',
        actor: request.actor,
        release: body.release,
        transfer: { artifact: { uri, sha256: body.sha256 }, source: body.source, reason: body.reason },
      });
      const answer: StartRunAnswer = { status: 'RUNNING', runId, executionArn, dataset: { name: dataset.name, version: dataset.version, chosen: `the version ${body.source.environment} v${body.source.version} was trained on` } };
      return { status: 202, body: answer };
    },
  } satisfies Record<RunsRoute, ApiRoute>;

  return apiHandler(logger, routes);
}

function awsStores(): RunsApiStores {
  const doc = createDocumentClient();
  return {
    registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
    tracking: new TrackingStore(doc, requireEnv('TRACKING_TABLE')),
    objects: new ObjectStore(createS3Client()),
    stepFunctions: new StepFunctions(createSfnClient()),
  };
}

export const handler = createHandler(awsStores(), { trainingPipelineArn: requireEnv('TRAINING_PIPELINE_ARN'), modelsBucket: requireEnv('MODELS_BUCKET') });
