import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** Key attributes of the registry and tracking tables (including the byTime index), not part of any record. */
const KEY_FIELDS = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk']);

/** A stored item without its key attributes, ready for the record's schema. */
export function withoutKeys(item: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).filter(([name]) => !KEY_FIELDS.has(name)));
}

/** A conditional write that lost: the condition, not the service, said no. */
export const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException || (error as { name?: string }).name === 'ConditionalCheckFailedException';
