import type { Cli } from '../cli.js';

/** `local up|down|status|reset|deploy`: the embedded emulator. They need a clone with its devDependencies. */
export function localCommands(cli: Cli): void {
  const local = cli.program.command('local').description('the embedded emulator (MiniStack on 127.0.0.1:4566; needs a clone of the project with its devDependencies)');
  for (const action of ['up', 'down', 'status', 'reset'] as const) {
    local
      .command(action)
      .description(`${action} the emulator`)
      .action(async () => {
        const { PROJECT_ROOT, requireDevToolchain, run } = await import('../local-environment.js');
        requireDevToolchain('emulator');
        await run('bash', [`${PROJECT_ROOT}/scripts/emulator.sh`, action], { onLine: cli.progress });
        cli.print({ emulator: action, ok: true }, () => `emulator ${action}: ok`);
      });
  }
  local
    .command('deploy')
    .description('start the emulator if needed and deploy the local stack with cdklocal')
    .action(async () => {
      const { deployLocal, ensureEmulator, LOCAL_STACK, requireDevToolchain } = await import('../local-environment.js');
      requireDevToolchain('deploy');
      await ensureEmulator(cli.progress);
      const outputs = await deployLocal((line) => cli.progress(`  ${line}`));
      cli.print({ stack: LOCAL_STACK, outputs }, () => `deployed ${LOCAL_STACK}`);
    });
}
