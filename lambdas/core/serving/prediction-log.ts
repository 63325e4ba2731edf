import { sha256Hex } from '../sha256.js';
import type { PredictionLogging } from '../training/model-spec.js';
import type { FeatureRow } from './predict.js';
import type { PredictionLogRecord, RequestIndexEntry } from './records.js';

/**
 * Where serving hands its records off. The adapters (lambdas/aws/firehose-sink.ts,
 * lambdas/aws/request-index.ts) batch them to Firehose and DynamoDB; a hand-off that fails is
 * counted, never the caller's problem.
 */

/** The prediction log: every arm's records of one request in one call. */
export interface PredictionLog {
  send(records: readonly PredictionLogRecord[]): Promise<void>;
}

/** The request index: which request ids serving issued, so feedback can tell a known id from an unknown one. */
export interface RequestIndex {
  record(entry: RequestIndexEntry): Promise<void>;
}

/** What happens when a hand-off fails: counted (a metric per model) and reported, the request still answered. */
export interface HandOffFailures {
  failed(what: 'prediction-log' | 'request-index', model: string, error: unknown): void;
}

/** The rows as the log keeps them: the spec's `logging.drop` fields left out, its `logging.hash` fields as the hex SHA-256 of their value. */
export function loggedInputs(rows: readonly FeatureRow[], logging: Pick<PredictionLogging, 'drop' | 'hash'>): Record<string, unknown>[] {
  if (logging.drop.length === 0 && logging.hash.length === 0) return rows as Record<string, unknown>[];
  return rows.map((row) => {
    const kept: Record<string, unknown> = { ...row };
    for (const field of logging.drop) delete kept[field];
    for (const field of logging.hash) if (field in kept) kept[field] = sha256Hex(String(kept[field]));
    return kept;
  });
}
