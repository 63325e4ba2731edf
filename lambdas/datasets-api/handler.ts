import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { createDocumentClient, createS3Client, createSfnClient } from '../aws/clients.js';
import { apiHandler, pathParam, type ApiRoute } from '../aws/http-api.js';
import { requireEnv } from '../aws/env.js';
import { StepFunctions } from '../aws/step-functions.js';
import type { DatasetRoute } from '../contract/routes.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { TrackingStore } from '../aws/tracking-store.js';
import {
  RegisterRequestSchema,
  UPLOAD_PART_BYTES,
  uploadKeyPrefix,
  UploadRequestSchema,
  ValidateRequestSchema,
  type RegistrationJob,
} from '../core/data/dataset-api.js';
import { DataValidationError, InputValidationError, MlopsError, NotFoundError, parseOrThrow } from '../core/errors.js';
import { DatasetProfileSchema } from '../core/data/profile.js';
import { failureReason } from '../core/training/run.js';
import { DATASET_NAME, DATASET_VERSION } from '../core/data/dataset-version.js';
import { formatS3Uri } from '../core/s3-uri.js';
import type { Reports } from '../core/stores.js';
import { validateDatasetVersion } from '../core/data/validate-version.js';
import { buildDatasetFromLogs } from '../core/data/dataset-from-logs.js';
import type { LogObjects } from '../core/serving/rollout-evidence.js';
import { MODEL_NAME } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'datasets-api' });
const UPLOAD_URL_TTL_SECONDS = 3600;

class PayloadTooLargeError extends MlopsError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message, { field: 'bytes' });
    this.name = 'PayloadTooLargeError';
  }
}

interface Request {
  readonly name: string;
  readonly version: string | undefined;
  readonly params: Record<string, string | undefined>;
  readonly body: unknown;
  readonly actor: string;
}
type Route = (request: Request) => Promise<{ status: number; body: unknown }>;

/** What the datasets API reads and writes: the adapters in production, memory in the unit tests. */
export interface DatasetsApiStores {
  readonly tracking: Pick<TrackingStore, 'listDatasets' | 'listDatasetVersions' | 'getDatasetVersion' | 'findDatasetVersion'>;
  /** The model's spec, and its versions: the data gate judges missing rates against a trained version's dataset. */
  readonly registry: Pick<RegistryStore, 'getModel' | 'findAlias' | 'getVersion' | 'listVersions'>;
  /** The datasets bucket's uploads and objects. */
  readonly objects: Pick<ObjectStore, 'getText' | 'size' | 'delete' | 'presignUpload' | 'completeUpload' | 'stream' | 'file' | 'put'>;
  /** The prediction-logs bucket, read by `from-logs` builds. */
  readonly logs: LogObjects;
  /** Validation reports (the reports bucket). */
  readonly reports: Pick<Reports, 'put'>;
  readonly stepFunctions: Pick<StepFunctions, 'start' | 'describe'>;
}

export interface DatasetsApiSettings {
  readonly datasetsBucket: string;
  readonly registrationStateMachineArn: string;
  readonly maxDatasetBytes: number;
  /** The log's delivery buffer (LOG_BUFFER_SECONDS): a from-logs window ending now ends this long before now. */
  readonly logBufferSeconds: number;
}

/**
 * The datasets HTTP API over the stores it is given: one function behind IAM-authorized routes,
 * thin over the tracking store, S3 and the registration state machine. Client mistakes get a 4xx
 * JSON error with a code.
 */
