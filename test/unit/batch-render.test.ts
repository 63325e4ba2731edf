import { describe, expect, it } from 'vitest';
import { BatchJobAnswerSchema } from '../../lambdas/contract/batch.js';
import { describeBatchJob } from '../../lib/client/render/score.js';

const job = {
  jobId: 'credit-20260102030405-abc123',
  model: 'credit',
  version: 3,
  versionRef: 'production',
  artifact: { uri: 's3://models/models/credit/v3.json', sha256: 'a'.repeat(64) },
  format: 'csv' as const,
  input: 's3://reports/batch-jobs/uploads/credit/x.csv',
  output: 's3://reports/batch-jobs/credit-20260102030405-abc123/output.csv',
  errors: 's3://reports/batch-jobs/credit-20260102030405-abc123/output.errors.jsonl',
  bucket: 'reports',
  maxErrorRate: 0.01,
  chunkRows: 5000,
  actor: 'arn:aws:iam::000000000000:user/alice',
  requestedAt: '2026-01-02T03:04:05.000Z',
};

describe('mlops score text output', () => {
  it('shows a running job with its step, and an ended one with its counts, the threshold and where the files are', () => {
    const running = BatchJobAnswerSchema.parse({ jobId: job.jobId, status: 'RUNNING', step: 'ScoreChunks', job, startedAt: job.requestedAt });
    expect(describeBatchJob(running)).toBe(`batch job ${job.jobId}: RUNNING (ScoreChunks) - credit v3, csv`);

    const failed = BatchJobAnswerSchema.parse({
      ...running,
      status: 'FAILED',
      step: 'TooManyBadRows',
      counts: { rows: 100, scored: 98, bad: 2 },
      errorRate: 0.02,
      error: { code: 'TOO_MANY_BAD_ROWS', message: '2 of 100 rows are bad' },
    });
    expect(describeBatchJob(failed, { output: 'scored.csv', errors: 'scored.errors.jsonl' }).split('\n')).toEqual([
      `batch job ${job.jobId}: FAILED - credit v3, csv`,
      'rows: 100 read, 98 scored, 2 bad (2.00%, 1.00% allowed)',
      'error: TOO_MANY_BAD_ROWS: 2 of 100 rows are bad',
      'output: scored.csv',
      'errors: scored.errors.jsonl',
    ]);
  });
});
