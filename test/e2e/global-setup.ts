import type { TestProject } from 'vitest/node';
import { deployLocal, ensureEmulator, PROJECT_ROOT, run, useLocalEndpoint } from '../../lib/client/local-environment.js';

/**
 * Starts the embedded emulator when no endpoint is given (AWS_ENDPOINT_URL unset), deploys the
 * local stack once for the whole e2e run, and stops the emulator afterwards if it started it.
 * With AWS_ENDPOINT_URL set (a LocalStack, say), the same suite runs against that instead.
 *
 * The embedded emulator runs with AUTH=true (scripts/emulator.sh): signatures are verified and IAM
 * policies evaluated, so the suite proves least privilege. The deploy and most tests sign with the
 * `test` key, which the emulator treats as the account's root; test/e2e/iam.test.ts creates users
 * (so it needs an endpoint that enforces IAM, which LocalStack's community edition does not).
 */
export default async function setup(project: TestProject) {
  const chosenEndpoint = process.env.AWS_ENDPOINT_URL;
  const endpoint = useLocalEndpoint();
  const log = (line: string) => process.env.E2E_VERBOSE && process.stderr.write(`[e2e setup] ${line}\n`);
  const { started } = chosenEndpoint ? { started: false } : await ensureEmulator(log);
  if (!chosenEndpoint) await requireIamEnforcement(endpoint);
  const begun = Date.now();
  const outputs = await deployLocal(log);
  process.stderr.write(`[e2e setup] local stack deployed in ${((Date.now() - begun) / 1000).toFixed(1)} s\n`);
  project.provide('stackOutputs', outputs);
  return async () => {
    if (started) await run('bash', [`${PROJECT_ROOT}/scripts/emulator.sh`, 'down'], { onLine: log });
  };
}

/** An embedded emulator someone started by hand without AUTH=true would let every IAM test pass vacuously. */
async function requireIamEnforcement(endpoint: string): Promise<void> {
  const health = (await (await fetch(`${endpoint}/_ministack/health`)).json()) as { auth?: string };
  if (health.auth !== 'enabled') {
    throw new Error(
      `the emulator at ${endpoint} does not enforce IAM (auth: ${health.auth ?? 'unknown'}); restart it with AUTH=true: npm run emulator -- down && npm run emulator -- up`,
    );
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    stackOutputs: import('../../lambdas/contract/stack.js').StackOutputs;
  }
}
