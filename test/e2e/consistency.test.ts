import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeExecutionCommand, SendTaskFailureCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/aws/clients.js';
import { faultFired, faultPlanKey, TIMED_OUT, type FaultPlan, type FaultPoint } from '../../lambdas/aws/faults.js';
import { RegistryStore } from '../../lambdas/aws/registry-store.js';
import { TrackingStore } from '../../lambdas/aws/tracking-store.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { TrainingRequest } from '../../lambdas/core/training/run.js';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { creditSpec, goodCsv, platformClient, subscribeToAlerts, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

/** The stack's tables and buckets, read directly to assert what the API does not show. */
const tables = stackTables();

// The consistency guarantees of issue 11, on the emulator with real faults:
// - an approval whose release is gone never leaves the version APPROVED (the task answer fails for real);
// - the approver moves production, the run keeps its starter;
// - a transient fault inside Register and Promote (the local fault switch) is retried to success, once;
// - a permanent one fails the run with an alert and leaves registry, aliases and audit exactly as they were;
// - quarantine is per model: a run without a version skips the newest version quarantined for its
//   model, and another model's gate judges that version itself.

const STARTER = 'e2e-starter';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Drops a column from a CSV whose fields hold no commas. */
function withoutColumn(csv: string, column: string): string {
  const lines = csv.trim().split('\n');
  const index = lines[0]!.split(',').indexOf(column);
  return lines.map((line) => line.split(',').filter((_, i) => i !== index).join(',')).join('\n') + '\n';
}

