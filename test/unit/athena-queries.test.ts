import type { AthenaClient } from '@aws-sdk/client-athena';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import { describe, expect, it } from 'vitest';
import { athenaQueries } from '../../lambdas/aws/athena-queries.js';

// The Athena adapter of the drift check's large-window path: start, poll, page; failures named by query id.

type Sent = { name: string; input: Record<string, unknown> };
function fakeAthena(states: string[], pages: { rows: (string | null)[][]; next?: string }[]): { client: AthenaClient; sent: Sent[] } {
  const sent: Sent[] = [];
  let polls = 0;
  const send = async (command: { input: Record<string, unknown>; constructor: { name: string } }) => {
    sent.push({ name: command.constructor.name, input: command.input });
    if (command instanceof StartQueryExecutionCommand) return { QueryExecutionId: 'q-1' };
    if (command instanceof GetQueryExecutionCommand) {
      const state = states[Math.min(polls++, states.length - 1)];
      return { QueryExecution: { Status: { State: state, StateChangeReason: state === 'FAILED' ? 'SYNTAX_ERROR: line 1' : undefined } } };
    }
    if (command instanceof GetQueryResultsCommand) {
      const index = command.input.NextToken === undefined ? 0 : Number(command.input.NextToken);
      const page = pages[index]!;
      return { ResultSet: { Rows: page.rows.map((row) => ({ Data: row.map((cell) => (cell === null ? {} : { VarCharValue: cell })) })) }, NextToken: page.next };
    }
    if (command instanceof StopQueryExecutionCommand) return {};
    throw new Error(`unexpected ${command.constructor.name}`);
  };
  return { client: { send } as unknown as AthenaClient, sent };
}

describe('athenaQueries', () => {
  it('starts the query in the workgroup and database, polls until it succeeds, and reads every page (header once, NULL as null)', async () => {
    const { client, sent } = fakeAthena(['QUEUED', 'RUNNING', 'SUCCEEDED'], [
      { rows: [['col', 'n'], ['0', '5'], ['1', null]], next: '1' },
      { rows: [['2', '7']] },
    ]);
    const answer = await athenaQueries(client, { workGroup: 'mlops-dev', database: 'mlops_dev', timeoutMs: 10_000, pollMs: 1 }).run('SELECT 1');
    expect(answer).toEqual({ queryId: 'q-1', rows: [{ col: '0', n: '5' }, { col: '1', n: null }, { col: '2', n: '7' }] });
    expect(sent[0]).toEqual({ name: 'StartQueryExecutionCommand', input: { QueryString: 'SELECT 1', WorkGroup: 'mlops-dev', QueryExecutionContext: { Database: 'mlops_dev' } } });
    expect(sent.filter((s) => s.name === 'GetQueryExecutionCommand')).toHaveLength(3);
    expect(sent.filter((s) => s.name === 'GetQueryResultsCommand').map((s) => s.input.NextToken)).toEqual([undefined, '1']);
  });

  it('fails with ATHENA_QUERY_FAILED naming the query and Athena reason', async () => {
    const { client } = fakeAthena(['RUNNING', 'FAILED'], []);
    await expect(athenaQueries(client, { workGroup: 'w', database: 'd', timeoutMs: 10_000, pollMs: 1 }).run('SELECT')).rejects.toMatchObject({
      code: 'ATHENA_QUERY_FAILED',
      message: expect.stringMatching(/q-1 failed: SYNTAX_ERROR/),
    });
  });

  it('stops a query still running at its timeout and fails with ATHENA_QUERY_TIMEOUT', async () => {
    const { client, sent } = fakeAthena(['RUNNING'], []);
    await expect(athenaQueries(client, { workGroup: 'w', database: 'd', timeoutMs: 30, pollMs: 5 }).run('SELECT')).rejects.toMatchObject({ code: 'ATHENA_QUERY_TIMEOUT' });
    expect(sent.at(-1)).toEqual({ name: 'StopQueryExecutionCommand', input: { QueryExecutionId: 'q-1' } });
  });
});
