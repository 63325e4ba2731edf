import { DataValidationError, NotFoundError } from '../errors.js';
import type { Reports, RunUpdates } from '../stores.js';
import type { ModelSpec } from '../training/model-spec.js';
import type { RunContext } from '../training/run.js';
import type { DatasetRef, DatasetVersion, QuarantineEntry } from './dataset-version.js';
import { DatasetProfileSchema } from './profile.js';
import { validateDataset, type MissingReference, type ValidationReport } from './validation.js';

/** The stored data and profile objects, as the gate reads them. */
export interface DatasetObjects {
  /** The object's size in bytes; undefined when it is gone. */
  size(uri: string): Promise<number | undefined>;
  getText(uri: string): Promise<string>;
}

export interface VersionValidationStores {
  readonly objects: DatasetObjects;
  readonly reports: Pick<Reports, 'put'>;
  /** The model's versions: the reference missing rates are judged against is the dataset one of them was trained on. */
  readonly registry: ReferenceRegistry;
  readonly datasets: { getDatasetVersion(name: string, version: string): Promise<DatasetVersion> };
}

export interface ReferenceRegistry {
  findAlias(model: string, alias: 'production'): Promise<{ version: number } | undefined>;
  getVersion(model: string, version: number): Promise<{ version: number; dataset: DatasetRef }>;
  listVersions(model: string): Promise<readonly { version: number; dataset: DatasetRef }[]>;
}

/**
 * The reference for missing values: the profile of the dataset version the production version
 * was trained on or, with none in production, the newest version's. None for a model never
 * trained. A reference whose dataset or profile is gone is reported as a problem, not a failure:
 * the absolute rule still applies.
 */
export async function missingReferenceFor(stores: Pick<VersionValidationStores, 'objects' | 'registry' | 'datasets'>, model: string): Promise<MissingReference | { problem: string } | undefined> {
  const production = await stores.registry.findAlias(model, 'production');
  let alias: MissingReference['alias'] = 'production';
  let version = production ? await stores.registry.getVersion(model, production.version) : undefined;
  if (!version) {
    alias = 'latest';
    version = (await stores.registry.listVersions(model)).reduce<{ version: number; dataset: DatasetRef } | undefined>((newest, v) => (!newest || v.version > newest.version ? v : newest), undefined);
  }
  if (!version) return undefined;
  const source = { alias, version: version.version, dataset: { name: version.dataset.name, version: version.dataset.version } };
  const what = `the reference dataset ${source.dataset.name}@${source.dataset.version} (version ${source.version} of ${model})`;
  let dataset: DatasetVersion;
  try {
    dataset = await stores.datasets.getDatasetVersion(source.dataset.name, source.dataset.version);
  } catch (error) {
    if (error instanceof NotFoundError) return { problem: `${what} is not registered: missing rates judged by the absolute rule only` };
    throw error;
  }
  const parsed = DatasetProfileSchema.safeParse(JSON.parse(await stores.objects.getText(dataset.profileUri)));
  if (!parsed.success) return { problem: `${what} has no valid profile at ${dataset.profileUri}: missing rates judged by the absolute rule only` };
  return { ...source, profile: parsed.data };
}

/**
 * Runs the data validation gate for a dataset version: reads its profile (validated, since it
 * comes from S3), checks the data object is still there at its recorded size, judges, and
 * stores the report. Used by the pipeline's ValidateData step and by `mlops dataset validate`.
 */
export async function validateDatasetVersion(
  stores: VersionValidationStores,
  input: { dataset: DatasetVersion; spec: ModelSpec; reportKey: string; context: Record<string, unknown>; now: Date },
): Promise<{ report: ValidationReport; reportUri: string }> {
  const { dataset, spec } = input;
  let report: ValidationReport;
  const reference = await missingReferenceFor(stores, spec.name);
  const size = await stores.objects.size(dataset.uri);
  if (size !== dataset.bytes) {
    report = failedReport(`the data object ${dataset.uri} ${size === undefined ? 'is gone' : `has ${size} bytes, not the ${dataset.bytes} registered`}`);
  } else {
    const parsed = DatasetProfileSchema.safeParse(JSON.parse(await stores.objects.getText(dataset.profileUri)));
    report = parsed.success
      ? validateDataset({ rowCount: dataset.rowCount, arrivedAt: dataset.arrivedAt, schema: dataset.schema, profile: parsed.data }, spec, input.now, reference)
      : failedReport(`the profile ${dataset.profileUri} is not a valid profile: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  }
  const reportUri = await stores.reports.put(
    input.reportKey,
    JSON.stringify(
      { ...input.context, model: spec.name, dataset: { name: dataset.name, version: dataset.version, uri: dataset.uri, profileUri: dataset.profileUri }, ...report },
      null,
      2,
    ),
  );
  return { report, reportUri };
}

/** A dataset whose evidence cannot be read fails the gate with one check saying why. */
function failedReport(detail: string): ValidationReport {
  return {
    passed: false,
    rowCount: 0,
    checks: [{ name: 'dataset_readable', severity: 'block', passed: false, detail }],
    summary: `1 of 1 checks failed: dataset_readable (${detail})`,
  };
}

/** What the ValidateData step reads and writes. */
export interface ValidateRunStores extends VersionValidationStores {
  readonly datasets: VersionValidationStores['datasets'] & {
    /** Adds the model's block to the version once; another model's block is kept. */
    quarantineDatasetVersion(name: string, version: string, entry: QuarantineEntry): Promise<{ quarantined: boolean }>;
  };
  readonly runs: RunUpdates;
}

export interface ValidateRunAnswer {
  readonly passed: true;
  readonly reportUri: string;
  readonly summary: string;
  readonly rowCount: number;
}

/**
 * ValidateData's flow: judges the run's dataset version against its spec, stores the report and
 * records it on the run. A blocking failure quarantines the version for this model only (other
 * models' gates judge it for themselves) and throws, so nothing reaches training or the registry.
 */
export async function validateRunData(stores: ValidateRunStores, input: { run: RunContext; spec: ModelSpec; now: Date }): Promise<ValidateRunAnswer> {
  const { run, spec } = input;
  const dataset = await stores.datasets.getDatasetVersion(run.dataset.name, run.dataset.version);
  const { report, reportUri } = await validateDatasetVersion(stores, {
    dataset,
    spec,
    reportKey: `validation/${run.model}/${run.runId}.json`,
    context: { runId: run.runId },
    now: input.now,
  });
  await stores.runs.updateRun(run.runId, { validationReportUri: reportUri, validationSummary: report.summary });
  if (!report.passed) {
    await stores.datasets.quarantineDatasetVersion(run.dataset.name, run.dataset.version, {
      model: run.model,
      gate: 'data-validation',
      reason: report.summary,
      reportUri,
      runId: run.runId,
      at: input.now.toISOString(),
    });
    throw new DataValidationError(`data validation failed: ${report.summary} (report: ${reportUri})`, { step: 'ValidateData' });
  }
  return { passed: true, reportUri, summary: report.summary, rowCount: report.rowCount };
}
