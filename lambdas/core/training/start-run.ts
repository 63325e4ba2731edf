/**
 * "Start a run", in one place: what the runs API checks before it starts an execution (so a bad
 * request starts nothing and writes nothing), and the run record the StartRun step writes first.
 * Both read the registry and the tracking table through the small interfaces below; the handlers
 * give them the DynamoDB and S3 adapters, the unit tests in-memory fakes.
 */
import { z } from 'zod';
import { canonicalJson } from '../canonical-json.js';
import { DATASET_NAME, DATASET_VERSION, type DatasetVersion } from '../data/dataset-version.js';
import { InputValidationError, parseOrThrow, rejectProblems } from '../errors.js';
import { checkPromotable } from '../registry/alias-rules.js';
import type { ModelVersion } from '../registry/records.js';
import { checkInputs, loadOnnx } from '../serving/onnx-model.js';
import { sha256Hex } from '../sha256.js';
import { importedFeatureNames } from './imported-model.js';
import { parseModelSpec, withParams, type ModelSpec } from './model-spec.js';
import { specSchemaProblems } from './run-comparison.js';
import { ParamValueSchema, TrainingRequestSchema, type RunContext, type RunRecord, type TrainingRequest, type TriggeredBy } from './run.js';

const SHA256 = z.string().regex(/^[a-f0-9]{64}$/, 'must be a sha256 hex digest');

/**
 * Actors of runs nobody typed: the retraining guardrails (core/monitoring/retraining.ts) start runs
 * as `system:<trigger>`.
 */
export const SYSTEM_ACTORS = { schedule: 'system:schedule', drift: 'system:drift', performance: 'system:performance' } as const;

/** The modes a caller starts through `POST /models/{model}/runs`; promotions and transfers have their own routes. */
export const START_MODES = ['train', 'import', 'reproduce'] as const;

/** The body of `POST /models/{model}/runs`. It never carries an actor: the API takes the signed caller. */
export const StartRunBodySchema = z
  .object({
    mode: z.enum(START_MODES).default('train'),
    /** Without it: the spec's dataset. Without a version: the newest one the model may use. */
    dataset: z.object({ name: DATASET_NAME, version: DATASET_VERSION.optional() }).strict().optional(),
    params: z.record(z.string().min(1).max(64), ParamValueSchema).default({}),
    release: z.boolean().default(true),
    reproduces: z.string().min(1).max(200).optional(),
    /** An import's ONNX file, uploaded to the key `POST /models/{model}/imports/uploads` issued. */
    onnx: z.object({ uploadKey: z.string().min(1).max(1024), sha256: SHA256 }).strict().optional(),
  })
  .strict()
  .refine((r) => (r.mode === 'reproduce') === (r.reproduces !== undefined), { message: 'mode "reproduce" goes with the run it reproduces', path: ['reproduces'] })
  .refine((r) => (r.mode === 'import') === (r.onnx !== undefined), { message: 'mode "import" goes with the ONNX file it imports', path: ['onnx'] })
  .refine((r) => r.mode === 'train' || Object.keys(r.params).length === 0, { message: 'parameter overrides go with mode "train" only', path: ['params'] });
export type StartRunBody = z.input<typeof StartRunBodySchema>;

/** Which dataset version a run uses, and why: said in the answer so nobody has to guess. */
export interface ChosenDataset {
  readonly name: string;
  readonly version: string;
  readonly chosen: string;
}

/** What the checks before a run read. */
export interface RunPlanStores {
  /** The model's current spec; NOT_FOUND when there is no such model. */
  getModelSpec(model: string): Promise<ModelSpec>;
  /** A dataset version by id; NOT_FOUND when there is none. */
  getDatasetVersion(name: string, version: string): Promise<DatasetVersion>;
  /** The version a run of `model` takes when none is named, with the reason it was chosen. */
  chooseDatasetVersion(name: string, model: string): Promise<{ version: DatasetVersion; chosen: string }>;
  getRun(runId: string): Promise<RunRecord>;
  /** An uploaded import: its S3 URI and bytes; NOT_FOUND when nothing was uploaded there. */
  readUpload(uploadKey: string): Promise<{ uri: string; bytes: Uint8Array }>;
}

export interface RunPlan {
  /** The execution input of the training pipeline. */
  readonly request: TrainingRequest;
  readonly dataset: ChosenDataset;
}

