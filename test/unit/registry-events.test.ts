import { describe, expect, it } from 'vitest';
import { RegistryEventDetailSchema, REGISTRY_EVENT_SOURCE } from '../../lambdas/contract/events.js';
import { auditSk, driftCheckSk, modelPk, versionSk } from '../../lambdas/core/registry/keys.js';
import type { AuditEvent } from '../../lambdas/core/registry/records.js';
import { driftCheckRecord } from './helpers.js';
import { eventCursor, eventEntry, eventFromAudit, eventFromRegistryItem, eventsAfter, listEvents } from '../../lambdas/core/registry/registry-events.js';

const ALICE = 'arn:aws:iam::000000000000:user/alice';
const at = '2026-12-06T09:00:00.000Z';
const alias = (name: string, version: number) => ({ model: 'churn', alias: name, version, weight: name === 'production' ? 1 : 0.1, updatedAt: at, updatedBy: ALICE });
const audit = (overrides: Partial<AuditEvent>): AuditEvent => ({ model: 'churn', eventId: '0-a', at, actor: ALICE, action: 'alias.moved', reason: 'because', version: 2, ...overrides });

const check = driftCheckRecord({ checkId: '20261206T090000000Z-abc123', arm: 'canary', driftedFeatures: ['age'], checkedAt: '2026-12-06T09:00:05.000Z' });

