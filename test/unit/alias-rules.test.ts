import { describe, expect, it } from 'vitest';
import { approvalRequired, checkDecision, checkExpected, checkPromotable, parseAliasName, parseWeight, planMove, planRollback } from '../../lambdas/core/registry/alias-rules.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import { ApprovalPolicySchema } from '../../lambdas/core/training/model-spec.js';
import type { Alias, ModelVersion } from '../../lambdas/core/registry/records.js';
import { movesOf } from '../../lambdas/core/registry/lineage.js';
import { parseVersionNumber, parseVersionRef, PromoteRequestSchema } from '../../lambdas/core/registry/requests.js';
import { thrownBy } from './helpers.js';

const AT = '2026-11-23T10:00:00.000Z';

const version = (number: number, overrides: Partial<ModelVersion> = {}): ModelVersion => ({
  model: 'credit',
  version: number,
  runId: `run-${number}`,
  artifact: { uri: `s3://models/credit/${number}.json`, sha256: 'a'.repeat(64) },
  dataset: { name: 'loans', version: 'b'.repeat(64), uri: 's3://datasets/loans.csv' },
  metrics: { accuracy: 0.9 },
  gateReportUri: 's3://reports/gate.json',
  status: 'REGISTERED',
  createdAt: AT,
  createdBy: 'e2e',
  ...overrides,
});

const alias = (name: Alias['alias'], number: number, weight = name === 'production' ? 1 : 0): Alias => ({
  model: 'credit',
  alias: name,
  version: number,
  weight,
  updatedAt: '2026-11-22T00:00:00.000Z',
  updatedBy: 'someone',
});

const code = (action: () => unknown) => thrownBy(action, MlopsError).code;

describe('alias names', () => {
  it('accepts the four settable aliases and refuses previous and anything else with distinct codes', () => {
    for (const name of ['production', 'candidate', 'canary', 'shadow']) expect(parseAliasName(name)).toBe(name);
    expect(code(() => parseAliasName('previous'))).toBe('ALIAS_MANAGED');
    const unknown = thrownBy(() => parseAliasName('staging'), MlopsError);
    expect(unknown).toMatchObject({ code: 'INVALID_ALIAS', field: 'alias' });
    expect(unknown.message).toContain('production, candidate, canary, shadow');
  });

  it('gives each alias its traffic share and refuses shares that do not fit it', () => {
    expect(parseWeight('production', undefined)).toBe(1);
    expect(parseWeight('canary', undefined)).toBe(0.1);
    expect(parseWeight('canary', 0.25)).toBe(0.25);
    expect(parseWeight('shadow', undefined)).toBe(0);
    expect(code(() => parseWeight('production', 0.5))).toBe('INVALID_INPUT');
    expect(code(() => parseWeight('canary', 0))).toBe('INVALID_INPUT');
    expect(code(() => parseWeight('canary', 1))).toBe('INVALID_INPUT');
    expect(code(() => parseWeight('shadow', 0.2))).toBe('INVALID_INPUT');
  });
});

