import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { RegistryStore } from '../aws/registry-store.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { sha256Hex } from '../core/artifact.js';
import { InputValidationError, parseOrThrow } from '../core/errors.js';
import { parseModelSpec, withParams, type ModelSpec } from '../core/model-spec.js';
import { canonicalJson } from '../core/canonical-json.js';
import { TrainingRequestSchema, type RunContext, type RunRecord } from '../core/run.js';

const logger = new Logger({ serviceName: 'start-run' });
const doc = createDocumentClient();
const registry = new RegistryStore(doc, requireEnv('REGISTRY_TABLE'));
const tracking = new TrackingStore(doc, requireEnv('TRACKING_TABLE'));
const CODE_VERSION = requireEnv('CODE_VERSION');

const EventSchema = z.object({ executionName: z.string().min(1), executionArn: z.string().min(1), request: z.unknown() });

/** The spec a run trains with: the model's current one, or for a reproduction the one the original run recorded. */
async function specFor(request: ReturnType<typeof TrainingRequestSchema.parse>): Promise<ModelSpec> {
  if (request.mode !== 'reproduce') return (await registry.getModel(request.model)).spec;
  const original = await tracking.getRun(request.reproduces!);
  if (original.model !== request.model || !original.spec || original.mode === 'import') {
    throw new InputValidationError(`run ${request.reproduces} is not a recorded training run of model ${request.model} with its spec`, { field: 'reproduces' });
  }
  return parseModelSpec(original.spec);
}

/** StartRun: resolves the model spec (with parameter overrides) and dataset version, then records the run as RUNNING (once per execution). */
export const handler = async (event: unknown): Promise<RunContext> => {
  const { executionName, executionArn, request: raw } = parseOrThrow(EventSchema, event, 'StartRun event');
  const request = parseOrThrow(TrainingRequestSchema, raw, 'training request');
  const spec = withParams(await specFor(request), request.params);
  const dataset = await tracking.getDatasetVersion(request.dataset.name, request.dataset.version);
  const datasetRef = { name: dataset.name, version: dataset.version, uri: dataset.uri };

  const run: RunRecord = {
    runId: executionName,
    model: spec.name,
    status: 'RUNNING',
    trigger: request.trigger,
    actor: request.actor,
    dataset: datasetRef,
    specHash: sha256Hex(canonicalJson(spec)),
    codeVersion: CODE_VERSION,
    algorithm: request.mode === 'import' ? 'onnx' : spec.training.algorithm,
    parameters: request.mode === 'import' ? { testFraction: spec.training.testFraction } : { ...spec.training.params, testFraction: spec.training.testFraction },
    spec: spec as unknown as Record<string, unknown>,
    mode: request.mode,
    ...(request.reproduces ? { reproduces: request.reproduces } : {}),
    ...(request.onnx ? { onnx: request.onnx } : {}),
    seed: spec.training.seed,
    executionArn,
    startedAt: new Date().toISOString(),
  };
  const { run: stored, created } = await tracking.createRun(run);
  logger.info('run started', { runId: stored.runId, model: stored.model, dataset: datasetRef, created });
  return { runId: stored.runId, mode: request.mode, ...(request.onnx ? { onnx: request.onnx } : {}), model: stored.model, spec, dataset: stored.dataset, trigger: stored.trigger, actor: stored.actor };
};
