import { Option } from 'commander';
import { DATASET_FORMATS } from '../../../lambdas/core/data/formats.js';
import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/score.js');

/** `score` (batch scoring) and `score-job` (a job started with --no-wait). */
export function scoreCommands(cli: Cli): void {
  cli.program
    .command('score')
    .description('score a file in a batch job (Step Functions, one Distributed Map item per chunk) with a version of a model')
    .argument('<model>', '<model>, <model>@<version> or <model>@<alias> (default: production)')
    .requiredOption('--input <file|s3-uri>', 'a local .csv, .jsonl or .parquet file (uploaded), or an s3:// URI the platform can read')
    .option('--output <file|s3-uri>', 'where the predictions go (same format as the input); a local file is downloaded at the end, with <name>.errors.jsonl next to it')
    .addOption(new Option('--format <format>', "the input's format (default: from its extension)").choices(DATASET_FORMATS))
    .option('--max-error-rate <share>', 'fail the job when more than this share of rows is bad (0 to 1)', '0.01')
    .option('--chunk-rows <n>', 'rows per chunk (one ScoreChunk invocation each)', '5000')
    .option('--no-wait', 'print the job id and return; `mlops score-job <id>` shows it later')
    .option('--timeout <duration>', 'how long to wait, e.g. 30m', '60m')
    .action(lazy(cli, async () => (await actions()).score));

  cli.program
    .command('score-job')
    .description('show a batch scoring job; --wait waits for its end, --output downloads its predictions')
    .argument('<job-id>')
    .option('--wait', 'wait for the job to end, showing each step')
    .option('--output <file>', 'download the output (and <name>.errors.jsonl) once the job ended')
    .option('--timeout <duration>', 'how long to wait, e.g. 30m', '60m')
    .action(lazy(cli, async () => (await actions()).scoreJob));
}
