import { describe, expect, it } from 'vitest';
import { versionLineage, type LineageStores } from '../../lambdas/core/registry/lineage.js';
import type { Alias, AuditEvent, ModelVersion } from '../../lambdas/core/registry/records.js';
import type { RunRecord } from '../../lambdas/core/training/run.js';
import { NotFoundError } from '../../lambdas/core/errors.js';
import { rejectedWith } from './helpers.js';

const dataset = { name: 'credit-applications', version: 'd'.repeat(64), uri: 's3://datasets/credit.csv' };
const version = {
  model: 'credit-default', version: 2, runId: 'run-2', artifact: { uri: 's3://models/m.json', sha256: 'a'.repeat(64) }, dataset,
  metrics: { accuracy: 0.9 }, gateReportUri: 's3://reports/gates/run-2.json', gateSummary: 'passed', judgedAgainst: 1,
  codeVersion: 'abc', createdBy: 'alice', status: 'APPROVED', createdAt: '2024-01-02T00:00:00.000Z',
} as ModelVersion;
const run = {
  runId: 'run-2', model: 'credit-default', status: 'SUCCEEDED', trigger: 'manual', actor: 'alice', dataset, specHash: 'h', codeVersion: 'abc',
  algorithm: 'logistic_regression', parameters: { C: 1 }, mode: 'train', seed: 7, executionArn: 'arn:x', startedAt: '2024-01-02T00:00:00.000Z', metrics: { accuracy: 0.9 },
} as RunRecord;
const production: Alias = { model: 'credit-default', alias: 'production', version: 2, weight: 1, updatedAt: '2024-01-03T00:00:00.000Z', updatedBy: 'bob' };
const moved = {
  model: 'credit-default', at: '2024-01-03T00:00:00.000Z', actor: 'bob', action: 'alias.moved', reason: 'ship',
  before: { ...production, version: 1 }, after: production,
} as unknown as AuditEvent;

function stores(found: { run?: RunRecord }): LineageStores {
  return {
    registry: {
      resolveVersion: async (_model, ref) => {
        if (ref !== 2 && ref !== 'production') throw new NotFoundError(`model credit-default has no version ${ref}`, { field: 'version' });
        return version;
      },
      listAliases: async () => [production, { ...production, alias: 'previous', version: 1 }],
      listAudit: async () => [moved],
    },
    tracking: {
      findRun: async () => found.run,
      findDatasetVersion: async () => ({ rowCount: 500, arrivedAt: '2024-01-01T00:00:00.000Z' }) as never,
    },
  };
}

describe('versionLineage', () => {
  it('joins the version with its run, dataset, current aliases and the moves into it', async () => {
    const lineage = await versionLineage(stores({ run }), 'credit-default', 'production');
    expect(lineage).toMatchObject({
      model: 'credit-default',
      version: 2,
      dataset: { ...dataset, rowCount: 500 },
      run: { runId: 'run-2', actor: 'alice', seed: 7, parameters: { C: 1 }, endedAt: null },
      artifact: version.artifact,
      aliases: [{ alias: 'production', weight: 1, since: production.updatedAt, by: 'bob' }],
      moves: [{ alias: 'production', from: 1, to: 2, actor: 'bob' }],
    });
  });

  it('gives a null run when the run record is gone, and NOT_FOUND for an unknown version', async () => {
    expect((await versionLineage(stores({}), 'credit-default', 2)).run).toBeNull();
    expect((await rejectedWith(versionLineage(stores({}), 'credit-default', 9), NotFoundError)).field).toBe('version');
  });
});
