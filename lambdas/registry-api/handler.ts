import { Logger } from '@aws-lambda-powertools/logger';
import { SendTaskFailureCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import { createDocumentClient, createSfnClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { apiHandler, type ApiRequest, type ApiRoute } from '../aws/http-api.js';
import { RegistryStore } from '../aws/registry-store.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { checkExpected, checkPromotable, parseAliasName, parseWeight, REGISTRY_ERROR_STATUS, type Decision } from '../core/registry/alias-rules.js';
import { MlopsError, parseOrThrow } from '../core/errors.js';
import { movesOf } from '../core/registry/lineage.js';
import { DecisionRequestSchema, parseVersionNumber, parseVersionRef, PromoteRequestSchema, RollbackRequestSchema } from '../core/registry/requests.js';
import type { VersionLineage } from '../core/registry/records.js';
import { MODEL_NAME, newRunId, type TrainingRequest } from '../core/training/run.js';
import { DATASET_NAME, DATASET_VERSION } from '../core/data/dataset-version.js';

const logger = new Logger({ serviceName: 'registry-api' });
const doc = createDocumentClient();
const sfn = createSfnClient();
const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
const TRAINING_PIPELINE_ARN = requireEnv('TRAINING_PIPELINE_ARN');

const modelOf = ({ params }: ApiRequest) => parseOrThrow(MODEL_NAME, params.model ?? '', 'model name');

/** Approve or reject: the registry records who and why, then the waiting release resumes or stops. */
async function decide(request: ApiRequest, decision: Decision) {
  const model = modelOf(request);
  const { reason } = parseOrThrow(DecisionRequestSchema, request.body, `${decision} request`);
  const { version, taskToken } = await registry.decide({ model, version: parseVersionNumber(request.params.version), decision, actor: request.actor, reason });
  if (taskToken) {
    if (decision === 'approve') await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approvedBy: request.actor, reason }) }));
    else await sfn.send(new SendTaskFailureCommand({ taskToken, error: 'ApprovalRejected', cause: `rejected by ${request.actor}: ${reason}` }));
  }
  logger.info('approval decided', { model, version: version.version, decision, actor: request.actor });
  return { status: 200, body: { status: version.status, version } };
}

