import { ConflictError } from '../../lambdas/core/errors.js';
import type { AuditEvent } from '../../lambdas/core/registry/records.js';
import type { RolloutChange, RolloutExecutionInput, RolloutExecutions, RolloutRecord, RolloutRegistry } from '../../lambdas/core/registry/rollout.js';
import type { LogObjects } from '../../lambdas/core/serving/rollout-evidence.js';
import { MemoryRegistry } from './fakes.js';

/**
 * The registry with rollouts: RegistryStore.changeRollout's conditions (the rollout as expected,
 * each alias as read, each cleared alias still at its version) over MemoryRegistry's aliases and audit.
 */
export class MemoryRolloutRegistry extends MemoryRegistry implements RolloutRegistry {
  readonly rollouts = new Map<string, RolloutRecord>();
  /** Called before a change commits: a test can make a concurrent abort land there. */
  beforeChange?: () => void;

  async findRollout(model: string): Promise<RolloutRecord | undefined> {
    return this.rollouts.get(model);
  }

  async changeRollout(change: RolloutChange): Promise<boolean> {
    this.beforeChange?.();
    const { record, expect } = change;
    const stored = this.rollouts.get(record.model);
    const expected = expect === 'no-running-rollout' ? stored?.state !== 'RUNNING' : stored?.rolloutId === expect.rolloutId && expect.states.includes(stored.state);
    if (!expected) return false;
    for (const { alias, current } of change.put) {
      const now = this.aliases.get(`${alias.model}/${alias.alias}`);
      if (now?.version !== current?.version || now?.updatedAt !== current?.updatedAt) return false;
    }
    for (const alias of change.clear) {
      if (this.aliases.get(`${alias.model}/${alias.alias}`)?.version !== alias.version) return false;
    }
    this.rollouts.set(record.model, structuredClone(record));
    for (const { alias } of change.put) this.aliases.set(`${alias.model}/${alias.alias}`, alias);
    for (const alias of change.clear) this.aliases.delete(`${alias.model}/${alias.alias}`);
    for (const event of change.events) {
      this.audit.push({ model: record.model, eventId: `audit-${this.audit.length + 1}`, at: record.updatedAt, ...event } as AuditEvent);
    }
    return true;
  }

  async moveAlias(): Promise<never> {
    throw new ConflictError('not used by the rollout flows');
  }
}

/** The rollout state machine's executions, in memory. */
export class MemoryRolloutExecutions implements RolloutExecutions {
  readonly started: { name: string; input: RolloutExecutionInput }[] = [];
  readonly stopped: string[] = [];
  readonly status = new Map<string, string>();

  rolloutArn(name: string): string {
    return `arn:aws:states:us-east-1:000000000000:execution:rollout:${name}`;
  }

  pipelineArn(runId: string): string {
    return `arn:aws:states:us-east-1:000000000000:execution:training:${runId}`;
  }

  async start(name: string, input: RolloutExecutionInput): Promise<void> {
    this.started.push({ name, input });
    this.status.set(this.rolloutArn(name), 'RUNNING');
  }

  async stop(executionArn: string): Promise<boolean> {
    if (this.status.get(executionArn) !== 'RUNNING') return false;
    this.status.set(executionArn, 'ABORTED');
    this.stopped.push(executionArn);
    return true;
  }

  async describe(executionArn: string): Promise<{ status: string } | undefined> {
    const status = this.status.get(executionArn);
    return status ? { status } : undefined;
  }
}

/** The prediction-logs bucket in memory: objects by key, each with when it was written. */
export class MemoryLogs implements LogObjects {
  readonly objects = new Map<string, { body: string; lastModified: Date }>();

  put(key: string, lines: unknown[], lastModified = new Date()): void {
    this.objects.set(key, { body: lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n', lastModified });
  }

  async list(prefix: string): Promise<{ key: string; lastModified: Date }[]> {
    return [...this.objects.entries()].filter(([key]) => key.startsWith(prefix)).map(([key, object]) => ({ key, lastModified: object.lastModified }));
  }

  async *stream(key: string): AsyncIterable<Uint8Array> {
    const bytes = new TextEncoder().encode(this.objects.get(key)?.body ?? '');
    // Small chunks, so records span chunk boundaries as they do from S3.
    for (let i = 0; i < bytes.length; i += 37) yield bytes.slice(i, i + 37);
  }
}
