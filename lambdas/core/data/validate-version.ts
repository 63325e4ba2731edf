import { DataValidationError } from '../errors.js';
import type { Reports, RunUpdates } from '../stores.js';
import type { ModelSpec } from '../training/model-spec.js';
import type { RunContext } from '../training/run.js';
import type { DatasetVersion, QuarantineEntry } from './dataset-version.js';
import { DatasetProfileSchema } from './profile.js';
import { validateDataset, type ValidationReport } from './validation.js';

/** The stored data and profile objects, as the gate reads them. */
export interface DatasetObjects {
  /** The object's size in bytes; undefined when it is gone. */
  size(uri: string): Promise<number | undefined>;
  getText(uri: string): Promise<string>;
}

export interface VersionValidationStores {
  readonly objects: DatasetObjects;
  readonly reports: Pick<Reports, 'put'>;
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
  const size = await stores.objects.size(dataset.uri);
  if (size !== dataset.bytes) {
    report = failedReport(`the data object ${dataset.uri} ${size === undefined ? 'is gone' : `has ${size} bytes, not the ${dataset.bytes} registered`}`);
  } else {
    const parsed = DatasetProfileSchema.safeParse(JSON.parse(await stores.objects.getText(dataset.profileUri)));
    report = parsed.success
      ? validateDataset({ rowCount: dataset.rowCount, arrivedAt: dataset.arrivedAt, schema: dataset.schema, profile: parsed.data }, spec, input.now)
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
  readonly datasets: {
    getDatasetVersion(name: string, version: string): Promise<DatasetVersion>;
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
