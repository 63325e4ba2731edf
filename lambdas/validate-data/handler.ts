import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { validateDatasetVersion } from '../aws/dataset-validation.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { DataValidationError } from '../core/errors.js';

const logger = new Logger({ serviceName: 'validate-data' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const REPORTS_BUCKET = requireEnv('REPORTS_BUCKET');

/**
 * ValidateData: judges the dataset version against the model spec from the profile made at
 * registration, and stores the report. A blocking failure quarantines the dataset version for
 * this model and fails the step, so nothing reaches training or the registry.
 */
export const handler = async (event: unknown) => {
  const { run, spec } = readStepState(event, 'ValidateData');
  const dataset = await tracking.getDatasetVersion(run.dataset.name, run.dataset.version);
  const { report, reportUri } = await validateDatasetVersion(objects, {
    dataset,
    spec,
    reportsBucket: REPORTS_BUCKET,
    reportKey: `validation/${run.model}/${run.runId}.json`,
    context: { runId: run.runId },
  });
  await tracking.updateRun(run.runId, { validationReportUri: reportUri, validationSummary: report.summary });
  logger.info('dataset validated', { runId: run.runId, passed: report.passed, summary: report.summary });

  if (!report.passed) {
    // Quarantined for this model only: other models' gates judge the version for themselves.
    await tracking.quarantineDatasetVersion(run.dataset.name, run.dataset.version, {
      model: run.model,
      gate: 'data-validation',
      reason: report.summary,
      reportUri,
      runId: run.runId,
      at: new Date().toISOString(),
    });
    throw new DataValidationError(`data validation failed: ${report.summary} (report: ${reportUri})`, { step: 'ValidateData' });
  }
  return { passed: true, reportUri, summary: report.summary, rowCount: report.rowCount };
};
