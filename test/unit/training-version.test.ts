import { describe, expect, it } from 'vitest';
import { DatasetVersionSchema, type DatasetVersion } from '../../lambdas/core/data/dataset-version.js';
import { chooseTrainingVersion, isQuarantinedFor } from '../../lambdas/core/data/training-version.js';
import { MlopsError, NotFoundError } from '../../lambdas/core/errors.js';

const hash = (c: string) => c.repeat(64);

/** A dataset version as the tracking table returns it (parsed, so old records get the defaults). */
function version(id: string, arrivedAt: string, extra: Record<string, unknown> = {}): DatasetVersion {
  return DatasetVersionSchema.parse({
    name: 'credit-applications',
    version: hash(id),
    uri: `s3://datasets/credit-applications/${id}.csv`,
    format: 'csv',
    bytes: 10,
    rowCount: 800,
    schema: { source: 'inferred', columns: [] },
    profileUri: 's3://datasets/profiles/x.json',
    owner: 'risk',
    source: 'applications.csv',
    arrivedAt,
    ...extra,
  });
}

const blockedFor = (model: string, reason = '1 of 9 checks failed: income missing') => ({
  quarantined: true,
  quarantineReason: reason,
  quarantinedFor: [{ model, gate: 'data-validation', reason, reportUri: `s3://reports/validation/${model}/run.json`, runId: `${model}-run`, at: '2025-01-03T00:00:00.000Z' }],
});

describe('chooseTrainingVersion', () => {
  const good = version('a', '2025-01-01T00:00:00.000Z');
  const newer = version('b', '2025-01-02T00:00:00.000Z');

  it('takes the newest version when nothing is quarantined, whatever order it is given in', () => {
    const choice = chooseTrainingVersion([good, newer], 'credit-default');
    expect(choice.version.version).toBe(newer.version);
    expect(choice.chosen).toMatch(/^newest version bbbbbbbbbbbb of credit-applications/);
  });

  it('skips the newest version quarantined for this model and says which it took and why', () => {
    const blocked = version('c', '2025-01-03T00:00:00.000Z', blockedFor('credit-default'));
    const choice = chooseTrainingVersion([blocked, newer, good], 'credit-default');
    expect(choice.version.version).toBe(newer.version);
    expect(choice.chosen).toContain('not quarantined for credit-default: bbbbbbbbbbbb');
    expect(choice.chosen).toContain('skipped cccccccccccc (quarantined for credit-default: 1 of 9 checks failed: income missing)');
  });

  it('lets another model take a version quarantined for one model: its own gate judges it', () => {
    const blocked = version('c', '2025-01-03T00:00:00.000Z', blockedFor('credit-default'));
    expect(chooseTrainingVersion([blocked, good], 'churn').version.version).toBe(blocked.version);
    expect(isQuarantinedFor(blocked, 'churn')).toBe(false);
    expect(isQuarantinedFor(blocked, 'credit-default')).toBe(true);
  });

  it('treats an old record (flag only, no model named) as quarantined for every model', () => {
    const old = version('c', '2025-01-03T00:00:00.000Z', { quarantined: true, quarantineReason: 'income missing' });
    expect(old.quarantinedFor).toEqual([]);
    expect(isQuarantinedFor(old, 'churn')).toBe(true);
    expect(chooseTrainingVersion([old, good], 'churn').version.version).toBe(good.version);
  });

  it('fails when every version is quarantined for the model, naming them', () => {
    const blocked = version('c', '2025-01-03T00:00:00.000Z', blockedFor('credit-default'));
    const error = (() => {
      try {
        chooseTrainingVersion([blocked], 'credit-default');
      } catch (caught) {
        return caught as MlopsError;
      }
      throw new Error('no error');
    })();
    expect(error).toMatchObject({ code: 'DATASET_QUARANTINED', field: 'dataset.version' });
    expect(error.message).toContain('cccccccccccc');
  });

  it('fails with NOT_FOUND when the dataset has no version', () => {
    expect(() => chooseTrainingVersion([], 'credit-default')).toThrow(NotFoundError);
  });
});
