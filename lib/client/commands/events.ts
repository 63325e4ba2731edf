import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/events.js');

/** `mlops events tail`: the registry's events (the ones its EventBridge bus carries), through the management API. */
export function eventsCommands(cli: Cli): void {
  const events = cli.program.command('events').description("the registry's events: every registration, approval, alias move, rollback, rollout step and drift verdict");
  events
    .command('tail')
    .description('print registry events as they happen (oldest first); with --json one JSON object per line, each the event bus detail (docs/DELIVERY.md)')
    .option('--model <name>', "one model's events (default: every model's)")
    .option('--since <when>', 'start from this long ago ("30m", "2h", "7 days") or from an ISO time', '1h')
    .option('--no-follow', 'print the events so far and stop, instead of waiting for new ones')
    .option('--interval <duration>', 'how often to ask for new events while following', '2s')
    .action(lazy(cli, async () => (await actions()).tail));
}
