import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { sampleDatasetRows } from '../aws/dataset-table.js';
import { DriftCheckStore } from '../aws/drift-checks.js';
import { requireEnv } from '../aws/env.js';
import { apiHandler, pathParam, type ApiRequest, type ApiRoute } from '../aws/http-api.js';
import { ObjectStore } from '../aws/object-store.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { RegistryStore } from '../aws/registry-store.js';
import { DRIFT_CHECK_ID, type DriftCheckList } from '../contract/drift.js';
import type { DriftRoute } from '../contract/routes.js';
import { parseOrThrow } from '../core/errors.js';
import { runDriftCheck, showDriftCheck, type DriftCheckSettings, type DriftCheckStores } from '../core/monitoring/drift-check.js';
import { formatS3Uri } from '../core/s3-uri.js';
import { MODEL_NAME } from '../core/training/run.js';
import { z } from 'zod';

const logger = new Logger({ serviceName: 'drift-check' });

/** How many checks `GET /models/{model}/drift-checks` lists at most (newest first). */
const DEFAULT_LIST_LIMIT = 20;
const LimitSchema = z.coerce.number().int().min(1).max(100);

const modelOf = ({ params }: ApiRequest) => pathParam(params, 'model', MODEL_NAME, 'model name');

/** DriftCheck over the stores it is given: the drift-check routes, each parse -> core/monitoring/drift-check.ts -> answer. */
export function createHandler(stores: DriftCheckStores, settings: DriftCheckSettings & { clock?: () => Date }) {
  const clock = settings.clock ?? (() => new Date());
  const routes = {
    /** Runs a check now, synchronously; refused checks leave no report and no record. */
    'POST /models/{model}/drift-checks': async (request) => {
      const model = modelOf(request);
      const answer = await runDriftCheck(stores, settings, { model, request: request.body, actor: request.actor, now: clock(), suffix: randomBytes(3).toString('hex') });
      logger.info('drift checked', { model, checkId: answer.check.checkId, version: answer.check.version, arm: answer.check.arm, status: answer.check.status, rows: answer.check.rows });
      return { status: 201, body: answer };
    },
    'GET /models/{model}/drift-checks': async (request) => {
      const model = modelOf(request);
      const limit = request.query.limit === undefined ? DEFAULT_LIST_LIMIT : parseOrThrow(z.object({ limit: LimitSchema }), { limit: request.query.limit }, 'query').limit;
      await stores.registry.getModel(model);
      const body: DriftCheckList = { model, checks: await stores.checks.list(model, limit) };
      return { status: 200, body };
    },
    'GET /models/{model}/drift-checks/{checkId}': async (request) => {
      const model = modelOf(request);
      return { status: 200, body: await showDriftCheck(stores, model, pathParam(request.params, 'checkId', DRIFT_CHECK_ID, 'check id')) };
    },
  } satisfies Record<DriftRoute, ApiRoute>;
  return apiHandler(logger, routes);
}

function awsStores(): DriftCheckStores {
  const objects = new ObjectStore(createS3Client());
  const doc = createDocumentClient();
  const registryTable = requireEnv('REGISTRY_TABLE');
  const logsBucket = requireEnv('PREDICTION_LOGS_BUCKET');
  const reportsBucket = requireEnv('REPORTS_BUCKET');
  return {
    registry: new RegistryStore(doc, registryTable),
    artifacts: objects,
    datasets: { sampleRows: (dataset, size, seed) => sampleDatasetRows(objects, dataset, size, seed) },
    onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
    logs: { list: (prefix) => objects.list(logsBucket, prefix), stream: (key) => objects.stream(formatS3Uri(logsBucket, key)) },
    reports: { put: (key, json) => objects.put(reportsBucket, key, json, 'application/json'), getText: (uri) => objects.getText(uri) },
    checks: new DriftCheckStore(doc, registryTable),
  };
}

export const handler = createHandler(awsStores(), { bufferSeconds: Number(requireEnv('LOG_BUFFER_SECONDS')) });
