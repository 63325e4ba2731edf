import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import type { RegisterVersionInput } from '../../lambdas/aws/registry-store.js';
import { creditSpec, platformClient, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

/** The stack's tables and buckets, read directly to assert what the API does not show. */
const tables = stackTables();

// Registry invariants against the real DynamoDB tables of the deployed stack.
describe('registry transactions on the emulator', () => {
  let platform: PlatformClient;
  const model = uniqueName('e2e-registry');

  const input = (runId: string): RegisterVersionInput => ({
    version: {
      model,
      runId,
      artifact: { uri: `s3://models/${runId}/model.json`, sha256: 'a'.repeat(64) },
      dataset: { name: 'loans', version: 'b'.repeat(64), uri: 's3://datasets/loans.csv' },
      metrics: { accuracy: 0.9 },
      gateReportUri: `s3://reports/${runId}.json`,
      createdBy: 'e2e',
    },
    reason: `test registration of ${runId}`,
  });

  beforeAll(async () => {
    platform = platformClient();
    await platform.createModel(creditSpec(model, 'loans'));
  });

  it('registers a retried run once: same version, nothing new written', async () => {
    const first = await tables.registry.registerVersion(input('run-a'));
    const auditBefore = await tables.registry.listAudit(model);

    const retry = await tables.registry.registerVersion(input('run-a'));

    expect(first).toMatchObject({ created: true, version: { version: 1 } });
    expect(retry).toMatchObject({ created: false, version: { version: 1, runId: 'run-a' } });
    expect((await tables.registry.listVersions(model)).map((v) => v.version)).toEqual([1]);
    expect(await tables.registry.listAudit(model)).toHaveLength(auditBefore.length);
  });

  it('numbers concurrent registrations without gaps or duplicates and keeps the candidate alias consistent', async () => {
    const runs = Array.from({ length: 6 }, (_, i) => `run-c${i}`);

    const results = await Promise.all(runs.map((runId) => tables.registry.registerVersion(input(runId))));

    const numbers = results.map((r) => r.version.version).sort((a, b) => a - b);
    expect(numbers).toEqual([2, 3, 4, 5, 6, 7]);
    const versions = await tables.registry.listVersions(model);
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(versions.map((v) => v.runId)).size).toBe(7);
    // Numbers commit in order, so the candidate ends on the last one; registering never touches production.
    expect(await tables.registry.findAlias(model, 'candidate')).toMatchObject({ version: 7, weight: 0 });
    expect(await tables.registry.findAlias(model, 'production')).toBeUndefined();
    // Every version and every alias move has its audit event.
    const audit = await tables.registry.listAudit(model);
    expect(audit.filter((e) => e.action === 'version.registered')).toHaveLength(7);
    expect(audit.filter((e) => e.action === 'alias.moved')).toHaveLength(7);
  });

  it('refuses to register a version of a model that does not exist, writing nothing', async () => {
    const ghost = uniqueName('ghost');
    await expect(tables.registry.registerVersion({ ...input('run-x'), version: { ...input('run-x').version, model: ghost } })).rejects.toThrow(
      /is not registered/,
    );
    expect(await tables.registry.listVersions(ghost)).toEqual([]);
    expect(await tables.registry.listAudit(ghost)).toEqual([]);
  });
});
