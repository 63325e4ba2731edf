import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import type { GateReport } from '../../lambdas/core/evaluation/gate.js';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/training/model-spec.js';
import type { Alias, AuditEvent, ModelVersion } from '../../lambdas/core/registry/records.js';
import { signedFetch } from '../../lib/client/signed-fetch.js';
import { rejectedWith } from '../unit/helpers.js';
import { creditSpec, goodCsv, mlops, platformClient, subscribeToAlerts, trainingExecutions, uniqueName } from './fixtures.js';
import { stackTables } from './tables.js';

/** The stack's tables and buckets, read directly to assert what the API does not show. */
const tables = stackTables();

// The release path on the emulator: the gate against production, approval on a task token, the
// conditional production move, rollback, lineage and audit, through the registry's HTTP API and
// the CLI. Approval times out after `approvalTimeoutSeconds` of the local environment (cdk.json).

type Api = PlatformClient['api'];
/** The API's coded error for a call, or a failure when the call succeeds. */
const apiError = (call: ReturnType<Api>) => rejectedWith(call, MlopsError);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('release: gate, approval, promotion, rollback, lineage and audit', () => {
  let platform: PlatformClient;
  const dataset = uniqueName('loans-release');
  let datasetVersion: string;

  /** Trains a version and waits for the execution to end, or to reach WaitForApproval. */
  async function train(model: string, options: { release?: boolean; params?: Record<string, number> } = {}) {
    const { runId, executionArn } = await tables.startExecution({ model, dataset: { name: dataset }, actor: 'e2e', release: options.release ?? true, params: options.params ?? {} });
    return { runId, executionArn, done: () => platform.waitForRun(runId, executionArn, { timeoutMs: 240_000 }) };
  }

  async function versionOf(runId: string): Promise<number> {
    for (let attempt = 0; attempt < 240; attempt += 1) {
      const run = await tables.tracking.findRun(runId);
      if (run?.modelVersion) return run.modelVersion;
      if (run?.status === 'FAILED') throw new Error(`run ${runId} failed: ${run.failure?.reason}`);
      await sleep(500);
    }
    throw new Error(`run ${runId} registered no version`);
  }

  async function waitForStatus(model: string, version: number, status: ModelVersion['status']): Promise<ModelVersion> {
    for (let attempt = 0; attempt < 240; attempt += 1) {
      const found = await tables.registry.findVersion(model, version);
      if (found?.status === status) return found;
      await sleep(500);
    }
    throw new Error(`version ${version} of ${model} never became ${status}`);
  }

  const production = (model: string) => tables.registry.findAlias(model, 'production');
  const audit = (model: string) => tables.registry.listAudit(model);

  beforeAll(async () => {
    platform = platformClient();
    ({
      dataset: { version: datasetVersion },
    } = await platform.registerDataset({ name: dataset, bytes: Buffer.from(goodCsv()), fileName: 'loans.csv', owner: 'e2e' }));
  });

  it('stops a model worse than production at the gate, naming the metric, and leaves the registry as it was', async () => {
    const model = uniqueName('e2e-worse');
    // Absolute thresholds low enough that only the comparison with production can stop the candidate.
    const spec = creditSpec(model, dataset, { minAccuracy: 0.5, minRows: 100 });
    await platform.createModel(spec);
    expect((await (await train(model)).done()).status).toBe('SUCCEEDED');
    expect(await production(model)).toMatchObject({ version: 1 });

    // The same model with one weak feature: much worse ranking on the same held-out rows.
    await platform.createModel(parseModelSpec({ ...spec, features: [{ name: 'age', type: 'numeric' }] }));
    const versionsBefore = await tables.registry.listVersions(model);
    const aliasesBefore = await tables.registry.listAliases(model);
    const auditBefore = await audit(model);

    const outcome = await (await train(model)).done();

    expect(outcome.status).toBe('FAILED');
    expect(outcome.steps).toContain('GateRejected');
    expect(outcome.steps).not.toContain('Register');
    expect(outcome.run).toMatchObject({ status: 'FAILED', gatePassed: false, failure: { step: 'Gate', error: 'GateFailedError' } });
    expect(outcome.run!.failure!.reason).toMatch(/champion\.rocAuc/);
    expect(outcome.run!.failure!.reason).toContain('production v1');
    const report = JSON.parse(await tables.objects.getText(outcome.run!.gateReportUri!)) as GateReport;
    expect(report.champion).toEqual({ version: 1 });
    const rocAuc = report.checks.find((check) => check.name === 'champion.rocAuc')!;
    expect(rocAuc).toMatchObject({ status: 'fail', passed: false, metric: 'rocAuc' });
    expect(rocAuc.interval![1]).toBeLessThan(-rocAuc.tolerance!);
    expect(rocAuc.candidate!).toBeLessThan(rocAuc.champion!);

    expect(await tables.registry.listVersions(model)).toEqual(versionsBefore);
    expect(await tables.registry.listAliases(model)).toEqual(aliasesBefore);
    expect(await audit(model)).toEqual(auditBefore);
  });

  describe('in an environment that requires approval for the model', () => {
    const model = uniqueName('e2e-approval');

    beforeAll(async () => {
      await platform.createModel(parseModelSpec({ ...creditSpec(model, dataset), approval: { requiredIn: ['local'] } }));
    });

    it('waits for a person, then moves production when approved through the CLI', async () => {
      const alerts = await subscribeToAlerts(tables.outputs.AlertTopicArn);
      const run = await train(model);
      const version = await versionOf(run.runId);
      const waiting = await waitForStatus(model, version, 'PENDING_APPROVAL');
      // The alert says what waits and how to answer it.
      const asked = (await alerts.receive()).find((alert) => alert.kind === 'approval-requested' && alert.model === model);
      await alerts.remove();
      expect(asked).toMatchObject({ version, runId: run.runId, replaces: null, approve: expect.stringContaining(`approve ${model} ${version}`) });
      expect(waiting.approval).toMatchObject({ state: 'PENDING', runId: run.runId });
      expect(await production(model)).toBeUndefined();
      // The task token stays in the registry: the API never hands it out.
      const viaApi = await platform.getVersion(model, version);
      expect(viaApi).toMatchObject({ status: 'PENDING_APPROVAL' });
      expect(JSON.stringify(viaApi)).not.toMatch(/token/i);
      const { status } = await new SFNClient({}).send(new DescribeExecutionCommand({ executionArn: run.executionArn }));
      expect(status).toBe('RUNNING');

      const approved = await mlops('approve', model, String(version), '--reason', 'metrics reviewed');

      expect(approved.code).toBe(0);
      expect(approved.json).toMatchObject({ status: 'APPROVED', version: { version, status: 'APPROVED', approval: { state: 'APPROVED', reason: 'metrics reviewed' } } });
      const outcome = await run.done();
      expect(outcome.status).toBe('SUCCEEDED');
      expect(outcome.steps).toEqual(expect.arrayContaining(['WaitForApproval', 'Promote', 'Released']));
      const moved = (await production(model))!;
      expect(moved.version).toBe(version);
      // The decision changed the version's status and approval, nothing else.
      const { status: _was, approval: _asked, ...evidence } = waiting;
      const { status: now, approval: _decided, ...after } = await tables.registry.getVersion(model, version);
      expect(now).toBe('APPROVED');
      expect(after).toEqual(evidence);
      const approver = approved.json.version.approval.decidedBy as string;
      expect(approver).not.toBe('');
      // Who approved, and why, is on the production move itself.
      const events = await audit(model);
      expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['approval.requested', 'approval.granted']));
      const move = events.filter((e) => e.action === 'alias.moved' && (e.after as Alias).alias === 'production');
      expect(move).toHaveLength(1);
      expect(move[0]).toMatchObject({ actor: approver, version });
      expect(move[0]!.reason).toContain('metrics reviewed');
    });

    it('rejects through the CLI: nothing moves and the rejected version can never serve', async () => {
      const before = await production(model);
      const run = await train(model);
      const version = await versionOf(run.runId);
      await waitForStatus(model, version, 'PENDING_APPROVAL');

      const rejected = await mlops('reject', model, String(version), '--reason', 'drops recall on the new segment');

      expect(rejected.code).toBe(0);
      expect(rejected.json).toMatchObject({ status: 'REJECTED', version: { version, status: 'REJECTED' } });
      const outcome = await run.done();
      expect(outcome.status).toBe('FAILED');
      expect(outcome.run!.failure).toMatchObject({ step: 'WaitForApproval', error: 'APPROVAL_REJECTED' });
      expect(outcome.run!.failure!.reason).toContain('drops recall on the new segment');
      expect(await production(model)).toEqual(before);
      const events = await audit(model);
      expect(events.filter((e) => e.action === 'approval.rejected' && e.version === version)).toHaveLength(1);
      expect(events.filter((e) => e.action === 'alias.moved' && (e.after as Alias).alias === 'production')).toHaveLength(1);

      const executions = await trainingExecutions();
      const refused = await apiError(platform.api('POST', `/models/${model}/aliases/production`, { version }));
      expect(refused.code).toBe('VERSION_REJECTED');
      const again = await mlops('approve', model, String(version), '--reason', 'changed my mind');
      expect(again.code).not.toBe(0);
      expect(again.json.error.code).toBe('APPROVAL_NOT_PENDING');
      expect(await trainingExecutions()).toBe(executions);
    });

    it('rejects a request nobody answers in time, and production stays', async () => {
      const before = await production(model);
      const run = await train(model);
      const version = await versionOf(run.runId);
      await waitForStatus(model, version, 'PENDING_APPROVAL');

      const outcome = await run.done();

      expect(outcome.status).toBe('FAILED');
      expect(outcome.steps).toEqual(expect.arrayContaining(['WaitForApproval', 'ExpireApproval', 'ApprovalTimedOut']));
      expect(outcome.run!.failure).toMatchObject({ step: 'WaitForApproval', error: 'APPROVAL_TIMED_OUT' });
      expect(await production(model)).toEqual(before);
      const expired = await tables.registry.getVersion(model, version);
      expect(expired).toMatchObject({ status: 'REGISTERED', approval: { state: 'EXPIRED', decidedBy: 'timeout' } });
      expect((await audit(model)).filter((e) => e.action === 'approval.expired' && e.version === version)).toHaveLength(1);
      const late = await apiError(platform.api('POST', `/models/${model}/versions/${version}/approve`, { reason: 'too late' }));
      expect(late.code).toBe('APPROVAL_NOT_PENDING');
    });
  });

  describe('concurrent promotions, rollback, lineage and bad input', () => {
    const model = uniqueName('e2e-race');
    let spec: ModelSpec;
    let candidates: number[];

    beforeAll(async () => {
      spec = creditSpec(model, dataset);
      await platform.createModel(spec);
      // Version 1 goes to production; 20 more are registered as candidates only, five trainings at a time.
      expect((await (await train(model)).done()).status).toBe('SUCCEEDED');
      candidates = [];
      for (let batch = 0; batch < 4; batch += 1) {
        const runs = await Promise.all(Array.from({ length: 5 }, (_, i) => train(model, { release: false, params: { C: 1 + batch * 5 + i } })));
        const outcomes = await Promise.all(runs.map((run) => run.done()));
        for (const outcome of outcomes) {
          expect(outcome.status).toBe('SUCCEEDED');
          candidates.push(outcome.run!.modelVersion!);
        }
      }
    }, 900_000);

    /** Fires one promotion to production per version, all at once, and waits for every release run. */
    async function race(versions: number[], expectedVersion?: number) {
      const answers = await Promise.allSettled(
        versions.map((version) =>
          platform.api<{ runId: string; executionArn: string }>('POST', `/models/${model}/aliases/production`, { version, reason: `race ${version}`, ...(expectedVersion ? { expectedVersion } : {}) }),
        ),
      );
      const started = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value.body] : []));
      const refusedAtOnce = answers.flatMap((answer) => (answer.status === 'rejected' ? [answer.reason as MlopsError] : []));
      const outcomes = await Promise.all(started.map((run) => platform.waitForRun(run.runId, run.executionArn, { timeoutMs: 600_000 })));
      return {
        refusedAtOnce,
        winners: outcomes.filter((outcome) => outcome.status === 'SUCCEEDED'),
        losers: outcomes.filter((outcome) => outcome.status !== 'SUCCEEDED'),
      };
    }

    const productionMoves = (events: AuditEvent[]) => events.filter((e) => e.action === 'alias.moved' && (e.after as Alias).alias === 'production');

    it('lets exactly one of 20 concurrent promotions that expect production at v1 win; the others get a conflict and change nothing', async () => {
      expect(candidates.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
      expect(await production(model)).toMatchObject({ version: 1 });
      const auditBefore = await audit(model);

      // Every caller saw production at version 1 and says so: a caller that finds it moved, at the API
      // or at the conditional write at the end of its release run, gets CONFLICT.
      const { refusedAtOnce, winners, losers } = await race(candidates, 1);

      expect(winners).toHaveLength(1);
      for (const error of refusedAtOnce) expect(error.code).toBe('CONFLICT');
      for (const loser of losers) expect(loser.run!.failure).toMatchObject({ step: 'Promote', error: 'CONFLICT' });
      expect(losers.length + refusedAtOnce.length).toBe(19);
      const winner = winners[0]!.run!.promotion!.version;
      expect(await production(model)).toMatchObject({ version: winner, weight: 1 });
      expect(await tables.registry.findAlias(model, 'previous')).toMatchObject({ version: 1, weight: 0 });
      const newEvents = (await audit(model)).slice(auditBefore.length);
      expect(newEvents).toHaveLength(1);
      expect(newEvents[0]).toMatchObject({ action: 'alias.moved', version: winner, before: { alias: 'production', version: 1 }, after: { alias: 'production', version: winner } });
      expect(newEvents[0]!.reason).toBe(`race ${winner}`);
    });

    it('settles 20 concurrent promotions without expectations into one consistent chain of audited moves', async () => {
      const start = (await production(model))!.version;
      const auditBefore = await audit(model);
      const versions = [1, ...candidates].filter((version) => version !== start);

      // Nobody pins production: each release is judged against the production its Evaluate saw, and
      // its move commits only if production is still there.
      const { refusedAtOnce, winners, losers } = await race(versions);

      expect(refusedAtOnce).toEqual([]);
      expect(winners.length).toBeGreaterThanOrEqual(1);
      // The conditional write, not the API's check, turned these away: their gate compared with a production that had moved.
      expect(losers.length).toBeGreaterThanOrEqual(1);
      for (const loser of losers) {
        expect(loser.run!.failure).toMatchObject({ step: 'Promote', error: 'CONFLICT' });
        expect(loser.run!.failure!.reason).toMatch(/production/);
      }
      expect(winners.length + losers.length).toBe(versions.length);
      // Every successful move has exactly one audit event, and the events chain: each starts where the last ended.
      const moves = productionMoves((await audit(model)).slice(auditBefore.length));
      expect(moves.map((e) => e.version).sort()).toEqual(winners.map((w) => w.run!.promotion!.version).sort());
      let at = start;
      for (const move of moves) {
        expect((move.before as Alias).version).toBe(at);
        at = (move.after as Alias).version;
      }
      expect(await production(model)).toMatchObject({ version: at });
      const previous = moves.length >= 1 ? (moves.at(-1)!.before as Alias).version : start;
      expect(await tables.registry.findAlias(model, 'previous')).toMatchObject({ version: previous });
    });

    it('moves the other aliases at once, rolls production back in one step, and answers lineage both ways', async () => {
      const current = (await production(model))!.version;
      const previous = (await tables.registry.findAlias(model, 'previous'))!.version;
      // Candidate, not shadow: these versions were gated against version 1, and a shadow must have been gated against production as it is now.
      const candidateNow = (await tables.registry.findAlias(model, 'candidate'))?.version;
      const shadowVersion = candidates.find((version) => version !== current && version !== previous && version !== candidateNow)!;
      const shadow = await mlops('promote', model, String(shadowVersion), '--to', 'candidate', '--reason', 'look at it again');
      expect(shadow.code).toBe(0);
      expect(shadow.json).toMatchObject({ status: 'MOVED', alias: { alias: 'candidate', version: shadowVersion, weight: 0 } });

      const rolled = await mlops('rollback', model, '--reason', 'latency regression');
      expect(rolled.code).toBe(0);
      expect(rolled.json).toMatchObject({ status: 'ROLLED_BACK', production: { version: previous }, before: { version: current } });
      expect(await production(model)).toMatchObject({ version: previous });
      expect(await tables.registry.findAlias(model, 'previous')).toBeUndefined();
      const events = await audit(model);
      expect(events.at(-1)).toMatchObject({ action: 'alias.rolled_back', version: previous, reason: 'latency regression' });

      const lineage = await mlops('lineage', `${model}@${current}`);
      expect(lineage.code).toBe(0);
      expect(lineage.json).toMatchObject({ model, version: current, dataset: { name: dataset, version: datasetVersion }, run: { trigger: 'manual' } });
      type Move = { alias: string; from: number | null; to: number };
      const moves = lineage.json.moves as Move[];
      // Registered as the candidate first.
      expect(moves[0]).toMatchObject({ alias: 'candidate', to: current });
      // The last two production moves: in from `previous`, and back out to it.
      expect(moves.filter((m) => m.alias === 'production').slice(-2).map((m) => [m.from, m.to])).toEqual([
        [previous, current],
        [current, previous],
      ]);
      const byDataset = await mlops('lineage', '--dataset', `${dataset}@${datasetVersion}`);
      expect(byDataset.code).toBe(0);
      const ours = byDataset.json.models.filter((entry: { model: string }) => entry.model === model);
      expect(ours).toHaveLength(21);
      expect(ours.find((entry: { version: number }) => entry.version === previous).aliases).toEqual(['production']);
      expect(ours.find((entry: { version: number }) => entry.version === shadowVersion).aliases).toEqual(['candidate']);

      const auditCli = await mlops('audit', model);
      expect(auditCli.code).toBe(0);
      expect((auditCli.json.events as AuditEvent[]).map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    });

    it('answers bad requests with a code and changes nothing', async () => {
      const serving = (await production(model))!.version;
      const executions = await trainingExecutions();
      const auditBefore = await audit(model);
      const aliasesBefore = await tables.registry.listAliases(model);
      // Each call is made only when its turn comes, so one refusal cannot go unobserved.
      const cases: [string, () => ReturnType<Api>][] = [
        ['NOT_FOUND', () => platform.api('POST', `/models/${model}/aliases/production`, { version: 999 })],
        ['NOT_FOUND', () => platform.api('POST', `/models/${uniqueName('ghost')}/aliases/production`, { version: 1 })],
        ['ALIAS_MANAGED', () => platform.api('POST', `/models/${model}/aliases/previous`, { version: 3 })],
        ['INVALID_ALIAS', () => platform.api('POST', `/models/${model}/aliases/staging`, { version: 3 })],
        ['ALREADY_IN_ALIAS', () => platform.api('POST', `/models/${model}/aliases/production`, { version: serving })],
        ['CONFLICT', () => platform.api('POST', `/models/${model}/aliases/production`, { version: serving === 3 ? 4 : 3, expectedVersion: 999 })],
        ['NO_PREVIOUS_VERSION', () => platform.api('POST', `/models/${model}/rollback`, {})],
        ['APPROVAL_NOT_PENDING', () => platform.api('POST', `/models/${model}/versions/3/approve`, { reason: 'ok' })],
        ['INVALID_INPUT', () => platform.api('POST', `/models/${model}/versions/3/reject`, { reason: '  ' })],
        ['INVALID_INPUT', () => platform.api('POST', `/models/${model}/aliases/canary`, { version: 3, weight: 1 })],
        ['INVALID_INPUT', () => platform.api('GET', `/models/${model}/versions/latest`)],
      ];
      for (const [code, call] of cases) {
        const error = await apiError(call());
        expect(error.code, error.message).toBe(code);
        expect(error.message.length).toBeGreaterThan(10);
      }
      // An unsigned call is refused before any function runs (the emulator checks only that a signature is there).
      const unsigned = await signedFetch(`${platform.endpoints.managementUrl}/models/${model}/rollback`, { method: 'POST', body: '{}', region: 'us-east-1', unsigned: true });
      expect(unsigned.status).toBe(403);
      expect(await trainingExecutions()).toBe(executions);
      expect(await audit(model)).toEqual(auditBefore);
      expect(await tables.registry.listAliases(model)).toEqual(aliasesBefore);
    });

    it('promotes a version across environments: copied, gated there, registered as a new version with its origin', async () => {
      // One emulator runs one environment, so `local` is both ends here; the copy path is the one AWS takes.
      const before = (await production(model))!;
      const latest = (await tables.registry.getModel(model)).latestVersion;
      const original = await tables.registry.getVersion(model, 5);

      const result = await mlops('promote', model, '5', '--to', 'production', '--from-env', 'local', '--to-env', 'local', '--reason', 'ship the staging winner');

      expect(result.code).toBe(0);
      expect(result.json).toMatchObject({
        status: 'RELEASED',
        version: latest + 1,
        from: { environment: 'local', version: 5 },
        copied: { model: false, dataset: false },
        production: { version: latest + 1 },
      });
      const copy = await tables.registry.getVersion(model, latest + 1);
      expect(copy.artifact.sha256).toBe(original.artifact.sha256);
      expect(copy.artifact.uri).not.toBe(original.artifact.uri);
      expect(copy).toMatchObject({
        judgedAgainst: before.version,
        promotedFrom: { environment: 'local', model, version: 5, runId: original.runId, dataset: { name: dataset, version: datasetVersion } },
      });
      const run = await tables.tracking.getRun(copy.runId);
      expect(run).toMatchObject({ mode: 'transfer', trigger: 'promote', status: 'SUCCEEDED', gatePassed: true });
      const lineage = await mlops('lineage', `${model}@production`);
      expect(lineage.json).toMatchObject({ version: latest + 1, promotedFrom: { environment: 'local', version: 5 } });
      const moves = (await audit(model)).filter((e) => e.version === latest + 1).map((e) => e.action);
      expect(moves).toEqual(['version.registered', 'alias.moved', 'alias.moved']);
    });
  });
});
