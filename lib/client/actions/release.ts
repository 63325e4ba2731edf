import type { EnvironmentName } from '../../../lambdas/core/environments.js';
import { MlopsError } from '../../../lambdas/core/errors.js';
import type { SettableAlias } from '../../../lambdas/core/registry/alias-rules.js';
import { parseExpected, parseModelName, parseReason, parseTargetAlias, parseVersionNumber, parseWeightFor } from '../arguments.js';
import type { Cli } from '../cli.js';
import { formatDecision, formatMove, formatRollback } from '../render/registry.js';
import { formatRelease, releaseReport } from '../render/release.js';
import { transferVersion } from '../transfer.js';

/** What `promote`, `rollback`, `approve` and `reject` do (their options: commands/release.ts). */

export async function promote(
  cli: Cli,
  modelArg: string,
  versionArg: string,
  options: { to: string; reason?: string; weight?: string; expect?: string; wait: boolean; fromEnv?: EnvironmentName; toEnv?: EnvironmentName },
): Promise<void> {
  const model = parseModelName(modelArg);
  const version = parseVersionNumber(versionArg);
  const alias = parseTargetAlias(options.to);
  const weight = options.weight === undefined ? undefined : parseWeightFor(alias, options.weight);
  const expectedVersion = options.expect === undefined ? undefined : parseExpected(options.expect, { allowNone: true });
  const reason = options.reason === undefined ? `promoted to ${alias} with the CLI` : parseReason(options.reason);
  if ((options.fromEnv === undefined) !== (options.toEnv === undefined)) {
    throw new MlopsError('INVALID_INPUT', 'give both --from-env and --to-env, or neither', { field: options.fromEnv === undefined ? 'from-env' : 'to-env' });
  }
  if (options.fromEnv && options.toEnv) {
    await promoteAcross(cli, model, version, alias, { from: options.fromEnv, to: options.toEnv, reason, wait: options.wait, ...(weight !== undefined ? { weight } : {}) });
    return;
  }
  const platform = await cli.client();
  const answer = await platform.promote(model, version, alias, {
    reason,
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    ...(weight !== undefined ? { weight } : {}),
  });
  if (answer.status === 'MOVED') {
    cli.print(answer, () => formatMove(model, answer));
    return;
  }
  cli.progress(`release run ${answer.runId} started: ${model} v${version} -> production`);
  const outcome = options.wait ? await platform.waitForRelease(answer.runId, answer.executionArn, (step) => cli.progress(`  -> ${step}`)) : undefined;
  const production = outcome?.status === 'SUCCEEDED' ? (await platform.showModel(model)).aliases.find((a) => a.alias === 'production') : undefined;
  const report = releaseReport(model, version, answer, outcome, production);
  cli.print(report, () => formatRelease(report, cli.env()));
  if (report.status === 'FAILED') process.exitCode = 1;
}

export async function rollback(cli: Cli, modelArg: string, options: { reason?: string; expect?: string }): Promise<void> {
  const model = parseModelName(modelArg);
  const reason = options.reason === undefined ? 'rolled back with the CLI' : parseReason(options.reason);
  const expectedVersion = options.expect === undefined ? undefined : parseExpected(options.expect, { allowNone: false });
  const answer = await (await cli.client()).rollback(model, { reason, ...(expectedVersion !== undefined ? { expectedVersion } : {}) });
  cli.print(answer, () => formatRollback(model, answer));
}

/** `approve` or `reject`. */
export const decide =
  (decision: 'approve' | 'reject') =>
  async (cli: Cli, modelArg: string, versionArg: string, options: { reason: string }): Promise<void> => {
    const model = parseModelName(modelArg);
    const version = parseVersionNumber(versionArg);
    const reason = parseReason(options.reason);
    const platform = await cli.client();
    const answer = decision === 'approve' ? await platform.approve(model, version, reason) : await platform.reject(model, version, reason);
    cli.print(answer, () => formatDecision(answer));
  };

/**
 * `promote --from-env A --to-env B`: the version is copied into B and judged there as a new
 * version; production goes through B's gate and approval, another alias moves once it registers.
 */
async function promoteAcross(
  cli: Cli,
  model: string,
  version: number,
  alias: SettableAlias,
  options: { from: EnvironmentName; to: EnvironmentName; reason: string; wait: boolean; weight?: number },
) {
  const source = await cli.client(options.from);
  const target = await cli.client(options.to);
  const started = await transferVersion({
    model,
    version,
    from: { environment: options.from, platform: source },
    to: { environment: options.to, platform: target },
    alias,
    reason: options.reason,
    onProgress: cli.progress,
  });
  cli.progress(`run ${started.runId} started in ${options.to}: ${model} v${version} of ${options.from} -> ${alias}`);
  const running = { status: 'RUNNING' as const, runId: started.runId, executionArn: started.executionArn, version };
  if (!options.wait && alias === 'production') {
    cli.print({ ...running, model, from: options.from, to: options.to, copied: started.copied }, () => `release run ${started.runId} started in ${options.to}`);
    return;
  }
  const outcome = await target.waitForRelease(started.runId, started.executionArn, (step) => cli.progress(`  -> ${step}`));
  const newVersion = outcome.run?.modelVersion;
  const origin = { from: { environment: options.from, version }, to: options.to, copied: started.copied };
  if (alias !== 'production') {
    // Registered as a candidate in the target; then the alias moves there like any other move.
    if (outcome.status !== 'SUCCEEDED' || !newVersion) {
      const failed = releaseReport(model, version, running, outcome);
      cli.print({ ...failed, ...origin }, () => formatRelease(failed, options.to));
      process.exitCode = 1;
      return;
    }
    const moved = await target.promote(model, newVersion, alias, { reason: options.reason, ...(options.weight !== undefined ? { weight: options.weight } : {}) });
    cli.print({ ...moved, model, runId: started.runId, version: newVersion, ...origin }, () => `copied ${model} v${version} of ${options.from} to ${options.to} as v${newVersion}; ${alias} -> v${newVersion}`);
    return;
  }
  const production = outcome.status === 'SUCCEEDED' ? (await target.showModel(model)).aliases.find((a) => a.alias === 'production') : undefined;
  const report = { ...releaseReport(model, newVersion ?? version, running, outcome, production), ...origin };
  cli.print(report, () => `${formatRelease(report, options.to)}\n(copied from ${options.from} v${version}${newVersion ? ` as ${options.to} v${newVersion}` : ''})`);
  if (report.status === 'FAILED') process.exitCode = 1;
}