describe('a registry event built from an audit event', () => {
  it('carries the audit event id, the change, the actor and the reason under the documented schema', () => {
    const event = eventFromAudit(audit({ before: alias('production', 1), after: alias('production', 2) }), 'staging');
    expect(RegistryEventDetailSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({ schemaVersion: 1, eventId: '0-a', type: 'alias.moved', environment: 'staging', model: 'churn', version: 2, alias: 'production', actor: ALICE, reason: 'because' });
    expect(event.before).toMatchObject({ version: 1 });
    expect(event.after).toMatchObject({ version: 2 });
  });

  it('names the alias each kind of change is about', () => {
    const aliasOf = (overrides: Partial<AuditEvent>) => eventFromAudit(audit(overrides), 'dev').alias;
    expect(aliasOf({ action: 'alias.moved', before: null, after: alias('candidate', 2) })).toBe('candidate');
    expect(aliasOf({ action: 'alias.rolled_back', before: { production: alias('production', 2) }, after: { production: alias('production', 1), previous: null } })).toBe('production');
    expect(aliasOf({ action: 'rollout.stepped', before: { phase: 'shadow', weight: 0 }, after: { rolloutId: 'r', phase: 'canary', weight: 0.1 } })).toBe('canary');
    expect(aliasOf({ action: 'alias.cleared', after: { rolloutId: 'r', cleared: ['shadow'] } })).toBe('shadow');
    expect(aliasOf({ action: 'alias.cleared', after: { rolloutId: 'r', cleared: ['shadow', 'canary'] } })).toBeNull();
    expect(aliasOf({ action: 'approval.granted', version: 2 })).toBeNull();
    expect(eventFromAudit(audit({ action: 'model.created', version: undefined }), 'dev')).toMatchObject({ version: null, alias: null, before: null, after: null });
  });
});

describe('a drift verdict as an event', () => {
  it('is drift.checked with the check id, the verdict and the arm checked', () => {
    const event = eventFromRegistryItem({ pk: modelPk('churn'), sk: driftCheckSk(check.checkId), ...check }, 'prod')!;
    expect(RegistryEventDetailSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({ type: 'drift.checked', eventId: check.checkId, at: check.checkedAt, version: 3, alias: 'canary', actor: 'system:schedule' });
    expect(event.after).toMatchObject({ status: 'drift', driftedFeatures: ['age'], reportUri: check.reportUri });
    expect(event.reason).toMatch(/drift detected/);
  });
});

describe('which committed items are events', () => {
  it('publishes audit events and drift checks, nothing else', () => {
    const item = { pk: modelPk('churn'), sk: auditSk(at, '0-a'), ...audit({ after: alias('production', 2) }) };
    expect(eventFromRegistryItem(item, 'dev')).toMatchObject({ type: 'alias.moved', eventId: '0-a' });
    expect(eventFromRegistryItem({ pk: modelPk('churn'), sk: versionSk(2), model: 'churn', version: 2 }, 'dev')).toBeUndefined();
    expect(eventFromRegistryItem({ pk: modelPk('churn'), sk: 'ALIAS#production', ...alias('production', 2) }, 'dev')).toBeUndefined();
  });

  it('fails on a malformed audit item instead of publishing it', () => {
    expect(() => eventFromRegistryItem({ pk: modelPk('churn'), sk: auditSk(at, 'x'), model: 'churn', action: 'alias.teleported' }, 'dev')).toThrow();
  });
});

describe('a PutEvents entry', () => {
  it('has the source, the type as detail-type and the commit time', () => {
    const entry = eventEntry(eventFromAudit(audit({ action: 'approval.granted' }), 'prod'), 'bus');
    expect(entry).toMatchObject({ EventBusName: 'bus', Source: REGISTRY_EVENT_SOURCE, DetailType: 'approval.granted', Time: new Date(at) });
    expect(JSON.parse(entry.Detail)).toMatchObject({ eventId: '0-a', type: 'approval.granted' });
  });

  it("leaves out before and after when they would pass EventBridge's 256 KB limit, and says so", () => {
    const huge = eventFromAudit(audit({ action: 'model.updated', after: { blob: 'x'.repeat(300 * 1024) } }), 'dev');
    const detail = JSON.parse(eventEntry(huge, 'bus').Detail);
    expect(detail).toMatchObject({ eventId: '0-a', before: null, after: null, truncated: true });
    expect(eventEntry(huge, 'bus').Detail.length).toBeLessThan(2000);
  });
});

describe('events in commit order after a cursor', () => {
  const events = [
    eventFromAudit(audit({ eventId: '1-b', at }), 'dev'),
    eventFromAudit(audit({ eventId: '0-a', at }), 'dev'),
    eventFromAudit(audit({ eventId: '0-c', at: '2026-12-06T08:00:00.000Z' }), 'dev'),
  ];

  it('orders by time, then by id (one transaction shares a time), and resumes after a cursor', () => {
    expect(eventsAfter(events, undefined, 10).map((e) => e.eventId)).toEqual(['0-c', '0-a', '1-b']);
    expect(eventsAfter(events, eventCursor(events[1]!), 10).map((e) => e.eventId)).toEqual(['1-b']);
    expect(eventsAfter(events, '2026-12-06T08:30:00.000Z', 10).map((e) => e.eventId)).toEqual(['0-a', '1-b']);
    expect(eventsAfter(events, undefined, 2).map((e) => e.eventId)).toEqual(['0-c', '0-a']);
  });

  it('lists every model, audit events and verdicts together, and hands back a cursor to follow with', async () => {
    const reads: { model: string; from?: string; fromCheckId?: string }[] = [];
    const sources = {
      listModels: async () => [{ name: 'churn' }, { name: 'fraud' }],
      listAudit: async (model: string, from?: string) => {
        reads.push({ model, from });
        return model === 'churn' ? [audit({ eventId: '0-a' })].filter((e) => from === undefined || e.at >= from) : [];
      },
      listChecksFrom: async (model: string, fromCheckId: string) => {
        reads.push({ model, fromCheckId });
        return model === 'churn' ? [check].filter((c) => c.checkId >= fromCheckId) : [];
      },
    };
    const first = await listEvents(sources, { limit: 10, environment: 'dev' });
    expect(first.events.map((e) => e.type)).toEqual(['alias.moved', 'drift.checked']);
    expect(first.cursor).toBe(eventCursor(first.events[1]!));

    reads.length = 0;
    const next = await listEvents(sources, { after: first.cursor, limit: 10, environment: 'dev' });
    expect(next).toEqual({ events: [], cursor: first.cursor });
    // Audit from the cursor's time; checks from 15 minutes before it (a verdict is recorded when its check ends).
    expect(reads).toContainEqual({ model: 'churn', from: check.checkedAt });
    expect(reads).toContainEqual({ model: 'churn', fromCheckId: '20261206T084505000Z' });

    const one = await listEvents(sources, { model: 'fraud', limit: 10, environment: 'dev', after: at });
    expect(one).toEqual({ events: [], cursor: at });
  });
});
