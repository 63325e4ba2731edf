import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { sampleDatasetRows } from '../aws/dataset-table.js';
import { DriftCheckStore } from '../aws/drift-checks.js';
import { createCloudWatchMetrics } from '../aws/cloudwatch-monitoring.js';
import { requireEnv } from '../aws/env.js';
import { apiHandler, pathParam, type ApiRequest, type ApiRoute } from '../aws/http-api.js';
import { ObjectStore } from '../aws/object-store.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { RegistryStore } from '../aws/registry-store.js';
import { DRIFT_CHECK_ID, type DriftCheckList, type DriftCheckRecord, type DriftReportLink } from '../contract/drift.js';
import type { DriftRoute } from '../contract/routes.js';
import { parseOrThrow } from '../core/errors.js';
import { driftHtmlReport, runDriftCheck, showDriftCheck, type DriftCheckSettings, type DriftCheckStores } from '../core/monitoring/drift-check.js';
import { formatS3Uri } from '../core/s3-uri.js';
import { MODEL_NAME } from '../core/training/run.js';
import { z } from 'zod';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { runScheduledDriftCheck, type ScheduledDriftCheckEvent, type ScheduledDriftCheckOutcome } from '../core/monitoring/drift-schedule.js';
import { retrainTriggerFor } from '../core/monitoring/retraining.js';
import { createRetrainHandoff, type RetrainHandoff } from '../aws/retrain-handoff.js';
import { athenaQueries, createAthenaClient } from '../aws/athena-queries.js';
import { SQL_DIALECTS } from '../core/monitoring/drift-sql.js';

const logger = new Logger({ serviceName: 'drift-check' });

/** How many checks `GET /models/{model}/drift-checks` lists at most (newest first). */
const DEFAULT_LIST_LIMIT = 20;
const LimitSchema = z.coerce.number().int().min(1).max(100);

const modelOf = ({ params }: ApiRequest) => pathParam(params, 'model', MODEL_NAME, 'model name');

/** How long a presigned URL of an HTML report works. */
const REPORT_URL_TTL_SECONDS = 900;

/**
 * The stores of the routes: the flow's, and presigned GETs of the HTML reports (the reports bucket,
 * drift-checks/). `links` is optional only so tests of the other routes need not fake it; the
 * function always has it.
 */
export type DriftCheckHandlerStores = DriftCheckStores & {
  links?: { presignGet(uri: string, expiresInSeconds: number): Promise<string> };
  /** A check that finds drift or decay hands the model to the retraining guardrails (core/monitoring/retraining.ts retrainTriggerFor). */
  retrain?: RetrainHandoff;
};

/** The API Gateway event, as far as routing needs it (apiHandler reads the rest, each field optional). */
const ApiEventSchema = z.looseObject({ httpMethod: z.string(), resource: z.string() });

