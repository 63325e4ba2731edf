import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { CommitHooks } from '../core/registry/release.js';
import { isConditionFailure } from './items.js';

/**
 * The fault switch, for the `local` environment only (lib/config.ts refuses it elsewhere, and an
 * infra test proves no other template carries FAULT_INJECTION). With it on, a pipeline step reads
 * a fault plan from the tracking table, keyed by model, step and point, which a test writes:
 * `once` throws the first time per run id (a transient fault the state machine's Retry cures),
 * `always` throws on every attempt (a permanent fault its Catch turns into a FAILED run).
 * The error's name is the plan's, so Retry and Catch match it as they would a real one on AWS.
 * MiniStack reports every error a Node.js handler throws as `Runtime.HandlerError`, so on the
 * emulator a transient fault is a timeout (`Sandbox.Timedout`, a name it keeps).
 */

export const FAULT_POINTS = ['beforeCommit', 'afterCommit'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export const FaultPlanSchema = z.object({
  mode: z.enum(['once', 'always']),
  /**
   * The thrown error's name, e.g. ThrottlingException (transient) or InjectedPermanentFault; or
   * `Sandbox.Timedout`: the function then runs past its timeout, and Lambda itself fails it so.
   */
  error: z.string().regex(/^[A-Za-z.]{1,64}$/),
});
export type FaultPlan = z.infer<typeof FaultPlanSchema>;

/** Where a plan lives in the tracking table; the run ids a `once` plan fired for sit beside it. */
export const faultPlanKey = (model: string, step: string, point: FaultPoint) => ({ pk: `FAULT#${model}`, sk: `${step}#${point}` });
const firedKey = (model: string, step: string, point: FaultPoint, runId: string) => ({ pk: `FAULT#${model}`, sk: `${step}#${point}#FIRED#${runId}` });

/** Lambda's error for a function that ran out of time (the emulator keeps this name; it loses a thrown error's). */
export const TIMED_OUT = 'Sandbox.Timedout';

export class InjectedFault extends Error {
  constructor(name: string, where: string) {
    super(`injected fault ${name} at ${where} (local fault switch)`);
    this.name = name;
  }
}

/** The step's commit hooks: none unless the function was deployed with FAULT_INJECTION=on. */
export function faultHooks(doc: DynamoDBDocumentClient, tableName: string, step: string, run: { model: string; runId: string }): CommitHooks {
  if (process.env.FAULT_INJECTION !== 'on') return {};
  const at = (point: FaultPoint) => async () => {
    const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: faultPlanKey(run.model, step, point), ConsistentRead: true }));
    if (!Item) return;
    const plan = FaultPlanSchema.parse(Item);
    if (plan.mode === 'once') {
      try {
        await doc.send(new PutCommand({ TableName: tableName, Item: { ...firedKey(run.model, step, point, run.runId), at: new Date().toISOString() }, ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (error) {
        if (isConditionFailure(error)) return; // fired for this run already
        throw error;
      }
    }
    if (plan.error === TIMED_OUT) {
      // Outlives any function timeout: Lambda ends the invocation as timed out.
      await new Promise((resolve) => setTimeout(resolve, 15 * 60 * 1000));
    }
    throw new InjectedFault(plan.error, `${step}.${point} of run ${run.runId}`);
  };
  return { beforeCommit: at('beforeCommit'), afterCommit: at('afterCommit') };
}

/** Whether a `once` plan fired for a run (what a test checks to know the retry really happened). */
export async function faultFired(doc: DynamoDBDocumentClient, tableName: string, model: string, step: string, point: FaultPoint, runId: string): Promise<boolean> {
  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: firedKey(model, step, point, runId), ConsistentRead: true }));
  return Item !== undefined;
}