describe('consistency: approvals, faults and quarantine', () => {
  let platform: PlatformClient;
  const doc = createDocumentClient();
  const sfn = new SFNClient({});
  let registry: RegistryStore;
  let tracking: TrackingStore;
  const dataset = uniqueName('e2e-consistency');

  beforeAll(async () => {
    platform = platformClient();
    registry = new RegistryStore(doc, tables.outputs.RegistryTable);
    tracking = new TrackingStore(doc, tables.outputs.TrackingTable);
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(goodCsv()), fileName: 'data.csv', owner: 'e2e' });
  });

  /** Starts the pipeline as a schedule or a script would (the request names its actor), and returns the run id. */
  async function start(request: Omit<TrainingRequest, 'actor'> & { actor?: string }): Promise<{ runId: string; executionArn: string }> {
    const runId = `${request.model}-${randomBytes(3).toString('hex')}`;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: tables.outputs.TrainingPipelineArn, name: runId, input: JSON.stringify({ actor: STARTER, ...request }) }),
    );
    return { runId, executionArn: executionArn! };
  }

  async function finished(executionArn: string): Promise<string> {
    for (let i = 0; i < 300; i += 1) {
      const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (status !== 'RUNNING') return status!;
      await sleep(1000);
    }
    throw new Error(`${executionArn} still runs`);
  }

  async function pendingVersion(model: string): Promise<number> {
    for (let i = 0; i < 240; i += 1) {
      const waiting = (await registry.listVersions(model)).find((v) => v.status === 'PENDING_APPROVAL');
      if (waiting) return waiting.version;
      await sleep(1000);
    }
    throw new Error(`no version of ${model} waits for approval`);
  }

  const registryState = async (model: string) => ({
    model: await registry.findModel(model),
    versions: await registry.listVersions(model),
    aliases: await registry.listAliases(model),
    audit: await registry.listAudit(model),
  });

  const createModel = (spec: ModelSpec) => registry.putModel(spec, 'e2e');

  describe('approval and release', () => {
    const model = uniqueName('e2e-approve');

    beforeAll(async () => {
      await createModel(parseModelSpec({ ...creditSpec(model, dataset), approval: { requiredIn: ['local'] } }));
    });

    it('refuses an approval whose release is gone (its task answer fails for real) and never leaves the version APPROVED', async () => {
      const { executionArn } = await start({ model, dataset: { name: dataset } });
      const version = await pendingVersion(model);
      // The release stops waiting: its task is answered elsewhere, so the token is spent and the execution ends.
      const { taskToken } = await registry.pendingApproval(model, version);
      await sfn.send(new SendTaskFailureCommand({ taskToken: taskToken!, error: 'ReleaseStopped', cause: 'stopped by the e2e test' }));
      expect(await finished(executionArn)).toBe('FAILED');
      const before = await registryState(model);

      const refused = await platform.api('POST', `/models/${model}/versions/${version}/approve`, { reason: 'too late' }).catch((error: unknown) => error);

      expect(refused).toBeInstanceOf(MlopsError);
      expect(refused).toMatchObject({ code: 'RELEASE_NOT_WAITING', message: expect.stringMatching(/no longer waiting/) });
      const after = await registryState(model);
      expect(after.versions.find((v) => v.version === version)).toMatchObject({ status: 'REGISTERED', approval: { state: 'EXPIRED', reason: expect.stringMatching(/no longer waits/) } });
      expect(after.aliases).toEqual(before.aliases);
      expect(after.aliases.find((a) => a.alias === 'production')).toBeUndefined();
      const newEvents = after.audit.slice(before.audit.length).map((e) => e.action);
      expect(newEvents).toEqual(['approval.expired']);
      expect(after.audit.map((e) => e.action)).not.toContain('approval.granted');
    });

    it('moves production as the approver, while the run keeps its starter as its actor', async () => {
      const { runId, executionArn } = await start({ model, dataset: { name: dataset } });
      const version = await pendingVersion(model);

      const approved = await platform.api<{ status: string; version: { approval: { decidedBy: string } }; release: string }>('POST', `/models/${model}/versions/${version}/approve`, {
        reason: 'metrics reviewed',
      });

      expect(approved.body).toMatchObject({ status: 'APPROVED', release: 'resumed' });
      const approver = approved.body.version.approval.decidedBy;
      expect(approver).not.toBe(STARTER);
      expect(await finished(executionArn)).toBe('SUCCEEDED');
      expect(await registry.findAlias(model, 'production')).toMatchObject({ version, updatedBy: approver });
      const move = (await registry.listAudit(model)).filter((e) => e.action === 'alias.moved' && (e.after as { alias?: string }).alias === 'production');
      expect(move).toHaveLength(1);
      expect(move[0]).toMatchObject({ actor: approver, version });
      expect(await tracking.getRun(runId)).toMatchObject({ actor: STARTER, status: 'SUCCEEDED', modelVersion: version });
    });
  });

  describe('faults inside the functions (the local fault switch)', () => {
    const model = uniqueName('e2e-faults');
    const planted: { step: string; point: FaultPoint }[] = [];
    const plant = async (step: string, point: FaultPoint, plan: FaultPlan) => {
      await doc.send(new PutCommand({ TableName: tables.outputs.TrackingTable, Item: { ...faultPlanKey(model, step, point), ...plan } }));
      planted.push({ step, point });
    };
    const clear = async () => {
      for (const { step, point } of planted.splice(0)) await doc.send(new DeleteCommand({ TableName: tables.outputs.TrackingTable, Key: faultPlanKey(model, step, point) }));
    };

    beforeAll(async () => {
      await createModel(creditSpec(model, dataset));
    });
    afterAll(clear);

    // MiniStack reports every error a Node.js handler throws as Runtime.HandlerError (the name Retry
    // matches on AWS is lost), so the transient fault here is a timeout: Lambda's own Sandbox.Timedout.
    it('retries a transient fault (a timeout) after Register\'s and after Promote\'s commit to success, with one version and one move', async () => {
      await plant('Register', 'afterCommit', { mode: 'once', error: TIMED_OUT });
      await plant('Promote', 'afterCommit', { mode: 'once', error: TIMED_OUT });
      const { runId, executionArn } = await start({ model, dataset: { name: dataset } });

      expect(await finished(executionArn)).toBe('SUCCEEDED');

      // The faults did fire, inside the functions, and the retries found the work done.
      expect(await faultFired(doc, tables.outputs.TrackingTable, model, 'Register', 'afterCommit', runId)).toBe(true);
      expect(await faultFired(doc, tables.outputs.TrackingTable, model, 'Promote', 'afterCommit', runId)).toBe(true);
      const state = await registryState(model);
      expect(state.versions.map((v) => v.version)).toEqual([1]);
      expect(state.model?.latestVersion).toBe(1);
      expect(state.aliases.find((a) => a.alias === 'production')).toMatchObject({ version: 1 });
      expect(state.audit.filter((e) => e.action === 'version.registered')).toHaveLength(1);
      expect(state.audit.filter((e) => e.action === 'alias.moved' && (e.after as { alias?: string }).alias === 'production')).toHaveLength(1);
      expect(await tracking.getRun(runId)).toMatchObject({ status: 'SUCCEEDED', modelVersion: 1 });
      await clear();
    });

    it('ends the run FAILED with an alert on a permanent fault in Register, leaving registry, aliases and audit exactly as before', async () => {
      const alerts = await subscribeToAlerts(tables.outputs.AlertTopicArn);
      try {
        await plant('Register', 'beforeCommit', { mode: 'always', error: 'InjectedPermanentFault' });
        const before = await registryState(model);
        const { runId, executionArn } = await start({ model, dataset: { name: dataset } });

        expect(await finished(executionArn)).toBe('FAILED');

        expect(await registryState(model)).toEqual(before);
        // On AWS the error is the thrown name; MiniStack reports Runtime.HandlerError, with the message intact.
        expect(await tracking.getRun(runId)).toMatchObject({ status: 'FAILED', failure: { step: 'Register', reason: expect.stringMatching(/InjectedPermanentFault at Register\.beforeCommit/) } });
        const alert = (await alerts.receive()).find((a) => a.kind === 'training-run-failed' && a.runId === runId);
        expect(alert).toMatchObject({ model, step: 'Register', reason: expect.stringMatching(/InjectedPermanentFault/) });
      } finally {
        await alerts.remove();
        await clear();
      }
    });
  });

  describe('quarantine per model', () => {
    const data = uniqueName('e2e-quarantine');
    const modelA = uniqueName('e2e-qa');
    const modelB = uniqueName('e2e-qb');
    let good: string;
    let broken: string;

    beforeAll(async () => {
      good = (await platform.registerDataset({ name: data, bytes: Buffer.from(goodCsv()), fileName: 'good.csv', owner: 'e2e' })).dataset.version;
      await sleep(1100); // arrival times order the versions
      broken = (await platform.registerDataset({ name: data, bytes: Buffer.from(withoutColumn(goodCsv(), 'income')), fileName: 'no-income.csv', owner: 'e2e' })).dataset.version;
      await createModel(creditSpec(modelA, data));
      // Model B does not use income: the copy without it is fine for B.
      const specA = creditSpec(modelB, data, { minRows: 100 });
      await createModel(parseModelSpec({ ...specA, features: specA.features.filter((f) => f.name !== 'income') }));
    });

    it('quarantines the newest version for model A only; A then trains the previous good version and says so, B judges the newest itself', async () => {
      // A's gate blocks the copy without income: quarantined for A, with the report.
      const blocked = await start({ model: modelA, dataset: { name: data, version: broken } });
      expect(await finished(blocked.executionArn)).toBe('FAILED');
      const quarantined = await tracking.getDatasetVersion(data, broken);
      expect(quarantined).toMatchObject({ quarantined: true, quarantineReason: expect.stringMatching(/income/) });
      expect(quarantined.quarantinedFor).toEqual([
        expect.objectContaining({ model: modelA, gate: 'data-validation', runId: blocked.runId, reportUri: expect.stringMatching(/^s3:\/\//) }),
      ]);

      // The schedules' path (StartRun with no version) takes the newest version not quarantined for A.
      const scheduled = await start({ model: modelA, dataset: { name: data }, trigger: 'schedule', actor: 'system:schedule', release: false });
      expect(await finished(scheduled.executionArn)).toBe('SUCCEEDED');
      expect((await tracking.getRun(scheduled.runId)).dataset.version).toBe(good);

      // `train A` without @version: the API answers which version it chose and why.
      const started = await platform.api<{ runId: string; dataset: { version: string; chosen: string } }>('POST', `/models/${modelA}/runs`, { release: false });
      expect(started.body.dataset.version).toBe(good);
      expect(started.body.dataset.chosen).toMatch(new RegExp(`skipped ${broken.slice(0, 12)} \\(quarantined for ${modelA}`));

      // B is not bound by A's quarantine: its own gate judges the newest version, and passes it.
      const forB = await start({ model: modelB, dataset: { name: data }, release: false });
      expect(await finished(forB.executionArn)).toBe('SUCCEEDED');
      const runB = await tracking.getRun(forB.runId);
      expect(runB.dataset.version).toBe(broken);
      expect(runB.validationSummary).toMatch(/^all \d+ blocking checks passed/);
      expect((await tracking.getDatasetVersion(data, broken)).quarantinedFor.map((q) => q.model)).toEqual([modelA]);
    });
  });
});