/** One function, two event kinds: API Gateway's (the drift-check routes) and a drift schedule's. */
export interface DriftCheckHandler {
  (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  (event: ScheduledDriftCheckEvent): Promise<ScheduledDriftCheckOutcome>;
  (event: unknown): Promise<APIGatewayProxyResult | ScheduledDriftCheckOutcome>;
}

/**
 * DriftCheck over the stores it is given: the drift-check routes, each parse -> core/monitoring/drift-check.ts -> answer,
 * and the scheduled check (an event with `kind`, core/monitoring/drift-schedule.ts), whose errors are rethrown so
 * Lambda's asynchronous retries run.
 */
export function createHandler(stores: DriftCheckHandlerStores, settings: DriftCheckSettings & { clock?: () => Date }): DriftCheckHandler {
  const clock = settings.clock ?? (() => new Date());
  // The check is recorded by now: a hand-over that fails is logged, never turned into a failed check
  // (an API 5xx, or a scheduled retry recording the window twice); the model's next drifted check hands it over again.
  const handOff = async (check: DriftCheckRecord) => {
    const event = retrainTriggerFor(check);
    if (!event || !stores.retrain) return;
    try {
      await stores.retrain.hand(event);
      logger.info('handed to the retraining guardrails', { model: check.model, checkId: check.checkId, trigger: event.trigger });
    } catch (error) {
      logger.error('could not hand the check to the retraining guardrails', { model: check.model, checkId: check.checkId, trigger: event.trigger, error: error as Error });
    }
  };
  const routes = {
    /** Runs a check now, synchronously; refused checks leave no report and no record. */
    'POST /models/{model}/drift-checks': async (request) => {
      const model = modelOf(request);
      const answer = await runDriftCheck(stores, settings, { model, request: request.body, actor: request.actor, now: clock(), suffix: randomBytes(3).toString('hex') });
      await handOff(answer.check);
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
    /** A presigned URL of the check's HTML report: it inlines the chart libraries (about 1 MB), so it is fetched from S3, not carried in the answer. */
    'GET /models/{model}/drift-checks/{checkId}/report': async (request) => {
      const model = modelOf(request);
      const check = await driftHtmlReport(stores, model, pathParam(request.params, 'checkId', DRIFT_CHECK_ID, 'check id'));
      if (!stores.links) throw new Error('the drift check function was created without report links (stores.links)');
      const body: DriftReportLink = {
        model,
        checkId: check.checkId,
        htmlReportUri: check.htmlReportUri,
        url: await stores.links.presignGet(check.htmlReportUri, REPORT_URL_TTL_SECONDS),
        expiresAt: new Date(clock().getTime() + REPORT_URL_TTL_SECONDS * 1000).toISOString(),
      };
      return { status: 200, body };
    },
  } satisfies Record<DriftRoute, ApiRoute>;
  const api = apiHandler(logger, routes);
  const scheduled = async (event: unknown): Promise<ScheduledDriftCheckOutcome> => {
    const outcome = await runScheduledDriftCheck(stores, settings, { event, now: clock(), suffix: randomBytes(3).toString('hex') });
    if ('check' in outcome) await handOff(outcome.check);
    if ('skipped' in outcome) logger.warn('scheduled drift check skipped', { event: event as Record<string, unknown>, reason: outcome.skipped });
    else logger.info('scheduled drift check recorded', { model: outcome.check.model, checkId: outcome.check.checkId, version: outcome.check.version, status: outcome.check.status, rows: outcome.check.rows });
    return outcome;
  };
  return (async (event: unknown) => {
    if (typeof event === 'object' && event !== null && 'kind' in event) return scheduled(event);
    return api(parseOrThrow(ApiEventSchema, event, 'API Gateway event') as unknown as APIGatewayProxyEvent);
  }) as DriftCheckHandler;
}

function awsStores(): DriftCheckHandlerStores {
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
    reports: { put: (key, text, contentType = 'application/json') => objects.put(reportsBucket, key, text, contentType), getText: (uri) => objects.getText(uri) },
    links: { presignGet: (uri, seconds) => objects.presignGet(uri, seconds) },
    checks: new DriftCheckStore(doc, registryTable),
    retrain: createRetrainHandoff(),
    metrics: createCloudWatchMetrics(),
    // The large-window path, only where the environment sets monitoring.athenaAboveBytes (lib/drift-check.ts).
    ...(athenaSettings() && {
      // Within the function's 29 s: the reference and the report need the rest.
      athena: athenaQueries(createAthenaClient(), { workGroup: requireEnv('ATHENA_WORKGROUP'), database: requireEnv('GLUE_DATABASE'), timeoutMs: 22_000 }),
    }),
  };
}

/** ATHENA_ABOVE_BYTES and ATHENA_SQL_DIALECT, set together by the construct, or neither (the path is off). */
function athenaSettings(): DriftCheckSettings['athena'] {
  if (process.env.ATHENA_ABOVE_BYTES === undefined) return undefined;
  return parseOrThrow(
    z.object({ aboveBytes: z.coerce.number().int().min(1), dialect: z.enum(SQL_DIALECTS) }),
    { aboveBytes: process.env.ATHENA_ABOVE_BYTES, dialect: process.env.ATHENA_SQL_DIALECT },
    'drift check Athena settings',
  );
}

/** The chart libraries' text, loaded on the first check of a cold start (a large string: checks only). */
let chartLibraries: Promise<string> | undefined;
const reportLibraries = () => (chartLibraries ??= import('./chart-libraries.js').then((m) => m.CHART_LIBRARIES));

const athena = athenaSettings();
export const handler = createHandler(awsStores(), { bufferSeconds: Number(requireEnv('LOG_BUFFER_SECONDS')), reportLibraries, ...(athena && { athena }) });
