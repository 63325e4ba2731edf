import { Option } from 'commander';
import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/runs.js');

/** `train`, `reproduce` and `runs show|list|compare`. */
export function runCommands(cli: Cli): void {
  cli.program
    .command('train')
    .description('start the training pipeline for a model')
    .argument('<model>')
    .option('--dataset <name[@version]>', "dataset to train on (newest version when no @version; default: the spec's dataset)")
    .addOption(
      new Option('--param <key=value>', 'override an algorithm parameter for this run (repeatable)')
        .argParser((value: string, previous: string[]) => [...previous, value])
        .default([] as string[], 'none'),
    )
    .option('--wait', 'wait for the run to end (or to wait for approval), showing each step')
    .option('--register-only', 'register the version as candidate and stop: no release to production (promote it later)')
    .action(lazy(cli, async () => (await actions()).train));

  cli.program
    .command('reproduce')
    .description("re-run a run's training from its recorded lineage (dataset version, spec, parameters, seed) and check the artifact and metrics match exactly")
    .argument('<run>')
    .action(lazy(cli, async () => (await actions()).reproduce));

  const runs = cli.program.command('runs').description('experiment tracking');
  runs
    .command('show')
    .argument('<run>')
    .action(lazy(cli, async () => (await actions()).show));
  runs
    .command('list')
    .argument('<model>')
    .option('--limit <n>', 'newest first, at most n', '20')
    .action(lazy(cli, async () => (await actions()).list));
  runs
    .command('compare')
    .description('runs side by side (two to ten): lineage, parameters and metrics; differences are marked with *')
    .argument('<run-a>')
    .argument('<run-b>')
    .argument('[more-runs...]', 'up to eight more runs')
    .action(lazy(cli, async () => (await actions()).compare));
}
