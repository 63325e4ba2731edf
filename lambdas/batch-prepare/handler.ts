import { Logger } from '@aws-lambda-powertools/logger';
import { batchStores } from '../aws/batch-stores.js';
import { prepareJob, type BatchStores } from '../core/batch/batch-scoring.js';
import { PrepareEventSchema } from '../core/batch/job.js';
import { parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'batch-prepare' });

/** Prepare over the stores it is given: parse the job, cut the input into chunks (core/batch), answer PREPARED or REJECTED with a code. */
export function createHandler(stores: BatchStores) {
  return async (event: unknown) => {
    const { job } = parseOrThrow(PrepareEventSchema, event, 'batch job');
    const answer = await prepareJob(stores, job);
    if (answer.status === 'REJECTED') logger.warn('batch input refused', { jobId: job.jobId, ...answer.error });
    else logger.info('batch input prepared', { jobId: job.jobId, chunks: answer.chunks, rows: answer.rows });
    return answer;
  };
}

export const handler = createHandler(batchStores());
