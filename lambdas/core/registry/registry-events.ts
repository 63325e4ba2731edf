/**
 * Registry changes as events (lambdas/contract/events.ts): built from what the registry table
 * committed (an audit event, or a drift check's record), so an event exists only for a change that
 * happened. The stream publisher and `GET /events` both build them here, so the bus and
 * `mlops events tail` show the same events.
 */
import { DRIFT_CHECKED, REGISTRY_EVENT_SCHEMA_VERSION, REGISTRY_EVENT_SOURCE, type RegistryEventDetail } from '../../contract/events.js';
import { DriftCheckRecordSchema, type DriftCheckRecord } from '../../contract/drift.js';
import type { EnvironmentName } from '../environments.js';
import { ALIASES, AUDIT_PREFIX, type AliasName, DRIFT_CHECK_PREFIX } from './keys.js';
import { AuditEventSchema, type AuditEvent } from './records.js';

const isAlias = (value: unknown): value is AliasName => typeof value === 'string' && (ALIASES as readonly string[]).includes(value);
const field = (value: unknown, name: string): unknown => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined);

/**
 * The alias an audit event is about: the alias record it moved, production for a rollback, the
 * phase a rollout entered (shadow, canary), the one alias a clearing took away; null otherwise.
 */
function aliasOf(event: AuditEvent): AliasName | null {
  if (event.action === 'alias.rolled_back') return 'production';
  if (event.action === 'alias.cleared') {
    const cleared = field(event.after, 'cleared');
    return Array.isArray(cleared) && cleared.length === 1 && isAlias(cleared[0]) ? cleared[0] : null;
  }
  for (const side of [event.after, event.before]) {
    const alias = field(side, 'alias');
    if (isAlias(alias)) return alias;
  }
  const phase = field(event.after, 'phase');
  return isAlias(phase) ? phase : null;
}

export function eventFromAudit(event: AuditEvent, environment: EnvironmentName): RegistryEventDetail {
  return {
    schemaVersion: REGISTRY_EVENT_SCHEMA_VERSION,
    eventId: event.eventId,
    type: event.action,
    at: event.at,
    environment,
    model: event.model,
    version: event.version ?? null,
    alias: aliasOf(event),
    before: event.before ?? null,
    after: event.after ?? null,
    actor: event.actor,
    reason: event.reason,
  };
}

/** A drift check's verdict: the check's id is the event's, its summary is `after`. */
export function eventFromDriftCheck(check: DriftCheckRecord, environment: EnvironmentName): RegistryEventDetail {
  const verdict = check.status === 'drift' ? 'drift detected' : check.status === 'no_drift' ? 'no drift' : 'too few rows to judge';
  return {
    schemaVersion: REGISTRY_EVENT_SCHEMA_VERSION,
    eventId: check.checkId,
    type: DRIFT_CHECKED,
    at: check.checkedAt,
    environment,
    model: check.model,
    version: check.version,
    alias: check.arm,
    before: null,
    after: {
      checkId: check.checkId,
      status: check.status,
      datasetDrift: check.datasetDrift,
      driftedFeatures: check.driftedFeatures,
      predictionDrift: check.predictionDrift,
      performance: check.performance ? { status: check.performance.status, decayed: check.performance.decayed, metric: check.performance.metric, value: check.performance.value, estimated: check.performance.estimated } : null,
      window: check.window,
      rows: check.rows,
      reportUri: check.reportUri,
      trigger: check.trigger,
    },
    actor: check.actor,
    reason: `${check.trigger} drift check of ${check.arm} (version ${check.version}): ${verdict}`,
  };
}

/**
 * The event a newly committed registry item stands for, or undefined when it stands for none
 * (versions, aliases and the like change only together with an audit event, which carries them).
 * Items are parsed with their record's schema: a malformed one throws rather than publishing garbage.
 */
