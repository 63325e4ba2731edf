import type { DatasetVersion } from '../data/dataset-version.js';
import type { RunRecord } from '../training/run.js';
import type { AliasName } from './keys.js';
import { AliasSchema, type Alias, type AuditEvent, type ModelVersion, type VersionLineage } from './records.js';

type Move = VersionLineage['moves'][number];

const versionOf = (value: unknown): number | null => {
  const parsed = AliasSchema.pick({ alias: true, version: true, weight: true }).safeParse(value);
  return parsed.success ? parsed.data.version : null;
};

/** The alias moves into or out of one version, read from a model's audit log (oldest first). */
export function movesOf(events: readonly AuditEvent[], version: number): Move[] {
  const moves: Move[] = [];
  for (const event of events) {
    if (event.action === 'alias.moved') {
      const after = AliasSchema.pick({ alias: true, version: true, weight: true }).safeParse(event.after);
      if (!after.success) continue;
      const from = versionOf(event.before);
      if (after.data.version !== version && from !== version) continue;
      moves.push({ at: event.at, actor: event.actor, action: event.action, alias: after.data.alias, from, to: after.data.version, weight: after.data.weight, reason: event.reason });
    } else if (event.action === 'alias.rolled_back') {
      const before = event.before as { production?: unknown } | undefined;
      const after = event.after as { production?: unknown } | undefined;
      const from = versionOf(before?.production);
      const to = versionOf(after?.production);
      if (from !== version && to !== version) continue;
      moves.push({ at: event.at, actor: event.actor, action: event.action, alias: 'production', from, to, weight: 1, reason: event.reason });
    }
  }
  return moves;
}

/** What a version's lineage is read from: the registry and experiment tracking. */
export interface LineageStores {
  registry: {
    resolveVersion(model: string, ref: number | AliasName): Promise<ModelVersion>;
    listAliases(model: string): Promise<Alias[]>;
    listAudit(model: string): Promise<AuditEvent[]>;
  };
  tracking: {
    findRun(runId: string): Promise<RunRecord | undefined>;
    findDatasetVersion(name: string, version: string): Promise<DatasetVersion | undefined>;
  };
}

/**
 * A version's lineage: the dataset version and run that made it (the run's code, spec hash,
 * parameters, seed and metrics), its artifact and gate report, its approval or origin, the
 * aliases pointing at it now, and every alias move into or out of it.
 */
export async function versionLineage(stores: LineageStores, model: string, ref: number | AliasName): Promise<VersionLineage> {
  const version = await stores.registry.resolveVersion(model, ref);
  const [run, dataset, aliases, events] = await Promise.all([
    stores.tracking.findRun(version.runId),
    stores.tracking.findDatasetVersion(version.dataset.name, version.dataset.version),
    stores.registry.listAliases(model),
    stores.registry.listAudit(model),
  ]);
  return {
    model,
    version: version.version,
    status: version.status,
    dataset: { ...version.dataset, ...(dataset ? { rowCount: dataset.rowCount, arrivedAt: dataset.arrivedAt } : {}) },
    run: run
      ? {
          runId: run.runId,
          trigger: run.trigger,
          actor: run.actor,
          codeVersion: run.codeVersion,
          specHash: run.specHash,
          algorithm: run.algorithm,
          parameters: run.parameters,
          seed: run.seed,
          metrics: run.metrics ?? {},
          startedAt: run.startedAt,
          endedAt: run.endedAt ?? null,
          executionArn: run.executionArn,
        }
      : null,
    artifact: version.artifact,
    gateReportUri: version.gateReportUri,
    ...(version.approval ? { approval: version.approval } : {}),
    ...(version.promotedFrom ? { promotedFrom: version.promotedFrom } : {}),
    aliases: aliases.filter((alias) => alias.version === version.version).map((alias) => ({ alias: alias.alias, weight: alias.weight, since: alias.updatedAt, by: alias.updatedBy })),
    moves: movesOf(events, version.version),
  };
}
