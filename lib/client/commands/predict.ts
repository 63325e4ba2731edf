import { SERVED_BY_HEADERS } from '../../../lambdas/core/serving/routing.js';
import type { Cli } from '../cli.js';

/** `predict`: the HTTPS prediction route, as an application calls it (its action is small: it stays here). */
export function predictCommands(cli: Cli): void {
  cli.program
    .command('predict')
    .description('call the HTTPS prediction route (signed with your AWS credentials)')
    .argument('<model>')
    .requiredOption('--input <json>', 'request body, e.g. \'{"inputs":{"age":40}}\'')
    .option('--routing-key <key>', 'a user or session id: the same key always gets the same arm (production or canary)')
    .action(async (model: string, options: { input: string; routingKey?: string }) => {
      const response = await (await cli.client()).predict(model, options.input, options.routingKey === undefined ? {} : { routingKey: options.routingKey });
      // Who answered: production or the canary (absent on an error before routing).
      const arm = response.headers[SERVED_BY_HEADERS.arm] ?? null;
      const version = response.headers[SERVED_BY_HEADERS.version];
      const servedBy = arm === null ? '' : ` (${arm}, version ${version})`;
      cli.print({ status: response.status, body: response.body, arm }, () => `HTTP ${response.status}${servedBy}\n${JSON.stringify(response.body, null, 2)}`);
      if (response.status >= 400) process.exitCode = 1;
    });
}
