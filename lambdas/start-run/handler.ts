import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { sha256Hex } from '../core/training/artifact.js';
import { checkPromotable } from '../core/registry/alias-rules.js';
import { InputValidationError, parseOrThrow } from '../core/errors.js';
import { parseModelSpec, withParams, type ModelSpec } from '../core/training/model-spec.js';
import { canonicalJson } from '../core/canonical-json.js';
import { TrainingRequestSchema, type RunContext, type RunRecord } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'start-run' });
const doc = createDocumentClient();
const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
const CODE_VERSION = requireEnv('CODE_VERSION');

const EventSchema = z.object({ executionName: z.string().min(1), executionArn: z.string().min(1), request: z.unknown() });

type Request = ReturnType<typeof TrainingRequestSchema.parse>;

/** The recorded spec of a run (what a reproduction re-runs and a promotion re-judges with). */
async function recordedSpec(runId: string, model: string, field: string): Promise<ModelSpec> {
  const original = await tracking.getRun(runId);
  if (original.model !== model || !original.spec) {
    throw new InputValidationError(`run ${runId} is not a recorded run of model ${model} with its spec`, { field });
  }
  return parseModelSpec(original.spec);
}

/** The spec a run trains with: the model's current one, or the one the original run recorded. */
async function specFor(request: Request): Promise<ModelSpec> {
  if (request.mode === 'reproduce') {
    const original = await tracking.getRun(request.reproduces!);
    if (original.mode === 'import') throw new InputValidationError(`run ${request.reproduces} imported a model: there is no training to reproduce`, { field: 'reproduces' });
    return recordedSpec(request.reproduces!, request.model, 'reproduces');
  }
  return (await registry.getModel(request.model)).spec;
}

/**
 * A promotion re-judges a registered version with the spec its run trained with, on the dataset
 * version it was trained on, so the held-out rows are the ones it was first judged on.
 */
async function promotionOf(request: Request) {
  const promotion = request.promotion!;
  const version = await registry.getVersion(request.model, promotion.version);
  checkPromotable(version, 'production');
  const spec = await recordedSpec(version.runId, request.model, 'promotion.version');
  return { spec, dataset: version.dataset, artifact: version.artifact };
}

/** StartRun: resolves the model spec (with parameter overrides) and dataset version, then records the run as RUNNING (once per execution). */
export const handler = async (event: unknown): Promise<RunContext> => {
  const { executionName, executionArn, request: raw } = parseOrThrow(EventSchema, event, 'StartRun event');
  const request = parseOrThrow(TrainingRequestSchema, raw, 'training request');
  const promotion = request.mode === 'promote' ? await promotionOf(request) : undefined;
  const spec = promotion?.spec ?? withParams(await specFor(request), request.params);
  const datasetRef = promotion?.dataset ?? (await tracking.getDatasetVersion(request.dataset.name, request.dataset.version));
  const dataset = { name: datasetRef.name, version: datasetRef.version, uri: datasetRef.uri };

  const run: RunRecord = {
    runId: executionName,
    model: spec.name,
    status: 'RUNNING',
    trigger: request.trigger,
    actor: request.actor,
    dataset,
    specHash: sha256Hex(canonicalJson(spec)),
    codeVersion: CODE_VERSION,
    algorithm: request.mode === 'import' ? 'onnx' : spec.training.algorithm,
    parameters: request.mode === 'import' ? { testFraction: spec.training.testFraction } : { ...spec.training.params, testFraction: spec.training.testFraction },
    spec: spec as unknown as Record<string, unknown>,
    mode: request.mode,
    ...(request.reproduces ? { reproduces: request.reproduces } : {}),
    ...(request.onnx ? { onnx: request.onnx } : {}),
    ...(request.promotion ? { promotion: request.promotion, modelVersion: request.promotion.version } : {}),
    ...(request.transfer ? { transferredFrom: request.transfer.source } : {}),
    seed: spec.training.seed,
    executionArn,
    startedAt: new Date().toISOString(),
  };
  const { run: stored, created } = await tracking.createRun(run);
  logger.info('run started', { runId: stored.runId, model: stored.model, mode: request.mode, dataset, created });
  return {
    runId: stored.runId,
    mode: request.mode,
    ...(request.onnx ? { onnx: request.onnx } : {}),
    ...(request.promotion ? { promotion: request.promotion } : {}),
    ...(request.transfer ? { transfer: { source: request.transfer.source, reason: request.transfer.reason } } : {}),
    ...(promotion ? { artifact: promotion.artifact } : request.transfer ? { artifact: request.transfer.artifact } : {}),
    model: stored.model,
    spec,
    dataset: stored.dataset,
    trigger: stored.trigger,
    actor: stored.actor,
    release: request.release,
  };
};
