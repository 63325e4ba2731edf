import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/feedback.js');

/** `feedback`: ground-truth labels for answered requests, through the signed serving API. */
export function feedbackCommands(cli: Cli): void {
  cli.program
    .command('feedback')
    .description('send true labels for answered predictions (by request id), 1,000 per request; prints accepted, unknown, duplicate and invalid totals')
    .argument('<model>')
    .requiredOption('--file <labels.csv|labels.jsonl>', 'CSV with a header requestId,row,label (row optional: 0) or JSON Lines of {"requestId","row","label"}')
    .action(lazy(cli, async () => (await actions()).feedback));
}
