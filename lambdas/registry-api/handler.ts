import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { createDocumentClient, createS3Client, createSfnClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { createModelSchedules } from '../aws/model-schedules.js';
import { createModelMonitoring } from '../aws/cloudwatch-monitoring.js';
import { apiHandler, pathParam, type ApiRequest, type ApiRoute } from '../aws/http-api.js';
import { ObjectStore } from '../aws/object-store.js';
import type { GateReportAnswer, ModelDetail, PromoteAnswer, PutModelAnswer, RollbackAnswer, RolloutAbortAnswer, RolloutStartAnswer, RolloutStatus } from '../contract/registry.js';
import type { RegistryRoute } from '../contract/routes.js';
import { PipelineReleaseTasks } from '../aws/release-tasks.js';
import { RegistryStore } from '../aws/registry-store.js';
import { DriftCheckStore } from '../aws/drift-checks.js';
import type { EventsAnswer } from '../contract/events.js';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../core/environments.js';
import { listEvents } from '../core/registry/registry-events.js';
import { z } from 'zod';
import { startTrainingRun, StepFunctions } from '../aws/step-functions.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { checkExpected, parseAliasName, type Decision } from '../core/registry/alias-rules.js';
import { RolloutAbortRequestSchema, RolloutStartRequestSchema, startRollout, stepsDone, stopRollout, type RolloutExecutions } from '../core/registry/rollout.js';
import { planPromotion } from '../core/registry/promotion.js';
import { NotFoundError, parseOrThrow } from '../core/errors.js';
import { decideApproval, type ApprovalRecords, type ReleaseTasks } from '../core/registry/approval.js';
import { versionLineage } from '../core/registry/lineage.js';
import { putModelSpec } from '../core/registry/model-specs.js';
import type { ModelSchedules } from '../core/monitoring/model-schedules.js';
import type { ModelMonitoring } from '../core/monitoring/system-monitoring.js';
import { StoredGateReportSchema } from '../core/evaluation/gate-report.js';
import { DecisionRequestSchema, parseVersionNumber, parseVersionRef, PromoteRequestSchema, RollbackRequestSchema } from '../core/registry/requests.js';
import { MODEL_NAME, newRunId, type TrainingRequest } from '../core/training/run.js';
import { DATASET_NAME, DATASET_VERSION } from '../core/data/dataset-version.js';

const logger = new Logger({ serviceName: 'registry-api' });

/** What the registry API reads and writes: the adapters in production, memory in the unit tests. */
export interface RegistryApiStores {
  readonly registry: ApprovalRecords &
    Pick<
      RegistryStore,
      | 'listModels'
      | 'getModel'
      | 'findModel'
      | 'listAliases'
      | 'listVersions'
      | 'putModel'
      | 'resolveVersion'
      | 'getVersion'
      | 'findAlias'
      | 'moveAlias'
      | 'rollback'
      | 'listAudit'
      | 'datasetLineage'
      | 'findRollout'
      | 'changeRollout'
    >;
  readonly tracking: Pick<TrackingStore, 'getDatasetVersion' | 'findRun' | 'findDatasetVersion'>;
  /** Gate reports by URI. */
  readonly objects: Pick<ObjectStore, 'getText'>;
  /** Starts a run of the training pipeline (a release, here). */
  readonly pipeline: { start(input: TrainingRequest): Promise<{ runId: string; executionArn: string }> };
  readonly releaseTasks: ReleaseTasks;
  /** The rollout state machine's executions (and the release runs a rollout waits on). */
  readonly rollouts: RolloutExecutions;
  /** Each model's drift and retraining schedules, put or removed with its spec (`monitoring.schedule`, `schedule`). */
  readonly schedules: ModelSchedules;
  /** Each model's CloudWatch dashboard and alarms, written with its spec. */
  readonly monitoring?: ModelMonitoring;
  /** Drift checks, read by `GET /events` (their verdicts are events). */
  readonly driftChecks: Pick<DriftCheckStore, 'listChecksFrom'>;
  /** The environment named in the events (ENVIRONMENT_NAME). */
  readonly environment: EnvironmentName;
  /** Fresh ids for a rollout and its two release runs. */
  readonly newIds?: (model: string, now: Date) => { rolloutId: string; gateRunId: string; promoteRunId: string };
}

/** A rollout's id names its execution; its gate and promotion runs are release-path runs with run ids of their own. */
function rolloutIds(model: string, now: Date) {
  // Execution names are at most 80 characters: the model is cut to 40 (newRunId's shape otherwise).
  const base = newRunId(model.slice(0, 40), now, randomBytes(3).toString('hex'));
  return { rolloutId: `${base}-rollout`, gateRunId: `${base}-gate`, promoteRunId: `${base}-promote` };
}

/** `GET /events`: whose events, after which cursor (or ISO time), how many at most. */
const EventsQuerySchema = z
  .object({
    model: MODEL_NAME.optional(),
    after: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z(#.+)?$/, 'must be an ISO time in UTC (2026-12-06T08:00:00.000Z) or the cursor of an earlier answer')
      .optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const modelOf = ({ params }: ApiRequest) => pathParam(params, 'model', MODEL_NAME, 'model name');

/**
 * The registry HTTP API over the stores it is given: IAM-authorized routes over the registry
 * store and the release path.
 */
export function createHandler(stores: RegistryApiStores) {
  const { registry, tracking, objects, pipeline, releaseTasks } = stores;
  const rolloutStores = { registry, executions: stores.rollouts };
  const newIds = stores.newIds ?? rolloutIds;

  /**
   * Approve or reject: the release and the registry's record are kept in step (see decideApproval:
   * a rejection is recorded first, an approval resumes the release first).
   */
  async function decide(request: ApiRequest, decision: Decision) {
    const model = modelOf(request);
    const { reason } = parseOrThrow(DecisionRequestSchema, request.body, `${decision} request`);
    const result = await decideApproval(
      registry,
      releaseTasks,
      { model, version: parseVersionNumber(request.params.version), decision, actor: request.actor, reason, now: new Date() },
      logger,
    );
    logger.info('approval decided', { model, version: result.version.version, decision, actor: request.actor, release: result.release, recorded: result.recorded });
    return { status: 200, body: { status: result.version.status, version: result.version, release: result.release } };
  }

  const routes = {
    'GET /models': async () => ({ status: 200, body: { models: await registry.listModels() } }),

    'GET /models/{model}': async (request) => {
      const name = modelOf(request);
      const [model, aliases, versions] = await Promise.all([registry.getModel(name), registry.listAliases(name), registry.listVersions(name)]);
      const body: ModelDetail = { name, spec: model.spec, latestVersion: model.latestVersion, createdAt: model.createdAt, updatedAt: model.updatedAt, aliases, versions };
      return { status: 200, body };
    },

    /** Create a model or replace its spec; the features a spec leaves out come from the dataset's schema. */
    'PUT /models/{model}': async (request) => {
      const specStores = {
        getDatasetVersion: (name: string, version?: string) => tracking.getDatasetVersion(name, version),
        findModel: registry.findModel.bind(registry),
        putModel: registry.putModel.bind(registry),
        schedules: stores.schedules,
        ...(stores.monitoring ? { monitoring: stores.monitoring } : {}),
      };
      const body: PutModelAnswer = await putModelSpec(specStores, modelOf(request), request.body, request.actor, (error) =>
        logger.error('spec not stored, and its schedules not put back; a schedule the stored spec lacks is skipped when it fires', { error: error as Error }),
      );
      logger.info('model spec put', { model: body.model, created: body.created, actor: request.actor });
      return { status: body.created ? 201 : 200, body };
    },

    /** The gate report stored when the version's run was judged, parsed (a corrupt report is an error, not an answer). */
    'GET /models/{model}/versions/{version}/gate-report': async (request) => {
      const model = modelOf(request);
      const version = await registry.resolveVersion(model, parseVersionRef(request.params.version));
      const report = StoredGateReportSchema.parse(JSON.parse(await objects.getText(version.gateReportUri)));
      const body: GateReportAnswer = { model, version: version.version, runId: version.runId, uri: version.gateReportUri, report };
      return { status: 200, body };
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
        return { status: 200, body: { status: 'MOVED', ...moved } satisfies PromoteAnswer };
      }
      const input = await planPromotion(registry, { model, version: body.version, reason, expectedVersion: body.expectedVersion, weight: body.weight, actor: request.actor });
      const { runId, executionArn } = await pipeline.start(input);
      logger.info('promotion started', { model, version: body.version, runId, actor: request.actor });
      return { status: 202, body: { status: 'RUNNING', runId, executionArn, version: body.version, expectedVersion: body.expectedVersion ?? null } };
    },

    /**
     * Production back to `previous`; during a rollout (production never moved) the rollout is
     * stopped instead, with canary and shadow cleared, and production stays.
     */
    'POST /models/{model}/rollback': async (request) => {
      const model = modelOf(request);
      const body = parseOrThrow(RollbackRequestSchema, request.body, 'rollback request');
      const reason = body.reason ?? 'rolled back through the API';
      const rollout = await registry.findRollout(model);
      if (rollout && (rollout.state === 'RUNNING' || rollout.state === 'HELD')) {
        const production = await registry.findAlias(model, 'production');
        if (production) checkExpected('production', production.version, body.expectedVersion);
        const stopped = await stopRollout(rolloutStores, { model, actor: request.actor, reason: `manual rollback during the rollout: ${reason}`, now: new Date() }, logger);
        logger.info('rollout stopped by a rollback', { model, rolloutId: stopped.record.rolloutId, actor: request.actor, cleared: stopped.cleared });
        if (production) {
          const answer: RollbackAnswer = {
            status: 'ROLLED_BACK',
            production,
            before: production,
            rollout: { rolloutId: stopped.record.rolloutId, version: stopped.record.version, state: stopped.record.state, cleared: stopped.cleared },
          };
          return { status: 200, body: answer };
        }
      }
      const result = await registry.rollback({ model, actor: request.actor, reason, expectedVersion: body.expectedVersion });
      return { status: 200, body: { status: 'ROLLED_BACK', ...result } satisfies RollbackAnswer };
    },

    /** Starts a rollout (202): the gate against production runs first, then shadow and canary steps, then the release path's Promote. */
    'POST /models/{model}/rollouts': async (request) => {
      const model = modelOf(request);
      const body = parseOrThrow(RolloutStartRequestSchema, request.body, 'rollout request');
      const now = new Date();
      const { record } = await startRollout(rolloutStores, { model, request: body, actor: request.actor, now, ids: newIds(model, now) }, logger);
      logger.info('rollout started', { model, rolloutId: record.rolloutId, version: record.version, actor: request.actor });
      const answer: RolloutStartAnswer = {
        status: 'RUNNING',
        rolloutId: record.rolloutId,
        executionArn: record.executionArn,
        version: record.version,
        production: record.production,
        gateRunId: record.gateRunId,
        steps: record.policy.steps,
        bake: record.policy.bake,
        shadowFirst: record.policy.shadowFirst ?? null,
      };
      return { status: 202, body: answer };
    },

    'GET /models/{model}/rollout': async (request) => {
      const model = modelOf(request);
      await registry.getModel(model);
      const rollout = await registry.findRollout(model);
      if (!rollout) throw new NotFoundError(`${model} has had no rollout (start one with mlops rollout start ${model} <version>)`, { field: 'model' });
      const [execution, events] = await Promise.all([stores.rollouts.describe(rollout.executionArn), registry.listAudit(model)]);
      const decisions = events.filter((event) => (event.action.startsWith('rollout.') || event.action === 'alias.cleared') && (event.after as { rolloutId?: unknown } | undefined)?.rolloutId === rollout.rolloutId);
      const body: RolloutStatus = { rollout, execution: execution ?? null, stepsDone: stepsDone(rollout), decisions };
      return { status: 200, body };
    },

    'POST /models/{model}/rollout/abort': async (request) => {
      const model = modelOf(request);
      const body = parseOrThrow(RolloutAbortRequestSchema, request.body, 'abort request');
      const stopped = await stopRollout(rolloutStores, { model, actor: request.actor, reason: body.reason ?? 'aborted through the API', now: new Date() }, logger);
      logger.info('rollout aborted', { model, rolloutId: stopped.record.rolloutId, actor: request.actor, cleared: stopped.cleared });
      return { status: 200, body: { status: 'ABORTED', rollout: stopped.record, cleared: stopped.cleared } satisfies RolloutAbortAnswer };
    },

    'POST /models/{model}/versions/{version}/approve': (request) => decide(request, 'approve'),
    'POST /models/{model}/versions/{version}/reject': (request) => decide(request, 'reject'),

    'GET /models/{model}/versions/{version}/lineage': async (request) => ({
      status: 200,
      body: await versionLineage({ registry, tracking }, modelOf(request), parseVersionRef(request.params.version)),
    }),

    'GET /models/{model}/audit': async (request) => {
      const model = modelOf(request);
      await registry.getModel(model);
      return { status: 200, body: { events: await registry.listAudit(model) } };
    },

    'GET /events': async ({ query }) => {
      const input = parseOrThrow(EventsQuerySchema, query, 'query');
      if (input.model) await registry.getModel(input.model);
      const sources = {
        listModels: () => registry.listModels(),
        listAudit: (model: string, from?: string) => registry.listAudit(model, from),
        listChecksFrom: (model: string, from: string) => stores.driftChecks.listChecksFrom(model, from),
      };
      const answer: EventsAnswer = await listEvents(sources, { ...input, environment: stores.environment });
      return { status: 200, body: answer };
    },

    'GET /datasets/{name}/versions/{version}/lineage': async ({ params }) => {
      const name = pathParam(params, 'name', DATASET_NAME, 'dataset name');
      const version = params.version === 'latest' ? undefined : pathParam(params, 'version', DATASET_VERSION, 'dataset version');
      const dataset = await tracking.getDatasetVersion(name, version);
      return { status: 200, body: await registry.datasetLineage(name, dataset.version) };
    },
  } satisfies Record<RegistryRoute, ApiRoute>;

  return apiHandler(logger, routes);
}

function rolloutExecutions(stepFunctions: StepFunctions, pipelineArn: string, rolloutArn: string): RolloutExecutions {
  return {
    rolloutArn: (name) => StepFunctions.executionArn(rolloutArn, name),
    pipelineArn: (runId) => StepFunctions.executionArn(pipelineArn, runId),
    start: async (name, input) => {
      await stepFunctions.start(rolloutArn, name, input);
    },
    stop: (executionArn, error, cause) => stepFunctions.stop(executionArn, error, cause),
    describe: async (executionArn) => {
      try {
        const { status, error, cause } = await stepFunctions.describe(executionArn);
        return { status, ...(error ? { error } : {}), ...(cause ? { cause } : {}) };
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    },
  };
}

function awsStores(): RegistryApiStores {
  const doc = createDocumentClient();
  const stepFunctions = new StepFunctions(createSfnClient());
  const pipelineArn = requireEnv('TRAINING_PIPELINE_ARN');
  return {
    registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
    tracking: new TrackingStore(doc, requireEnv('TRACKING_TABLE')),
    objects: new ObjectStore(createS3Client()),
    pipeline: { start: (input) => startTrainingRun(stepFunctions, pipelineArn, input) },
    releaseTasks: new PipelineReleaseTasks(stepFunctions, pipelineArn),
    rollouts: rolloutExecutions(stepFunctions, pipelineArn, requireEnv('ROLLOUT_STATE_MACHINE_ARN')),
    schedules: createModelSchedules(),
    monitoring: createModelMonitoring(),
    driftChecks: new DriftCheckStore(doc, requireEnv('REGISTRY_TABLE')),
    environment: z.enum(ENVIRONMENT_NAMES).parse(requireEnv('ENVIRONMENT_NAME')),
  };
}

export const handler = createHandler(awsStores());
