import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { ObjectStore } from '../aws/object-store.js';
import { readStepState } from '../aws/step-context.js';
import { TrackingStore } from '../aws/tracking-store.js';
import { parseOrThrow } from '../core/errors.js';
import { gateRun, type GateStores } from '../core/evaluation/gate-run.js';

const logger = new Logger({ serviceName: 'gate' });

const InputSchema = z.object({
  evaluation: z.object({
    metrics: z.record(z.string(), z.number()),
    predictionStd: z.number().optional(),
    heldOutUri: z.string().startsWith('s3://'),
    latencyMsPerRow: z.number().nonnegative(),
    nonFinitePredictions: z.number().int().nonnegative(),
  }),
});

/** Gate over the stores it is given: parse the state, judge (core/evaluation/gate-run.ts), answer. */
export function createHandler(stores: GateStores) {
  return async (event: unknown) => {
    const { run, spec, state } = readStepState(event, 'Gate');
    const { evaluation } = parseOrThrow(InputSchema, state, 'Gate input');
    const verdict = await gateRun(stores, { run, spec, evaluation });
    logger.info('gate judged', { runId: run.runId, passed: verdict.passed, summary: verdict.summary });
    return verdict;
  };
}

function awsStores(): GateStores {
  const objects = new ObjectStore(createS3Client());
  const reportsBucket = requireEnv('REPORTS_BUCKET');
  return {
    reports: { put: (key, json) => objects.put(reportsBucket, key, json, 'application/json'), getText: (uri) => objects.getText(uri) },
    runs: new TrackingStore(createDocumentClient(), requireEnv('TRACKING_TABLE')),
  };
}

export const handler = createHandler(awsStores());
