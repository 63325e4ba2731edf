import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { publishAlert } from '../aws/alerts.js';
import { createDocumentClient, createS3Client, createSfnClient, createSnsClient } from '../aws/clients.js';
import { DriftCheckStore } from '../aws/drift-checks.js';
import { requireEnv } from '../aws/env.js';
import { apiHandler, pathParam, type ApiRequest, type ApiRoute } from '../aws/http-api.js';
import { ObjectStore } from '../aws/object-store.js';
import { openAlarms } from '../aws/open-alarms.js';
import { RegistryStore } from '../aws/registry-store.js';
import { RetrainLockStore, TriggerDecisionStore } from '../aws/retrain-triggers.js';
import { runStores } from '../aws/run-stores.js';
import { startTrainingRun, StepFunctions } from '../aws/step-functions.js';
import { TrackingStore } from '../aws/tracking-store.js';
import type { TriggerList } from '../contract/retraining.js';
import type { RetrainRoute } from '../contract/routes.js';
import { registerDataset } from '../core/data/register-dataset.js';
import { NotFoundError, parseOrThrow } from '../core/errors.js';
import { logDatasetBuilder, monitorModel, runRetrainTrigger, type MonitorStores, type RetrainOutcome, type RetrainStores } from '../core/monitoring/retraining.js';
import { formatS3Uri } from '../core/s3-uri.js';
import { MODEL_NAME } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'retrain-trigger' });

/** How many checks and decisions the routes list at most (newest first). */
const DEFAULT_LIST_LIMIT = 20;
const LimitSchema = z.object({ limit: z.coerce.number().int().min(1).max(100) });

const modelOf = ({ params }: ApiRequest) => pathParam(params, 'model', MODEL_NAME, 'model name');
const limitOf = ({ query }: ApiRequest) => (query.limit === undefined ? DEFAULT_LIST_LIMIT : parseOrThrow(LimitSchema, { limit: query.limit }, 'query').limit);

/** The API Gateway event, as far as routing needs it (apiHandler reads the rest). */
const ApiEventSchema = z.looseObject({ httpMethod: z.string(), resource: z.string() });

export type RetrainTriggerHandlerStores = RetrainStores & MonitorStores;

