import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseCsv } from '../core/csv.js';
import { validateDataset, type ValidationReport } from '../core/dataset.js';
import { DataValidationError, MlopsError } from '../core/errors.js';

const logger = new Logger({ serviceName: 'validate-data' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const REPORTS_BUCKET = requireEnv('REPORTS_BUCKET');

/** A file that cannot be read as CSV fails the gate with one failed check naming the problem. */
function unreadableReport(error: MlopsError): ValidationReport {
  return {
    passed: false,
    rowCount: 0,
    checks: [{ name: 'readable_csv', severity: 'block', passed: false, detail: error.message }],
    summary: `1 of 1 checks failed: readable_csv (${error.message})`,
  };
}

/**
 * ValidateData: checks the dataset against the model spec and stores the report. A blocking
 * failure quarantines the dataset version and fails the step, so nothing reaches training.
 */
export const handler = async (event: unknown) => {
  const { run, spec } = readStepState(event, 'ValidateData');
  let report: ValidationReport;
  try {
    report = validateDataset(parseCsv(await objects.getText(run.dataset.uri)), spec);
  } catch (error) {
    if (!(error instanceof MlopsError) && !(error instanceof TypeError)) throw error;
    report = unreadableReport(error instanceof MlopsError ? error : new DataValidationError(`not UTF-8 text: ${error.message}`));
  }
  const reportUri = await objects.put(
    REPORTS_BUCKET,
    `validation/${run.model}/${run.runId}.json`,
    JSON.stringify({ runId: run.runId, model: run.model, dataset: run.dataset, ...report }, null, 2),
    'application/json',
  );
  await tracking.updateRun(run.runId, { validationReportUri: reportUri, validationSummary: report.summary });
  logger.info('dataset validated', { runId: run.runId, passed: report.passed, summary: report.summary });

  if (!report.passed) {
    await tracking.quarantineDatasetVersion(run.dataset.name, run.dataset.version, report.summary);
    throw new DataValidationError(`data validation failed: ${report.summary} (report: ${reportUri})`, { step: 'ValidateData' });
  }
  return { passed: true, reportUri, summary: report.summary, rowCount: report.rowCount };
};