async function datasetFor(stores: RunPlanStores, model: string, spec: ModelSpec, ref: { name: string; version?: string | undefined } | undefined): Promise<{ version: DatasetVersion; chosen: string }> {
  const name = ref?.name ?? spec.dataset;
  if (!name) throw new InputValidationError(`model ${model}'s spec names no dataset: give dataset.name`, { field: 'dataset' });
  if (ref?.version) return { version: await stores.getDatasetVersion(name, ref.version), chosen: 'the version asked for' };
  return stores.chooseDatasetVersion(name, model);
}

/** An import's ONNX file: its bytes must hash to the announced sha256 and its input must take the spec's features. */
async function checkedOnnx(stores: RunPlanStores, model: string, spec: ModelSpec, onnx: { uploadKey: string; sha256: string }): Promise<{ uri: string; sha256: string }> {
  if (!onnx.uploadKey.startsWith(importUploadPrefix(model))) {
    throw new InputValidationError(`onnx.uploadKey must be one this API issued for model ${model}`, { field: 'onnx.uploadKey' });
  }
  const features = importedFeatureNames(spec);
  const { uri, bytes } = await stores.readUpload(onnx.uploadKey);
  if (sha256Hex(bytes) !== onnx.sha256) throw new InputValidationError(`the uploaded file's sha256 is not ${onnx.sha256}`, { field: 'onnx.sha256' });
  const { session, signature } = await loadOnnx(bytes);
  await session.release();
  checkInputs(signature, features.length, features);
  return { uri, sha256: onnx.sha256 };
}

/** Where an import's ONNX upload for `model` goes in the models bucket (the upload URL's key starts with it). */
export const importUploadPrefix = (model: string) => `models/${model}/imports/`;

/** A run the retraining guardrails start (core/monitoring/retraining.ts): its trigger and the decision behind it. */
export interface AutomaticStart {
  readonly trigger: 'schedule' | 'drift' | 'performance';
  readonly triggeredBy: TriggeredBy;
}

/**
 * Checks a request to start a run of `model` against everything the registry and the tracking
 * table know (the model, the dataset version, the parameters, the spec against the data's
 * schema, an import's file, a reproduction's original) and returns the pipeline's input. It
 * writes nothing: a refused request leaves no trace.
 */
export async function planRun(stores: RunPlanStores, model: string, rawBody: unknown, actor: string, automatic?: AutomaticStart): Promise<RunPlan> {
  const body = parseOrThrow(StartRunBodySchema, rawBody, 'run request');
  if (body.mode === 'reproduce') {
    const original = await stores.getRun(body.reproduces!);
    if (original.model !== model) throw new InputValidationError(`run ${original.runId} is a run of ${original.model}, not ${model}`, { field: 'reproduces' });
    if (original.mode === 'import') throw new InputValidationError(`run ${original.runId} imported a model trained elsewhere; there is no training here to reproduce`, { field: 'reproduces' });
    if (!original.spec || !original.artifact) {
      throw new InputValidationError(`run ${original.runId} has no recorded spec and artifact to reproduce (status ${original.status})`, { field: 'reproduces' });
    }
    if (body.dataset && (body.dataset.name !== original.dataset.name || (body.dataset.version ?? original.dataset.version) !== original.dataset.version)) {
      throw new InputValidationError(`a reproduction uses the dataset version its original used (${original.dataset.name}@${original.dataset.version})`, { field: 'dataset' });
    }
    const dataset = { name: original.dataset.name, version: original.dataset.version, chosen: `the version run ${original.runId} trained on` };
    return {
      request: { model, dataset: { name: dataset.name, version: dataset.version }, trigger: 'reproduce', actor, mode: 'reproduce', reproduces: original.runId, release: body.release },
      dataset,
    };
  }

  const spec = await stores.getModelSpec(model);
  const { version, chosen } = await datasetFor(stores, model, spec, body.dataset);
  const effective = withParams(spec, body.params);
  rejectProblems(specSchemaProblems(effective, version.schema));
  const dataset = { name: version.name, version: version.version, chosen };
  const base = { model, dataset: { name: dataset.name, version: dataset.version }, actor, release: body.release };
  if (body.mode === 'import') {
    const onnx = await checkedOnnx(stores, model, effective, body.onnx!);
    return { request: { ...base, mode: 'import', trigger: 'import', onnx }, dataset };
  }
  return { request: { ...base, mode: 'train', trigger: automatic?.trigger ?? 'manual', params: body.params, ...(automatic ? { triggeredBy: automatic.triggeredBy } : {}) }, dataset };
}

