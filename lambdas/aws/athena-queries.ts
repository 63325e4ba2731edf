import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import { MlopsError } from '../core/errors.js';
import type { QueryAnswer, WindowQueries } from '../core/monitoring/drift-athena.js';

export interface AthenaQueriesOptions {
  /** The workgroup (its configuration enforces the results location and their encryption). */
  workGroup: string;
  /** The Glue database the queries' table names resolve in. */
  database: string;
  /** Gives up on a query (and stops it) when it has not ended this long after it started: within the function's own timeout. */
  timeoutMs: number;
  /** First poll interval; it doubles up to 2 s. @default 200 */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Athena behind core's WindowQueries: StartQueryExecution, GetQueryExecution until the query ends,
 * then GetQueryResults page by page (1,000 rows a page; the first row of the first page is the header).
 * A failed, cancelled or late query is an MlopsError naming the query id.
 */
export function athenaQueries(client: AthenaClient, options: AthenaQueriesOptions): WindowQueries {
  return {
    async run(sql: string): Promise<QueryAnswer> {
      const started = await client.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: options.workGroup, QueryExecutionContext: { Database: options.database } }));
      const queryId = started.QueryExecutionId;
      if (!queryId) throw new MlopsError('ATHENA_QUERY_FAILED', 'Athena started no query (no QueryExecutionId)');
      const deadline = Date.now() + options.timeoutMs;
      let wait = options.pollMs ?? 200;
      for (;;) {
        const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
        const state = QueryExecution?.Status?.State;
        if (state === 'SUCCEEDED') break;
        if (state === 'FAILED' || state === 'CANCELLED') {
          throw new MlopsError('ATHENA_QUERY_FAILED', `Athena query ${queryId} ${state.toLowerCase()}: ${QueryExecution?.Status?.StateChangeReason ?? 'no reason given'}`, { step: 'athena' });
        }
        if (Date.now() + wait > deadline) {
          // A query nobody will read is stopped, not left to scan (and bill) to its end.
          await client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId })).catch(() => undefined);
          throw new MlopsError('ATHENA_QUERY_TIMEOUT', `Athena query ${queryId} was still ${state ?? 'unknown'} at the function's deadline; narrow the window, or raise monitoring.athenaAboveBytes so it is streamed`, { step: 'athena' });
        }
        await sleep(wait);
        wait = Math.min(2000, wait * 2);
      }
      const rows: Record<string, string | null>[] = [];
      let names: string[] | undefined;
      let nextToken: string | undefined;
      do {
        const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: queryId, MaxResults: 1000, NextToken: nextToken }));
        const pageRows = page.ResultSet?.Rows ?? [];
        let start = 0;
        if (names === undefined) {
          // A SELECT's first page starts with a header row: the column names.
          names = (pageRows[0]?.Data ?? []).map((cell) => cell.VarCharValue ?? '');
          start = 1;
        }
        for (const row of pageRows.slice(start)) {
          rows.push(Object.fromEntries(names.map((name, i) => [name, row.Data?.[i]?.VarCharValue ?? null])));
        }
        nextToken = page.NextToken;
      } while (nextToken);
      return { queryId, rows };
    },
  };
}

export const createAthenaClient = () => new AthenaClient({});
