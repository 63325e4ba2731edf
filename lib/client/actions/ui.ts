import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { parseOrThrow } from '../../../lambdas/core/errors.js';
import type { Cli } from '../cli.js';
import { isLoopback, startConsoleServer } from '../console-server.js';
import { PROJECT_ROOT } from '../local-environment.js';
import { signedFetch } from '../signed-fetch.js';

/** What `ui` does (its options: commands/ui.ts). */

const UiOptionsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  open: z.boolean().optional(),
});

/** Where `npm run build:cli` puts the console's bundle (scripts/build-cli.ts). */
export const CONSOLE_DIR = join(PROJECT_ROOT, 'dist', 'cli', 'console');

export async function ui(cli: Cli, rawOptions: unknown): Promise<void> {
  const options = parseOrThrow(UiOptionsSchema, rawOptions, 'ui options');
  const client = await cli.client();
  const { managementUrl, region } = client.endpoints;
  const server = await startConsoleServer({
    staticDir: CONSOLE_DIR,
    host: options.host,
    port: options.port,
    environment: cli.env(),
    // One signing path: the CLI's. The credentials stay in this process.
    relay: async (method, path, body) => {
      const answer = await signedFetch(`${managementUrl}${path}`, { method, region, ...(body === undefined ? {} : { body }) });
      return { status: answer.status, text: answer.text };
    },
  });
  if (!isLoopback(options.host)) cli.progress(`warning: the console listens on ${options.host}: anyone who reaches it acts with your AWS credentials`);
  cli.print({ url: server.url, host: options.host, port: server.port, env: cli.env(), api: managementUrl }, () => `mlops console for ${cli.env()} at ${server.url} (Ctrl-C to stop)`);
  if (options.open) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => void server.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** The platform's own opener; nothing is opened without --open. */
function openBrowser(url: string): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(command as string, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`could not open a browser; open ${url}\n`));
  child.unref();
}
