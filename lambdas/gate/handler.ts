import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { evaluateGate } from '../core/gate.js';

const logger = new Logger({ serviceName: 'gate' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const REPORTS_BUCKET = requireEnv('REPORTS_BUCKET');

const InputSchema = z.object({
  evaluation: z.object({ metrics: z.record(z.string(), z.number()), predictionStd: z.number().optional() }),
});

/** Gate: judges the metrics against the spec's thresholds; the Choice after it stops a failed gate. */
export const handler = async (event: unknown) => {
  const { run, spec, state } = readStepState(event, 'Gate');
  const { evaluation } = parseOrThrow(InputSchema, state, 'Gate input');
  const metrics = { ...evaluation.metrics, ...(evaluation.predictionStd === undefined ? {} : { predictionStd: evaluation.predictionStd }) };
  const report = evaluateGate(metrics, spec.gate, evaluation.metrics.rows ?? 0);
  const reportUri = await objects.put(
    REPORTS_BUCKET,
    `gates/${run.model}/${run.runId}.json`,
    JSON.stringify({ runId: run.runId, model: run.model, ...report }, null, 2),
    'application/json',
  );
  await tracking.updateRun(run.runId, { gateReportUri: reportUri, gatePassed: report.passed, gateSummary: report.summary });
  logger.info('gate judged', { runId: run.runId, passed: report.passed, summary: report.summary });
  return { passed: report.passed, reportUri, summary: report.summary };
};