/** What the StartRun step reads. */
export interface RunRecordStores {
  getModelSpec(model: string): Promise<ModelSpec>;
  getDatasetVersion(name: string, version: string): Promise<DatasetVersion>;
  chooseDatasetVersion(name: string, model: string): Promise<{ version: DatasetVersion; chosen: string }>;
  getRun(runId: string): Promise<RunRecord>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  /** Creates the run once; a retried StartRun gets the record that already exists. */
  createRun(run: RunRecord): Promise<{ run: RunRecord; created: boolean }>;
}

export interface StartedRun {
  readonly run: RunRecord;
  readonly created: boolean;
  /** What every later step receives. */
  readonly context: RunContext;
}

/** The recorded spec of a run (what a reproduction re-runs and a promotion re-judges with). */
async function recordedSpec(stores: RunRecordStores, runId: string, model: string, field: string): Promise<ModelSpec> {
  const original = await stores.getRun(runId);
  if (original.model !== model || !original.spec) {
    throw new InputValidationError(`run ${runId} is not a recorded run of model ${model} with its spec`, { field });
  }
  return parseModelSpec(original.spec);
}

type Request = z.output<typeof TrainingRequestSchema>;

/** The spec a run trains with: the model's current one (with parameter overrides), or the one the original run recorded. */
async function specFor(stores: RunRecordStores, request: Request): Promise<ModelSpec> {
  if (request.mode === 'reproduce') {
    const original = await stores.getRun(request.reproduces!);
    if (original.mode === 'import') throw new InputValidationError(`run ${request.reproduces} imported a model: there is no training to reproduce`, { field: 'reproduces' });
    return recordedSpec(stores, request.reproduces!, request.model, 'reproduces');
  }
  return withParams(await stores.getModelSpec(request.model), request.params);
}

/**
 * A promotion re-judges a registered version with the spec its run trained with, on the dataset
 * version it was trained on, so the held-out rows are the ones it was first judged on.
 */
async function promotionOf(stores: RunRecordStores, request: Request) {
  const version = await stores.getVersion(request.model, request.promotion!.version);
  checkPromotable(version, 'production');
  const spec = await recordedSpec(stores, version.runId, request.model, 'promotion.version');
  return { spec, dataset: version.dataset, artifact: version.artifact };
}

/**
 * StartRun's flow: resolves the spec (with parameter overrides) and the dataset version, records
 * the run as RUNNING (once per execution: the execution name is the run id) and returns the run
 * context every later step reads.
 */
export async function startRunRecord(
  stores: RunRecordStores,
  input: { executionName: string; executionArn: string; request: unknown; codeVersion: string; now: Date },
): Promise<StartedRun> {
  const request = parseOrThrow(TrainingRequestSchema, input.request, 'training request');
  const promotion = request.mode === 'promote' ? await promotionOf(stores, request) : undefined;
  const spec = promotion?.spec ?? (await specFor(stores, request));
  const datasetRef =
    promotion?.dataset ??
    (request.dataset.version
      ? await stores.getDatasetVersion(request.dataset.name, request.dataset.version)
      : (await stores.chooseDatasetVersion(request.dataset.name, request.model)).version);
  const dataset = { name: datasetRef.name, version: datasetRef.version, uri: datasetRef.uri };
  const imported = request.mode === 'import';
  const run: RunRecord = {
    runId: input.executionName,
    model: spec.name,
    status: 'RUNNING',
    trigger: request.trigger,
    actor: request.actor,
    dataset,
    specHash: sha256Hex(canonicalJson(spec)),
    codeVersion: input.codeVersion,
    algorithm: imported ? 'onnx' : spec.training.algorithm,
    parameters: imported ? { testFraction: spec.training.testFraction } : { ...spec.training.params, testFraction: spec.training.testFraction },
    spec: spec as unknown as Record<string, unknown>,
    mode: request.mode,
    ...(request.reproduces ? { reproduces: request.reproduces } : {}),
    ...(request.onnx ? { onnx: request.onnx } : {}),
    ...(request.promotion ? { promotion: request.promotion, modelVersion: request.promotion.version } : {}),
    ...(request.transfer ? { transferredFrom: request.transfer.source } : {}),
    ...(request.triggeredBy ? { triggeredBy: request.triggeredBy } : {}),
    seed: spec.training.seed,
    executionArn: input.executionArn,
    startedAt: input.now.toISOString(),
  };
  const { run: stored, created } = await stores.createRun(run);
  const context: RunContext = {
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
  return { run: stored, created, context };
}
