import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/rollout.js');

/** `mlops rollout start|status|abort`: automatic rollouts (shadow, canary steps with checks, promotion through the release path). */
export function rolloutCommands(cli: Cli): void {
  const rollout = cli.program.command('rollout').description('roll a version out: gate against production, shadow, canary steps checked against production, then promotion');
  rollout
    .command('start')
    .description("start a rollout; waits for the gate against production (refused with GATE_FAILED when it fails), then leaves the rollout running")
    .argument('<model>')
    .argument('<version>', 'the version number')
    .option('--steps <weights>', 'canary weights in order, the last one 1 (the promotion), e.g. 0.05,0.25,1 (default: the spec\'s rollout.steps)')
    .option('--bake <duration>', 'how long each step serves before its check, e.g. 30m (default: the spec\'s rollout.bake)')
    .option('--shadow-first <duration>', 'a shadow phase of this length before the first canary step, e.g. 1h (default: the spec\'s rollout.shadowFirst)')
    .option('--reason <text>', 'why; recorded in the audit log')
    .option('--no-wait', 'return once the rollout has started, before its gate has decided')
    .action(lazy(cli, async () => (await actions()).start));
  rollout
    .command('status')
    .description("the model's rollout (running, or the last one): phase, steps done, canary weight, the last check's signals, the decisions")
    .argument('<model>')
    .action(lazy(cli, async () => (await actions()).status));
  rollout
    .command('abort')
    .description('stop the running (or held) rollout: canary and shadow are cleared; production never moved, so it stays')
    .argument('<model>')
    .option('--reason <text>', 'why; recorded in the audit log (default: "aborted with the CLI")')
    .action(lazy(cli, async () => (await actions()).abort));
}