describe('moving an alias', () => {
  it('moves production and keeps the old production version as previous', () => {
    const plan = planMove({ alias: 'production', version: version(3), current: alias('production', 2), production: 2, actor: 'alice', at: AT });
    expect(plan.alias).toEqual({ model: 'credit', alias: 'production', version: 3, weight: 1, updatedAt: AT, updatedBy: 'alice' });
    expect(plan.previous).toEqual({ model: 'credit', alias: 'previous', version: 2, weight: 0, updatedAt: AT, updatedBy: 'alice' });
  });

  it('leaves previous alone for the first production version and for other aliases', () => {
    expect(planMove({ alias: 'production', version: version(1), current: undefined, production: null, actor: 'a', at: AT }).previous).toBeUndefined();
    const canary = planMove({ alias: 'canary', version: version(4, { judgedAgainst: 3 }), current: alias('canary', 2, 0.1), production: 3, weight: 0.2, actor: 'a', at: AT });
    expect(canary.previous).toBeUndefined();
    expect(canary.alias).toMatchObject({ alias: 'canary', version: 4, weight: 0.2 });
  });

  it('refuses a rejected version anywhere, and a version already in the alias', () => {
    const rejected = version(5, { status: 'REJECTED', approval: { state: 'REJECTED', runId: 'r', requestedAt: AT, requestedBy: 'a', expiresAt: AT, decidedBy: 'bob' } });
    for (const name of ['production', 'canary', 'shadow', 'candidate'] as const) {
      const error = thrownBy(() => planMove({ alias: name, version: rejected, current: undefined, production: null, actor: 'a', at: AT }), MlopsError);
      expect(error.code).toBe('VERSION_REJECTED');
      expect(error.message).toContain('bob');
    }
    expect(code(() => planMove({ alias: 'shadow', version: version(2), current: alias('shadow', 2), production: null, actor: 'a', at: AT }))).toBe('ALREADY_IN_ALIAS');
  });

  it('lets a canary or shadow serve only beside the production it was gated against, and names both versions otherwise', () => {
    const judgedAgainst2 = version(4, { judgedAgainst: 2 });
    for (const name of ['canary', 'shadow'] as const) {
      expect(planMove({ alias: name, version: judgedAgainst2, current: undefined, production: 2, weight: name === 'canary' ? 0.2 : 0, actor: 'a', at: AT }).alias).toMatchObject({ alias: name, version: 4 });
      // Production moved on since the gate (3), or the version was never judged against one: refused.
      const stale = thrownBy(() => planMove({ alias: name, version: judgedAgainst2, current: undefined, production: 3, actor: 'a', at: AT }), MlopsError);
      expect(stale).toMatchObject({ code: 'NOT_GATED_AGAINST_PRODUCTION', field: 'version' });
      expect(stale.message).toMatch(/version 4 .*against version 2.*production is version 3.*mlops rollout start credit 4/);
      const never = thrownBy(() => planMove({ alias: name, version: version(5, { judgedAgainst: null }), current: undefined, production: 3, actor: 'a', at: AT }), MlopsError);
      expect(never.code).toBe('NOT_GATED_AGAINST_PRODUCTION');
      expect(never.message).toMatch(/against no production version/);
      // Production itself cannot stand beside itself.
      expect(code(() => planMove({ alias: name, version: version(3, { judgedAgainst: 2 }), current: undefined, production: 3, actor: 'a', at: AT }))).toBe('ALREADY_IN_ALIAS');
    }
    // Without a production there is nothing to be judged against; candidate and production are not held to it.
    expect(planMove({ alias: 'shadow', version: version(6), current: undefined, production: null, actor: 'a', at: AT }).alias.version).toBe(6);
    expect(planMove({ alias: 'candidate', version: version(7, { judgedAgainst: 1 }), current: undefined, production: 3, actor: 'a', at: AT }).alias.version).toBe(7);
  });

  it('refuses to send a version that waits for approval to production again, but lets it shadow', () => {
    const pending = version(6, { status: 'PENDING_APPROVAL', approval: { state: 'PENDING', runId: 'r', requestedAt: AT, requestedBy: 'a', expiresAt: AT } });
    expect(code(() => checkPromotable(pending, 'production'))).toBe('APPROVAL_PENDING');
    expect(() => checkPromotable(pending, 'shadow')).not.toThrow();
  });

  it('conflicts when the alias is not where the caller expected, including "nowhere"', () => {
    expect(code(() => planMove({ alias: 'production', version: version(3), current: alias('production', 2), production: 2, expectedVersion: 1, actor: 'a', at: AT }))).toBe('CONFLICT');
    expect(code(() => planMove({ alias: 'production', version: version(3), current: alias('production', 2), production: 2, expectedVersion: null, actor: 'a', at: AT }))).toBe('CONFLICT');
    expect(code(() => checkExpected('production', null, 2))).toBe('CONFLICT');
    expect(() => checkExpected('production', null, null)).not.toThrow();
    expect(() => checkExpected('production', 2, undefined)).not.toThrow();
    expect(planMove({ alias: 'production', version: version(3), current: alias('production', 2), production: 2, expectedVersion: 2, actor: 'a', at: AT }).alias.version).toBe(3);
  });
});

describe('rollback', () => {
  it('sends production back to previous', () => {
    expect(planRollback('credit', alias('production', 5), alias('previous', 4), 'alice', AT)).toEqual({
      model: 'credit',
      alias: 'production',
      version: 4,
      weight: 1,
      updatedAt: AT,
      updatedBy: 'alice',
    });
  });

  it('refuses without a production or a previous version, and when production moved meanwhile', () => {
    expect(code(() => planRollback('credit', undefined, undefined, 'a', AT))).toBe('NO_PREVIOUS_VERSION');
    const none = thrownBy(() => planRollback('credit', alias('production', 1), undefined, 'a', AT), MlopsError);
    expect(none).toMatchObject({ code: 'NO_PREVIOUS_VERSION' });
    expect(none.message).toContain('production is version 1');
    expect(code(() => planRollback('credit', alias('production', 5), alias('previous', 4), 'a', AT, 6))).toBe('CONFLICT');
  });
});

