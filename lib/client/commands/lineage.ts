import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/lineage.js');

/** `lineage` (of a model version, or of a dataset version) and `audit`. */
export function lineageCommands(cli: Cli): void {
  cli.program
    .command('lineage')
    .description('where a model version came from and where it went (dataset -> run -> version -> alias moves); with --dataset, the versions trained on a dataset version')
    .argument('[model@version]', 'a model version, by number or alias')
    .option('--dataset <name@version>', 'a dataset version (a sha256, or latest) instead of a model version')
    .action(lazy(cli, async () => (await actions()).lineage));

  cli.program
    .command('audit')
    .description("a model's audit log, oldest first: who did what to which version, when and why")
    .argument('<model>')
    .action(lazy(cli, async () => (await actions()).audit));
}
