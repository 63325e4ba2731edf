import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createDocumentClient, createS3Client, sdkFlavour } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { RegistryStore } from '../aws/registry-store.js';
import { cachedModelFiles, servePrediction, type ServingStores } from '../core/serving/serve.js';
import { MODEL_NAME } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'predict' });

/** Every refusal is the caller's: an unknown model or one without production is 404, a body that does not fit the model 400. */
const STATUS_BY_CODE = { MODEL_NOT_FOUND: 404, NO_PRODUCTION_VERSION: 404, INVALID_REQUEST: 400, INVALID_JSON: 400 } as const;

/**
 * POST /models/{model}/predict over the stores it is given: parse the path and body, serve the
 * request from the production version (core/serving/serve.ts), answer. Client mistakes get a 4xx
 * JSON error; `sdk` is reported in a header (which SDK build the function runs).
 */
export function createHandler(stores: ServingStores, settings: { sdk: string; clock?: () => Date }) {
  const clock = settings.clock ?? (() => new Date());
  const modelFile = cachedModelFiles(stores.artifacts);
  const respond = (statusCode: number, body: unknown, requestId: string): APIGatewayProxyResult => ({
    statusCode,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-mlops-sdk': settings.sdk },
    body: JSON.stringify(body),
  });
  const error = (code: keyof typeof STATUS_BY_CODE, message: string, requestId: string, fields?: unknown) =>
    respond(STATUS_BY_CODE[code], { error: { code, message, ...(fields ? { fields } : {}) }, requestId }, requestId);

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId || randomUUID();
    const started = performance.now();
    const modelName = MODEL_NAME.safeParse(event.pathParameters?.model);
    if (!modelName.success) return error('MODEL_NOT_FOUND', `no model named "${event.pathParameters?.model ?? ''}"`, requestId);
    const model = modelName.data;

    let body: unknown;
    try {
      body = JSON.parse(event.body ?? '');
    } catch {
      return error('INVALID_JSON', 'the request body is not valid JSON', requestId);
    }

    const answer = await servePrediction({ ...stores, modelFile }, { model, body, requestId, now: clock, elapsedMs: () => performance.now() - started });
    if (!answer.ok) return error(answer.code, answer.message, requestId, answer.fields);
    logger.info('prediction served', { requestId, model, version: answer.version, rows: answer.predictions.length, latencyMs: answer.latencyMs });

    const single = answer.rows.length === 1 && !Array.isArray((body as { instances?: unknown }).instances);
    return respond(200, { model, version: answer.version, requestId, ...(single ? { prediction: answer.predictions[0] } : { predictions: answer.predictions }) }, requestId);
  };
}

function awsStores(): { stores: ServingStores; sdk: string } {
  const doc = createDocumentClient();
  const objects = new ObjectStore(createS3Client());
  const logsBucket = requireEnv('PREDICTION_LOGS_BUCKET');
  return {
    stores: {
      registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
      artifacts: objects,
      onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
      logs: { put: (key, json) => objects.put(logsBucket, key, json, 'application/json') },
    },
    sdk: sdkFlavour(doc),
  };
}

const aws = awsStores();
export const handler = createHandler(aws.stores, { sdk: aws.sdk });
