import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/client/local-environment.js';
import { SMOKE_MANAGEMENT_ROUTES, SMOKE_SERVING_ROUTES, smokeRouteResource } from '../../lib/delivery/smoke-access.js';
import type { StackOutputs } from '../../lambdas/contract/stack.js';
import type { SmokeReport } from '../../scripts/smoke.js';
import { mlops, platformClient } from './fixtures.js';
import { cliEnvironment, createIamUser, LOCAL_ACCOUNT, type Statement } from './iam.js';

/** The smoke test as the pipeline runs it: its own process, --json on stdout, a one-line reason on stderr. */
function smoke(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; report: SmokeReport | undefined; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'smoke.ts'), ...args], { cwd: PROJECT_ROOT, env, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, report: args.includes('--json') ? (JSON.parse(stdout) as SmokeReport) : undefined, stdout, stderr });
    });
  });
}

/** Invoke on the smoke test's routes and nothing else: the policy the pipeline's smoke role and the GitHub deploy roles get. */
function smokeRoutesOnly(outputs: StackOutputs): Statement {
  const arn = (api: string, stage: string, route: string) => `arn:aws:execute-api:${process.env.AWS_REGION}:${LOCAL_ACCOUNT}:${api}/${stage}/${smokeRouteResource(route)}`;
  return {
    Effect: 'Allow',
    Action: 'execute-api:Invoke',
    Resource: [
      ...SMOKE_MANAGEMENT_ROUTES.map((route) => arn(outputs.ManagementApiId, outputs.ManagementApiStage, route)),
      ...SMOKE_SERVING_ROUTES.map((route) => arn(outputs.ApiId, outputs.ApiStage, route)),
    ],
  };
}

describe('the post-deploy smoke test (npm run smoke) against the local stack', () => {
  beforeAll(() => {
    platformClient(); // points this process (and so the smoke's) at the emulator
  });

  it('passes twice, the second time as a user who may only invoke its routes, reusing one model and one dataset version', async () => {
    const first = await smoke(process.env, '--env', 'local', '--json');
    expect(first.code, first.stdout).toBe(0);
    expect(first.report).toMatchObject({ ok: true, env: 'local', model: 'mlops-smoke', dataset: { name: 'mlops-smoke', rows: 400 }, run: { status: 'SUCCEEDED' }, prediction: { source: 'trained', arm: 'production' } });
    // The answer came from the version this run trained, and tells the two applicants apart.
    expect(first.report!.prediction!.version).toBe(first.report!.run!.version);
    const [low, high] = first.report!.prediction!.probabilities;
    expect(low).toBeLessThan(0.5);
    expect(high).toBeGreaterThan(0.5);
    const modelsBefore = (await mlops('models', 'list')).json.models as { name: string }[];
    const versionsBefore = (await mlops('dataset', 'list', 'mlops-smoke')).json.versions as unknown[];

    // No cloudformation:DescribeStacks and no table or bucket right: the APIs' URLs, and Invoke on the smoke's routes only.
    const outputs = inject('stackOutputs');
    const user = await createIamUser('smoke', [smokeRoutesOnly(outputs)]);
    const second = await smoke(cliEnvironment(user, outputs), '--env', 'local', '--json');
    expect(second.code, second.stdout).toBe(0);
    expect(second.report!.dataset).toEqual({ ...first.report!.dataset, created: false });
    expect(second.report).toMatchObject({ ok: true, modelCreated: false, run: { status: 'SUCCEEDED', version: first.report!.run!.version! + 1 } });
    expect(second.report!.prediction!.version).toBe(second.report!.run!.version);

    const modelsAfter = (await mlops('models', 'list')).json.models as { name: string }[];
    expect(modelsAfter.map((model) => model.name).sort()).toEqual(modelsBefore.map((model) => model.name).sort());
    expect(modelsAfter.filter((model) => model.name.startsWith('mlops-smoke'))).toHaveLength(1);
    expect((await mlops('dataset', 'list', 'mlops-smoke')).json.versions).toHaveLength(versionsBefore.length);
  });

  it('fails with one line naming the step: a bad --env, and an environment whose stack is not deployed', async () => {
    const badEnv = await smoke(process.env, '--env', 'qa');
    expect(badEnv.code).toBe(1);
    expect(badEnv.stdout).toBe('');
    expect(badEnv.stderr).toBe('smoke failed at arguments (qa): INVALID_INPUT: --env must be one of local, dev, staging, prod (got "qa")\n');

    // The emulator has no Mlops-staging: the first CLI call cannot find the API, and nothing was registered.
    const { MLOPS_API_URL: _api, MLOPS_SERVING_URL: _serving, ...withoutUrls } = process.env;
    const missing = await smoke(withoutUrls, '--env', 'staging', '--json');
    expect(missing.code).toBe(1);
    expect(missing.report).toMatchObject({ ok: false, env: 'staging', step: 'dataset', error: { code: 'STACK_NOT_FOUND', message: expect.stringContaining('Mlops-staging') } });
    expect(missing.report).not.toHaveProperty('dataset');
    const human = await smoke(withoutUrls, '--env', 'staging');
    expect(human.stderr.trim().split('\n').at(-1)).toMatch(/^smoke failed at dataset \(staging\): STACK_NOT_FOUND: stack Mlops-staging was not found/);
  });
});
