import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/monitor.js');

/** `mlops monitor <model>`: what the monitoring loop saw and decided. */
export function monitorCommands(cli: Cli): void {
  cli.program
    .command('monitor')
    .description("a model's latest drift checks, its open CloudWatch alarms and its retraining trigger history (started, or suppressed and why)")
    .argument('<model>')
    .option('--limit <n>', 'how many checks and trigger decisions to show (1-100)', '10')
    .action(lazy(cli, async () => (await actions()).monitor));
}
