import type { RunRecord } from './training/run.js';

/**
 * The small store interfaces the pipeline's flows are written against. The adapters in
 * lambdas/aws implement them over DynamoDB and S3; unit tests implement them in memory.
 */

/** The fields a pipeline step sets on its run. */
export type RunUpdate = Partial<Omit<RunRecord, 'runId' | 'model' | 'startedAt'>>;

/** What a step writes to experiment tracking: fields of its own run. */
export interface RunUpdates {
  updateRun(runId: string, fields: RunUpdate): Promise<void>;
}

/** JSON reports and evidence under a key of the reports bucket; `put` answers the object's URI. */
export interface Reports {
  put(key: string, json: string): Promise<string>;
  getText(uri: string): Promise<string>;
}

/** Alerts to people (SNS in production): a subject line and a JSON body with a `kind` subscribers filter on. */
export interface Alerts {
  publish(subject: string, alert: { kind: string } & Record<string, unknown>): Promise<void>;
}
