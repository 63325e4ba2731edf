import { AliasSchema, type AuditEvent, type VersionLineage } from './records.js';

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
