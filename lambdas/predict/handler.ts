import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createDocumentClient, createS3Client, sdkFlavour } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { FirehoseSink } from '../aws/firehose-sink.js';
import { httpStatusOf, readJsonBody } from '../aws/http-api.js';
import { ObjectStore } from '../aws/object-store.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { RegistryStore } from '../aws/registry-store.js';
import { RequestIndexTable } from '../aws/request-index.js';
import type { HandOffFailures } from '../core/serving/prediction-log.js';
import type { PredictionLogRecord } from '../core/serving/records.js';
import { ROUTING_KEY_HEADER, SERVED_BY_HEADERS } from '../core/serving/routing.js';
import { MlopsError } from '../core/errors.js';
import { createServer, MAX_PREDICT_BODY_BYTES, servePrediction, type ServingStores } from '../core/serving/serve.js';
import { MODEL_NAME } from '../core/training/run.js';
import { METRICS_NAMESPACE, PREDICT_SERVICE, SERVING_METRICS } from '../core/monitoring/system-monitoring.js';

const logger = new Logger({ serviceName: 'predict' });

/** The one route this function serves; API Gateway sends it nothing else, and anything else is answered as apiHandler answers an unknown route. */
const ROUTE = { method: 'POST', resource: '/models/{model}/predict' } as const;

export interface PredictSettings {
  /** Which SDK build the function runs, reported in a header. */
  readonly sdk: string;
  /** How old a model's routing may be: the bound on how long an alias move takes to reach a warm function. */
  readonly stalenessMs: number;
  readonly clock?: () => Date;
  readonly random?: () => number;
  /** Hears each answered request of a model that exists (the serving metrics); requests naming no model, or an unknown one, are not observed (no dimension from arbitrary input). */
  readonly observe?: (observation: RequestObservation) => void;
}

/** One answered request, as the serving metrics count it. */
export interface RequestObservation {
  readonly model: string;
  /** The version and arm that served it; absent when none did. */
  readonly served?: { readonly version: number; readonly arm: string };
  /** Answered 5xx: the platform failed, not the caller. */
  readonly serverError: boolean;
  readonly latencyMs: number;
}

/** A header by name, whatever case the caller (or API Gateway) gave it. */
function headerOf(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === name && value !== undefined) return value;
  return undefined;
}

/**
 * POST /models/{model}/predict over the stores it is given: parse the path, the routing key and the
 * body, serve the request (core/serving/serve.ts), answer. Client mistakes get a 4xx JSON error, a
 * production version that cannot serve a 503. Every answer names the model, and a served one the
 * version and the arm, in headers and in the body; `sdk` is reported in a header.
 */
export function createHandler(stores: ServingStores, settings: PredictSettings) {
  const clock = settings.clock ?? (() => new Date());
  const random = settings.random ?? Math.random;
  const server = createServer(stores, { stalenessMs: settings.stalenessMs, now: () => clock().getTime() });
  const respond = (statusCode: number, body: unknown, requestId: string, served: Record<string, string> = {}): APIGatewayProxyResult => ({
    statusCode,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-mlops-sdk': settings.sdk, ...served },
    body: JSON.stringify(body),
  });
  // `field` names the input at fault (the first of `fields`), as every API's errors do.
  const error = (code: string, message: string, requestId: string, extra: { field?: string; fields?: readonly { field: string }[]; model?: string } = {}) => {
    const field = extra.field ?? extra.fields?.[0]?.field;
    const detail = { code, message, ...(field === undefined ? {} : { field }), ...(extra.fields ? { fields: extra.fields } : {}) };
    return respond(httpStatusOf(code), { error: detail, requestId }, requestId, extra.model ? { [SERVED_BY_HEADERS.model]: extra.model } : {});
  };

  const handle = async (event: APIGatewayProxyEvent, requestId: string, started: number): Promise<{ result: APIGatewayProxyResult; model?: string; served?: RequestObservation['served'] }> => {
    if (event.httpMethod !== ROUTE.method || event.resource !== ROUTE.resource) return { result: error('NOT_FOUND', `no route ${event.httpMethod} ${event.resource}`, requestId) };
    const modelName = MODEL_NAME.safeParse(event.pathParameters?.model);
    if (!modelName.success) return { result: error('MODEL_NOT_FOUND', `no model named "${(event.pathParameters?.model ?? '').slice(0, 200)}"`, requestId, { field: 'model' }) };
    const model = modelName.data;

    let body: unknown;
    try {
      body = readJsonBody(event, MAX_PREDICT_BODY_BYTES);
    } catch (refusal) {
      if (!(refusal instanceof MlopsError)) throw refusal;
      // Refused before the registry said whether the model exists: not observed.
      return { result: error(refusal.code, refusal.message, requestId, { model, ...(refusal.field === undefined ? {} : { field: refusal.field }) }) };
    }

    const routingKey = headerOf(event, ROUTING_KEY_HEADER) || undefined;
    let answer: Awaited<ReturnType<typeof servePrediction>>;
    try {
      answer = await servePrediction(server, { model, body, requestId, routingKey, now: clock, random, elapsedMs: () => performance.now() - started });
    } catch (failure) {
      // The registry could not be read (nothing else throws here): a JSON 500 quoting the request id, never a stack trace.
      logger.error('request failed', { requestId, model, error: failure as Error });
      return { result: error('INTERNAL', `internal error; quote request id ${requestId}`, requestId, { model }), model };
    }
    if (!answer.ok) {
      if (answer.code === 'MODEL_UNAVAILABLE') logger.error('production cannot serve', { requestId, model, version: answer.version, message: answer.message });
      const field = answer.code === 'MODEL_NOT_FOUND' || answer.code === 'NO_PRODUCTION_VERSION' ? 'model' : undefined;
      const result = error(answer.code, answer.message, requestId, { fields: answer.fields, model, ...(field ? { field } : {}) });
      return answer.code === 'MODEL_NOT_FOUND' ? { result } : { result, model };
    }
    logger.info('prediction served', { requestId, model, version: answer.version, arm: answer.arm, rows: answer.predictions.length, latencyMs: answer.latencyMs, logged: answer.logged });

    const single = answer.rows.length === 1 && !Array.isArray((body as { instances?: unknown }).instances);
    const served = { [SERVED_BY_HEADERS.model]: model, [SERVED_BY_HEADERS.version]: String(answer.version), [SERVED_BY_HEADERS.arm]: answer.arm };
    const result = respond(200, { model, version: answer.version, arm: answer.arm, requestId, ...(single ? { prediction: answer.predictions[0] } : { predictions: answer.predictions }) }, requestId, served);
    return { result, model, served: { version: answer.version, arm: answer.arm } };
  };

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId || randomUUID();
    const started = performance.now();
    const { result, model, served } = await handle(event, requestId, started);
    if (model !== undefined && settings.observe) {
      settings.observe({ model, ...(served ? { served } : {}), serverError: result.statusCode >= 500, latencyMs: performance.now() - started });
    }
    return result;
  };
}

