import { describe, expect, it } from 'vitest';
import { MlopsError } from '../../lambdas/core/errors.js';
import type { Alias, AuditEvent, DatasetLineage, ModelVersion, VersionLineage } from '../../lambdas/core/registry/records.js';
import type { PipelineOutcome } from '../../lib/client/platform-client.js';
import { parseDatasetLineageRef, parseExpected, parseModelRef, parseReason, parseTargetAlias, parseVersionNumber, parseVersionRef, parseWeightFor, parseWeightOption } from '../../lib/client/arguments.js';
import { decisionCommand, formatTime, renderTree } from '../../lib/client/render/common.js';
import {
  auditSummary,
  formatAudit,
  formatDatasetLineage,
  formatDecision,
  formatModel,
  formatModelList,
  formatMove,
  formatRollback,
  formatVersion,
  formatVersionLineage,
} from '../../lib/client/render/registry.js';
import { formatRelease, releaseReport } from '../../lib/client/render/release.js';
import { describeDataset, formatDatasetVersions } from '../../lib/client/render/datasets.js';
import { DatasetVersionSchema } from '../../lambdas/core/data/dataset-version.js';
import { smallSpec } from './helpers.js';

const SHA = 'a'.repeat(64);
const ARTIFACT_SHA = 'b'.repeat(64);

/** Runs `act`, expecting an MlopsError, and returns its code, field and message. */
function failure(act: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(MlopsError);
    const { code, field, message } = error as MlopsError;
    return { code, field, message };
  }
  throw new Error('expected an MlopsError, got none');
}

function version(overrides: Partial<ModelVersion> = {}): ModelVersion {
  return {
    model: 'credit-risk',
    version: 5,
    runId: 'credit-risk-20260102030405-abc123',
    artifact: { uri: 's3://models/credit-risk/5/model.json', sha256: ARTIFACT_SHA },
    dataset: { name: 'loans', version: SHA, uri: 's3://datasets/loans/a.csv' },
    metrics: { accuracy: 0.8123, rocAuc: 0.9, rows: 500 },
    gateReportUri: 's3://reports/gate/5.json',
    gateSummary: 'passed: accuracy 0.8123 >= 0.75',
    judgedAgainst: 3,
    status: 'REGISTERED',
    createdAt: '2026-01-02T03:04:05.678Z',
    createdBy: 'alice',
    ...overrides,
  };
}

function alias(overrides: Partial<Alias> = {}): Alias {
  return { model: 'credit-risk', alias: 'production', version: 5, weight: 1, updatedAt: '2026-01-03T00:00:00.000Z', updatedBy: 'bob', ...overrides };
}

function outcome(overrides: Partial<PipelineOutcome>): PipelineOutcome {
  return { runId: 'r1', executionArn: 'arn:aws:states:x:1:execution:p:r1', status: 'SUCCEEDED', steps: ['StartRun', 'Evaluate', 'Gate', 'Promote', 'Released'], run: undefined, ...overrides };
}