/** One function, two event kinds: API Gateway's (RETRAIN_ROUTES) and a trigger's (a retraining schedule, or DriftCheck). */
export interface RetrainTriggerHandler {
  (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  (event: unknown): Promise<APIGatewayProxyResult | RetrainOutcome>;
}

/**
 * The retraining guardrails over the stores they are given: a trigger event (`kind: retrain-trigger`)
 * goes through core/monitoring/retraining.ts, its errors rethrown so Lambda's asynchronous retries run;
 * the routes list the trigger history and what `mlops monitor` shows.
 */
export function createHandler(stores: RetrainTriggerHandlerStores, settings: { environment: string; clock?: () => Date }): RetrainTriggerHandler {
  const clock = settings.clock ?? (() => new Date());
  const routes = {
    'GET /models/{model}/triggers': async (request) => {
      const model = modelOf(request);
      const limit = limitOf(request);
      if (!(await stores.findModel(model))) throw new NotFoundError(`model ${model} does not exist`, { field: 'model' });
      const body: TriggerList = { model, triggers: await stores.decisions.list(model, limit) };
      return { status: 200, body };
    },
    'GET /models/{model}/monitor': async (request) => ({
      status: 200,
      body: await monitorModel(stores, { environment: settings.environment, model: modelOf(request), limit: limitOf(request) }),
    }),
  } satisfies Record<RetrainRoute, ApiRoute>;
  const api = apiHandler(logger, routes);
  const trigger = async (event: unknown): Promise<RetrainOutcome> => {
    const outcome = await runRetrainTrigger(stores, {
      event,
      now: clock(),
      suffix: randomBytes(3).toString('hex'),
      onNotifyFailed: (error) => logger.error('owner not notified of a retraining decision', { error: error as Error }),
    });
    if ('skipped' in outcome) logger.warn('retraining trigger skipped', { event: event as Record<string, unknown>, reason: outcome.skipped });
    else {
      const { decision } = outcome;
      logger.info('retraining trigger decided', { model: decision.model, trigger: decision.trigger, outcome: decision.outcome, reason: decision.reason, runId: decision.runId, triggerId: decision.triggerId });
    }
    return outcome;
  };
  return (async (event: unknown) => {
    if (typeof event === 'object' && event !== null && 'kind' in event) return trigger(event);
    return api(parseOrThrow(ApiEventSchema, event, 'API Gateway event') as unknown as APIGatewayProxyEvent);
  }) as RetrainTriggerHandler;
}

function awsStores(): RetrainTriggerHandlerStores {
  const doc = createDocumentClient();
  const objects = new ObjectStore(createS3Client());
  const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
  const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
  const decisions = new TriggerDecisionStore(doc, requireEnv('REGISTRY_TABLE'));
  const datasetsBucket = requireEnv('DATASETS_BUCKET');
  const logsBucket = requireEnv('PREDICTION_LOGS_BUCKET');
  const pipelineArn = requireEnv('TRAINING_PIPELINE_ARN');
  const topicArn = requireEnv('ALERT_TOPIC_ARN');
  const maxBytes = Number(requireEnv('MAX_DATASET_BYTES'));
  const stepFunctions = new StepFunctions(createSfnClient());
  const sns = createSnsClient();
  const cloudWatch = new CloudWatchClient({});
  const files = { stream: (uri: string) => objects.stream(uri), file: (uri: string) => objects.file(uri) };
  const registration = {
    versions: tracking,
    files: {
      ...files,
      delete: (uri: string) => objects.delete(uri),
      keep: (fromUri: string, key: string) => objects.copy(fromUri, datasetsBucket, key),
      putJson: (key: string, json: string) => objects.put(datasetsBucket, key, json, 'application/json'),
    },
  };
  return {
    findModel: (model) => registry.findModel(model),
    lock: new RetrainLockStore(doc, requireEnv('REGISTRY_TABLE')),
    decisions,
    lastTraining: async (model) => (await tracking.listRuns(model, 100)).find((run) => run.mode === 'train'),
    datasetVersions: (name) => tracking.listDatasetVersions(name),
    fromLogs: logDatasetBuilder(
      {
        registry,
        datasets: tracking,
        logs: { list: (prefix) => objects.list(logsBucket, prefix), stream: (key) => objects.stream(formatS3Uri(logsBucket, key)) },
        files: { ...files, putUpload: (key, bytes, contentType) => objects.put(datasetsBucket, key, bytes, contentType) },
        // Inline, through the one registration path (the data gate's format, schema and profile checks).
        register: (job) => registerDataset(registration, job, { maxBytes, now: new Date() }),
      },
      { bufferSeconds: Number(requireEnv('LOG_BUFFER_SECONDS')) },
    ),
    plan: {
      ...runStores(registry, tracking),
      readUpload: () => Promise.reject(new Error('a retraining run imports nothing')),
    },
    startRun: async (request, runId) => ({ executionArn: (await startTrainingRun(stepFunctions, pipelineArn, request, runId)).executionArn }),
    notify: (decision) =>
      publishAlert(sns, topicArn, `Retraining ${decision.outcome === 'started' ? 'started' : `suppressed (${decision.reason})`}: ${decision.model} (${decision.trigger})`, {
        kind: 'retraining-trigger',
        ...decision,
      }),
    checks: new DriftCheckStore(doc, requireEnv('REGISTRY_TABLE')),
    openAlarms: (prefix) => openAlarms(cloudWatch, prefix),
  };
}

export const handler = createHandler(awsStores(), { environment: requireEnv('ENVIRONMENT_NAME') });
