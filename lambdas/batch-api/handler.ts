import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { createDocumentClient, createS3Client, createSfnClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { apiHandler, pathParam, type ApiRequest, type ApiRoute } from '../aws/http-api.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { StepFunctions } from '../aws/step-functions.js';
import { BatchJobAnswerSchema, BatchUploadRequestSchema, StartBatchJobRequestSchema, type BatchJobAnswer, type BatchUploadAnswer } from '../contract/batch.js';
import type { BatchRoute } from '../contract/routes.js';
import {
  BATCH_PREFIX,
  BATCH_UPLOADS_PREFIX,
  BatchResultSchema,
  DEFAULT_CHUNK_ROWS,
  DEFAULT_MAX_ERROR_RATE,
  defaultOutputKey,
  errorsUriFor,
  JOB_ID,
  newJobId,
  PrepareEventSchema,
  resultKey,
  type BatchJob,
} from '../core/batch/job.js';
import { DATASET_FORMATS, formatFromFileName, type DatasetFormat } from '../core/data/formats.js';
import { InputValidationError, MlopsError, NotFoundError, parseOrThrow } from '../core/errors.js';
import { parseVersionRef } from '../core/registry/requests.js';
import { formatS3Uri, parseS3Uri } from '../core/s3-uri.js';
import { MODEL_NAME } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'batch-api' });
const URL_TTL_SECONDS = 3600;

/** What the batch API reads and starts: the adapters in production, memory in the unit tests. */
export interface BatchApiStores {
  readonly registry: Pick<RegistryStore, 'resolveVersion'>;
  readonly objects: Pick<ObjectStore, 'size' | 'getText' | 'presignGet' | 'presignPut'>;
  readonly stepFunctions: Pick<StepFunctions, 'start' | 'describe' | 'steps'>;
}

export interface BatchApiSettings {
  readonly stateMachineArn: string;
  /** Work files, uploads and default outputs: the reports bucket, under batch-jobs/. */
  readonly batchBucket: string;
  /** Inputs may also be read from here (a registered dataset's file, say). */
  readonly datasetsBucket: string;
  readonly clock?: () => Date;
}

const modelOf = ({ params }: ApiRequest) => pathParam(params, 'model', MODEL_NAME, 'model name');
const expiresAt = () => new Date(Date.now() + URL_TTL_SECONDS * 1000).toISOString();
const extensionOf = (format: DatasetFormat) => format;

/**
 * The batch scoring HTTP API over the stores it is given: presigned uploads of local inputs, starting
 * a job (the execution's input is the job record, the actor the signed caller) and reading it back.
 */
