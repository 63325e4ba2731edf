import { describe, expect, it } from 'vitest';
import type { EventsAnswer, RegistryEventDetail } from '../../lambdas/contract/events.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import { followEvents, sinceInstant } from '../../lib/client/actions/events.js';
import type { Cli } from '../../lib/client/cli.js';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { eventLine } from '../../lib/client/render/events.js';

const event = (eventId: string, at: string): RegistryEventDetail => ({
  schemaVersion: 1,
  eventId,
  type: 'alias.moved',
  at,
  environment: 'dev',
  model: 'churn',
  version: 2,
  alias: 'production',
  before: null,
  after: null,
  actor: 'arn:aws:iam::000000000000:user/alice',
  reason: 'promoted',
});

/** A CLI whose client answers `pages` in turn (then empty pages), recording each query and each printed line. */
function fakeCli(pages: EventsAnswer[], onCall?: (call: number) => void) {
  const queries: { model?: string; after?: string; limit?: number }[] = [];
  const printed: unknown[] = [];
  const client = {
    async listEvents(query: { model?: string; after?: string; limit?: number }): Promise<EventsAnswer> {
      queries.push(query);
      onCall?.(queries.length);
      return pages[queries.length - 1] ?? { events: [], cursor: query.after ?? '' };
    },
  };
  const cli = { client: async () => client as unknown as PlatformClient, printLine: (json: unknown) => printed.push(json) } as unknown as Cli;
  return { cli, queries, printed };
}

describe('mlops events tail', () => {
  it('takes --since as a duration back from now or as an instant, and names the option when it is neither', () => {
    const now = new Date('2026-12-06T10:00:00.000Z');
    expect(sinceInstant('30m', now)).toBe('2026-12-06T09:30:00.000Z');
    expect(sinceInstant('2 days', now)).toBe('2026-12-04T10:00:00.000Z');
    expect(sinceInstant('2026-12-06T08:00:00+01:00', now)).toBe('2026-12-06T07:00:00.000Z');
    const error = (() => {
      try {
        sinceInstant('last tuesday', now);
      } catch (thrown) {
        return thrown as MlopsError;
      }
    })();
    expect(error).toBeInstanceOf(MlopsError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'since' });
  });

  it('prints the events so far and stops with --no-follow, asking from --since', async () => {
    const first = [event('0-a', '2026-12-06T09:59:00.000Z'), event('0-b', '2026-12-06T09:59:30.000Z')];
    const { cli, queries, printed } = fakeCli([{ events: first, cursor: '2026-12-06T09:59:30.000Z#0-b' }]);
    await followEvents(cli, { model: 'churn', since: '2026-12-06T09:00:00Z', follow: false, interval: '2s' }, new AbortController().signal);
    expect(printed).toEqual(first);
    expect(queries).toEqual([{ model: 'churn', after: '2026-12-06T09:00:00.000Z', limit: 500 }]);
  });

  it('follows with the cursor of each answer until stopped (Ctrl-C)', async () => {
    const stop = new AbortController();
    const second = event('0-c', '2026-12-06T10:00:01.000Z');
    const { cli, queries, printed } = fakeCli(
      [
        { events: [], cursor: '2026-12-06T09:00:00.000Z' },
        { events: [second], cursor: '2026-12-06T10:00:01.000Z#0-c' },
      ],
      (call) => {
        if (call === 3) stop.abort();
      },
    );
    await followEvents(cli, { since: '2026-12-06T09:00:00Z', follow: true, interval: '1s' }, stop.signal);
    expect(printed).toEqual([second]);
    expect(queries.map((query) => query.after)).toEqual(['2026-12-06T09:00:00.000Z', '2026-12-06T09:00:00.000Z', '2026-12-06T10:00:01.000Z#0-c']);
    expect(queries.every((query) => query.model === undefined)).toBe(true);
  });

  it('refuses an interval outside 1s to 5m before asking anything', async () => {
    const { cli, queries } = fakeCli([]);
    await expect(followEvents(cli, { since: '1h', follow: true, interval: '10m' }, new AbortController().signal)).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'interval' });
    expect(queries).toEqual([]);
  });

  it('shows one event a line: when, model, version, alias, type, who and why', () => {
    expect(eventLine(event('0-a', '2026-12-06T09:59:00.000Z'))).toMatch(/churn v2 production {2}alias\.moved {2}by arn:aws:iam::000000000000:user\/alice: promoted$/);
  });
});