export function createHandler(stores: DatasetsApiStores, settings: DatasetsApiSettings) {
  const { tracking, registry, objects, stepFunctions } = stores;
  const { datasetsBucket: DATASETS_BUCKET, registrationStateMachineArn: REGISTRATION_STATE_MACHINE_ARN, maxDatasetBytes: MAX_DATASET_BYTES } = settings;

  /** Starts the registration state machine on a job; answers the registration id the client polls. */
  async function startRegistration(job: RegistrationJob): Promise<string> {
    // Step Functions execution names stop at 80 characters: a 63-character name leaves room for 8 + 6.
    const registrationId = `${job.name}-${job.sha256.slice(0, 8)}-${randomBytes(3).toString('hex')}`;
    await stepFunctions.start(REGISTRATION_STATE_MACHINE_ARN, registrationId, job);
    return registrationId;
  }

  /** `latest` or a sha256. */
  async function findVersion(name: string, version: string | undefined) {
    return tracking.getDatasetVersion(name, version === 'latest' ? undefined : version);
  }

  const routes = {
    'GET /datasets': async () => ({ status: 200, body: { datasets: await tracking.listDatasets() } }),

    'GET /datasets/{name}/versions': async ({ name }) => ({ status: 200, body: { versions: await tracking.listDatasetVersions(name) } }),

    'GET /datasets/{name}/versions/{version}': async ({ name, version }) => ({ status: 200, body: await findVersion(name, version) }),

    'GET /datasets/{name}/versions/{version}/profile': async ({ name, version }) => {
      const dataset = await findVersion(name, version);
      const profile = parseOrThrow(DatasetProfileSchema, JSON.parse(await objects.getText(dataset.profileUri)), 'stored profile');
      return { status: 200, body: { name: dataset.name, version: dataset.version, profileUri: dataset.profileUri, profile } };
    },

    /** Step 1 of 3: the same bytes already registered answer at once; otherwise presigned part URLs. */
    'POST /datasets/{name}/uploads': async ({ name, body }) => {
      const request = parseOrThrow(UploadRequestSchema, body, 'upload request');
      if (request.bytes === 0) throw new DataValidationError('the file is empty: expected a header row and data rows', { field: 'bytes' });
      if (request.bytes > MAX_DATASET_BYTES) {
        throw new PayloadTooLargeError(`the file is ${request.bytes} bytes; this environment accepts at most ${MAX_DATASET_BYTES} (maxDatasetBytes in cdk.json)`);
      }
      const existing = await tracking.findDatasetVersion(name, request.sha256);
      if (existing) return { status: 200, body: { status: 'EXISTS', dataset: existing } };
      const uploadKey = `${uploadKeyPrefix(name)}${request.sha256}-${randomBytes(4).toString('hex')}`;
      const parts = Math.max(1, Math.ceil(request.bytes / UPLOAD_PART_BYTES));
      const { uploadId, urls } = await objects.presignUpload(DATASETS_BUCKET, uploadKey, parts, UPLOAD_URL_TTL_SECONDS);
      return {
        status: 201,
        body: {
          status: 'UPLOAD',
          uploadId,
          uploadKey,
          partBytes: UPLOAD_PART_BYTES,
          parts: urls.map((url, i) => ({ partNumber: i + 1, url })),
          expiresAt: new Date(Date.now() + UPLOAD_URL_TTL_SECONDS * 1000).toISOString(),
        },
      };
    },

    /** Step 3 of 3: completes the upload and starts the registration; poll the registration for the outcome. */
    'POST /datasets/{name}/versions': async ({ name, body, actor }) => {
      const request = parseOrThrow(RegisterRequestSchema, body, 'registration request');
      if (!request.uploadKey.startsWith(uploadKeyPrefix(name))) {
        throw new InputValidationError(`uploadKey must be one this API issued for dataset "${name}"`, { field: 'uploadKey' });
      }
      try {
        await objects.completeUpload(DATASETS_BUCKET, request.uploadKey, request.uploadId, request.parts);
      } catch (error) {
        if (error instanceof MlopsError || !(error as { $metadata?: unknown }).$metadata) throw error;
        throw new InputValidationError(`the upload cannot be completed: ${(error as Error).message}`, { field: 'parts', cause: error });
      }
      const uploadUri = formatS3Uri(DATASETS_BUCKET, request.uploadKey);
      const size = await objects.size(uploadUri);
      if (size !== request.bytes) {
        await objects.delete(uploadUri);
        throw new InputValidationError(`the upload has ${size ?? 0} bytes, not the ${request.bytes} announced`, { field: 'bytes' });
      }
      const job: RegistrationJob = {
        name,
        uploadUri,
        sha256: request.sha256,
        bytes: request.bytes,
        format: request.format,
        ...(request.schema ? { schema: request.schema } : {}),
        ...(request.target !== undefined ? { target: request.target } : {}),
        owner: request.owner ?? actor,
        source: request.source ?? 'upload',
      };
      const registrationId = await startRegistration(job);
      return { status: 202, body: { status: 'RUNNING', registrationId } };
    },

    /** A version from the prediction log joined with feedback; registered by the same state machine as an upload (poll the registration). */
    'POST /models/{model}/datasets/from-logs': async ({ params, body, actor }) => {
      const model = pathParam(params, 'model', MODEL_NAME, 'model name');
      const answer = await buildDatasetFromLogs(
        {
          registry,
          datasets: tracking,
          logs: stores.logs,
          files: {
            stream: (uri) => objects.stream(uri),
            file: (uri) => objects.file(uri),
            putUpload: (key, bytes, contentType) => objects.put(DATASETS_BUCKET, key, bytes, contentType),
          },
          register: async (job) => ({ status: 'RUNNING', registrationId: await startRegistration(job) }),
        },
        { bufferSeconds: settings.logBufferSeconds },
        { model, request: body ?? {}, actor, now: new Date(), suffix: randomBytes(3).toString('hex') },
      );
      return { status: answer.status === 'EXISTS' ? 200 : 202, body: answer };
    },

    'GET /datasets/{name}/registrations/{registrationId}': async ({ name, params }) => {
      const registrationId = params.registrationId ?? '';
      if (!registrationId.startsWith(`${name}-`)) throw new NotFoundError(`no registration ${registrationId} for dataset "${name}"`, { field: 'registrationId' });
      let execution;
      try {
        execution = await stepFunctions.describe(StepFunctions.executionArn(REGISTRATION_STATE_MACHINE_ARN, registrationId));
      } catch (error) {
        if (error instanceof NotFoundError) {
          throw new NotFoundError(`no registration ${registrationId} for dataset "${name}"`, { field: 'registrationId', cause: error });
        }
        throw error;
      }
      if (execution.status === 'RUNNING') return { status: 200, body: { registrationId, status: 'RUNNING' } };
      if (execution.status === 'SUCCEEDED') {
        const output = JSON.parse(execution.output ?? '{}') as { version?: string; created?: boolean };
        const dataset = await tracking.getDatasetVersion(name, output.version);
        return { status: 200, body: { registrationId, status: 'SUCCEEDED', created: output.created === true, dataset } };
      }
      return { status: 200, body: { registrationId, status: 'FAILED', error: registrationError(execution.error, execution.cause) } };
    },

    /** The data validation gate on its own: judges a version for a model and stores the report, without quarantining. */
    'POST /datasets/{name}/versions/{version}/validate': async ({ name, version, body }) => {
      const { model } = parseOrThrow(ValidateRequestSchema, body, 'validate request');
      const { spec } = await registry.getModel(model);
      const dataset = await findVersion(name, version);
      const at = new Date().toISOString().replace(/[-:.]/g, '');
      const { report, reportUri } = await validateDatasetVersion({ objects, reports: stores.reports, registry, datasets: tracking }, {
        dataset,
        spec,
        reportKey: `validation/${model}/adhoc/${name}-${dataset.version.slice(0, 12)}-${at}.json`,
        context: { trigger: 'manual' },
        now: new Date(),
      });
      return { status: 200, body: { model, dataset: { name, version: dataset.version }, reportUri, ...report } };
    },
  } satisfies Record<DatasetRoute, Route>;

  return apiHandler(logger, Object.fromEntries(Object.entries(routes).map(([key, route]) => [key, withDataset(route)])));
}