/**
 * The serving metrics as EMF lines (stdout; CloudWatch Logs turns them into metrics, no call on the
 * hot path): per model, and per model, version and arm when one served. Errors is 0 or 1, so its
 * Average is the error rate the alarm reads; ColdStart is counted on an instance's first request.
 */
export function servingMetrics(metrics: Metrics): (observation: RequestObservation) => void {
  let coldStart = true;
  return (observation) => {
    metrics.addDimensions({ model: observation.model });
    if (observation.served) metrics.addDimensions({ model: observation.model, version: String(observation.served.version), arm: observation.served.arm });
    metrics.addMetric(SERVING_METRICS.invocations, MetricUnit.Count, 1);
    metrics.addMetric(SERVING_METRICS.errors, MetricUnit.Count, observation.serverError ? 1 : 0);
    metrics.addMetric(SERVING_METRICS.latency, MetricUnit.Milliseconds, observation.latencyMs);
    if (coldStart) metrics.addMetric(SERVING_METRICS.coldStarts, MetricUnit.Count, 1);
    coldStart = false;
    metrics.publishStoredMetrics();
  };
}

/** Both dimension sets carry `model`, which Powertools warns about on every request: that one warning is dropped, the others logged. */
const metricsLogger = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) => {
    if (!String(message).includes('is defined as both a dimension set and dimension set')) logger.warn(message);
  },
  error: (message: string) => logger.error(message),
};

/** A failed hand-off is a metric per model (EMF, so no extra call) and a warning; the request still answers. */
function countedFailures(metrics: Metrics): HandOffFailures {
  return {
    failed(what, model, failure) {
      logger.warn(`${what} hand-off failed`, { model, error: failure as Error });
      const metric = metrics.singleMetric();
      metric.addDimension('model', model);
      metric.addMetric(what === 'prediction-log' ? 'PredictionLogFailures' : 'RequestIndexFailures', MetricUnit.Count, 1);
    },
  };
}

/** A non-negative whole number from a required setting; anything else fails the cold start. */
function wholeNumberEnv(name: string): number {
  const value = Number(requireEnv(name));
  if (!Number.isFinite(value) || value < 0) throw new Error(`environment variable ${name} must be a non-negative number; got "${process.env[name]}"`);
  return value;
}

function awsStores(): { stores: ServingStores; sdk: string; stalenessMs: number; metrics: Metrics } {
  const doc = createDocumentClient();
  const objects = new ObjectStore(createS3Client());
  const log = new FirehoseSink<PredictionLogRecord>(new FirehoseClient({}), requireEnv('PREDICTION_LOG_STREAM'));
  const index = new RequestIndexTable(doc, requireEnv('REQUEST_INDEX_TABLE'));
  const ttlDays = wholeNumberEnv('REQUEST_INDEX_TTL_DAYS');
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: PREDICT_SERVICE, defaultDimensions: { environment: requireEnv('ENVIRONMENT_NAME') }, logger: metricsLogger });
  return {
    stores: {
      registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
      artifacts: objects,
      onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
      log,
      requestIndex: { record: (entry) => index.record(entry, ttlDays) },
      failures: countedFailures(metrics),
    },
    sdk: sdkFlavour(doc),
    stalenessMs: wholeNumberEnv('ROUTING_STALENESS_MS'),
    metrics,
  };
}

const aws = awsStores();
export const handler = createHandler(aws.stores, { sdk: aws.sdk, stalenessMs: aws.stalenessMs, observe: servingMetrics(aws.metrics) });
