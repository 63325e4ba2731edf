import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackName, StackOutputsSchema, type StackOutputs } from '../../lambdas/contract/stack.js';
import { MlopsError } from '../../lambdas/core/errors.js';

/** The package's root: the nearest folder with a package.json above this module (lib/client/ in a clone, dist/cli/ when built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const PROJECT_ROOT = packageRoot();
export const LOCAL_ENDPOINT = 'http://127.0.0.1:4566';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_STACK = stackName('local');
const STATE_DIR = join(PROJECT_ROOT, '.emulator');
const OUTPUTS_FILE = join(STATE_DIR, 'outputs.json');

/**
 * The `local` commands run the project's own emulator script and deploy its CDK app with cdklocal:
 * they need a clone of serverless-mlops with its devDependencies installed, not just the package.
 */
export function requireDevToolchain(what: 'emulator' | 'deploy'): void {
  const needed = [join(PROJECT_ROOT, 'scripts', 'emulator.sh'), ...(what === 'deploy' ? [join(PROJECT_ROOT, 'node_modules', '.bin', 'cdklocal'), join(PROJECT_ROOT, 'bin', 'app.ts')] : [])];
  const missing = needed.filter((path) => !existsSync(path));
  if (missing.length === 0) return;
  throw new MlopsError(
    'DEV_TOOLCHAIN_MISSING',
    `mlops local needs the development toolchain (missing ${missing.join(', ')}): run it in a clone of serverless-mlops after \`npm install\` with devDependencies; the other commands work from the installed package`,
    { field: 'local' },
  );
}

/**
 * Points this process (and the processes it starts) at the emulator unless the caller already
 * chose an endpoint, e.g. a LocalStack started with docker compose.
 */
export function useLocalEndpoint(): string {
  process.env.AWS_ENDPOINT_URL ??= LOCAL_ENDPOINT;
  process.env.AWS_ENDPOINT_URL_S3 ??= process.env.AWS_ENDPOINT_URL;
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  process.env.AWS_REGION ??= LOCAL_REGION;
  process.env.AWS_DEFAULT_REGION ??= process.env.AWS_REGION;
  process.env.CDK_DEFAULT_ACCOUNT ??= '000000000000';
  return process.env.AWS_ENDPOINT_URL;
}

export async function isHealthy(endpoint = process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT): Promise<boolean> {
  for (const path of ['/_ministack/health', '/_localstack/health']) {
    try {
      const response = await fetch(`${endpoint}${path}`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return true;
    } catch {
      // Not answering on this path.
    }
  }
  return false;
}

/** Runs a command, streaming its output through `onLine`; rejects with its last lines on failure. */
export function run(command: string, args: string[], options: { onLine?: (line: string) => void; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        options.onLine?.(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tail.join('\n')}`)),
    );
  });
}

/** Starts the embedded emulator (scripts/emulator.sh) unless something already answers. */
export async function ensureEmulator(onLine?: (line: string) => void): Promise<{ started: boolean }> {
  useLocalEndpoint();
  if (await isHealthy()) return { started: false };
  requireDevToolchain('emulator');
  await run('bash', [join(PROJECT_ROOT, 'scripts', 'emulator.sh'), 'up'], { onLine });
  return { started: true };
}

/**
 * Bootstraps and deploys the `local` environment with cdklocal, then returns the stack outputs.
 * The emulator drops a table's items when a redeploy changes it, so deploy once per session.
 */
export async function deployLocal(onLine?: (line: string) => void): Promise<StackOutputs> {
  requireDevToolchain('deploy');
  useLocalEndpoint();
  mkdirSync(STATE_DIR, { recursive: true });
  const cdklocal = join(PROJECT_ROOT, 'node_modules', '.bin', 'cdklocal');
  const context = ['-c', 'env=local'];
  await run(cdklocal, ['bootstrap', `aws://000000000000/${process.env.AWS_REGION}`, ...context], { onLine });
  await run(
    cdklocal,
    ['deploy', LOCAL_STACK, ...context, '--require-approval', 'never', '--outputs-file', OUTPUTS_FILE, '--progress', 'events', '--output', 'cdk.out.local'],
    { onLine },
  );
  return readLocalOutputs();
}

export function readLocalOutputs(): StackOutputs {
  if (!existsSync(OUTPUTS_FILE)) throw new Error(`no ${OUTPUTS_FILE}: deploy the local stack first`);
  const all = JSON.parse(readFileSync(OUTPUTS_FILE, 'utf8')) as Record<string, unknown>;
  return StackOutputsSchema.parse(all[LOCAL_STACK]);
}
