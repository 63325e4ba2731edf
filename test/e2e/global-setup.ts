import type { TestProject } from 'vitest/node';
import { deployLocal, ensureEmulator, PROJECT_ROOT, run, useLocalEndpoint } from '../../lib/client/local-environment.js';

/**
 * Starts the embedded emulator when no endpoint is given (AWS_ENDPOINT_URL unset), deploys the
 * local stack once for the whole e2e run, and stops the emulator afterwards if it started it.
 * With AWS_ENDPOINT_URL set (a LocalStack, say), the same suite runs against that instead.
 */
export default async function setup(project: TestProject) {
  const chosenEndpoint = process.env.AWS_ENDPOINT_URL;
  useLocalEndpoint();
  const log = (line: string) => process.env.E2E_VERBOSE && process.stderr.write(`[e2e setup] ${line}\n`);
  const { started } = chosenEndpoint ? { started: false } : await ensureEmulator(log);
  const begun = Date.now();
  const outputs = await deployLocal(log);
  process.stderr.write(`[e2e setup] local stack deployed in ${((Date.now() - begun) / 1000).toFixed(1)} s\n`);
  project.provide('stackOutputs', outputs);
  return async () => {
    if (started) await run('bash', [`${PROJECT_ROOT}/scripts/emulator.sh`, 'down'], { onLine: log });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    stackOutputs: import('../../lib/client/stack-outputs.js').StackOutputs;
  }
}
