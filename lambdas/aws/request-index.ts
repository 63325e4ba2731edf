import { BatchGetCommand, PutCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { IndexedRequest, LabelKey } from '../core/serving/feedback.js';
import { RequestIndexEntrySchema, type RequestIndexEntry } from '../core/serving/records.js';

const SECONDS_PER_DAY = 86_400;
/** BatchGetItem's limit of keys per call. */
const MAX_KEYS_PER_GET = 100;
/** How often unprocessed keys (throttling) are asked for again before the read fails. */
const MAX_GET_ATTEMPTS = 5;

const IndexedRequestSchema = RequestIndexEntrySchema.extend({ expiresAt: z.number().int() });
/**
 * The item that says a (request, row) pair has a label: `LABEL#<requestId>#<row>`, beside the
 * request's own item (request ids hold no `#`, so the key is unambiguous).
 */
const labelItemKey = (key: LabelKey) => `LABEL#${key.requestId}#${key.row}`;

/**
 * The request index table: one item per answered request (partition key `requestId`), expiring
 * after a TTL (attribute `expiresAt`, epoch seconds), so feedback can tell an id serving issued
 * from an unknown one, sampled into the log or not.
 */
export class RequestIndexTable {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Records an answered request; kept `ttlDays` (DynamoDB deletes it some time after). */
  async record(entry: RequestIndexEntry, ttlDays: number): Promise<void> {
    const expiresAt = Math.floor(this.now().getTime() / 1000) + Math.round(ttlDays * SECONDS_PER_DAY);
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...entry, expiresAt } }));
  }

  /**
   * The entries of these ids (read in batches of 100); an id that is not in the map was never
   * recorded or has been deleted. Strongly consistent: a label sent right after its prediction must
   * not be reported unknown because a replica lags.
   */
  async findRequests(requestIds: readonly string[]): Promise<Map<string, IndexedRequest>> {
    const items = await this.getMany(requestIds, true);
    return new Map(items.map((item) => IndexedRequestSchema.parse(item)).map((entry) => [entry.requestId, entry]));
  }

  /**
   * Whether each of these (request, row) pairs carries a label mark, in their order. Eventually
   * consistent (half the price): a mark this misses is caught by markLabelled's condition.
   */
  async labelled(keys: readonly LabelKey[]): Promise<boolean[]> {
    const marked = new Set((await this.getMany(keys.map(labelItemKey), false)).map((item) => String(item.requestId)));
    return keys.map((key) => marked.has(labelItemKey(key)));
  }

  /**
   * Marks a pair as labelled with a conditional put, expiring with its request: false when the
   * mark exists already (another sender got there first).
   */
  async markLabelled(key: LabelKey, expiresAt: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: { requestId: labelItemKey(key), expiresAt }, ConditionExpression: 'attribute_not_exists(requestId)' }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Items by partition key, with BatchGetItem (100 keys a call, in parallel), unprocessed keys asked for again. */
  private async getMany(ids: readonly string[], consistent: boolean): Promise<Record<string, unknown>[]> {
    const unique = [...new Set(ids)];
    const chunks = Array.from({ length: Math.ceil(unique.length / MAX_KEYS_PER_GET) }, (_, i) => unique.slice(i * MAX_KEYS_PER_GET, (i + 1) * MAX_KEYS_PER_GET));
    const found = await Promise.all(
      chunks.map(async (chunk) => {
        const items: Record<string, unknown>[] = [];
        let pending: Record<string, unknown>[] = chunk.map((requestId) => ({ requestId }));
        for (let attempt = 1; pending.length > 0; attempt += 1) {
          if (attempt > MAX_GET_ATTEMPTS) throw new Error(`the request index left ${pending.length} key(s) unread after ${MAX_GET_ATTEMPTS} attempts (throttled)`);
          if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
          const answer: BatchGetCommandOutput = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: consistent } } }));
          items.push(...(answer.Responses?.[this.tableName] ?? []));
          pending = answer.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        }
        return items;
      }),
    );
    return found.flat();
  }
}
