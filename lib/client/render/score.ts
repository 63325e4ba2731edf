import type { BatchJobAnswer } from '../../../lambdas/contract/batch.js';

/** A batch job in a few lines: how it stands or ended, its counts, and where the output and the errors are. */
export function describeBatchJob(job: BatchJobAnswer, local: { output?: string; errors?: string } = {}): string {
  const lines = [`batch job ${job.jobId}: ${job.status}${job.step && job.status === 'RUNNING' ? ` (${job.step})` : ''} - ${job.job.model} v${job.job.version}, ${job.job.format}`];
  if (job.counts) {
    const rate = ((job.errorRate ?? 0) * 100).toFixed(2);
    lines.push(`rows: ${job.counts.rows} read, ${job.counts.scored} scored, ${job.counts.bad} bad (${rate}%, ${(job.job.maxErrorRate * 100).toFixed(2)}% allowed)`);
  }
  if (job.error) lines.push(`error: ${job.error.code}: ${job.error.message}`);
  if (job.counts || job.status === 'SUCCEEDED') {
    lines.push(`output: ${local.output ?? job.job.output}`);
    lines.push(`errors: ${local.errors ?? job.job.errors}`);
  }
  return lines.join('\n');
}
