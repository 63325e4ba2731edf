import { Option } from 'commander';
import { ENVIRONMENT_NAMES } from '../../../lambdas/core/environments.js';
import { SETTABLE_ALIASES } from '../../../lambdas/core/registry/alias-rules.js';
import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/release.js');

/** The release commands: `promote` (within an environment, or across two), `rollback`, `approve`, `reject`. */
export function releaseCommands(cli: Cli): void {
  cli.program
    .command('promote')
    .description('point an alias at a version; production goes through the release path: evaluation against production, gate, approval where required')
    .argument('<model>')
    .argument('<version>', 'the version number')
    .requiredOption('--to <alias>', `the alias to move: ${SETTABLE_ALIASES.join(', ')}`)
    .option('--reason <text>', 'why; recorded in the audit log (default: "promoted to <alias> with the CLI")')
    .option('--weight <w>', "share of traffic: a canary's is between 0 and 1 (default 0.1); production takes 1, candidate and shadow 0")
    .option('--expect <version|none>', 'where the alias points now (none: nowhere); the move fails with CONFLICT if it moved meanwhile')
    .option('--no-wait', 'production: return once the release run has started')
    .addOption(
      new Option(
        '--from-env <name>',
        'promote a version of this environment into --to-env: its artifact (and dataset and spec, when missing) is copied, then gated and registered there as a new version',
      ).choices(ENVIRONMENT_NAMES),
    )
    .addOption(new Option('--to-env <name>', 'the environment the version is promoted into (with --from-env)').choices(ENVIRONMENT_NAMES))
    .action(lazy(cli, async () => (await actions()).promote));

  cli.program
    .command('rollback')
    .description('move production back to the previous version (where it was before its last move)')
    .argument('<model>')
    .option('--reason <text>', 'why; recorded in the audit log (default: "rolled back with the CLI")')
    .option('--expect <version>', 'the version production points at now; the rollback fails with CONFLICT if it moved meanwhile')
    .action(lazy(cli, async () => (await actions()).rollback));

  for (const decision of ['approve', 'reject'] as const) {
    cli.program
      .command(decision)
      .description(
        decision === 'approve'
          ? 'approve a version waiting for approval: its release resumes and moves production'
          : 'reject a version waiting for approval: its release ends and the version never serves',
      )
      .argument('<model>')
      .argument('<version>', 'the version number')
      .requiredOption('--reason <text>', 'why; recorded with the decision in the audit log')
      .action(lazy(cli, async () => (await actions()).decide(decision)));
  }
}
