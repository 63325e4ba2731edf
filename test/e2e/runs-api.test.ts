import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { creditSpec, goodCsv, mlops, platformClient, trainingExecutions, uniqueName } from './fixtures.js';

// The runs API on the emulator: runs start through POST /models/{model}/runs (the actor is the
// signed caller), are read back, listed with filters and compared; a bad request starts nothing.

describe('runs API', () => {
  let platform: PlatformClient;
  const dataset = uniqueName('loans');
  const model = uniqueName('credit-runs');
  let version: string;
  const started: { runId: string; executionArn: string }[] = [];

  beforeAll(async () => {
    platform = platformClient();
    version = (await platform.registerDataset({ name: dataset, bytes: new TextEncoder().encode(goodCsv()), fileName: 'loans.csv' })).dataset.version;
    await platform.createModel(creditSpec(model, dataset));
  }, 240_000);

  it('starts a run on the spec\'s dataset, says which version and why, and records the signed caller as its actor', async () => {
    const answer = await platform.startRun(model, { params: { C: 0.5 }, release: false });
    expect(answer).toMatchObject({ status: 'RUNNING', dataset: { name: dataset, version } });
    expect(answer.dataset.chosen).toMatch(/newest version/);
    expect(answer.runId.startsWith(`${model}-`)).toBe(true);
    started.push(answer);
    const outcome = await platform.waitForRun(answer.runId, answer.executionArn, { pollMs: 500, timeoutMs: 240_000 });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.steps.filter((step) => ['StartRun', 'ValidateData', 'Train', 'Evaluate', 'Gate', 'Register'].includes(step))).toEqual(['StartRun', 'ValidateData', 'Train', 'Evaluate', 'Gate', 'Register']);
    expect(outcome.run).toMatchObject({ runId: answer.runId, status: 'SUCCEEDED', trigger: 'manual', parameters: { C: 0.5 } });
    // Not a name the client typed: the IAM principal API Gateway resolved from the signature.
    expect(outcome.run!.actor).toMatch(/^arn:aws:(iam|sts)::\d{12}:/);

    const detail = await platform.getRun(answer.runId);
    expect(detail.execution).toMatchObject({ status: 'SUCCEEDED', executionArn: answer.executionArn });
    expect(detail.execution.steps).toEqual(outcome.steps);
    const gate = await platform.getRunReport(answer.runId, 'gate');
    expect(gate).toMatchObject({ runId: answer.runId, kind: 'gate', uri: outcome.run!.gateReportUri, report: { passed: true } });
    const validation = await platform.getRunReport(answer.runId, 'validation');
    expect(validation.report.passed).toBe(true);
  }, 300_000);

  it('lists runs by model, status and time, and compares three runs', async () => {
    for (const C of [0.25, 2]) {
      const answer = await platform.startRun(model, { dataset: { name: dataset, version }, params: { C }, release: false });
      started.push(answer);
    }
    await Promise.all(started.slice(1).map((run) => platform.waitForRun(run.runId, run.executionArn, { pollMs: 500, timeoutMs: 240_000 })));

    const all = await platform.listRuns({ model });
    expect(all.map((run) => run.runId).sort()).toEqual(started.map((run) => run.runId).sort());
    expect(all.map((run) => run.startedAt)).toEqual([...all.map((run) => run.startedAt)].sort().reverse());
    expect(await platform.listRuns({ model, status: 'FAILED' })).toEqual([]);
    expect((await platform.listRuns({ model, limit: 2 })).map((run) => run.runId)).toEqual(all.slice(0, 2).map((run) => run.runId));
    const newest = all[0]!;
    expect((await platform.listRuns({ model, since: newest.startedAt })).map((run) => run.runId)).toEqual([newest.runId]);
    expect((await platform.listRuns({ model, until: newest.startedAt })).map((run) => run.runId)).toEqual(all.slice(1).map((run) => run.runId));

    const ids = started.map((run) => run.runId);
    const three = await platform.compareRuns(ids);
    expect(three.runs).toEqual(ids);
    const c = three.parameters.find((row) => row.name === 'C')!;
    expect(c).toMatchObject({ values: [0.5, 0.25, 2], differs: true });
    const pair = await platform.compareRuns(ids.slice(0, 2));
    expect(pair.parameters.find((row) => row.name === 'C')).toMatchObject({ a: 0.5, b: 0.25, differs: true });
    // The CLI takes the same three runs and prints the many-run form.
    const cli = await mlops('runs', 'compare', ...ids);
    expect(cli.code).toBe(0);
    expect(cli.json.runs).toEqual(ids);
    expect(cli.json.parameters.find((row: { name: string }) => row.name === 'C')).toMatchObject({ values: [0.5, 0.25, 2] });
  }, 400_000);

  it.each([
    ['an unknown model', 'no-such-model-x1', {}, 'NOT_FOUND'],
    ['an unknown dataset version', undefined, { dataset: { name: 'x-unregistered', version: 'f'.repeat(64) } }, 'NOT_FOUND'],
    ['a version that is not a sha256', undefined, { dataset: { name: 'x-unregistered', version: 'latest' } }, 'INVALID_INPUT'],
    ['an unknown parameter', undefined, { params: { notAParam: 3 } }, 'INVALID_INPUT'],
    ['an actor in the body', undefined, { actor: 'mallory' }, 'INVALID_INPUT'],
  ])('refuses %s, starting no execution and writing no run', async (_what, modelName, body, code) => {
    const before = await trainingExecutions();
    const runsBefore = await platform.listRuns({ model });
    await expect(platform.startRun(modelName ?? model, body as never)).rejects.toMatchObject({ code });
    expect(await trainingExecutions()).toBe(before);
    expect(await platform.listRuns({ model })).toEqual(runsBefore);
  });

  it('answers 404 for a run that does not exist, and refuses a comparison of one run', async () => {
    await expect(platform.getRun('no-such-run-20260101000000-abcdef')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(platform.compareRuns([started[0]!.runId])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
