// `npm run bench -- --only cli`: the CLI's start-up, as wall time of whole processes, against the
// floor of starting Node itself (`node -e 0`), measured in the same run.
//
//   node-floor           node -e 0
//   help                 node dist/cli/mlops.js --help: the package's `mlops` bin (built here first)
//   help (tsx)           tsx bin/mlops.ts --help: what `npm run mlops -- --help` runs in a clone
//   models-list          node dist/cli/mlops.js models list --json against the local emulator's stack
//                        (skipped, saying why, when the emulator or the stack is not there)
//   help (before)        with BENCH_CLI_BEFORE=<dir>, a checkout of an older commit (e.g.
//   models-list (before) `git worktree add /tmp/cli-before <commit>` plus a node_modules symlink),
//                        run the way its bin ran then: tsx <dir>/bin/mlops.ts
//
// Each figure is the median of BENCH_CLI_REPEATS runs (default 7), after one warm-up run; the
// machine's load moves wall times, so read them against node-floor.
//
//   npm run bench -- --only cli
//   BENCH_CLI_BEFORE=/tmp/cli-before npm run bench -- --only cli
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isHealthy, LOCAL_ENDPOINT } from '../lib/client/local-environment.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT_CLI = join(ROOT, 'dist', 'cli', 'mlops.js');

function repeats(): number {
  const raw = process.env.BENCH_CLI_REPEATS;
  const value = Number(raw ?? 7);
  if (!Number.isInteger(value) || value < 1) throw new Error(`BENCH_CLI_REPEATS must be a positive integer, got "${raw}"`);
  return value;
}

interface Timing {
  median: number;
  min: number;
  /** The last run's exit status and output, to tell a skipped or failed command from a slow one. */
  status: number | null;
  stdout: string;
}

/** Wall time of `command args` in seconds, median of `n` runs after one warm-up. */
function time(command: string, args: string[], n: number, cwd = ROOT): Timing {
  const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const runOnce = () => {
    const started = process.hrtime.bigint();
    const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 1 << 24 });
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, status: result.status, stdout: result.stdout };
  };
  runOnce();
  const runs = Array.from({ length: n }, runOnce);
  const sorted = runs.map((r) => r.seconds).sort((a, b) => a - b);
  const last = runs.at(-1)!;
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, status: last.status, stdout: last.stdout };
}

const row = (name: string, timing: Timing, floor: Timing, note = '') =>
  console.log(
    `${name.padEnd(22)} ${timing.median.toFixed(3).padStart(7)} s  (min ${timing.min.toFixed(3)})  ${(timing.median / floor.median).toFixed(2).padStart(5)}x node-floor${note ? `  ${note}` : ''}`,
  );

/** Why `models list` cannot run against the local stack, or undefined when it can. */
async function modelsListSkipReason(): Promise<string | undefined> {
  if (!(await isHealthy(process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT))) return `no emulator answers at ${process.env.AWS_ENDPOINT_URL ?? LOCAL_ENDPOINT} (npm run mlops -- local deploy)`;
  const probe = spawnSync(process.execPath, [BUILT_CLI, '--json', 'models', 'list'], { cwd: ROOT, encoding: 'utf8' });
  if (probe.status !== 0) return `the local stack does not answer: ${probe.stdout.replace(/\s+/g, ' ').slice(0, 200)}`;
  return undefined;
}

export async function runCliBench(): Promise<void> {
  const n = repeats();
  console.log(`cli: start-up wall time, median of ${n} run(s) after a warm-up, Node ${process.version}\n`);
  const build = spawnSync('npm', ['run', '--silent', 'build:cli'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build:cli failed:\n${build.stderr}`);
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');

  const floor = time(process.execPath, ['-e', '0'], n);
  row('node-floor', floor, floor);
  row('help', time(process.execPath, [BUILT_CLI, '--help'], n), floor, 'dist/cli/mlops.js (the mlops bin)');
  row('help (tsx)', time(tsx, ['bin/mlops.ts', '--help'], n), floor, 'npm run mlops in a clone');

  const before = process.env.BENCH_CLI_BEFORE;
  if (before !== undefined && !existsSync(join(before, 'bin', 'mlops.ts'))) throw new Error(`BENCH_CLI_BEFORE=${before} has no bin/mlops.ts`);
  if (before) row('help (before)', time(tsx, [join(before, 'bin', 'mlops.ts'), '--help'], n, before), floor, `tsx ${before}/bin/mlops.ts`);

  const skip = await modelsListSkipReason();
  if (skip) {
    console.log(`models-list            skipped: ${skip}`);
    return;
  }
  const list = time(process.execPath, [BUILT_CLI, '--json', 'models', 'list'], n);
  row('models-list', list, floor, `${(JSON.parse(list.stdout) as { models: unknown[] }).models.length} model(s)`);
  if (before) row('models-list (before)', time(tsx, [join(before, 'bin', 'mlops.ts'), '--json', 'models', 'list'], n, before), floor);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runCliBench();
