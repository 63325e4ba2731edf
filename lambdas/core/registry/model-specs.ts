/**
 * "Create or replace a model": `PUT /models/{model}`. The spec arrives as its file declares it;
 * features left out are taken from a dataset version's schema, and the spec is checked against
 * that schema, before anything is written. Written against the small store interface below: the
 * registry API gives it the DynamoDB adapters, the unit tests in-memory fakes.
 */
import { z } from 'zod';
import { DATASET_NAME, DATASET_VERSION, type DatasetVersion } from '../data/dataset-version.js';
import { InputValidationError, parseOrThrow, rejectProblems } from '../errors.js';
import { inferFeatures, ModelSpecFileSchema, parseModelSpec, type ModelSpec } from '../training/model-spec.js';
import { specSchemaProblems } from '../training/run-comparison.js';
import { storeSpecWithSchedules, type ScheduledSpecStores } from '../monitoring/model-schedules.js';

/** The body of `PUT /models/{model}`. It never carries an actor: the API takes the signed caller. */
export const PutModelRequestSchema = z
  .object({
    /** The spec file's content (JSON; the CLI reads YAML and sends JSON). */
    spec: z.record(z.string(), z.unknown()),
    /** Whose schema gives the features the spec leaves out and checks the rest; the newest version without one. Default: the spec's dataset, read only when the features must come from it. */
    dataset: z.object({ name: DATASET_NAME, version: DATASET_VERSION.optional() }).strict().optional(),
  })
  .strict();
export type PutModelRequest = z.input<typeof PutModelRequestSchema>;

/** What creating a model reads and writes: the spec (putModel creates or replaces it with its audit event, in one conditional write) and its schedules. */
export interface ModelSpecStores extends ScheduledSpecStores {
  /** A dataset version by id, or the newest one; NOT_FOUND when there is none. */
  getDatasetVersion(name: string, version?: string): Promise<DatasetVersion>;
}

/** A spec as its file declares it (features may be left out). */
export type ModelSpecFile = z.output<typeof ModelSpecFileSchema>;

export interface PutModelResult {
  readonly model: string;
  readonly created: boolean;
  readonly spec: ModelSpec;
}

/**
 * The spec a file declares, complete: features inferred from `dataset`'s schema when the file
 * leaves them out (every column but the target, the time column and `excludeColumns`), and every
 * spec-vs-schema problem refused. Pure.
 */
export function completeSpec(raw: ModelSpecFile, dataset: Pick<DatasetVersion, 'name' | 'schema'> | undefined): ModelSpec {
  let features: unknown = raw.features;
  if (!features) {
    if (!dataset) throw new InputValidationError('the spec has no features: list them, or name a dataset (spec "dataset" or --dataset) to take them from', { field: 'features' });
    features = inferFeatures(dataset.schema.columns, [raw.target, ...(raw.training.timeColumn ? [raw.training.timeColumn] : []), ...raw.excludeColumns]);
  }
  const { excludeColumns: _excluded, ...declared } = raw;
  const spec = parseModelSpec({ ...declared, features });
  if (dataset) rejectProblems(specSchemaProblems(spec, dataset.schema), `the spec does not fit ${dataset.name}`);
  return spec;
}

/**
 * Creates model `model` or replaces its spec, recording `actor` (the signed caller) in the audit
 * event, and puts or removes its drift and retraining schedules (storeSpecWithSchedules). A refused request writes nothing.
 */
export async function putModelSpec(stores: ModelSpecStores, model: string, rawBody: unknown, actor: string, onRestoreFailed?: (error: unknown) => void): Promise<PutModelResult> {
  const body = parseOrThrow(PutModelRequestSchema, rawBody, 'model request');
  const raw = parseOrThrow(ModelSpecFileSchema, body.spec, 'model spec');
  if (raw.name !== model) {
    throw new InputValidationError(`the spec is named ${raw.name} but the path names model ${model}: they must agree`, { field: 'spec.name' });
  }
  // The dataset is read when asked for, or when the features must come from it: a spec may name a dataset not registered yet.
  const ref = body.dataset ?? (!raw.features && raw.dataset ? { name: raw.dataset } : undefined);
  const dataset = ref ? await stores.getDatasetVersion(ref.name, ref.version) : undefined;
  const spec = completeSpec(raw, dataset);
  const { created } = await storeSpecWithSchedules(stores, spec, actor, onRestoreFailed);
  return { model: spec.name, created, spec };
}
