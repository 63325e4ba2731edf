import { Logger } from '@aws-lambda-powertools/logger';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { createDocumentClient, createS3Client } from '../aws/clients.js';
import { requireEnv } from '../aws/env.js';
import { FirehoseSink } from '../aws/firehose-sink.js';
import { apiHandler, httpStatusOf, pathParam } from '../aws/http-api.js';
import { ObjectStore } from '../aws/object-store.js';
import { RegistryStore } from '../aws/registry-store.js';
import { RequestIndexTable } from '../aws/request-index.js';
import { MAX_FEEDBACK_BODY_BYTES, recordFeedback, type FeedbackStores } from '../core/serving/feedback.js';
import type { FeedbackRecord } from '../core/serving/records.js';
import { cachedModelFiles } from '../core/serving/serve.js';
import { MODEL_NAME } from '../core/training/run.js';

const logger = new Logger({ serviceName: 'feedback' });

/**
 * POST /models/{model}/feedback on the serving API (IAM-authorized like predict): parse the path
 * and body, record the labels (core/serving/feedback.ts), answer the report. The actor is the
 * signed caller. A body of which nothing is stored answers its code's status (400) with the
 * report beside the error; any other body answers 200 with the report.
 */
export function createHandler(stores: FeedbackStores, settings: { clock?: () => Date } = {}) {
  const clock = settings.clock ?? (() => new Date());
  return apiHandler(
    logger,
    {
      'POST /models/{model}/feedback': async ({ params, body, actor }) => {
        const model = pathParam(params, 'model', MODEL_NAME, 'model name');
        const { answer, refusal, unmarked } = await recordFeedback(stores, { model, body, actor, now: clock() });
        if (unmarked > 0) logger.warn('labels stored but not marked: a resend would store them twice', { model, unmarked });
        logger.info('feedback recorded', { model, ...answer.counts });
        return refusal ? { status: httpStatusOf(refusal.code), body: { error: refusal, ...answer } } : { status: 200, body: answer };
      },
    },
    { maxBodyBytes: MAX_FEEDBACK_BODY_BYTES },
  );
}

function awsStores(): FeedbackStores {
  const doc = createDocumentClient();
  return {
    registry: new RegistryStore(doc, requireEnv('REGISTRY_TABLE')),
    modelFile: cachedModelFiles(new ObjectStore(createS3Client())),
    requestIndex: new RequestIndexTable(doc, requireEnv('REQUEST_INDEX_TABLE')),
    feedback: new FirehoseSink<FeedbackRecord>(new FirehoseClient({}), requireEnv('FEEDBACK_STREAM')),
  };
}

export const handler = createHandler(awsStores());
