// `npx tsx scripts/console-screenshot.ts [--model <name>] [--view model|version|compare] [--out docs/images/console.png]`
// Makes the README's screenshot of the web console, on purpose (the tests keep theirs in the temp
// folder, so the tree does not change on every run). It serves the console as `mlops ui` does, signed
// with your credentials, against the local stack (run `npm run demo` first for the demo model), or
// against MLOPS_API_URL. Default model: the first one with a production alias.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startConsoleServer } from '../lib/client/console-server.js';
import { resolveEndpoints } from '../lib/client/endpoints.js';
import { PROJECT_ROOT, useLocalEndpoint } from '../lib/client/local-environment.js';
import { PlatformClient } from '../lib/client/platform-client.js';
import { signedFetch } from '../lib/client/signed-fetch.js';
import { buildConsole, CONSOLE_OUT_DIR } from './build-cli.js';
import { launchBrowser } from './console-browser.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, view: { type: 'string', default: 'version' }, out: { type: 'string', default: join(PROJECT_ROOT, 'docs', 'images', 'console.png') } } });

useLocalEndpoint();
await buildConsole();
const endpoints = await resolveEndpoints('local', 'local');
const client = new PlatformClient(endpoints);
const models = await client.listModels();
const model = values.model ?? models.find((m) => m.aliases.production !== undefined)?.name;
if (!model) throw new Error('no model with a production version: run `npm run demo` first, or pass --model');
const server = await startConsoleServer({
  staticDir: CONSOLE_OUT_DIR,
  port: 0,
  environment: 'local',
  relay: async (method, path, body) => {
    const answer = await signedFetch(`${endpoints.managementUrl}${path}`, { method, region: endpoints.region, ...(body === undefined ? {} : { body }) });
    return { status: answer.status, text: answer.text };
  },
});
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  const runs = await client.listRuns({ model, limit: 2 });
  const hash = {
    model: `#/models/${encodeURIComponent(model)}`,
    version: `#/models/${encodeURIComponent(model)}/versions/production`,
    compare: `#/compare?runs=${runs.map((r) => encodeURIComponent(r.runId)).join(',')}`,
  }[values.view!];
  if (!hash) throw new Error(`--view is model, version or compare, not ${values.view}`);
  await page.goto(`${server.url}${hash}`);
  await page.locator('main h1').first().waitFor();
  await page.locator('main .chart svg').first().waitFor({ timeout: 30_000 });
  mkdirSync(dirname(values.out!), { recursive: true });
  await page.screenshot({ path: values.out!, fullPage: false });
  process.stdout.write(`wrote ${values.out} (${model}, ${values.view})\n`);
} finally {
  await browser.close();
  await server.close();
}
