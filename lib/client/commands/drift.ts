import { Option } from 'commander';
import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/drift.js');

/** The serving arms (records.ts ARMS), spelled here: that module loads zod, and `--help` loads only commander. */
const ARMS = ['production', 'canary', 'shadow'];

/** `mlops drift check|show|report`: drift checks of a model's traffic against its version's reference sample. */
export function driftCommands(cli: Cli): void {
  const drift = cli.program.command('drift').description("check a model's traffic (the prediction log) for drift against the reference sample of the version that served it");
  drift
    .command('check')
    .description('run a drift check now over a window of one arm; a refused check (no version on the arm, no traffic, a bad window) records nothing')
    .argument('<model>')
    .option('--window <duration>', "the window ending now, e.g. 24h or 7 days (default: the spec's monitoring.window)")
    .option('--from <time>', 'the window start, an ISO time (with --to)')
    .option('--to <time>', 'the window end, an ISO time (with --from)')
    .addOption(new Option('--arm <arm>', 'whose traffic: the production version, the canary or the shadow').choices(ARMS).default('production'))
    .action(lazy(cli, async () => (await actions()).check));
  drift
    .command('show')
    .description("a drift check's verdicts (the latest, or --check <id>); --list shows the latest checks")
    .argument('<model>')
    .option('--check <id>', 'the check id (default: the latest check)')
    .option('--list', 'list the latest checks instead')
    .action(lazy(cli, async () => (await actions()).show));
  drift
    .command('report')
    .description("write a drift check's HTML report (charts per feature, prediction drift, the dataset verdict) to a file; it opens offline")
    .argument('<model>')
    .option('--check <id>', 'the check id (default: the latest check)')
    .option('--out <file>', 'where to write it (default: drift-<model>-<checkId>.html)')
    .action(lazy(cli, async () => (await actions()).report));
}