const routes: Record<string, ApiRoute> = {
  'GET /models': async () => ({ status: 200, body: { models: await registry.listModels() } }),

  'GET /models/{model}': async (request) => {
    const name = modelOf(request);
    const [model, aliases, versions] = await Promise.all([registry.getModel(name), registry.listAliases(name), registry.listVersions(name)]);
    return { status: 200, body: { name, spec: model.spec, latestVersion: model.latestVersion, createdAt: model.createdAt, updatedAt: model.updatedAt, aliases, versions } };
  },

  'GET /models/{model}/versions/{version}': async (request) => ({
    status: 200,
    body: await registry.resolveVersion(modelOf(request), parseVersionRef(request.params.version)),
  }),

  /**
   * Production: starts the release path (gate against production, approval where required, then
   * one conditional move) and answers 202 with the run. Other aliases move at once.
   */
  'POST /models/{model}/aliases/{alias}': async (request) => {
    const model = modelOf(request);
    const alias = parseAliasName(request.params.alias ?? '');
    const body = parseOrThrow(PromoteRequestSchema, request.body, 'promotion request');
    const reason = body.reason ?? `${alias} moved to version ${body.version} through the API`;
    if (alias !== 'production') {
      const moved = await registry.moveAlias({ model, alias, version: body.version, expectedVersion: body.expectedVersion, weight: body.weight, actor: request.actor, reason });
      return { status: 200, body: { status: 'MOVED', ...moved } };
    }
    // Everything that can be refused now is, so a doomed promotion starts nothing.
    const version = await registry.getVersion(model, body.version);
    checkPromotable(version, alias);
    parseWeight(alias, body.weight);
    const current = await registry.findAlias(model, 'production');
    if (current?.version === version.version) {
      throw new MlopsError('ALREADY_IN_ALIAS', `production already points at version ${version.version} of ${model}`, { field: 'version' });
    }
    checkExpected('production', current?.version ?? null, body.expectedVersion);
    const runId = newRunId(model, new Date(), randomBytes(3).toString('hex'));
    const input: TrainingRequest = {
      model,
      dataset: { name: version.dataset.name, version: version.dataset.version },
      mode: 'promote',
      trigger: 'promote',
      actor: request.actor,
      promotion: { version: version.version, reason, ...(body.expectedVersion === undefined ? {} : { expectedVersion: body.expectedVersion }) },
    };
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: TRAINING_PIPELINE_ARN, name: runId, input: JSON.stringify(input) }));
    logger.info('promotion started', { model, version: version.version, runId, actor: request.actor });
    return { status: 202, body: { status: 'RUNNING', runId, executionArn, version: version.version, expectedVersion: body.expectedVersion ?? null } };
  },

  'POST /models/{model}/rollback': async (request) => {
    const model = modelOf(request);
    const body = parseOrThrow(RollbackRequestSchema, request.body, 'rollback request');
    const result = await registry.rollback({ model, actor: request.actor, reason: body.reason ?? 'rolled back through the API', expectedVersion: body.expectedVersion });
    return { status: 200, body: { status: 'ROLLED_BACK', ...result } };
  },

  'POST /models/{model}/versions/{version}/approve': (request) => decide(request, 'approve'),
  'POST /models/{model}/versions/{version}/reject': (request) => decide(request, 'reject'),

  'GET /models/{model}/versions/{version}/lineage': async (request) => {
    const model = modelOf(request);
    const version = await registry.resolveVersion(model, parseVersionRef(request.params.version));
    const [run, dataset, aliases, events] = await Promise.all([
      tracking.findRun(version.runId),
      tracking.findDatasetVersion(version.dataset.name, version.dataset.version),
      registry.listAliases(model),
      registry.listAudit(model),
    ]);
    const lineage: VersionLineage = {
      model,
      version: version.version,
      status: version.status,
      dataset: { ...version.dataset, ...(dataset ? { rowCount: dataset.rowCount, arrivedAt: dataset.arrivedAt } : {}) },
      run: run
        ? {
            runId: run.runId,
            trigger: run.trigger,
            actor: run.actor,
            codeVersion: run.codeVersion,
            specHash: run.specHash,
            algorithm: run.algorithm,
            parameters: run.parameters,
            seed: run.seed,
            metrics: run.metrics ?? {},
            startedAt: run.startedAt,
            endedAt: run.endedAt ?? null,
            executionArn: run.executionArn,
          }
        : null,
      artifact: version.artifact,
      gateReportUri: version.gateReportUri,
      ...(version.approval ? { approval: version.approval } : {}),
      ...(version.promotedFrom ? { promotedFrom: version.promotedFrom } : {}),
      aliases: aliases.filter((alias) => alias.version === version.version).map((alias) => ({ alias: alias.alias, weight: alias.weight, since: alias.updatedAt, by: alias.updatedBy })),
      moves: movesOf(events, version.version),
    };
    return { status: 200, body: lineage };
  },

  'GET /models/{model}/audit': async (request) => {
    const model = modelOf(request);
    await registry.getModel(model);
    return { status: 200, body: { events: await registry.listAudit(model) } };
  },

  'GET /datasets/{name}/versions/{version}/lineage': async ({ params }) => {
    const name = parseOrThrow(DATASET_NAME, params.name ?? '', 'dataset name');
    const version = params.version === 'latest' ? undefined : parseOrThrow(DATASET_VERSION, params.version ?? '', 'dataset version');
    const dataset = await tracking.getDatasetVersion(name, version);
    return { status: 200, body: await registry.datasetLineage(name, dataset.version) };
  },
};

/** The registry HTTP API: IAM-authorized routes over the registry store and the release path. */
export const handler = apiHandler(logger, routes, REGISTRY_ERROR_STATUS);
