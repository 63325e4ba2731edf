import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TriggerDecisionSchema, type TriggerDecision } from '../contract/retraining.js';
import { EMPTY_PACE, type PaceStart, type RetrainLock, type RetrainPace, type TriggerDecisionRecords } from '../core/monitoring/retraining.js';
import { modelPk, RETRAIN_LOCK_SK, TRIGGER_PREFIX, triggerSk } from '../core/registry/keys.js';
import { isConditionFailure, withoutKeys } from './items.js';

/**
 * The model's retraining lock in the registry table (`MODEL#<m>`, `RETRAIN#LOCK`): the automatic runs
 * of the last week and a revision. A claim is one conditional put on the revision read, so of
 * concurrent triggers exactly one writes it (core/monitoring/retraining.ts).
 */
export class RetrainLockStore implements RetrainLock {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(model: string): Promise<RetrainPace> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: RETRAIN_LOCK_SK }, ConsistentRead: true }));
    if (!Item) return EMPTY_PACE;
    return { starts: (Item.starts ?? []) as PaceStart[], revision: Number(Item.revision) };
  }

  async claim(model: string, seen: RetrainPace, next: RetrainPace): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: modelPk(model), sk: RETRAIN_LOCK_SK, starts: next.starts, revision: next.revision, updatedAt: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(pk) OR revision = :seen',
          ExpressionAttributeValues: { ':seen': seen.revision },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** Trigger decisions in the registry table, under the model (`MODEL#<m>`, `TRIGGER#<triggerId>`): evidence, put once, never updated. */
export class TriggerDecisionStore implements TriggerDecisionRecords {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(decision: TriggerDecision): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: modelPk(decision.model), sk: triggerSk(decision.triggerId), ...decision }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  }

  async list(model: string, limit: number): Promise<TriggerDecision[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': modelPk(model), ':prefix': TRIGGER_PREFIX },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (Items ?? []).map((item) => TriggerDecisionSchema.parse(withoutKeys(item)));
  }
}
