import { MlopsError } from '../../../lambdas/core/errors.js';
import { parseModelName } from '../arguments.js';
import type { Cli } from '../cli.js';
import { formatMonitor } from '../render/monitor.js';

/** What `monitor` does (its options: commands/monitor.ts). */

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new MlopsError('INVALID_INPUT', `--limit "${text}": expected a whole number from 1 to 100`, { field: 'limit' });
  return limit;
}

export async function monitor(cli: Cli, modelArg: string, options: { limit?: string }): Promise<void> {
  const model = parseModelName(modelArg);
  const limit = limitOf(options.limit);
  const answer = await (await cli.client()).getMonitor(model, limit);
  cli.print(answer, () => formatMonitor(answer));
}
