import { validateDataset, type ValidationReport } from '../core/data/validation.js';
import { DataValidationError, MlopsError } from '../core/errors.js';
import type { ModelSpec } from '../core/training/model-spec.js';
import { DatasetProfileSchema } from '../core/data/profile.js';
import type { DatasetVersion } from '../core/data/dataset-version.js';
import type { ObjectStore } from './object-store.js';

/**
 * Runs the data validation gate for a dataset version: reads its profile (validated, since it
 * comes from S3), checks the data object is still there at its recorded size, judges, and
 * stores the report. Used by the pipeline's ValidateData step and by `mlops dataset validate`.
 */
export async function validateDatasetVersion(
  objects: ObjectStore,
  input: { dataset: DatasetVersion; spec: ModelSpec; reportsBucket: string; reportKey: string; context: Record<string, unknown>; now?: Date },
): Promise<{ report: ValidationReport; reportUri: string }> {
  const { dataset, spec } = input;
  let report: ValidationReport;
  const size = await objects.size(dataset.uri);
  if (size !== dataset.bytes) {
    report = failedReport(`the data object ${dataset.uri} ${size === undefined ? 'is gone' : `has ${size} bytes, not the ${dataset.bytes} registered`}`);
  } else {
    const parsed = DatasetProfileSchema.safeParse(JSON.parse(await objects.getText(dataset.profileUri)));
    report = parsed.success
      ? validateDataset({ rowCount: dataset.rowCount, arrivedAt: dataset.arrivedAt, schema: dataset.schema, profile: parsed.data }, spec, input.now ?? new Date())
      : failedReport(`the profile ${dataset.profileUri} is not a valid profile: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  }
  const reportUri = await objects.put(
    input.reportsBucket,
    input.reportKey,
    JSON.stringify(
      { ...input.context, model: spec.name, dataset: { name: dataset.name, version: dataset.version, uri: dataset.uri, profileUri: dataset.profileUri }, ...report },
      null,
      2,
    ),
    'application/json',
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

export const isDataProblem = (error: unknown): error is MlopsError => error instanceof DataValidationError || (error instanceof MlopsError && error.code === 'INVALID_INPUT');
