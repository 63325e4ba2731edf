import { Logger } from '@aws-lambda-powertools/logger';
import { batchStores } from '../aws/batch-stores.js';
import { finishJob, type BatchStores } from '../core/batch/batch-scoring.js';
import { FinishEventSchema } from '../core/batch/job.js';
import { parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'batch-finish' });

/** Finish over the stores it is given: write the output and the errors file, answer the result (FAILED above the error threshold). */
export function createHandler(stores: BatchStores) {
  return async (event: unknown) => {
    const { job } = parseOrThrow(FinishEventSchema, event, 'batch job');
    const result = await finishJob(stores, job);
    logger.info('batch job finished', { jobId: job.jobId, status: result.status, ...result.counts });
    return result;
  };
}

export const handler = createHandler(batchStores());
