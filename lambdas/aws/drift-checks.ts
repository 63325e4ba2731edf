import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DriftCheckRecordSchema, type DriftCheckRecord } from '../contract/drift.js';
import { DRIFT_CHECK_PREFIX, driftCheckSk, modelPk } from '../core/registry/keys.js';
import type { DriftCheckRecords } from '../core/monitoring/drift-check.js';
import { withoutKeys } from './items.js';

/**
 * Drift check records in the registry table, under the model (`MODEL#<m>`, `DRIFT#<checkId>`).
 * A check is evidence, not a registry change: one put, never updated; no audit event.
 */
export class DriftCheckStore implements DriftCheckRecords {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(record: DriftCheckRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: modelPk(record.model), sk: driftCheckSk(record.checkId), ...record }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  async list(model: string, limit: number): Promise<DriftCheckRecord[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': modelPk(model), ':prefix': DRIFT_CHECK_PREFIX },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (Items ?? []).map((item) => DriftCheckRecordSchema.parse(withoutKeys(item)));
  }

  /** Checks whose id is at or after `fromCheckId` (ids start with their time), oldest first, across result pages. */
  async listChecksFrom(model: string, fromCheckId: string): Promise<DriftCheckRecord[]> {
    const records: DriftCheckRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': modelPk(model), ':from': driftCheckSk(fromCheckId), ':to': driftCheckSk('\uffff') },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      records.push(...(page.Items ?? []).map((item) => DriftCheckRecordSchema.parse(withoutKeys(item))));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return records;
  }

  async find(model: string, checkId: string): Promise<DriftCheckRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: driftCheckSk(checkId) }, ConsistentRead: true }));
    return Item ? DriftCheckRecordSchema.parse(withoutKeys(Item)) : undefined;
  }
}
