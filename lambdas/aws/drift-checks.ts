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

  async find(model: string, checkId: string): Promise<DriftCheckRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: driftCheckSk(checkId) }, ConsistentRead: true }));
    return Item ? DriftCheckRecordSchema.parse(withoutKeys(Item)) : undefined;
  }
}
