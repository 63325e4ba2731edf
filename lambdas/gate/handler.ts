import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { evaluateReleaseGate } from '../core/evaluation/gate.js';
import { HeldOutFileSchema } from '../core/evaluation/held-out.js';
import { championMetrics } from '../core/training/model-spec.js';

const logger = new Logger({ serviceName: 'gate' });
const objects = new ObjectStore(createS3Client());
const tracking = new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE'));
const REPORTS_BUCKET = requireEnv('REPORTS_BUCKET');

const InputSchema = z.object({
  evaluation: z.object({
    metrics: z.record(z.string(), z.number()),
    predictionStd: z.number().optional(),
    heldOutUri: z.string().startsWith('s3://'),
    latencyMsPerRow: z.number().nonnegative(),
    nonFinitePredictions: z.number().int().nonnegative(),
  }),
});

/** JSON nulls stand for outputs that were not numbers; the gate's sanity check has counted them already. */
const asNumbers = (outputs: (number | null)[][]) => outputs.map((out) => out.map((value) => value ?? Number.NaN));

/**
 * Gate: judges the candidate against the spec's thresholds, the sanity checks and, when a version
 * serves in production, against that version on the same held-out rows (seeded paired bootstrap,
 * overall and per segment). Writes the report; the Choice after it stops a failed gate.
 */
export const handler = async (event: unknown) => {
  const { run, spec, state } = readStepState(event, 'Gate');
  const { evaluation } = parseOrThrow(InputSchema, state, 'Gate input');
  const heldOut = parseOrThrow(HeldOutFileSchema, JSON.parse(await objects.getText(evaluation.heldOutUri)), 'held-out evidence');
  const report = evaluateReleaseGate({
    metrics: evaluation.metrics,
    policy: spec.gate,
    rows: evaluation.metrics.rows ?? heldOut.rows.length,
    ...(evaluation.predictionStd === undefined ? {} : { predictionStd: evaluation.predictionStd }),
    nonFinitePredictions: evaluation.nonFinitePredictions,
    latencyMsPerRow: evaluation.latencyMsPerRow,
    championMetrics: championMetrics(spec),
    ...(heldOut.champion
      ? {
          championVersion: heldOut.champion.version,
          paired: { task: heldOut.task, labels: heldOut.labels, candidate: asNumbers(heldOut.candidate), champion: asNumbers(heldOut.champion.outputs), segments: heldOut.segments },
        }
      : {}),
  });
  const reportUri = await objects.put(
    REPORTS_BUCKET,
    `gates/${run.model}/${run.runId}.json`,
    JSON.stringify({ runId: run.runId, model: run.model, heldOutUri: evaluation.heldOutUri, ...report }, null, 2),
    'application/json',
  );
  await tracking.updateRun(run.runId, { gateReportUri: reportUri, gatePassed: report.passed, gateSummary: report.summary });
  logger.info('gate judged', { runId: run.runId, passed: report.passed, summary: report.summary });
  return { passed: report.passed, reportUri, summary: report.summary, champion: report.champion };
};
