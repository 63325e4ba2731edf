import { Logger } from '@aws-lambda-powertools/logger';
import { batchStores } from '../aws/batch-stores.js';
import { scoreChunk, type BatchStores } from '../core/batch/batch-scoring.js';
import { ScoreChunkEventSchema } from '../core/batch/job.js';
import { parseOrThrow } from '../core/errors.js';

const logger = new Logger({ serviceName: 'batch-score-chunk' });

/** ScoreChunk over the stores it is given: one Distributed Map item, one chunk scored into its part. */
export function createHandler(stores: BatchStores) {
  return async (event: unknown) => {
    const { job, chunk } = parseOrThrow(ScoreChunkEventSchema, event, 'chunk item');
    const answer = await scoreChunk(stores, job, chunk);
    logger.info('chunk scored', { jobId: job.jobId, ...answer });
    // The Map discards results (ResultPath null): this answer is for the logs and the child execution.
    return answer;
  };
}

export const handler = createHandler(batchStores());
