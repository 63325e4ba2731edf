import { randomUUID } from 'node:crypto';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { checkPromotable, planMove, planRollback, type Decision, type SettableAlias } from '../core/registry/alias-rules.js';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { ModelSpecSchema, type ModelSpec } from '../core/training/model-spec.js';
import {
  AliasSchema,
  AuditEventSchema,
  ModelVersionSchema,
  type Alias,
  type Approval,
  type AuditEvent,
  type DatasetLineage,
  type ModelSummary,
  type ModelVersion,
  type VersionStatus,
} from '../core/registry/records.js';
import {
  ALIASES,
  aliasSk,
  AUDIT_PREFIX,
  auditSk,
  datasetLineagePk,
  datasetLineageSk,
  META_SK,
  MODEL_CATALOG_PK,
  modelCatalogSk,
  modelPk,
  ROLLOUT_SK,
  runVersionSk,
  versionSk,
  type AliasName,
} from '../core/registry/keys.js';
import { RolloutRecordSchema, type RolloutChange, type RolloutRecord } from '../core/registry/rollout.js';
import type { PendingApproval } from '../core/registry/approval.js';
import { withoutKeys } from './items.js';
import { routingStateOf, type RoutingState } from '../core/serving/routing.js';

/** How often a registration re-reads and tries again after losing a race for the next number. */
const MAX_REGISTER_ATTEMPTS = 12;

/** How often serving's routing read asks again for keys a throttled BatchGetItem left unread. */
const MAX_BATCH_GET_ATTEMPTS = 5;

type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

