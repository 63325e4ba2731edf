import { Command, Option } from 'commander';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../lambdas/core/environments.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import type { PlatformClient } from './platform-client.js';

/**
 * What every command module shares: the global options, output (one JSON document with --json,
 * human text otherwise, progress on stderr) and the client of an environment's API.
 */
export interface Cli {
  readonly program: Command;
  /** The environment `--env` selects. */
  env(): EnvironmentName;
  print(json: unknown, human: () => string): void;
  /** One record of a stream (`events tail`): a line of compact JSON with --json (JSON Lines), human text otherwise. */
  printLine(json: unknown, human: () => string): void;
  /** A progress line on stderr; silent with --json. */
  progress(line: string): void;
  /** The client of an environment's management API (default: `--env`'s), found as lib/client/endpoints.ts says. */
  client(env?: EnvironmentName): Promise<PlatformClient>;
}

interface GlobalOptions {
  env: EnvironmentName;
  json?: boolean;
}

export function createCli(): Cli {
  const program = new Command('mlops')
    .description('serverless-mlops: datasets, training runs, models and predictions on a deployed platform')
    .addOption(new Option('--env <name>', 'environment whose stack to use').choices(ENVIRONMENT_NAMES).default('local'))
    .option('--json', 'print one JSON document on stdout (for scripts)')
    .showHelpAfterError();
  const globals = () => program.opts<GlobalOptions>();
  return {
    program,
    env: () => globals().env,
    print(json, human) {
      process.stdout.write(globals().json ? `${JSON.stringify(json, null, 2)}\n` : `${human()}\n`);
    },
    printLine(json, human) {
      process.stdout.write(globals().json ? `${JSON.stringify(json)}\n` : `${human()}\n`);
    },
    progress(line) {
      if (!globals().json) process.stderr.write(`${line}\n`);
    },
    async client(env = globals().env) {
      // Loaded on first use, so `--help` and argument mistakes never load the HTTP and AWS clients.
      const [{ useLocalEndpoint }, { resolveEndpoints }, { PlatformClient }] = await Promise.all([
        import('./local-environment.js'),
        import('./endpoints.js'),
        import('./platform-client.js'),
      ]);
      if (env === 'local') useLocalEndpoint();
      return new PlatformClient(await resolveEndpoints(env, globals().env));
    },
  };
}

/**
 * An action whose code (and the zod schemas, renderers and clients it uses) is loaded when its
 * command runs, not when the CLI starts: the command modules hold only names, options and help.
 */
export function lazy<A extends unknown[]>(cli: Cli, load: () => Promise<(cli: Cli, ...args: A) => Promise<void>>): (...args: A) => Promise<void> {
  return async (...args) => (await load())(cli, ...args);
}

/** Runs the CLI: an error becomes `{ "error": { code, message, field } }` under --json, `error: <message>` on stderr otherwise; exit code 1. */
export async function runCli(cli: Cli, argv = process.argv): Promise<void> {
  try {
    await cli.program.parseAsync(argv);
  } catch (error) {
    const err = error instanceof MlopsError ? error : undefined;
    const body = { error: { code: err?.code ?? 'ERROR', message: (error as Error).message, field: err?.field } };
    if (cli.program.opts<GlobalOptions>().json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    else process.stderr.write(`error: ${body.error.message}\n`);
    process.exitCode = 1;
  }
}
