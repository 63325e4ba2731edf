/**
 * Key layout and rules of the registry and tracking tables, kept free of the AWS SDK so they
 * can be tested alone. See lib/registry.ts for the table shapes.
 */
export const ALIASES = ['production', 'candidate', 'canary', 'shadow', 'previous'] as const;
export type AliasName = (typeof ALIASES)[number];

export const modelPk = (model: string) => `MODEL#${model}`;
export const META_SK = 'META';
/** Zero-padded so that a Query on `VERSION#` returns versions in numeric order. */
export const versionSk = (version: number) => `VERSION#${String(version).padStart(6, '0')}`;
export const aliasSk = (alias: AliasName) => `ALIAS#${alias}`;
export const runVersionSk = (runId: string) => `RUN#${runId}`;
/** Audit events: the time first, so a Query lists them in commit order. */
export const AUDIT_PREFIX = 'AUDIT#';
export const auditSk = (at: string, id: string) => `${AUDIT_PREFIX}${at}#${id}`;
/** A model's rollout, the running one or the last: one item per model, so two cannot run at once. */
export const ROLLOUT_SK = 'ROLLOUT';
/** A drift check's record (core/monitoring/drift-check.ts): its id starts with the time, so a reverse Query lists the latest first. */
export const DRIFT_CHECK_PREFIX = 'DRIFT#';
export const driftCheckSk = (checkId: string) => `${DRIFT_CHECK_PREFIX}${checkId}`;
/** The model's retraining lock (core/monitoring/retraining.ts): one item, written conditionally, so concurrent triggers start one run. */
export const RETRAIN_LOCK_SK = 'RETRAIN#LOCK';
/** A retraining trigger's decision: its id starts with the time, so a reverse Query lists the latest first. */
export const TRIGGER_PREFIX = 'TRIGGER#';
export const triggerSk = (triggerId: string) => `${TRIGGER_PREFIX}${triggerId}`;

export const runPk = (runId: string) => `RUN#${runId}`;
export const RUN_SK = 'RUN';
/** The tracking table's index over gsi1pk/gsi1sk: a model's runs by start time, a dataset's versions by arrival. */
export const BY_TIME_INDEX = 'byTime';
export const runsByModelPk = (model: string) => `MODEL#${model}`;
export const runsByModelSk = (startedAt: string, runId: string) => `${startedAt}#${runId}`;

export const datasetPk = (name: string) => `DATASET#${name}`;
export const datasetVersionSk = (version: string) => `VERSION#${version}`;
export const DATASET_LATEST_SK = 'LATEST';
export const datasetVersionsByTimePk = (name: string) => `DATASET#${name}`;
export const datasetVersionsByTimeSk = (arrivedAt: string, version: string) => `${arrivedAt}#${version}`;
/** One item per dataset name under this key: the catalog `mlops dataset list` reads. */
export const DATASET_CATALOG_PK = 'DATASETS';

/** The registry's model catalog: one item per model under this key, what `GET /models` reads. */
export const MODEL_CATALOG_PK = 'MODELS';
export const modelCatalogSk = (model: string) => `MODEL#${model}`;
/** Lineage index: the model versions trained on a dataset version. */
export const datasetLineagePk = (name: string, version: string) => `LINEAGE#DATASET#${name}@${version}`;
export const datasetLineageSk = (model: string, version: number) => `MODEL#${model}#${versionSk(version)}`;