export function eventFromRegistryItem(item: Record<string, unknown>, environment: EnvironmentName): RegistryEventDetail | undefined {
  const { pk: _pk, sk, ...record } = item;
  if (typeof sk !== 'string') return undefined;
  if (sk.startsWith(AUDIT_PREFIX)) return eventFromAudit(AuditEventSchema.parse(record), environment);
  if (sk.startsWith(DRIFT_CHECK_PREFIX)) return eventFromDriftCheck(DriftCheckRecordSchema.parse(record), environment);
  return undefined;
}

/** EventBridge's limit for one entry, with room for the envelope's other fields. */
const MAX_DETAIL_BYTES = 250 * 1024;

/** One PutEvents entry; an event whose before/after would pass the limit goes without them, marked `truncated`. */
export function eventEntry(detail: RegistryEventDetail, eventBusName: string) {
  let json = JSON.stringify(detail);
  if (new TextEncoder().encode(json).length > MAX_DETAIL_BYTES) json = JSON.stringify({ ...detail, before: null, after: null, truncated: true });
  return { EventBusName: eventBusName, Source: REGISTRY_EVENT_SOURCE, DetailType: detail.type, Detail: json, Time: new Date(detail.at) };
}

/** The position of an event in commit order: its time, then its id (events of one transaction share the time). */
export const eventCursor = (event: Pick<RegistryEventDetail, 'at' | 'eventId'>) => `${event.at}#${event.eventId}`;

/** Events after `cursor` (all when undefined), oldest first, at most `limit`. */
export function eventsAfter(events: RegistryEventDetail[], cursor: string | undefined, limit: number): RegistryEventDetail[] {
  return events
    .filter((event) => cursor === undefined || eventCursor(event) > cursor)
    .sort((a, b) => (eventCursor(a) < eventCursor(b) ? -1 : eventCursor(a) > eventCursor(b) ? 1 : 0))
    .slice(0, limit);
}

/** What `GET /events` reads: the models, and each one's audit events and drift checks from a time on. */
export interface RegistryEventSources {
  listModels(): Promise<{ name: string }[]>;
  /** Audit events at or after `from` (ISO time), oldest first. */
  listAudit(model: string, from?: string): Promise<AuditEvent[]>;
  /** Drift checks whose id (their start time) is at or after `fromCheckId`. */
  listChecksFrom(model: string, fromCheckId: string): Promise<DriftCheckRecord[]>;
}

/** A drift check's verdict is recorded when it ends: one that started this long before the cursor may still come after it. */
const LONGEST_CHECK_MS = 15 * 60 * 1000;

/** The check-id prefix of an instant (their ids start with the compact time: core/monitoring/drift-check.ts). */
const checkIdAt = (at: Date) => at.toISOString().replace(/[-:.]/g, '');

/**
 * `GET /events`: the events after `after` (a cursor from an earlier answer, or an ISO time),
 * of one model or of every model, oldest first, at most `limit`; the answer's cursor is the last
 * event's (or `after` unchanged when nothing came), so a follower polls with it.
 */
export async function listEvents(
  sources: RegistryEventSources,
  input: { model?: string; after?: string; limit: number; environment: EnvironmentName },
): Promise<{ events: RegistryEventDetail[]; cursor: string }> {
  const from = input.after?.split('#')[0];
  const fromTime = from === undefined ? undefined : new Date(from);
  const models = input.model ? [input.model] : (await sources.listModels()).map((model) => model.name);
  const perModel = await Promise.all(
    models.map(async (model) => {
      const [audit, checks] = await Promise.all([
        sources.listAudit(model, from),
        sources.listChecksFrom(model, fromTime ? checkIdAt(new Date(fromTime.getTime() - LONGEST_CHECK_MS)) : ''),
      ]);
      return [...audit.map((event) => eventFromAudit(event, input.environment)), ...checks.map((check) => eventFromDriftCheck(check, input.environment))];
    }),
  );
  const events = eventsAfter(perModel.flat(), input.after, input.limit);
  return { events, cursor: events.length ? eventCursor(events.at(-1)!) : (input.after ?? '') };
}
