import { MlopsError } from '../../../lambdas/core/errors.js';
import { reproductionVerdict } from '../../../lambdas/core/training/run-comparison.js';
import type { RunRecord } from '../../../lambdas/core/training/run.js';
import type { StartRunBody } from '../../../lambdas/contract/runs.js';
import { parseDatasetRef, parseParams } from '../arguments.js';
import type { Cli } from '../cli.js';
import type { PipelineOutcome, PlatformClient } from '../platform-client.js';
import { waitingForApproval } from '../render/release.js';
import { describeRun, formatComparison, formatManyComparison, formatRunList, formatVerdict } from '../render/runs.js';

/** Starts a run through the runs API, which checks everything first: a refused request starts nothing and writes nothing. */
async function runAndWait(cli: Cli, platform: PlatformClient, model: string, body: StartRunBody, wait: boolean) {
  const started = await platform.startRun(model, body);
  cli.progress(`run ${started.runId} started on ${started.dataset.name}@${started.dataset.version.slice(0, 12)}: ${started.dataset.chosen}`);
  if (!wait) return { started, outcome: undefined };
  // A run that reaches WaitForApproval may wait days for a person: stop there and say what to type.
  const outcome = await platform.waitForRelease(started.runId, started.executionArn, (step) => cli.progress(`  -> ${step}`));
  return { started, outcome };
}

/** Starts a run and prints how it ended (or its id, when not waiting): what `train` and `models import` answer. */
export async function runAndReport(cli: Cli, platform: PlatformClient, model: string, body: StartRunBody, wait: boolean): Promise<void> {
  const { started, outcome } = await runAndWait(cli, platform, model, body, wait);
  if (!outcome) cli.print({ runId: started.runId, executionArn: started.executionArn, status: 'RUNNING', dataset: started.dataset }, () => started.runId);
  else printOutcome(cli, model, outcome);
}

/** A run's outcome; one waiting for approval is no failure: it prints the commands that decide it. */
function printOutcome(cli: Cli, model: string, outcome: PipelineOutcome): void {
  const described = describeRun(outcome.run) ?? `run ${outcome.runId}: ${outcome.status}`;
  if (outcome.status === 'WAITING_FOR_APPROVAL') {
    const version = outcome.run?.modelVersion;
    cli.print({ ...outcome, ...(version !== undefined ? { version } : {}) }, () => `${described}\n${waitingForApproval(model, version, outcome.runId, cli.env())}`);
    return;
  }
  cli.print(outcome, () => described);
  if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
}

/** What `train`, `reproduce` and `runs show|list|compare` do (their options: commands/runs.ts). */

export async function train(cli: Cli, model: string, options: { dataset?: string; param: string[]; wait?: boolean; registerOnly?: boolean }): Promise<void> {
  const params = parseParams(options.param);
  const platform = await cli.client();
  // Without --dataset the API takes the spec's dataset; without @version, the newest version not quarantined for the model.
  const dataset = options.dataset ? parseDatasetRef(options.dataset) : undefined;
  await runAndReport(cli, platform, model, { ...(dataset ? { dataset } : {}), params, release: options.registerOnly !== true }, options.wait === true);
}

/** The run's record: NOT_FOUND until its first step wrote it. */
async function recordOf(platform: PlatformClient, runId: string): Promise<RunRecord> {
  const { run } = await platform.getRun(runId);
  if (!run) throw new MlopsError('NOT_FOUND', `run ${runId} has no record yet: it is starting`, { field: 'runId' });
  return run;
}

export async function reproduce(cli: Cli, runId: string): Promise<void> {
  const platform = await cli.client();
  const original = await recordOf(platform, runId);
  // The API refuses an imported run, or one without a recorded spec and artifact, before starting
  // anything; its body field `reproduces` is this command's <run> argument.
  const { outcome } = await runAndWait(cli, platform, original.model, { mode: 'reproduce', reproduces: runId }, true).catch((error: unknown) => {
    if (error instanceof MlopsError && error.field === 'reproduces') throw new MlopsError(error.code, error.message, { field: 'run' });
    throw error;
  });
  if (!outcome?.run || outcome.status !== 'SUCCEEDED') {
    throw new MlopsError('REPRODUCTION_FAILED', `the reproduction ended ${outcome?.status}: ${outcome?.run?.failure?.reason ?? 'no run record'}`, { field: 'run' });
  }
  const verdict = reproductionVerdict(original, outcome.run);
  cli.print(verdict, () => formatVerdict(runId, verdict));
  if (!verdict.matches) process.exitCode = 1;
}

export async function show(cli: Cli, runId: string): Promise<void> {
  const record = await recordOf(await cli.client(), runId);
  cli.print(record, () => describeRun(record)!);
}

export async function list(cli: Cli, model: string, options: { limit: string }): Promise<void> {
  const records = await (await cli.client()).listRuns({ model, limit: Number(options.limit) });
  cli.print(records, () => formatRunList(records));
}

export async function compare(cli: Cli, a: string, b: string, more: string[] = []): Promise<void> {
  const platform = await cli.client();
  if (more.length === 0) {
    // Two runs keep the pair answer (`--json` contract since the first release).
    const comparison = await platform.compareRuns([a, b]);
    cli.print(comparison, () => formatComparison(a, b, comparison));
    return;
  }
  const comparison = await platform.compareRuns([a, b, more[0]!, ...more.slice(1)]);
  cli.print(comparison, () => formatManyComparison(comparison));
}
