import { setTimeout as sleep } from 'node:timers/promises';
import { MlopsError } from '../../../lambdas/core/errors.js';
import { durationMs } from '../../../lambdas/core/training/model-spec.js';
import { parseModelName } from '../arguments.js';
import type { Cli } from '../cli.js';
import { eventLine } from '../render/events.js';

/** What `events tail` does (its options: commands/events.ts). */

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
/** A page of events; a follower asks again at once while pages come full. */
const PAGE = 500;

/** `--since`: a duration back from now, or an instant; as the ISO time in UTC the API takes. */
export function sinceInstant(text: string, now: Date): string {
  if (ISO_TIME.test(text)) {
    const at = new Date(text);
    if (!Number.isNaN(at.getTime())) return at.toISOString();
  }
  try {
    return new Date(now.getTime() - durationMs(text)).toISOString();
  } catch {
    throw new MlopsError('INVALID_INPUT', `--since "${text}": expected a duration such as "30m", "2h" or "7 days", or an ISO time such as 2026-12-06T08:00:00Z`, { field: 'since' });
  }
}

function intervalMs(text: string): number {
  let ms: number;
  try {
    ms = durationMs(text);
  } catch {
    ms = Number.NaN;
  }
  if (!(ms >= 1000 && ms <= 300_000)) throw new MlopsError('INVALID_INPUT', `--interval "${text}": expected a duration from 1s to 5m, such as "2s"`, { field: 'interval' });
  return ms;
}

export interface TailOptions {
  model?: string;
  since: string;
  follow: boolean;
  interval: string;
}

/** `events tail`: follows until Ctrl-C (SIGINT or SIGTERM), which ends it at once with what was printed so far. */
export async function tail(cli: Cli, options: TailOptions): Promise<void> {
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await followEvents(cli, options, stopping.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Prints the events from `--since` on, page by page with each answer's cursor; with `follow`, asks again every interval until `stop`. */
export async function followEvents(cli: Cli, options: TailOptions, stop: AbortSignal): Promise<void> {
  const model = options.model === undefined ? undefined : parseModelName(options.model);
  let cursor = sinceInstant(options.since, new Date());
  const interval = intervalMs(options.interval);
  const client = await cli.client();
  while (!stop.aborted) {
    const page = await client.listEvents({ ...(model ? { model } : {}), after: cursor, limit: PAGE });
    for (const event of page.events) cli.printLine(event, () => eventLine(event));
    cursor = page.cursor;
    if (page.events.length === PAGE) continue;
    if (!options.follow) break;
    await sleep(interval, undefined, { signal: stop }).catch(() => undefined);
  }
}
