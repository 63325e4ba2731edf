import { MlopsError } from '../../../lambdas/core/errors.js';
import { DURATION } from '../../../lambdas/core/training/model-spec.js';
import type { RolloutStartRequest } from '../../../lambdas/core/registry/rollout.js';
import { parseModelName, parseReason, parseVersionNumber } from '../arguments.js';
import type { Cli } from '../cli.js';
import { formatRolloutAbort, formatRolloutStatus } from '../render/rollout.js';

/** What `rollout start|status|abort` do (their options: commands/rollout.ts). */

const invalid = (field: string, message: string) => new MlopsError('INVALID_INPUT', message, { field });

/** `--steps 0.05,0.25,1`: increasing weights, the last one 1 (the server checks the rules again). */
export function parseSteps(text: string): number[] {
  const steps = text.split(',').map((part) => Number(part.trim()));
  if (steps.length === 0 || steps.some((step, i) => !Number.isFinite(step) || step <= 0 || step > 1 || text.split(',')[i]!.trim() === '')) {
    throw invalid('steps', `--steps "${text}": expected canary weights between 0 and 1, comma-separated, ending with 1 (the promotion), such as 0.05,0.25,1`);
  }
  if (steps.at(-1) !== 1) throw invalid('steps', `--steps "${text}": the last step is the promotion: end with 1`);
  if (steps.some((step, i) => i > 0 && step <= steps[i - 1]!)) throw invalid('steps', `--steps "${text}": the weights must increase`);
  return steps;
}

function parseDuration(text: string, option: string): string {
  if (!DURATION.safeParse(text).success) throw invalid(option, `--${option} "${text}": expected a duration such as "45s", "30m", "1h" or "7 days"`);
  return text;
}

/** How long `rollout start` waits for the gate's verdict before it leaves the rollout to run. */
const GATE_WAIT_MS = 30 * 60_000;

export async function start(
  cli: Cli,
  modelArg: string,
  versionArg: string,
  options: { steps?: string; bake?: string; shadowFirst?: string; reason?: string; wait: boolean },
): Promise<void> {
  const model = parseModelName(modelArg);
  const request: RolloutStartRequest = {
    version: parseVersionNumber(versionArg),
    ...(options.steps !== undefined ? { steps: parseSteps(options.steps) } : {}),
    ...(options.bake !== undefined ? { bake: parseDuration(options.bake, 'bake') } : {}),
    ...(options.shadowFirst !== undefined ? { shadowFirst: parseDuration(options.shadowFirst, 'shadow-first') } : {}),
    reason: options.reason === undefined ? 'rollout started with the CLI' : parseReason(options.reason),
  };
  const platform = await cli.client();
  const started = await platform.startRollout(model, request);
  cli.progress(`rollout ${started.rolloutId} started: ${model} v${started.version} against production v${started.production}; gate run ${started.gateRunId}`);
  if (!options.wait) {
    cli.print({ ...started, gate: 'RUNNING' }, () => `rollout ${started.rolloutId} started (steps ${started.steps.join(', ')}, bake ${started.bake}); follow it with: mlops rollout status ${model}`);
    return;
  }
  const deadline = Date.now() + GATE_WAIT_MS;
  for (;;) {
    const status = await platform.rolloutStatus(model);
    const { rollout } = status;
    if (rollout.rolloutId !== started.rolloutId) throw new MlopsError('ROLLOUT_REPLACED', `another rollout (${rollout.rolloutId}) replaced ${started.rolloutId}`, { field: 'model' });
    if (rollout.state === 'FAILED' && rollout.phase === 'gate') {
      throw new MlopsError('GATE_FAILED', `version ${started.version} of ${model} failed its gate against production v${started.production}; nothing was rolled out: ${rollout.outcome ?? ''}`, { field: 'version' });
    }
    if (rollout.phase !== 'gate' || rollout.state !== 'RUNNING') {
      cli.print({ ...started, gate: 'PASSED', rollout }, () => `${formatRolloutStatus(status)}\nfollow it with: mlops rollout status ${model}`);
      return;
    }
    if (Date.now() > deadline) {
      cli.print({ ...started, gate: 'RUNNING', rollout }, () => `rollout ${started.rolloutId} is still in its gate; follow it with: mlops rollout status ${model}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

export async function status(cli: Cli, modelArg: string): Promise<void> {
  const answer = await (await cli.client()).rolloutStatus(parseModelName(modelArg));
  cli.print(answer, () => formatRolloutStatus(answer));
}

export async function abort(cli: Cli, modelArg: string, options: { reason?: string }): Promise<void> {
  const model = parseModelName(modelArg);
  const answer = await (await cli.client()).abortRollout(model, options.reason === undefined ? 'aborted with the CLI' : parseReason(options.reason));
  cli.print(answer, () => formatRolloutAbort(answer));
}
