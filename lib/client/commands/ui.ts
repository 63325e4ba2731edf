import { Option } from 'commander';
import { lazy, type Cli } from '../cli.js';

/** `ui`: the web console, served locally and signed with the user's credentials. */
export function uiCommands(cli: Cli): void {
  cli.program
    .command('ui')
    .description("the web console: a local server (loopback by default) whose pages read the environment's management API, signed with your AWS credentials")
    .addOption(new Option('--port <port>', 'port to listen on (0: any free port)').default('8765'))
    .addOption(new Option('--host <address>', 'address to bind; anything but loopback exposes your signed session to that network').default('127.0.0.1'))
    .option('--open', 'open the console in your browser')
    .action(lazy(cli, async () => (await import('../actions/ui.js')).ui));
}
