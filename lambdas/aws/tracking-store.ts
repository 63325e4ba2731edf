import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../core/errors.js';
import {
  DATASET_CATALOG_PK,
  DATASET_LATEST_SK,
  datasetVersionsByTimePk,
  datasetVersionsByTimeSk,
  datasetPk,
  datasetVersionSk,
  RUN_SK,
  BY_TIME_INDEX,
  runPk,
  runsByModelPk,
  runsByModelSk,
} from '../core/registry/keys.js';
import { RunRecordSchema, type RunRecord } from '../core/training/run.js';
import { DatasetSummarySchema, DatasetVersionSchema, type DatasetSummary, type DatasetVersion, type QuarantineEntry } from '../core/data/dataset-version.js';
import { isConditionFailure, withoutKeys } from './items.js';

/** Experiment tracking (runs) and dataset versions in the tracking table. */
export class TrackingStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Creates the run once; a retried StartRun gets the record that already exists. */
  async createRun(run: RunRecord): Promise<{ run: RunRecord; created: boolean }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: runPk(run.runId),
            sk: RUN_SK,
            gsi1pk: runsByModelPk(run.model),
            gsi1sk: runsByModelSk(run.startedAt, run.runId),
            ...run,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { run, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { run: await this.getRun(run.runId), created: false };
    }
  }

  async findRun(runId: string): Promise<RunRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: runPk(runId), sk: RUN_SK }, ConsistentRead: true }),
    );
    return Item ? RunRecordSchema.parse(withoutKeys(Item)) : undefined;
  }

  async getRun(runId: string): Promise<RunRecord> {
    const run = await this.findRun(runId);
    if (!run) throw new NotFoundError(`run ${runId} does not exist`, { field: 'runId' });
    return run;
  }

  /** Sets fields of an existing run; setting the same values again (a retry) changes nothing. */
  async updateRun(runId: string, fields: Partial<Omit<RunRecord, 'runId' | 'model' | 'startedAt'>>): Promise<void> {
    const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = entries.map(([name, value], index) => {
      names[`#f${index}`] = name;
      values[`:v${index}`] = value;
      return `#f${index} = :v${index}`;
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: runPk(runId), sk: RUN_SK },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError(`run ${runId} does not exist`, { field: 'runId', cause: error });
      throw error;
    }
  }

  /** A model's runs, newest first. */
  async listRuns(model: string, limit = 50): Promise<RunRecord[]> {
    return (await this.newestFirst(runsByModelPk(model), limit)).map((item) => RunRecordSchema.parse(withoutKeys(item)));
  }

  /**
   * A model's runs, newest first, started in [since, until) and with a status: the time window is
   * a key condition on the byTime index, the status a filter, paged until `limit` runs match.
   */
  async findRuns(filter: { model: string; status?: RunRecord['status']; since?: string; until?: string; limit: number }): Promise<RunRecord[]> {
    // Sort keys are `<startedAt ISO>#<runId>`: '0' sorts below every ISO time, '~' above (a key value may not be empty).
    const from = filter.since ? new Date(filter.since).toISOString() : '0';
    const to = filter.until ? new Date(filter.until).toISOString() : '~';
    const runs: RunRecord[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: BY_TIME_INDEX,
          KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
          ...(filter.status ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ExpressionAttributeValues: { ':pk': runsByModelPk(filter.model), ':from': from, ':to': to, ...(filter.status ? { ':status': filter.status } : {}) },
          ScanIndexForward: false,
          Limit: filter.limit,
          ExclusiveStartKey,
        }),
      );
      runs.push(...(page.Items ?? []).map((item) => RunRecordSchema.parse(withoutKeys(item))));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey && runs.length < filter.limit);
    return runs.slice(0, filter.limit);
  }

  /** Items under one byTime partition (a model's runs, a dataset's versions), newest first. */
  private async newestFirst(partition: string, limit: number): Promise<Record<string, unknown>[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_TIME_INDEX,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items;
  }

  /**
   * Records a dataset version, makes it the newest of its name and counts it in the catalog, in
   * one transaction: either all three items change or none does.
   * The version id is the content hash, so the same bytes registered twice write nothing new.
   */
  async putDatasetVersion(version: DatasetVersion): Promise<{ version: DatasetVersion; created: boolean }> {
    const existing = await this.findDatasetVersion(version.name, version.version);
    if (existing) return { version: existing, created: false };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: datasetPk(version.name),
                  sk: datasetVersionSk(version.version),
                  gsi1pk: datasetVersionsByTimePk(version.name),
                  gsi1sk: datasetVersionsByTimeSk(version.arrivedAt, version.version),
                  ...version,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { pk: datasetPk(version.name), sk: DATASET_LATEST_SK, version: version.version, arrivedAt: version.arrivedAt },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: DATASET_CATALOG_PK, sk: version.name },
                UpdateExpression: 'SET #name = :name, latestVersion = :version, latestArrivedAt = :arrivedAt ADD versionCount :one',
                ExpressionAttributeNames: { '#name': 'name' },
                ExpressionAttributeValues: { ':name': version.name, ':version': version.version, ':arrivedAt': version.arrivedAt, ':one': 1 },
              },
            },
          ],
        }),
      );
      return { version, created: true };
    } catch (error) {
      // Lost a race with an identical registration: the bytes are the same, so is the record.
      const raced = await this.findDatasetVersion(version.name, version.version);
      if (raced) return { version: raced, created: false };
      throw error;
    }
  }

  /** Every dataset name with its newest version, by name. */
  async listDatasets(): Promise<DatasetSummary[]> {
    const items = await this.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': DATASET_CATALOG_PK } });
    return items.map((item) => DatasetSummarySchema.parse(withoutKeys(item)));
  }

  /** A dataset's versions, newest first. */
  async listDatasetVersions(name: string, limit = 100): Promise<DatasetVersion[]> {
    return (await this.newestFirst(datasetVersionsByTimePk(name), limit)).map((item) => DatasetVersionSchema.parse(withoutKeys(item)));
  }

  private async queryAll(input: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, unknown> }): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...input, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  async findDatasetVersion(name: string, version: string): Promise<DatasetVersion | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: datasetPk(name), sk: datasetVersionSk(version) }, ConsistentRead: true }),
    );
    return Item ? DatasetVersionSchema.parse(withoutKeys(Item)) : undefined;
  }

  /** A dataset version by id, or the newest one of the name when no id is given. */
  async getDatasetVersion(name: string, version?: string): Promise<DatasetVersion> {
    let id = version;
    if (!id) {
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: datasetPk(name), sk: DATASET_LATEST_SK }, ConsistentRead: true }),
      );
      if (!Item) throw new NotFoundError(`dataset "${name}" has no registered version`, { field: 'dataset.name' });
      id = String(Item.version);
    }
    const found = await this.findDatasetVersion(name, id);
    if (!found) throw new NotFoundError(`dataset version ${name}@${id} does not exist`, { field: 'dataset.version' });
    return found;
  }

  /**
   * Records that `entry.model`'s validation gate blocked a dataset version: the version stays
   * usable by every other model, whose gate judges it for itself. Kept once per model (a retried
   * or repeated block changes nothing); the old `quarantined` flag and reason are still set, so
   * readers of the old fields keep working. The list is replaced only if nobody changed it since it
   * was read, so two models blocking the same version at once both land.
   */
  async quarantineDatasetVersion(name: string, version: string, entry: QuarantineEntry): Promise<{ quarantined: boolean }> {
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const found = await this.findDatasetVersion(name, version);
      if (!found) throw new NotFoundError(`dataset version ${name}@${version} does not exist`, { field: 'dataset.version' });
      if (found.quarantinedFor.some((q) => q.model === entry.model)) return { quarantined: false };
      const seen = found.quarantinedFor.length;
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: datasetPk(name), sk: datasetVersionSk(version) },
            UpdateExpression: 'SET quarantined = :true, quarantineReason = :reason, quarantinedFor = :list',
            // Registered versions carry an empty list; records from before per-model quarantine have none.
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(quarantinedFor) OR size(quarantinedFor) = :seen)',
            ExpressionAttributeValues: { ':true': true, ':reason': entry.reason, ':list': [...found.quarantinedFor, entry], ':seen': seen },
          }),
        );
        return { quarantined: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Another model's gate blocked it meanwhile: read again and add ours.
      }
    }
    throw new ConflictError(`dataset version ${name}@${version} kept changing while quarantining it for ${entry.model}`, { field: 'dataset.version' });
  }
}
