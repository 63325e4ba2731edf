import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createDocumentClient, createS3Client, sdkFlavour } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { onnxScorer } from '../aws/onnx-sessions.js';
import { featureMatrix } from '../core/training/imported-model.js';
import { loadModelFile, type ModelFile } from '../core/serving/model-file.js';
import { predict, toPrediction, validatePredictionRequest, validateRequestFor, type CheckedRequest, type Prediction } from '../core/serving/predict.js';
import { MODEL_NAME, type ArtifactRef } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'predict' });
const doc = createDocumentClient();
const s3 = createS3Client();
const objects = new ObjectStore(s3);
const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
const PREDICTION_LOGS_BUCKET = requireEnv('PREDICTION_LOGS_BUCKET');
const SDK = sdkFlavour(doc);

/** Model files are immutable per version, so a warm function keeps each one it has loaded. */
const modelFiles = new Map<string, ModelFile>();

function respond(statusCode: number, body: unknown, requestId: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-mlops-sdk': SDK },
    body: JSON.stringify(body),
  };
}

const error = (statusCode: number, code: string, message: string, requestId: string, fields?: unknown) =>
  respond(statusCode, { error: { code, message, ...(fields ? { fields } : {}) }, requestId }, requestId);

async function cachedModelFile(artifact: ArtifactRef): Promise<ModelFile> {
  const cached = modelFiles.get(artifact.sha256);
  if (cached) return cached;
  const file = await loadModelFile(objects, artifact);
  modelFiles.set(artifact.sha256, file);
  return file;
}

/** Checks the request against the model's features and scores it: built-in models in-process, imported ones with onnxruntime. */
async function score(file: ModelFile, body: unknown): Promise<{ checked: CheckedRequest; predictions: Prediction[] }> {
  if (file.kind === 'builtin') {
    const checked = validatePredictionRequest(file.artifact, body);
    return { checked, predictions: checked.ok ? checked.rows.map((row) => predict(file.artifact, row)) : [] };
  }
  const { manifest } = file;
  const checked = validateRequestFor(manifest, manifest.features.map((name) => ({ name, type: 'numeric' as const, nullable: false })), body);
  if (!checked.ok) return { checked, predictions: [] };
  const rows = featureMatrix(manifest.features, (row, feature) => checked.rows[row]![feature], checked.rows.map((_, i) => i), (row) => `instance ${row + 1}`);
  const { scores } = await onnxScorer(objects, manifest.onnx, manifest.task, manifest)(rows, checked.rows.length, manifest.features.length, manifest.classes?.length ?? 1);
  return { checked, predictions: scores.map((out) => toPrediction(manifest.task, manifest.classes, out)) };
}

/**
 * POST /models/{model}/predict: resolves the model's production alias on every request (so an
 * alias move or rollback takes effect at once), validates the body against the model's
 * features, predicts, and logs the prediction. Client mistakes get a 4xx JSON error.
 */
export const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const requestId = event.requestContext?.requestId || randomUUID();
  const started = performance.now();
  const modelName = MODEL_NAME.safeParse(event.pathParameters?.model);
  if (!modelName.success) {
    return error(404, 'MODEL_NOT_FOUND', `no model named "${event.pathParameters?.model ?? ''}"`, requestId);
  }
  const model = modelName.data;

  let body: unknown;
  try {
    body = JSON.parse(event.body ?? '');
  } catch {
    return error(400, 'INVALID_JSON', 'the request body is not valid JSON', requestId);
  }

  const alias = await registry.findAlias(model, 'production');
  if (!alias) {
    const exists = await registry.findModel(model);
    return exists
      ? error(404, 'NO_PRODUCTION_VERSION', `model "${model}" has no production version yet`, requestId)
      : error(404, 'MODEL_NOT_FOUND', `no model named "${model}"`, requestId);
  }
  const version = await registry.getVersion(model, alias.version);
  const { checked, predictions } = await score(await cachedModelFile(version.artifact), body);
  if (!checked.ok) {
    const summary = checked.errors.map((e) => `${e.field}: ${e.problem}`).join('; ');
    return error(400, 'INVALID_REQUEST', `the request does not match model ${model}'s features: ${summary}`, requestId, checked.errors);
  }
  const latencyMs = Math.round((performance.now() - started) * 1000) / 1000;

  const now = new Date();
  await objects.put(
    PREDICTION_LOGS_BUCKET,
    `predictions/model=${model}/date=${now.toISOString().slice(0, 10)}/${requestId}.json`,
    JSON.stringify({ requestId, model, version: alias.version, arm: 'production', at: now.toISOString(), inputs: checked.rows, outputs: predictions, latencyMs }),
    'application/json',
  );
  logger.info('prediction served', { requestId, model, version: alias.version, rows: predictions.length, latencyMs });

  const single = checked.rows.length === 1 && !Array.isArray((body as { instances?: unknown }).instances);
  return respond(
    200,
    {
      model,
      version: alias.version,
      requestId,
      ...(single ? { prediction: predictions[0] } : { predictions }),
    },
    requestId,
  );
};