describe('model references', () => {
  it('reads a model, a model@version and a model@alias', () => {
    expect(parseModelRef('credit-risk')).toEqual({ model: 'credit-risk' });
    expect(parseModelRef('credit-risk@12')).toEqual({ model: 'credit-risk', version: 12 });
    expect(parseModelRef('credit-risk@production')).toEqual({ model: 'credit-risk', version: 'production' });
    expect(parseModelRef('credit-risk@previous')).toEqual({ model: 'credit-risk', version: 'previous' });
  });

  it('fails when the version after @ is missing, naming the version', () => {
    const error = failure(() => parseModelRef('m@'));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'version' });
    expect(error.message).toMatch(/the version after @ is missing/);
    expect(failure(() => parseModelRef('credit-risk@')).field).toBe('version');
  });

  it('fails when the version is neither a positive integer nor an alias', () => {
    for (const bad of ['credit-risk@0', 'credit-risk@-1', 'credit-risk@1.5', 'credit-risk@prod', 'credit-risk@03']) {
      const error = failure(() => parseModelRef(bad));
      expect(error, bad).toMatchObject({ code: 'INVALID_INPUT', field: 'version' });
      expect(error.message, bad).toMatch(/positive integer/);
    }
  });

  it('fails on a bad model name, a missing name or a second @', () => {
    expect(failure(() => parseModelRef('Credit@3'))).toMatchObject({ code: 'INVALID_INPUT', field: 'model' });
    expect(failure(() => parseModelRef('@3'))).toMatchObject({ code: 'INVALID_INPUT', field: 'model' });
    expect(failure(() => parseModelRef('credit-risk@3@4')).message).toMatch(/one @/);
  });

  it('requires a version when asked to', () => {
    expect(parseModelRef('credit-risk@canary', { versionRequired: true })).toEqual({ model: 'credit-risk', version: 'canary' });
    expect(failure(() => parseModelRef('credit-risk', { versionRequired: true }))).toMatchObject({ code: 'INVALID_INPUT', field: 'version' });
  });

  it('reads a version ref on its own', () => {
    expect(parseVersionRef('7')).toBe(7);
    expect(parseVersionRef('shadow')).toBe('shadow');
    expect(failure(() => parseVersionRef('latest')).field).toBe('version');
  });
});

describe('version numbers', () => {
  it('takes positive integers only', () => {
    expect(parseVersionNumber('1')).toBe(1);
    expect(parseVersionNumber('42')).toBe(42);
    for (const bad of ['0', '-3', '2.0', '1e3', ' 4', 'abc', '', '99999999999999999999']) {
      expect(failure(() => parseVersionNumber(bad)), bad).toMatchObject({ code: 'INVALID_INPUT', field: 'version' });
    }
  });
});