/**
 * A failed registration's error as the API reports it. A rejected file ends in the Rejected
 * state, whose error is a platform code; anything else (a crash, a timeout) is REGISTRATION_FAILED.
 */
function registrationError(error: string | undefined, cause: string | undefined): { code: string; message: string } {
  if (error && /^[A-Z][A-Z_]+$/.test(error)) return { code: error, message: cause ?? error };
  return { code: 'REGISTRATION_FAILED', message: failureReason(cause, error ?? 'registration failed') };
}

/** Routes see the dataset name and version already checked. */
const withDataset =
  (route: Route): ApiRoute =>
  async ({ params, body, actor }) => {
    const name = params.name === undefined ? '' : pathParam(params, 'name', DATASET_NAME, 'dataset name');
    const version = params.version === undefined || params.version === 'latest' ? params.version : pathParam(params, 'version', DATASET_VERSION, 'dataset version');
    return route({ name, version, params, body, actor });
  };

function awsStores(): DatasetsApiStores {
  const doc = createDocumentClient();
  const objects = new ObjectStore(createS3Client());
  const reportsBucket = requireEnv('REPORTS_BUCKET');
  const logsBucket = requireEnv('PREDICTION_LOGS_BUCKET');
  return {
    tracking: new TrackingStore(doc, requireEnv('TRACKING_TABLE')),
    registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
    objects,
    reports: { put: (key, json) => objects.put(reportsBucket, key, json, 'application/json') },
    stepFunctions: new StepFunctions(createSfnClient()),
    logs: { list: (prefix) => objects.list(logsBucket, prefix), stream: (key) => objects.stream(formatS3Uri(logsBucket, key)) },
  };
}

export const handler = createHandler(awsStores(), {
  datasetsBucket: requireEnv('DATASETS_BUCKET'),
  registrationStateMachineArn: requireEnv('REGISTRATION_STATE_MACHINE_ARN'),
  maxDatasetBytes: Number(requireEnv('MAX_DATASET_BYTES')),
  logBufferSeconds: Number(requireEnv('LOG_BUFFER_SECONDS')),
});