export interface ModelRecord {
  spec: ModelSpec;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface RegisterVersionInput {
  version: Omit<ModelVersion, 'version' | 'createdAt' | 'status' | 'approval'>;
  reason: string;
}

export interface MoveAliasInput {
  model: string;
  alias: SettableAlias;
  version: number;
  /** Where the caller saw the alias (null: nowhere); the move conflicts if it points elsewhere. */
  expectedVersion?: number | null;
  weight?: number;
  actor: string;
  reason: string;
}

const isCancelled = (error: unknown) => (error as { name?: string }).name === 'TransactionCanceledException';

/**
 * The model registry. Every mutation is one DynamoDB transaction that also appends its audit
 * event, guarded by conditions, so concurrent writers cannot both win or lose an update, and a
 * failed write leaves nothing behind. Audit events are only ever put (never updated or deleted).
 */
export class RegistryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** An audit event's put; `order` keeps the events of one transaction (same time) in the order they happened. */
  private audit(event: Omit<AuditEvent, 'eventId' | 'at'>, at: string, order = 0): TransactItem {
    const full: AuditEvent = { ...event, eventId: `${order}-${randomUUID()}`, at };
    return {
      Put: {
        TableName: this.tableName,
        Item: { pk: modelPk(event.model), sk: auditSk(at, full.eventId), ...full },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  private async transact(items: TransactItem[]): Promise<void> {
    await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
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
    await this.transact([
      {
        Put: {
          TableName: this.tableName,
          Item: { pk: modelPk(spec.name), sk: META_SK, ...record },
          // Lost-update guard: the counter must still be what was read.
          ConditionExpression: existing ? 'latestVersion = :seen' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: existing ? { ':seen': existing.latestVersion } : undefined,
        },
      },
      { Put: { TableName: this.tableName, Item: { pk: MODEL_CATALOG_PK, sk: modelCatalogSk(spec.name), name: spec.name, task: spec.task, createdAt: record.createdAt } } },
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
    ]);
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

  /** Every model in the catalog with its newest version number and where its aliases point. */
  async listModels(): Promise<ModelSummary[]> {
    const names = (await this.query(MODEL_CATALOG_PK, 'MODEL#')).map((item) => String(item.name));
    return Promise.all(
      names.map(async (name) => {
        const [model, aliases] = await Promise.all([this.getModel(name), this.listAliases(name)]);
        return {
          name,
          task: model.spec.task,
          latestVersion: model.latestVersion,
          aliases: Object.fromEntries(aliases.map((alias) => [alias.alias, alias.version])),
          updatedAt: model.updatedAt,
        };
      }),
    );
  }

  /**
   * Registers the next version for a run and points `candidate` at it. Idempotent per run: a
   * retry returns the version the first attempt created. The transaction takes the next number
   * only if nobody else took it, and indexes the version under its dataset version for lineage.
   * Production is never moved here: that is the release path's last step.
   */
  async registerVersion(input: RegisterVersionInput): Promise<{ version: ModelVersion; created: boolean }> {
    const { model, runId } = input.version;
    for (let attempt = 1; attempt <= MAX_REGISTER_ATTEMPTS; attempt += 1) {
      const already = await this.versionForRun(model, runId);
      if (already !== undefined) return { version: await this.getVersion(model, already), created: false };

      const meta = await this.getModel(model);
      const current = await this.findAlias(model, 'candidate');
      const at = this.now().toISOString();
      const number = meta.latestVersion + 1;
      const version: ModelVersion = { ...input.version, version: number, status: 'REGISTERED', createdAt: at };
      const alias: Alias = { model, alias: 'candidate', version: number, weight: 0, updatedAt: at, updatedBy: input.version.createdBy };
      const items: TransactItem[] = [
        {
          Update: {
            TableName: this.tableName,
            Key: { pk: modelPk(model), sk: META_SK },
            UpdateExpression: 'SET latestVersion = :next, updatedAt = :at',
            ConditionExpression: 'latestVersion = :seen',
            ExpressionAttributeValues: { ':next': number, ':seen': meta.latestVersion, ':at': at },
          },
        },
        { Put: { TableName: this.tableName, Item: { pk: modelPk(model), sk: versionSk(number), ...version }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { TableName: this.tableName, Item: { pk: modelPk(model), sk: runVersionSk(runId), runId, version: number }, ConditionExpression: 'attribute_not_exists(pk)' } },
        {
          Put: {
            TableName: this.tableName,
            Item: { pk: datasetLineagePk(version.dataset.name, version.dataset.version), sk: datasetLineageSk(model, number), model, version: number, runId, createdAt: at },
          },
        },
        this.aliasPut(alias, current),
        this.audit({ model, version: number, actor: version.createdBy, action: 'version.registered', reason: input.reason, after: { version: number, runId, artifact: version.artifact, dataset: version.dataset } }, at),
        this.audit({ model, version: number, actor: version.createdBy, action: 'alias.moved', reason: input.reason, before: current ?? null, after: alias }, at, 1),
      ];
      try {
        await this.transact(items);
        return { version, created: true };
      } catch (error) {
        if (!isCancelled(error)) throw error;
        // Someone else registered or moved the candidate first: wait a little (jittered, so racers spread out), read again, retry.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * attempt));
      }
    }
    throw new ConflictError(`could not register a version of ${model}: too many concurrent registrations`, { field: 'model' });
  }

  /** Points an alias at `next`, only if it still points where it did when read. */
  private aliasPut(next: Alias, current: Alias | undefined): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { pk: modelPk(next.model), sk: aliasSk(next.alias), ...next },
        ConditionExpression: current ? 'version = :was AND updatedAt = :wasAt' : 'attribute_not_exists(pk)',
        ExpressionAttributeValues: current ? { ':was': current.version, ':wasAt': current.updatedAt } : undefined,
      },
    };
  }

  /** Production must still point where it was read (null: nowhere) when the write commits. */
  private productionCheck(model: string, version: number | null): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: { pk: modelPk(model), sk: aliasSk('production') },
        ConditionExpression: version === null ? 'attribute_not_exists(pk)' : 'version = :production',
        ExpressionAttributeValues: version === null ? undefined : { ':production': version },
      },
    };
  }

  /** The version must still exist and not be rejected when the move commits. */
  private promotableCheck(model: string, version: number): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: { pk: modelPk(model), sk: versionSk(version) },
        ConditionExpression: 'attribute_exists(pk) AND #status <> :rejected',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':rejected': 'REJECTED' },
      },
    };
  }

  /**
   * Moves an alias in one transaction with its audit event; a production move also records the
   * old production version as `previous`. A concurrent move of the same alias makes this one fail
   * with CONFLICT, and then nothing is written.
   */
  async moveAlias(input: MoveAliasInput): Promise<{ alias: Alias; before: Alias | null }> {
    const version = await this.getVersion(input.model, input.version);
    const current = await this.findAlias(input.model, input.alias);
    const besideProduction = input.alias === 'canary' || input.alias === 'shadow';
    const production = input.alias === 'production' ? current : besideProduction ? await this.findAlias(input.model, 'production') : undefined;
    const at = this.now().toISOString();
    const plan = planMove({ alias: input.alias, version, current, production: production?.version ?? null, expectedVersion: input.expectedVersion, weight: input.weight, actor: input.actor, at });
    const items: TransactItem[] = [
      this.promotableCheck(input.model, input.version),
      this.aliasPut(plan.alias, current),
      this.audit({ model: input.model, version: input.version, actor: input.actor, action: 'alias.moved', reason: input.reason, before: current ?? null, after: plan.alias }, at),
    ];
    // A canary or shadow was gated against this production: production must not move before the commit.
    if (besideProduction) items.push(this.productionCheck(input.model, production?.version ?? null));
    if (plan.previous) {
      items.push({ Put: { TableName: this.tableName, Item: { pk: modelPk(input.model), sk: aliasSk('previous'), ...plan.previous } } });
    }
    try {
      await this.transact(items);
    } catch (error) {
      if (!isCancelled(error)) throw error;
      throw new ConflictError(`${input.alias} of ${input.model} moved (or production did, or version ${input.version} was rejected) while this move was being made; nothing changed: look again and retry`, {
        field: 'alias',
        cause: error,
      });
    }
    return { alias: plan.alias, before: current ?? null };
  }

  /** Production goes back to `previous` in one conditional transaction; `previous` is then cleared. */
  async rollback(input: { model: string; actor: string; reason: string; expectedVersion?: number | null }): Promise<{ production: Alias; before: Alias }> {
    await this.getModel(input.model);
    const [production, previous] = await Promise.all([this.findAlias(input.model, 'production'), this.findAlias(input.model, 'previous')]);
    const at = this.now().toISOString();
    const restored = planRollback(input.model, production, previous, input.actor, at, input.expectedVersion);
    try {
      await this.transact([
        this.promotableCheck(input.model, restored.version),
        this.aliasPut(restored, production),
        {
          Delete: {
            TableName: this.tableName,
            Key: { pk: modelPk(input.model), sk: aliasSk('previous') },
            ConditionExpression: 'version = :was',
            ExpressionAttributeValues: { ':was': previous!.version },
          },
        },
        this.audit(
          { model: input.model, version: restored.version, actor: input.actor, action: 'alias.rolled_back', reason: input.reason, before: { production, previous }, after: { production: restored, previous: null } },
          at,
        ),
      ]);
    } catch (error) {
      if (!isCancelled(error)) throw error;
      throw new ConflictError(`production of ${input.model} moved while rolling back; nothing changed: look again and retry`, { field: 'model', cause: error });
    }
    return { production: restored, before: production! };
  }

  /**
   * Marks a version as waiting for approval and keeps the release path's task token with it. A
   * retry for the same run changes nothing; any other pending request, or a rejected version, is refused.
   */
  async requestApproval(input: { model: string; version: number; runId: string; taskToken: string; expiresAt: string; actor: string }): Promise<ModelVersion> {
    const version = await this.getVersion(input.model, input.version);
    if (version.approval?.state === 'PENDING' && version.approval.runId === input.runId) {
      // A retried WaitForApproval carries a new token: keep that one, without a second request.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: modelPk(input.model), sk: versionSk(input.version) },
          UpdateExpression: 'SET approvalToken = :token',
          ConditionExpression: '#status = :pending AND #approval.runId = :runId',
          ExpressionAttributeNames: { '#status': 'status', '#approval': 'approval' },
          ExpressionAttributeValues: { ':token': input.taskToken, ':pending': 'PENDING_APPROVAL', ':runId': input.runId },
        }),
      );
      return version;
    }
    checkPromotable(version, 'production');
    const at = this.now().toISOString();
    const approval: Approval = { state: 'PENDING', runId: input.runId, requestedAt: at, requestedBy: input.actor, expiresAt: input.expiresAt };
    const changed = await this.changeApproval(version, { status: 'PENDING_APPROVAL', approval, taskToken: input.taskToken, from: { status: version.status } }, {
      actor: input.actor,
      action: 'approval.requested',
      reason: `run ${input.runId} waits for approval until ${input.expiresAt}`,
    }, at);
    if (!changed) throw new ConflictError(`version ${input.version} of ${input.model} changed while asking for its approval`, { field: 'version' });
    return { ...version, status: 'PENDING_APPROVAL', approval };
  }

  /** A version with the task token its waiting release keeps with it (none unless an approval is pending). */
  async pendingApproval(model: string, version: number): Promise<PendingApproval> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: versionSk(version) }, ConsistentRead: true }),
    );
    if (!Item) throw await this.versionNotFound(model, version);
    return { version: ModelVersionSchema.parse(withoutKeys(Item)), taskToken: typeof Item.approvalToken === 'string' ? Item.approvalToken : undefined };
  }

  /**
   * Records an approval or rejection, with who and why, if the version still waits for `runId`'s
   * release. Idempotent per run: a version that already carries this decision for this run answers
   * true without a second audit event (Promote calls it again after the API did). False when the
   * request was closed otherwise (someone else decided, or it expired).
   */
  async recordDecision(input: { model: string; version: number; runId: string; decision: Decision; actor: string; reason: string; at: string }): Promise<boolean> {
    const version = await this.getVersion(input.model, input.version);
    const status = input.decision === 'approve' ? 'APPROVED' : 'REJECTED';
    if (version.approval?.runId !== input.runId) return false;
    if (version.status === status && version.approval.state === status) return true;
    if (version.status !== 'PENDING_APPROVAL' || version.approval.state !== 'PENDING') return false;
    const approval: Approval = { ...version.approval, state: status, decidedAt: input.at, decidedBy: input.actor, reason: input.reason };
    return this.changeApproval(version, { status, approval, from: { pendingFor: input.runId } }, {
      actor: input.actor,
      action: input.decision === 'approve' ? 'approval.granted' : 'approval.rejected',
      reason: input.reason,
    }, input.at);
  }

  /** Closes a request whose release no longer waits (timed out, stopped): back to REGISTERED, approval EXPIRED. False if it was not pending for `runId`. */
  async closeApproval(input: { model: string; version: number; runId: string; actor: string; reason: string; at?: string }): Promise<boolean> {
    const version = await this.getVersion(input.model, input.version);
    if (version.status !== 'PENDING_APPROVAL' || version.approval?.runId !== input.runId) return false;
    const at = input.at ?? this.now().toISOString();
    const approval: Approval = { ...version.approval, state: 'EXPIRED', decidedAt: at, decidedBy: input.actor, reason: input.reason };
    return this.changeApproval(version, { status: 'REGISTERED', approval, from: { pendingFor: input.runId } }, { actor: input.actor, action: 'approval.expired', reason: input.reason }, at);
  }

  /** Closes an approval request nobody answered in time; a request already decided is left as it is. */
  async expireApproval(input: { model: string; version: number; runId: string }): Promise<{ expired: boolean }> {
    return { expired: await this.closeApproval({ ...input, actor: 'timeout', reason: 'nobody approved or rejected it in time' }) };
  }

  /**
   * Moves a version's release state (status and approval, and the task token kept with a pending
   * request) with its audit event, in one transaction. It commits only if the version is still
   * `from`: a given status, or pending for a given run. Returns false when it was not.
   */
  private async changeApproval(
    version: ModelVersion,
    change: { status: VersionStatus; approval: Approval; taskToken?: string; from: { status: VersionStatus } | { pendingFor: string } },
    event: Pick<AuditEvent, 'actor' | 'action' | 'reason'>,
    at: string,
  ): Promise<boolean> {
    const { from } = change;
    const seen = 'pendingFor' in from ? 'PENDING_APPROVAL' : from.status;
    const runId = 'pendingFor' in from ? from.pendingFor : undefined;
    try {
      await this.transact([
        {
          Update: {
            TableName: this.tableName,
            Key: { pk: modelPk(version.model), sk: versionSk(version.version) },
            UpdateExpression: `SET #status = :status, #approval = :approval${change.taskToken ? ', approvalToken = :token' : ' REMOVE approvalToken'}`,
            ConditionExpression: runId === undefined ? '#status = :seen' : '#status = :seen AND #approval.runId = :runId',
            ExpressionAttributeNames: { '#status': 'status', '#approval': 'approval' },
            ExpressionAttributeValues: {
              ':status': change.status,
              ':approval': change.approval,
              ':seen': seen,
              ...(change.taskToken ? { ':token': change.taskToken } : {}),
              ...(runId === undefined ? {} : { ':runId': runId }),
            },
          },
        },
        this.audit(
          { model: version.model, version: version.version, ...event, before: { status: version.status }, after: { status: change.status, approval: change.approval } },
          at,
        ),
      ]);
      return true;
    } catch (error) {
      if (!isCancelled(error)) throw error;
      return false;
    }
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

  private async versionNotFound(model: string, version: number): Promise<NotFoundError> {
    await this.getModel(model);
    return new NotFoundError(`model ${model} has no version ${version}`, { field: 'version' });
  }

  async getVersion(model: string, version: number): Promise<ModelVersion> {
    const found = await this.findVersion(model, version);
    if (!found) throw await this.versionNotFound(model, version);
    return found;
  }

  /** A version by number or by the alias pointing at it. */
  async resolveVersion(model: string, ref: number | AliasName): Promise<ModelVersion> {
    if (typeof ref === 'number') return this.getVersion(model, ref);
    const alias = await this.findAlias(model, ref);
    if (!alias) {
      await this.getModel(model);
      throw new NotFoundError(`${ref} of ${model} points at no version`, { field: 'alias' });
    }
    return this.getVersion(model, alias.version);
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    return (await this.query(modelPk(model), 'VERSION#')).map((item) => ModelVersionSchema.parse(withoutKeys(item)));
  }

  async findAlias(model: string, alias: AliasName): Promise<Alias | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: aliasSk(alias) }, ConsistentRead: true }),
    );
    return Item ? AliasSchema.parse(withoutKeys(Item)) : undefined;
  }

  /**
   * What serving routes by, in one BatchGetItem: the model's META (its spec's logging and rollout
   * blocks) and its production, canary and shadow aliases; undefined when there is no such model.
   * Eventually consistent on purpose (half the cost of a strong read): serving already trusts this
   * answer for its staleness bound, and a replica lags by well under a second.
   */
  async readRouting(model: string): Promise<RoutingState | undefined> {
    const sks = [META_SK, aliasSk('production'), aliasSk('canary'), aliasSk('shadow')];
    let keys: Record<string, unknown>[] = sks.map((sk) => ({ pk: modelPk(model), sk }));
    const items: Record<string, unknown>[] = [];
    for (let attempt = 1; keys.length > 0; attempt += 1) {
      if (attempt > 1) {
        if (attempt > MAX_BATCH_GET_ATTEMPTS) throw new Error(`the registry left ${keys.length} of ${model}'s routing items unread after ${MAX_BATCH_GET_ATTEMPTS} attempts`);
        // DynamoDB hands unread keys back when throttled: back off (jittered) before asking again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
      }
      const { Responses, UnprocessedKeys } = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }));
      items.push(...(Responses?.[this.tableName] ?? []));
      keys = (UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
    const meta = items.find((item) => item.sk === META_SK);
    if (!meta) return undefined;
    const alias = (name: 'production' | 'canary' | 'shadow') => {
      const item = items.find((found) => found.sk === aliasSk(name));
      return item ? AliasSchema.parse(withoutKeys(item)) : undefined;
    };
    const [production, canary, shadow] = [alias('production'), alias('canary'), alias('shadow')];
    return routingStateOf(model, ModelSpecSchema.parse(meta.spec), { ...(production ? { production } : {}), ...(canary ? { canary } : {}), ...(shadow ? { shadow } : {}) });
  }

  /** The model's aliases in ALIASES order. */
  async listAliases(model: string): Promise<Alias[]> {
    const found = (await this.query(modelPk(model), 'ALIAS#')).map((item) => AliasSchema.parse(withoutKeys(item)));
    return ALIASES.flatMap((name) => found.filter((alias) => alias.alias === name));
  }

  /** Audit events, oldest first (their sort keys start with the time); from `from` (an ISO time) on when given. */
  async listAudit(model: string, from?: string): Promise<AuditEvent[]> {
    return (await this.query(modelPk(model), AUDIT_PREFIX, from)).map((item) => AuditEventSchema.parse(withoutKeys(item)));
  }

  /** The model versions trained on a dataset version, and the aliases pointing at each now. */
  async datasetLineage(name: string, version: string): Promise<DatasetLineage> {
    const entries = await this.query(datasetLineagePk(name, version), 'MODEL#');
    const aliasesOf = new Map<string, Promise<Alias[]>>();
    const models = await Promise.all(
      entries.map(async (entry) => {
        const model = String(entry.model);
        if (!aliasesOf.has(model)) aliasesOf.set(model, this.listAliases(model));
        const [found, aliases] = await Promise.all([this.getVersion(model, Number(entry.version)), aliasesOf.get(model)!]);
        return {
          model,
          version: found.version,
          runId: found.runId,
          status: found.status,
          aliases: aliases.filter((alias) => alias.version === found.version).map((alias) => alias.alias),
          createdAt: found.createdAt,
        };
      }),
    );
    return { dataset: { name, version }, models };
  }

  /** The model's rollout: the running one, or the last one that ran. */
  async findRollout(model: string): Promise<RolloutRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: modelPk(model), sk: ROLLOUT_SK }, ConsistentRead: true }));
    return Item ? RolloutRecordSchema.parse(withoutKeys(Item)) : undefined;
  }

  /**
   * Applies one rollout change (core/registry/rollout.ts) in one transaction: the rollout record,
   * only if the stored one is as expected (no rollout running, or this rollout in one of the
   * expected states); the aliases it points (each only if still as read, and the version not
   * rejected) and those it takes away (each only if it still points at the version read); and
   * the audit events. False when any condition failed: then nothing was written.
   */
  async changeRollout(change: RolloutChange): Promise<boolean> {
    const { record, expect } = change;
    const at = record.updatedAt;
    const guard =
      expect === 'no-running-rollout'
        ? { ConditionExpression: 'attribute_not_exists(pk) OR #state <> :running', ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':running': 'RUNNING' } }
        : {
            ConditionExpression: `rolloutId = :id AND #state IN (${expect.states.map((_, i) => `:s${i}`).join(', ')})`,
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':id': expect.rolloutId, ...Object.fromEntries(expect.states.map((state, i) => [`:s${i}`, state])) },
          };
    const items: TransactItem[] = [
      { Put: { TableName: this.tableName, Item: { pk: modelPk(record.model), sk: ROLLOUT_SK, ...record }, ...guard } },
      ...(change.put.length ? [this.promotableCheck(record.model, record.version)] : []),
      ...change.put.map(({ alias, current }) => this.aliasPut(alias, current)),
      ...change.clear.map(
        (alias): TransactItem => ({
          Delete: {
            TableName: this.tableName,
            Key: { pk: modelPk(alias.model), sk: aliasSk(alias.alias) },
            ConditionExpression: 'version = :was',
            ExpressionAttributeValues: { ':was': alias.version },
          },
        }),
      ),
      ...change.events.map((event, order) => this.audit({ model: record.model, ...event }, at, order)),
    ];
    try {
      await this.transact(items);
      return true;
    } catch (error) {
      if (!isCancelled(error)) throw error;
      return false;
    }
  }

  /** Every item under `pk` whose sort key starts with `prefix` (and, given `from`, is at or after prefix + from), in key order, across result pages. */
  private async query(pk: string, prefix: string, from?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    const range =
      from === undefined
        ? { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix } }
        : { KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to', ExpressionAttributeValues: { ':pk': pk, ':from': `${prefix}${from}`, ':to': `${prefix}\uffff` } };
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          ...range,
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