describe('approval', () => {
  const policy = (requiredIn: string[] = []) => ApprovalPolicySchema.parse({ requiredIn });

  it('asks a person when the environment or the model says so', () => {
    expect(approvalRequired('dev', false, policy())).toBe(false);
    expect(approvalRequired('prod', true, policy())).toBe(true);
    expect(approvalRequired('staging', false, policy(['staging', 'prod']))).toBe(true);
    expect(approvalRequired('dev', false, policy(['staging', 'prod']))).toBe(false);
  });

  it('refuses an unknown environment in a spec', () => {
    expect(ApprovalPolicySchema.safeParse({ requiredIn: ['qa'] }).success).toBe(false);
  });

  it('decides only a pending, unexpired request', () => {
    const now = new Date('2026-11-23T12:00:00.000Z');
    const pending = version(2, { status: 'PENDING_APPROVAL', approval: { state: 'PENDING', runId: 'r', requestedAt: AT, requestedBy: 'a', expiresAt: '2026-11-24T00:00:00.000Z' } });
    expect(() => checkDecision(pending, 'approve', now)).not.toThrow();
    expect(code(() => checkDecision(version(2), 'approve', now))).toBe('APPROVAL_NOT_PENDING');
    const decided = version(2, { status: 'APPROVED', approval: { ...pending.approval!, state: 'APPROVED' } });
    expect(thrownBy(() => checkDecision(decided, 'reject', now), MlopsError).message).toContain('approved');
    const late = new Date('2026-11-24T00:00:00.000Z');
    expect(code(() => checkDecision(pending, 'approve', late))).toBe('APPROVAL_EXPIRED');
  });
});

describe('registry API inputs', () => {
  it('reads a version number or an alias from a path, and nothing else', () => {
    expect(parseVersionRef('12')).toBe(12);
    expect(parseVersionRef('production')).toBe('production');
    for (const bad of ['0', '-1', '1.5', 'latest', '', undefined, '01']) expect(code(() => parseVersionRef(bad))).toBe('INVALID_INPUT');
    expect(code(() => parseVersionNumber('candidate'))).toBe('INVALID_INPUT');
  });

  it('refuses a promotion body with unknown fields, a blank reason or a bad version', () => {
    expect(PromoteRequestSchema.safeParse({ version: 2, reason: 'better', expectedVersion: null }).success).toBe(true);
    expect(PromoteRequestSchema.safeParse({ version: 2, alias: 'production' }).success).toBe(false);
    expect(PromoteRequestSchema.safeParse({ version: 2, reason: '   ' }).success).toBe(false);
    expect(PromoteRequestSchema.safeParse({ version: 0 }).success).toBe(false);
  });
});

describe('lineage from the audit log', () => {
  it('lists the moves into and out of a version, rollbacks included, and nothing else', () => {
    const event = (action: 'alias.moved' | 'alias.rolled_back' | 'version.registered', before: unknown, after: unknown, at: string) => ({
      model: 'credit',
      eventId: at,
      at,
      actor: 'alice',
      action,
      reason: 'r',
      before,
      after,
    });
    const events = [
      event('version.registered', undefined, { version: 2 }, 't1'),
      event('alias.moved', null, alias('candidate', 2), 't2'),
      event('alias.moved', alias('production', 1), alias('production', 2), 't3'),
      event('alias.moved', alias('canary', 7), alias('canary', 8, 0.1), 't4'),
      event('alias.rolled_back', { production: alias('production', 2), previous: alias('previous', 1) }, { production: alias('production', 1), previous: null }, 't5'),
    ];
    expect(movesOf(events, 2).map((m) => [m.at, m.alias, m.from, m.to])).toEqual([
      ['t2', 'candidate', null, 2],
      ['t3', 'production', 1, 2],
      ['t5', 'production', 2, 1],
    ]);
    expect(movesOf(events, 8)).toHaveLength(1);
  });
});