export function createHandler(stores: BatchApiStores, settings: BatchApiSettings) {
  const { registry, objects, stepFunctions } = stores;
  const { stateMachineArn, batchBucket, datasetsBucket } = settings;
  const clock = settings.clock ?? (() => new Date());

  /** The input's S3 URI: an upload this API issued for the model, or an object in a bucket the job may read. */
  async function inputUri(model: string, input: { uploadKey: string } | { uri: string }): Promise<string> {
    let uri: string;
    if ('uploadKey' in input) {
      if (!input.uploadKey.startsWith(`${BATCH_UPLOADS_PREFIX}${model}/`)) throw new InputValidationError(`uploadKey must be one this API issued for model ${model}`, { field: 'input.uploadKey' });
      uri = formatS3Uri(batchBucket, input.uploadKey);
    } else {
      const { bucket, key } = parseS3Uri(input.uri);
      const readable = bucket === datasetsBucket || (bucket === batchBucket && key.startsWith(BATCH_PREFIX));
      if (!readable) {
        throw new MlopsError('INPUT_NOT_READABLE', `batch jobs read inputs from s3://${datasetsBucket}/ or s3://${batchBucket}/${BATCH_PREFIX}; copy ${input.uri} there or score a local file`, { field: 'input.uri' });
      }
      uri = input.uri;
    }
    if ((await objects.size(uri)) === undefined) throw new NotFoundError(`nothing at ${uri}`, { field: 'input' });
    return uri;
  }

  /** The format named, or the one the input's extension implies; anything else is refused with UNSUPPORTED_FORMAT. */
  function formatOf(named: string | undefined, uri: string): DatasetFormat {
    const format = named ?? formatFromFileName(uri);
    if (!format || !(DATASET_FORMATS as readonly string[]).includes(format)) {
      throw new MlopsError('UNSUPPORTED_FORMAT', `${named ? `format "${named}"` : `the input ${uri}`}: batch scoring reads ${DATASET_FORMATS.join(', ')} (by extension: .csv, .jsonl, .ndjson, .parquet, .pq)`, { field: 'format' });
    }
    return format as DatasetFormat;
  }

  /** The output URI: under the batch prefix (where the job may write), in the input's format. */
  function outputUri(requested: string | undefined, jobId: string, format: DatasetFormat): string {
    if (requested === undefined) return formatS3Uri(batchBucket, defaultOutputKey(jobId, format));
    const { bucket, key } = parseS3Uri(requested);
    if (bucket !== batchBucket || !key.startsWith(BATCH_PREFIX) || key.startsWith(BATCH_UPLOADS_PREFIX)) {
      throw new MlopsError('OUTPUT_NOT_WRITABLE', `batch jobs write under s3://${batchBucket}/${BATCH_PREFIX} (not uploads/); got ${requested}`, { field: 'output' });
    }
    if (formatFromFileName(key) !== format) throw new MlopsError('UNSUPPORTED_FORMAT', `the output ${requested} must have the input's format (${format})`, { field: 'output' });
    return requested;
  }

  /** The job as it stands: the execution's status and input, and once Finish ran, its result and presigned downloads. */
  async function describeJob(jobId: string): Promise<BatchJobAnswer> {
    let execution;
    try {
      execution = await stepFunctions.describe(StepFunctions.executionArn(stateMachineArn, jobId), { withInput: true });
    } catch (error) {
      if (error instanceof NotFoundError) throw new NotFoundError(`no batch job ${jobId}`, { field: 'jobId', cause: error });
      throw error;
    }
    if (execution.input === undefined) throw new MlopsError('BATCH_FILE_INVALID', `batch job ${jobId} has no input`);
    const { job } = parseOrThrow(PrepareEventSchema, JSON.parse(execution.input), 'batch job record');
    const steps = await stepFunctions.steps(execution.executionArn);
    const answer: BatchJobAnswer = {
      jobId,
      status: execution.status,
      ...(steps.length > 0 ? { step: steps.at(-1)! } : {}),
      job,
      startedAt: execution.startedAt,
      ...(execution.stoppedAt ? { stoppedAt: execution.stoppedAt } : {}),
    };
    if (execution.status === 'RUNNING') return answer;
    // Finish stores its result whether or not the job passed its threshold; Prepare's refusals and faults have none.
    const resultUri = formatS3Uri(batchBucket, resultKey(jobId));
    const result = (await objects.size(resultUri)) === undefined ? undefined : parseOrThrow(BatchResultSchema, JSON.parse(await objects.getText(resultUri)), 'batch result');
    const error = result?.error ?? (execution.status === 'SUCCEEDED' ? undefined : { code: execution.error ?? execution.status, message: execution.cause ?? `the job ended ${execution.status}` });
    return BatchJobAnswerSchema.parse({
      ...answer,
      ...(result
        ? {
            counts: result.counts,
            errorRate: result.errorRate,
            downloads: { output: await objects.presignGet(result.output, URL_TTL_SECONDS), errors: await objects.presignGet(result.errors, URL_TTL_SECONDS), expiresAt: expiresAt() },
          }
        : {}),
      ...(error ? { error } : {}),
    });
  }

  const routes = {
    /** A presigned PUT for a local input; the key names the model, the sha256 and a random part, so two uploads never collide. */
    'POST /models/{model}/batch-jobs/uploads': async (request) => {
      const model = modelOf(request);
      const { sha256, format } = parseOrThrow(BatchUploadRequestSchema, request.body, 'upload request');
      const uploadKey = `${BATCH_UPLOADS_PREFIX}${model}/${sha256}-${randomBytes(4).toString('hex')}.${extensionOf(format)}`;
      const body: BatchUploadAnswer = { uploadKey, url: await objects.presignPut(batchBucket, uploadKey, URL_TTL_SECONDS), expiresAt: expiresAt() };
      return { status: 201, body };
    },

    /** Checks everything checkable (version, input, format, output), then starts the job; a refused request starts nothing. */
    'POST /models/{model}/batch-jobs': async (request) => {
      const model = modelOf(request);
      const body = parseOrThrow(StartBatchJobRequestSchema, request.body, 'batch job request');
      const versionRef = parseVersionRef(String(body.version ?? 'production'));
      const version = await registry.resolveVersion(model, versionRef);
      if (version.status === 'REJECTED') throw new MlopsError('VERSION_REJECTED', `version ${version.version} of ${model} was rejected and cannot score`, { field: 'version' });
      const input = await inputUri(model, body.input);
      const format = formatOf(body.format, input);
      const now = clock();
      const jobId = newJobId(model, now, randomBytes(3).toString('hex'));
      const output = outputUri(body.output, jobId, format);
      const job: BatchJob = {
        jobId,
        model,
        version: version.version,
        versionRef,
        artifact: version.artifact,
        format,
        input,
        output,
        errors: errorsUriFor(output),
        bucket: batchBucket,
        maxErrorRate: body.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE,
        chunkRows: body.chunkRows ?? DEFAULT_CHUNK_ROWS,
        actor: request.actor,
        requestedAt: now.toISOString(),
      };
      // The execution's input is the job record: GET /batch-jobs/{jobId} reads it back from there.
      const { startedAt } = await stepFunctions.start(stateMachineArn, jobId, { job });
      logger.info('batch job started', { jobId, model, version: job.version, format, actor: job.actor });
      const answer: BatchJobAnswer = { jobId, status: 'RUNNING', job, startedAt };
      return { status: 202, body: answer };
    },

    'GET /batch-jobs/{jobId}': async (request) => ({ status: 200, body: await describeJob(pathParam(request.params, 'jobId', JOB_ID, 'job id')) }),
  } satisfies Record<BatchRoute, ApiRoute>;

  return apiHandler(logger, routes);
}

function awsStores(): BatchApiStores {
  return {
    registry: new RegistryStore(createDocumentClient(), requireEnv('REGISTRY_TABLE')),
    objects: new ObjectStore(createS3Client()),
    stepFunctions: new StepFunctions(createSfnClient()),
  };
}

export const handler = createHandler(awsStores(), {
  stateMachineArn: requireEnv('BATCH_STATE_MACHINE_ARN'),
  batchBucket: requireEnv('BATCH_BUCKET'),
  datasetsBucket: requireEnv('DATASETS_BUCKET'),
});