describe('promote and rollback options', () => {
  it('reads --expect as a version, or none where the alias may point nowhere', () => {
    expect(parseExpected('4', { allowNone: true })).toBe(4);
    expect(parseExpected('none', { allowNone: true })).toBeNull();
    const error = failure(() => parseExpected('none', { allowNone: false }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', field: 'expect' });
    expect(error.message).toMatch(/^--expect "none"/);
    expect(failure(() => parseExpected('v4', { allowNone: true })).field).toBe('expect');
  });

  it('reads --weight as a share of traffic, naming the argument when it is not one', () => {
    expect(parseWeightOption('0.1')).toBe(0.1);
    expect(parseWeightOption('1')).toBe(1);
    for (const bad of ['abc', '', '1.5', '-0.1', 'NaN']) {
      const error = failure(() => parseWeightOption(bad));
      expect(error, bad).toMatchObject({ code: 'INVALID_INPUT', field: 'weight' });
      expect(error.message, bad).toMatch(/^--weight/);
    }
  });

  it('checks the weight against the alias', () => {
    expect(parseWeightFor('canary', '0.25')).toBe(0.25);
    expect(parseWeightFor('production', '1')).toBe(1);
    expect(parseWeightFor('shadow', '0')).toBe(0);
    expect(failure(() => parseWeightFor('canary', '1'))).toMatchObject({ code: 'INVALID_INPUT', field: 'weight' });
    expect(failure(() => parseWeightFor('production', '0.5')).message).toMatch(/^--weight 0.5: production takes all the traffic/);
    expect(failure(() => parseWeightFor('candidate', 'abc')).message).toMatch(/^--weight "abc"/);
  });

  it('takes the aliases a person may set, with the API codes for the others', () => {
    expect(parseTargetAlias('canary')).toBe('canary');
    expect(failure(() => parseTargetAlias('previous'))).toMatchObject({ code: 'ALIAS_MANAGED', field: 'to' });
    const error = failure(() => parseTargetAlias('prod'));
    expect(error).toMatchObject({ code: 'INVALID_ALIAS', field: 'to' });
    expect(error.message).toMatch(/^--to "prod": .*production, candidate, canary, shadow/);
  });

  it('wants a reason with words in it', () => {
    expect(parseReason('  canary looked fine for a day ')).toBe('canary looked fine for a day');
    expect(failure(() => parseReason('   '))).toMatchObject({ code: 'INVALID_INPUT', field: 'reason' });
    expect(failure(() => parseReason('x'.repeat(1001))).message).toMatch(/1001 characters/);
  });
});

describe('dataset lineage references', () => {
  it('reads name@sha256, name@latest and a bare name as the newest version', () => {
    expect(parseDatasetLineageRef(`loans@${SHA}`)).toEqual({ name: 'loans', version: SHA });
    expect(parseDatasetLineageRef('loans@latest')).toEqual({ name: 'loans', version: 'latest' });
    expect(parseDatasetLineageRef('loans')).toEqual({ name: 'loans', version: 'latest' });
  });

  it('fails on a version that is not a sha256, and on a bad name', () => {
    expect(failure(() => parseDatasetLineageRef('loans@abc'))).toMatchObject({ code: 'INVALID_INPUT', field: 'dataset.version' });
    expect(failure(() => parseDatasetLineageRef('loans@'))).toMatchObject({ code: 'INVALID_INPUT', field: 'dataset.version' });
    expect(failure(() => parseDatasetLineageRef('Loans@latest'))).toMatchObject({ code: 'INVALID_INPUT', field: 'dataset' });
  });
});

describe('small pieces', () => {
  it('prints times to the second', () => {
    expect(formatTime('2026-01-02T03:04:05.678Z')).toBe('2026-01-02 03:04:05Z');
  });

  it('draws a tree', () => {
    const tree = renderTree({ label: 'root', children: [{ label: 'a', children: [{ label: 'a1' }, { label: 'a2' }] }, { label: 'b', children: [{ label: 'b1' }] }] });
    expect(tree).toBe(['root', '├─ a', '│  ├─ a1', '│  └─ a2', '└─ b', '   └─ b1'].join('\n'));
  });

  it('names the environment in a decision command unless it is local', () => {
    expect(decisionCommand('approve', 'credit-risk', 5, 'local')).toBe('mlops approve credit-risk 5 --reason "<why>"');
    expect(decisionCommand('reject', 'credit-risk', 5, 'prod')).toBe('mlops --env prod reject credit-risk 5 --reason "<why>"');
  });
});

describe('release reports', () => {
  const started = { runId: 'r1', executionArn: 'arn:aws:states:x:1:execution:p:r1' };

  it('is RUNNING without an outcome (--no-wait)', () => {
    expect(releaseReport('credit-risk', 5, started, undefined)).toEqual({ status: 'RUNNING', model: 'credit-risk', version: 5, ...started });
  });

  it('is RELEASED with where production points when the execution succeeded', () => {
    const report = releaseReport('credit-risk', 5, started, outcome({}), alias());
    expect(report).toMatchObject({ status: 'RELEASED', version: 5, production: { version: 5 } });
    expect(formatRelease(report, 'local')).toBe('released: production of credit-risk is now v5 (run r1)');
  });

  it('is WAITING_FOR_APPROVAL, and prints the exact commands that decide it', () => {
    const report = releaseReport('credit-risk', 5, started, outcome({ status: 'WAITING_FOR_APPROVAL', stoppedAt: 'WaitForApproval' }));
    expect(report.status).toBe('WAITING_FOR_APPROVAL');
    const text = formatRelease(report, 'staging');
    expect(text).toContain('mlops --env staging approve credit-risk 5 --reason "<why>"');
    expect(text).toContain('mlops --env staging reject credit-risk 5 --reason "<why>"');
  });

  it('is FAILED with the run record\'s failure', () => {
    const run = { failure: { step: 'Gate', error: 'GateFailedError', reason: 'accuracy 0.70 is below production\'s 0.81' } } as PipelineOutcome['run'];
    const report = releaseReport('credit-risk', 5, started, outcome({ status: 'FAILED', run }));
    expect(report).toMatchObject({ status: 'FAILED', failure: { step: 'Gate', error: 'GateFailedError' } });
    const text = formatRelease(report, 'local');
    expect(text).toContain('FAILED at Gate: GateFailedError');
    expect(text).toContain("accuracy 0.70 is below production's 0.81");
  });

  it('is FAILED with a failure made from the execution status when the run recorded none', () => {
    const report = releaseReport('credit-risk', 5, started, outcome({ status: 'TIMED_OUT', steps: ['StartRun', 'Evaluate'] }));
    expect(report.failure).toEqual({ step: 'Evaluate', error: 'EXECUTION_TIMED_OUT', reason: expect.stringMatching(/TIMED_OUT/) });
  });

  it('prints a run that was only started', () => {
    expect(formatRelease(releaseReport('credit-risk', 5, started, undefined), 'dev')).toContain('mlops --env dev runs show r1');
  });
});

describe('moves, rollbacks and decisions', () => {
  it('prints an alias move with where it pointed before', () => {
    expect(formatMove('credit-risk', { alias: alias({ alias: 'canary', weight: 0.1 }), before: alias({ alias: 'canary', version: 4, weight: 0.2 }) })).toBe(
      'canary of credit-risk: v4 -> v5, weight 0.1 (was 0.2)',
    );
    expect(formatMove('credit-risk', { alias: alias({ alias: 'shadow', weight: 0 }), before: null })).toBe('shadow of credit-risk: - -> v5, weight 0');
  });

  it('prints a rollback', () => {
    expect(formatRollback('credit-risk', { production: alias({ version: 3 }), before: alias({ version: 5 }) })).toMatch(/^production of credit-risk rolled back: v5 -> v3\n/);
  });

  it('prints a decision with its reason and the run it resumes or ends', () => {
    const approval = { state: 'APPROVED' as const, runId: 'r9', requestedAt: '2026-01-01T00:00:00.000Z', requestedBy: 'pipeline', expiresAt: '2026-01-08T00:00:00.000Z', reason: 'looks good' };
    expect(formatDecision({ status: 'APPROVED', version: version({ status: 'APPROVED', approval }) })).toBe(
      'approved credit-risk v5: "looks good"\nrelease run r9 resumes and moves production to v5',
    );
    expect(formatDecision({ status: 'REJECTED', version: version({ status: 'REJECTED', approval: { ...approval, state: 'REJECTED' } }) })).toMatch(/never serve; release run r9 ends/);
  });
});

describe('models list and show', () => {
  it('lists models with their aliases in order', () => {
    const text = formatModelList([{ name: 'credit-risk', task: 'binary_classification', latestVersion: 5, aliases: { candidate: 5, production: 3 }, updatedAt: '2026-01-02T03:04:05.000Z' }]);
    expect(text).toMatch(/^credit-risk +binary_classification +5 version\(s\) +production v3, candidate v5 +updated 2026-01-02 03:04:05Z$/);
    expect(formatModelList([])).toMatch(/^no models/);
  });

  it('shows a model with its aliases and versions, newest first', () => {
    const text = formatModel({
      name: 'small-model',
      spec: smallSpec(),
      latestVersion: 2,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
      aliases: [alias({ model: 'small-model', version: 1 }), alias({ model: 'small-model', alias: 'candidate', version: 2, weight: 0 })],
      versions: [version({ model: 'small-model', version: 1 }), version({ model: 'small-model', version: 2, status: 'PENDING_APPROVAL' })],
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe('model     small-model');
    expect(lines).toContain('  production  v1    weight 1     since 2026-01-03 00:00:00Z by bob');
    const v2 = lines.findIndex((l) => l.startsWith('  v2 '));
    const v1 = lines.findIndex((l) => l.startsWith('  v1 '));
    expect(v2).toBeGreaterThan(0);
    expect(v2).toBeLessThan(v1);
    expect(lines[v2]).toMatch(/PENDING_APPROVAL .*loans@aaaaaaaaaaaa +accuracy=0.8123 rocAuc=0.9000 +\[candidate\]$/);
  });

  it('shows one version with its gate, approval and metrics', () => {
    const pending = { state: 'PENDING' as const, runId: 'r9', requestedAt: '2026-01-01T00:00:00.000Z', requestedBy: 'pipeline', expiresAt: '2026-01-08T00:00:00.000Z' };
    const text = formatVersion(version({ status: 'PENDING_APPROVAL', approval: pending }), 'candidate');
    expect(text).toContain('version   credit-risk v5 (candidate)');
    expect(text).toContain('status    PENDING_APPROVAL');
    expect(text).toContain('gate      passed: accuracy 0.8123 >= 0.75 (against production v3)');
    expect(text).toContain('approval  PENDING, requested 2026-01-01 00:00:00Z by pipeline (run r9), expires 2026-01-08 00:00:00Z');
    expect(text).toContain('metrics   accuracy=0.8123 rocAuc=0.9000 rows=500');
  });
});

describe('lineage', () => {
  it('draws dataset -> run -> version -> aliases and moves', () => {
    const lineage: VersionLineage = {
      model: 'credit-risk',
      version: 5,
      status: 'APPROVED',
      dataset: { name: 'loans', version: SHA, uri: 's3://datasets/loans/a.csv', rowCount: 1000, arrivedAt: '2026-01-01T00:00:00.000Z' },
      run: { runId: 'r1', mode: 'train', trigger: 'manual', actor: 'alice', algorithm: 'logistic_regression', startedAt: '2026-01-01T01:00:00.000Z' },
      artifact: { uri: 's3://models/m.json', sha256: ARTIFACT_SHA },
      gateReportUri: 's3://reports/gate.json',
      aliases: [{ alias: 'production', weight: 1, since: '2026-01-03T00:00:00.000Z', by: 'bob' }],
      moves: [
        { at: '2026-01-02T00:00:00.000Z', actor: 'alice', action: 'alias.moved', alias: 'candidate', from: 4, to: 5, weight: 0, reason: 'run r1 passed its gate' },
        { at: '2026-01-03T00:00:00.000Z', actor: 'bob', action: 'alias.moved', alias: 'production', from: 3, to: 5, weight: 1, reason: 'promoted with the CLI' },
      ],
    };
    expect(formatVersionLineage(lineage).split('\n')).toEqual([
      `dataset  loans@${SHA}  1000 rows, arrived 2026-01-01 00:00:00Z`,
      '└─ run  r1  mode train  trigger manual  logistic_regression  by alice  at 2026-01-01 01:00:00Z',
      '   └─ version  credit-risk v5  APPROVED',
      '      ├─ artifact  s3://models/m.json sha256=bbbbbbbbbbbb',
      '      ├─ gate report  s3://reports/gate.json',
      '      ├─ serves as',
      '      │  └─ production  weight 1  since 2026-01-03 00:00:00Z by bob',
      '      └─ alias moves',
      '         ├─ 2026-01-02 00:00:00Z  candidate: v4 -> v5  weight 0  by alice  "run r1 passed its gate"',
      '         └─ 2026-01-03 00:00:00Z  production: v3 -> v5  weight 1  by bob  "promoted with the CLI"',
    ]);
  });

  it('says when the run record is missing and the version serves nowhere', () => {
    const text = formatVersionLineage({
      model: 'm-1',
      version: 1,
      status: 'REJECTED',
      dataset: { name: 'loans', version: SHA, uri: 's3://d/x' },
      run: null,
      artifact: { uri: 's3://m/x', sha256: ARTIFACT_SHA },
      gateReportUri: 's3://r/x',
      aliases: [],
      moves: [],
    });
    expect(text).toContain('└─ run  (no run record)');
    expect(text).toContain('serves as  nothing now');
    expect(text).toContain('alias moves  none');
  });

  it('lists the model versions trained on a dataset version', () => {
    const lineage: DatasetLineage = {
      dataset: { name: 'loans', version: SHA },
      models: [
        { model: 'credit-risk', version: 5, runId: 'r1', status: 'APPROVED', aliases: ['production'], createdAt: '2026-01-02T00:00:00.000Z' },
        { model: 'churn', version: 2, runId: 'r2', status: 'REGISTERED', aliases: [], createdAt: '2026-01-03T00:00:00.000Z' },
      ],
    };
    expect(formatDatasetLineage(lineage).split('\n')).toEqual([
      `dataset  loans@${SHA}`,
      '├─ credit-risk v5  APPROVED  run r1  2026-01-02 00:00:00Z  [production]',
      '└─ churn v2  REGISTERED  run r2  2026-01-03 00:00:00Z',
    ]);
    expect(formatDatasetLineage({ dataset: { name: 'loans', version: SHA }, models: [] })).toMatch(/no model version was trained on it$/);
  });
});

describe('audit', () => {
  const event = (overrides: Partial<AuditEvent>): AuditEvent => ({
    model: 'credit-risk',
    eventId: 'e1',
    at: '2026-01-02T03:04:05.000Z',
    actor: 'alice',
    action: 'alias.moved',
    reason: 'because',
    ...overrides,
  });

  it('summarises what each kind of event changed', () => {
    expect(auditSummary(event({ action: 'alias.moved', before: alias({ version: 3 }), after: alias({ version: 5 }) }))).toBe('production: v3 -> v5 (weight 1)');
    expect(auditSummary(event({ action: 'alias.moved', before: null, after: alias({ alias: 'candidate', weight: 0 }) }))).toBe('candidate: - -> v5 (weight 0)');
    expect(
      auditSummary(event({ action: 'alias.rolled_back', before: { production: alias({ version: 5 }), previous: alias({ alias: 'previous', version: 3 }) }, after: { production: alias({ version: 3 }), previous: null } })),
    ).toBe('production: v5 -> v3');
    expect(auditSummary(event({ action: 'approval.granted', before: { status: 'PENDING_APPROVAL' }, after: { status: 'APPROVED' } }))).toBe('status: PENDING_APPROVAL -> APPROVED');
    expect(auditSummary(event({ action: 'version.registered', after: { version: 5, runId: 'r1' } }))).toBe('from run r1');
    const spec = smallSpec();
    expect(auditSummary(event({ action: 'model.created', after: spec }))).toBe('spec: binary_classification, logistic_regression');
    expect(auditSummary(event({ action: 'alias.moved', after: 'not an alias' }))).toBe('');
  });

  it('prints one line per event: time, actor, action, version, change, reason', () => {
    const text = formatAudit('credit-risk', [
      event({ version: 5, before: alias({ version: 3 }), after: alias({ version: 5 }), actor: 'arn:aws:iam::1:user/bob', reason: 'promoted with the CLI' }),
      event({ action: 'model.updated', actor: 'alice', reason: 'spec replaced' }),
    ]);
    expect(text.split('\n')).toEqual([
      '2026-01-02 03:04:05Z  arn:aws:iam::1:user/bob  alias.moved         v5     production: v3 -> v5 (weight 1)  "promoted with the CLI"',
      '2026-01-02 03:04:05Z  alice                    model.updated       -      "spec replaced"',
    ]);
    expect(formatAudit('credit-risk', [])).toBe('no audit events for credit-risk');
  });
});

describe('dataset output', () => {
  const base = DatasetVersionSchema.parse({
    name: 'loans',
    version: 'a'.repeat(64),
    uri: 's3://datasets/loans.csv',
    format: 'csv',
    bytes: 10,
    rowCount: 2,
    schema: { source: 'inferred', columns: [{ name: 'age', type: 'numeric', nullable: false }] },
    profileUri: 's3://datasets/profile.json',
    owner: 'arn:aws:iam::000000000000:user/ana',
    source: 'loans.csv',
    arrivedAt: '2026-12-01T00:00:00.000Z',
  });

  it('names each model a version is quarantined for, and keeps the old flag readable', () => {
    const blocked = { ...base, quarantined: true, quarantinedFor: [{ model: 'credit-default', gate: 'data-validation' as const, reason: 'age: 20% missing', at: '2026-12-02T00:00:00.000Z' }] };
    expect(describeDataset(blocked)).toContain('QUARANTINED for credit-default by its data-validation gate: age: 20% missing');
    expect(formatDatasetVersions('loans', [blocked])).toContain('QUARANTINED for credit-default');
    const legacy = { ...base, quarantined: true, quarantineReason: 'old reason' };
    expect(describeDataset(legacy)).toContain('QUARANTINED: old reason');
    expect(describeDataset(base)).not.toContain('QUARANTINED');
  });
});
