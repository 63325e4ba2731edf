import { randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { ModelSpecSchema, type ModelSpec } from '../core/model-spec.js';
import { AliasSchema, AuditEventSchema, ModelVersionSchema, type Alias, type AuditEvent, type ModelVersion } from '../core/registry.js';
import { aliasSk, auditSk, META_SK, modelPk, runVersionSk, versionSk, type AliasName } from '../core/registry-keys.js';
import { withoutKeys } from './items.js';

/** How often a registration re-reads and tries again after losing a race for the next number. */
const MAX_REGISTER_ATTEMPTS = 8;

export interface ModelRecord {
  spec: ModelSpec;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface RegisterVersionInput {
  version: Omit<ModelVersion, 'version' | 'createdAt' | 'status'>;
  alias: AliasName;
  reason: string;
}

/**
 * The model registry. Every mutation is one DynamoDB transaction that also appends its audit
 * event, guarded by conditions, so concurrent writers cannot both win or lose an update.
 */
export class RegistryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private audit(event: Omit<AuditEvent, 'eventId' | 'at'>, at: string) {
    const full: AuditEvent = { ...event, eventId: randomUUID(), at };
    return {
      Put: {
        TableName: this.tableName,
        Item: { pk: modelPk(event.model), sk: auditSk(at, full.eventId), ...full },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Creates a model, or replaces its spec; the version counter is kept. */
  async putModel(spec: ModelSpec, actor: string): Promise<{ created: boolean }> {
    const existing = await this.findModel(spec.name);
    const at = this.now().toISOString();
    const record: ModelRecord = {
      spec,
      latestVersion: existing?.latestVersion ?? 0,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
    };
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: { pk: modelPk(spec.name), sk: META_SK, ...record },
              // Lost-update guard: the counter must still be what was read.
              ConditionExpression: existing ? 'latestVersion = :seen' : 'attribute_not_exists(pk)',
              ExpressionAttributeValues: existing ? { ':seen': existing.latestVersion } : undefined,
            },
          },
          this.audit(
            {
              model: spec.name,
              actor,
              action: existing ? 'model.updated' : 'model.created',
              reason: existing ? 'spec replaced' : 'model created',
              before: existing?.spec,
              after: spec,
            },
            at,
          ),
        ],
      }),
    );
    return { created: !existing };
  }

  async findModel(name: string): Promise<ModelRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(name), sk: META_SK }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      spec: ModelSpecSchema.parse(Item.spec),
      latestVersion: Number(Item.latestVersion),
      createdAt: String(Item.createdAt),
      updatedAt: String(Item.updatedAt),
    };
  }

  async getModel(name: string): Promise<ModelRecord> {
    const model = await this.findModel(name);
    if (!model) {
      throw new NotFoundError(`model "${name}" is not registered (create it with: mlops models create --spec <file>)`, {
        field: 'model',
      });
    }
    return model;
  }

  /**
   * Registers the next version for a run and points an alias at it. Idempotent per run: a retry
   * returns the version the first attempt created. The transaction takes the next number only
   * if nobody else took it, points the alias only if it still points where it did, and records
   * the old production version as `previous`.
   */
  async registerVersion(input: RegisterVersionInput): Promise<{ version: ModelVersion; created: boolean }> {
    const { model, runId } = input.version;
    for (let attempt = 1; attempt <= MAX_REGISTER_ATTEMPTS; attempt += 1) {
      const already = await this.versionForRun(model, runId);
      if (already !== undefined) return { version: await this.getVersion(model, already), created: false };

      const meta = await this.getModel(model);
      const current = await this.findAlias(model, input.alias);
      const at = this.now().toISOString();
      const number = meta.latestVersion + 1;
      const version: ModelVersion = { ...input.version, version: number, status: 'REGISTERED', createdAt: at };
      const alias: Alias = { model, alias: input.alias, version: number, weight: 1, updatedAt: at, updatedBy: input.version.createdBy };

      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
        {
          Update: {
            TableName: this.tableName,
            Key: { pk: modelPk(model), sk: META_SK },
            UpdateExpression: 'SET latestVersion = :next, updatedAt = :at',
            ConditionExpression: 'latestVersion = :seen',
            ExpressionAttributeValues: { ':next': number, ':seen': meta.latestVersion, ':at': at },
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { pk: modelPk(model), sk: versionSk(number), ...version },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { pk: modelPk(model), sk: runVersionSk(runId), runId, version: number },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { pk: modelPk(model), sk: aliasSk(input.alias), ...alias },
            ConditionExpression: current ? 'version = :was' : 'attribute_not_exists(pk)',
            ExpressionAttributeValues: current ? { ':was': current.version } : undefined,
          },
        },
        this.audit(
          { model, actor: version.createdBy, action: 'version.registered', reason: input.reason, after: { version: number, runId, artifact: version.artifact } },
          at,
        ),
        this.audit(
          { model, actor: version.createdBy, action: 'alias.moved', reason: input.reason, before: current ?? null, after: alias },
          at,
        ),
      ];
      if (input.alias === 'production' && current) {
        const previous: Alias = { ...current, alias: 'previous', updatedAt: at, updatedBy: version.createdBy };
        items.push({ Put: { TableName: this.tableName, Item: { pk: modelPk(model), sk: aliasSk('previous'), ...previous } } });
      }
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        return { version, created: true };
      } catch (error) {
        if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
        // Someone else registered or moved the alias first: read again and retry.
      }
    }
    throw new ConflictError(`could not register a version of ${model}: too many concurrent registrations`, { field: 'model' });
  }

  private async versionForRun(model: string, runId: string): Promise<number | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: runVersionSk(runId) }, ConsistentRead: true }),
    );
    return Item ? Number(Item.version) : undefined;
  }

  async findVersion(model: string, version: number): Promise<ModelVersion | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: versionSk(version) }, ConsistentRead: true }),
    );
    return Item ? ModelVersionSchema.parse(withoutKeys(Item)) : undefined;
  }

  async getVersion(model: string, version: number): Promise<ModelVersion> {
    const found = await this.findVersion(model, version);
    if (!found) throw new NotFoundError(`model ${model} has no version ${version}`, { field: 'version' });
    return found;
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    return (await this.queryModelItems(model, 'VERSION#')).map((item) => ModelVersionSchema.parse(withoutKeys(item)));
  }

  async findAlias(model: string, alias: AliasName): Promise<Alias | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: aliasSk(alias) }, ConsistentRead: true }),
    );
    return Item ? AliasSchema.parse(withoutKeys(Item)) : undefined;
  }

  async listAudit(model: string): Promise<AuditEvent[]> {
    return (await this.queryModelItems(model, 'AUDIT#')).map((item) => AuditEventSchema.parse(withoutKeys(item)));
  }

  /** Every item of a model whose sort key starts with `prefix`, in key order, across result pages. */
  private async queryModelItems(model: string, prefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': modelPk(model), ':prefix': prefix },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
