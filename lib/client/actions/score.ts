import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BatchJobAnswer, StartBatchJobRequest } from '../../../lambdas/contract/batch.js';
import { errorsUriFor } from '../../../lambdas/core/batch/job.js';
import { formatFromFileName, type DatasetFormat } from '../../../lambdas/core/data/formats.js';
import { InputValidationError, MlopsError } from '../../../lambdas/core/errors.js';
import { durationMs } from '../../../lambdas/core/training/model-spec.js';
import { parseModelRef } from '../arguments.js';
import type { Cli } from '../cli.js';
import type { PlatformClient } from '../platform-client.js';
import { describeBatchJob } from '../render/score.js';

const isS3 = (target: string) => target.startsWith('s3://');

function numberOption(text: string, field: string, check: (value: number) => boolean, expected: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || !check(value)) throw new InputValidationError(`--${field} "${text}": expected ${expected}`, { field });
  return value;
}

/** Polls the job to its end, printing each step it enters. */
async function waitForJob(cli: Cli, platform: PlatformClient, jobId: string, timeoutMs: number): Promise<BatchJobAnswer> {
  const deadline = Date.now() + timeoutMs;
  let step: string | undefined;
  for (;;) {
    const job = await platform.getBatchJob(jobId);
    if (job.step && job.step !== step) {
      step = job.step;
      cli.progress(`  -> ${step}`);
    }
    if (job.status !== 'RUNNING') return job;
    if (Date.now() > deadline) throw new MlopsError('TIMEOUT', `batch job ${jobId} still running after ${Math.round(timeoutMs / 1000)} s; see it with mlops score-job ${jobId}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Streams a presigned GET to a local file. */
export async function download(url: string, path: string): Promise<void> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new MlopsError('DOWNLOAD_FAILED', `cannot download to ${path}: HTTP ${response.status}`);
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(path));
}

/** Downloads an ended job's output and errors file to a local path (the errors next to it), when Finish wrote them. */
async function fetchOutputs(cli: Cli, job: BatchJobAnswer, output: string | undefined): Promise<{ output?: string; errors?: string }> {
  if (!output || isS3(output) || !job.downloads) return {};
  const errors = errorsUriFor(output);
  await download(job.downloads.output, output);
  await download(job.downloads.errors, errors);
  cli.progress(`downloaded ${output} and ${errors}`);
  return { output, errors };
}

/** Prints a job (the API's record, plus the local files) and sets the exit code: 1 unless it succeeded. */
function report(cli: Cli, job: BatchJobAnswer, local: { output?: string; errors?: string }): void {
  cli.print({ ...job, ...(local.output ? { localOutput: local.output, localErrors: local.errors } : {}) }, () => describeBatchJob(job, local));
  if (job.status !== 'SUCCEEDED' && job.status !== 'RUNNING') process.exitCode = 1;
}

/** `mlops score`: upload a local input, start the job, wait, download a local output. */
export async function score(
  cli: Cli,
  target: string,
  options: { input: string; output?: string; format?: DatasetFormat; maxErrorRate: string; chunkRows: string; wait: boolean; timeout: string },
): Promise<void> {
  const { model, version } = parseModelRef(target);
  const maxErrorRate = numberOption(options.maxErrorRate, 'max-error-rate', (value) => value >= 0 && value <= 1, 'a share between 0 and 1, e.g. 0.01');
  const chunkRows = numberOption(options.chunkRows, 'chunk-rows', (value) => Number.isInteger(value) && value >= 10 && value <= 100_000, 'a whole number of rows from 10 to 100000');
  const timeoutMs = durationMs(options.timeout);
  const format = options.format ?? formatFromFileName(options.input);
  if (!format) throw new MlopsError('UNSUPPORTED_FORMAT', `cannot tell the format of ${options.input}; name it .csv, .jsonl or .parquet, or pass --format`, { field: 'format' });
  if (options.output && !isS3(options.output) && formatFromFileName(options.output) !== format) {
    throw new MlopsError('UNSUPPORTED_FORMAT', `--output ${options.output}: the output has the input's format (${format}); name it .${format}`, { field: 'output' });
  }
  if (options.output && !isS3(options.output) && !options.wait) throw new InputValidationError('a local --output needs the wait: drop --no-wait, or download later with mlops score-job <id> --output', { field: 'output' });

  const platform = await cli.client();
  let input: StartBatchJobRequest['input'];
  if (isS3(options.input)) input = { uri: options.input };
  else {
    const upload = await platform.uploadBatchInput(model, options.input, format);
    cli.progress(`uploaded ${options.input} (${upload.bytes} bytes)`);
    input = { uploadKey: upload.uploadKey };
  }
  const started = await platform.startBatchJob(model, {
    ...(version !== undefined ? { version } : {}),
    input,
    format,
    ...(options.output && isS3(options.output) ? { output: options.output } : {}),
    maxErrorRate,
    chunkRows,
  });
  cli.progress(`batch job ${started.jobId} started: ${model} v${started.job.version}`);
  if (!options.wait) {
    cli.print(started, () => started.jobId);
    return;
  }
  const ended = await waitForJob(cli, platform, started.jobId, timeoutMs);
  report(cli, ended, await fetchOutputs(cli, ended, options.output));
}

/** `mlops score-job`: a job's record; with --wait, to its end; with --output, its files downloaded. */
export async function scoreJob(cli: Cli, jobId: string, options: { wait?: boolean; output?: string; timeout: string }): Promise<void> {
  const platform = await cli.client();
  const job = options.wait ? await waitForJob(cli, platform, jobId, durationMs(options.timeout)) : await platform.getBatchJob(jobId);
  if (options.output && formatFromFileName(options.output) !== job.job.format) {
    throw new MlopsError('UNSUPPORTED_FORMAT', `--output ${options.output}: the output has the input's format (${job.job.format})`, { field: 'output' });
  }
  report(cli, job, job.status === 'RUNNING' ? {} : await fetchOutputs(cli, job, options.output));
}
