import { Option } from 'commander';
import { DATASET_FORMATS } from '../../../lambdas/core/data/formats.js';
import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/dataset.js');

/** `dataset register|list|show|from-logs|validate`. */
export function datasetCommands(cli: Cli): void {
  const dataset = cli.program.command('dataset').description('versioned datasets');
  dataset
    .command('register')
    .description('register a CSV, Parquet or JSON Lines file as an immutable dataset version (its id is the sha256 of its bytes)')
    .argument('<file>', 'CSV (header row), Parquet or JSON Lines file')
    .requiredOption('--name <dataset>', 'dataset name')
    .option('--schema <file>', 'declared schema (JSON or YAML); without it the schema is inferred')
    .option('--target <column>', 'the target column, profiled as classes or a distribution')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(DATASET_FORMATS))
    .option('--owner <owner>', 'owner recorded with the version', process.env.USER ?? 'unknown')
    .option('--source <source>', 'where the data came from (default: the file name)')
    .action(lazy(cli, async () => (await actions()).register));
  dataset
    .command('list')
    .description("every dataset with its newest version; with a name, that dataset's versions, newest first")
    .argument('[name]')
    .action(lazy(cli, async () => (await actions()).list));
  dataset
    .command('show')
    .description('a dataset version: schema, size, lineage fields, and with --profile its profile')
    .argument('<name[@version]>', 'dataset, and a version (sha256 or a unique prefix is not accepted: give all 64 characters); newest when omitted')
    .option('--profile', 'include the profile (statistics, quantiles, frequencies)')
    .action(lazy(cli, async () => (await actions()).show));
  dataset
    .command('from-logs')
    .description(
      "a new version of the model's dataset from its prediction log joined with the feedback labels, registered through the same data gate: by default the rows production was trained on plus the window's labelled rows",
    )
    .argument('<model>')
    .option('--window <duration>', 'the window ending now, e.g. 24h or 7 days (default: 7d)')
    .option('--from <time>', 'the window start, an ISO time (with --to)')
    .option('--to <time>', 'the window end, an ISO time (with --from)')
    .addOption(new Option('--arm <arm>', 'whose logged rows: production, canary or shadow').choices(['production', 'canary', 'shadow']).default('production'))
    .option('--name <dataset>', "the dataset the version is added to (default: the spec's dataset)")
    .option('--logs-only', 'only the logged labelled rows, without the rows production was trained on')
    .action(lazy(cli, async () => (await actions()).fromLogs));
  dataset
    .command('validate')
    .description('run the data validation gate for a model on a dataset version (report stored; nothing quarantined)')
    .argument('<name[@version]>')
    .requiredOption('--model <model>', 'the model whose spec sets the checks')
    .action(lazy(cli, async () => (await actions()).validate));
}
