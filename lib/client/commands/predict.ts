import type { Cli } from '../cli.js';

/** `predict`: the HTTPS prediction route, as an application calls it (its action is small: it stays here). */
export function predictCommands(cli: Cli): void {
  cli.program
    .command('predict')
    .description('call the HTTPS prediction route (signed with your AWS credentials)')
    .argument('<model>')
    .requiredOption('--input <json>', 'request body, e.g. \'{"inputs":{"age":40}}\'')
    .action(async (model: string, options: { input: string }) => {
      const response = await (await cli.client()).predict(model, options.input);
      cli.print({ status: response.status, body: response.body }, () => `HTTP ${response.status}\n${JSON.stringify(response.body, null, 2)}`);
      if (response.status >= 400) process.exitCode = 1;
    });
}
