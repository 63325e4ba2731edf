import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DATASET_ROUTES, DRIFT_ROUTES, REGISTRY_ROUTES, RUNS_ROUTES } from '../../lambdas/contract/routes.js';
import { parseModelSpec } from '../../lambdas/core/training/model-spec.js';
import { PROJECT_ROOT } from '../../lib/client/local-environment.js';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { axeViolations, launchBrowser, serious, withAxe } from '../../scripts/console-browser.js';
import { creditSpec, goodCsv, platformClient, uniqueName } from './fixtures.js';
import { cliEnvironment, createIamUser, invoke, type IamUser } from './iam.js';

// The web console (`mlops ui`) in a real browser (headless Chromium from @sparticuz/chromium, driven by
// playwright-core), against the stack on the emulator. The console server runs as the CLI ships it,
// with the keys of an IAM user allowed only to invoke the management API: whatever the console does,
// the API records that user as the actor. Screenshots go to the temp folder, never the repository.

const SCREENSHOTS = join(tmpdir(), 'mlops-console-screenshots');

/** A raw request to the console server, with the headers a browser or another site would send. */
function raw(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts `mlops ui --port 0 --json` and answers its URL once it listens. */
async function startConsole(env: NodeJS.ProcessEnv): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'mlops.js'), '--json', 'ui', '--port', '0'], { env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk) => (err += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      try {
        const printed = JSON.parse(out) as { url?: string; error?: { message: string } };
        if (printed.url) resolve(printed.url);
        else reject(new Error(`mlops ui: ${printed.error?.message ?? out}`));
      } catch {
        // Not all of it yet.
      }
    });
    child.on('exit', (code) => reject(new Error(`mlops ui exited with ${code}: ${out} ${err}`)));
  });
  return { url, process: child };
}

describe('web console (mlops ui) in a real browser', () => {
  let platform: PlatformClient;
  const dataset = uniqueName('loans-console');
  const model = uniqueName('e2e-console');
  let reviewer: IamUser;
  let server: { url: string; process: ChildProcess };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const runIds: string[] = [];
  /** Every Content-Security-Policy violation and page error, over the whole file: none expected. */
  const pageProblems: string[] = [];
  /** Every body the page received, to show no credential ever reached it. */
  const received: string[] = [];

  async function train(params: Record<string, number>): Promise<{ runId: string; status: string }> {
    const started = await platform.startRun(model, { params });
    runIds.push(started.runId);
    const outcome = await platform.waitForRelease(started.runId, started.executionArn, undefined, { pollMs: 500, timeoutMs: 240_000 });
    return { runId: started.runId, status: outcome.status };
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async function expectAccessible(view: string): Promise<void> {
    expect(serious(await axeViolations(page)), `axe on ${view}`).toEqual([]);
  }

  beforeAll(async () => {
    platform = platformClient();
    const outputs = inject('stackOutputs');
    mkdirSync(SCREENSHOTS, { recursive: true });
    const build = promisify(execFile)('npm', ['run', '--silent', 'build:cli'], { cwd: PROJECT_ROOT });
    await platform.registerDataset({ name: dataset, bytes: Buffer.from(goodCsv()), fileName: 'loans.csv', owner: 'e2e' });
    // v1 goes to production; v2 (another C) is judged against it and replaces it. v3, which waits for
    // approval, is trained in its test: the local environment's approval times out after 20 s.
    await platform.createModel(creditSpec(model, dataset));
    expect((await train({ C: 1 })).status).toBe('SUCCEEDED');
    expect((await train({ C: 0.3 })).status).toBe('SUCCEEDED');
    reviewer = await createIamUser('console-reviewer', [invoke(outputs, 'management', [...DATASET_ROUTES, ...REGISTRY_ROUTES, ...RUNS_ROUTES, ...DRIFT_ROUTES])]);
    await build;
    server = await startConsole(cliEnvironment(reviewer, outputs));
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await withAxe(page);
    // The browser logs an API's error answer (the 409 the error test provokes) as a failed load: that one is expected.
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && pageProblems.push(message.text()));
    page.on('pageerror', (error) => pageProblems.push(error.message));
    page.on('response', async (response) => {
      if (response.url().includes('/api/')) received.push(await response.text().catch(() => ''));
    });
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    server?.process.kill('SIGTERM');
  });

  it("walks a newcomer's path: the production version, its gate report chart, two runs compared, the lineage to the dataset and back", async () => {
    await page.goto(server.url);
    const row = page.locator(`tr[data-model="${model}"]`);
    await expect.poll(() => row.locator('[data-alias="production"]').textContent()).toContain('production: v2');
    expect(await row.textContent()).toContain('100%');
    await expectAccessible('models');
    await shot('models');

    await row.getByRole('link', { name: model }).click();
    await page.locator('ul.aliases [data-alias="production"] a').click();
    await page.getByRole('heading', { name: `${model} v2 production` }).waitFor();
    const chart = page.getByTestId('gate-chart');
    // The chart draws one bar per compared metric (candidate minus production v1) against its tolerance.
    await chart.locator('svg .mark-rect path').first().waitFor();
    const compared = await page.locator('[data-testid="gate-checks"] tbody tr[data-interval="true"]').count();
    expect(compared).toBeGreaterThan(0);
    // A bar (the interval) and a tick (-tolerance) per compared metric and segment.
    expect(await chart.locator('svg .mark-rect path').count()).toBe(2 * compared);
    expect(await chart.locator('figcaption').textContent()).toContain('against production v1');
    await expectAccessible('version');
    await shot('gate-report');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    await page.getByLabel('Model', { exact: true }).selectOption(model);
    await page.getByRole('button', { name: 'Apply' }).click();
    for (const runId of runIds.slice(0, 2)) await page.getByLabel(`select run ${runId}`).check();
    await expectAccessible('runs');
    await page.getByRole('button', { name: /Compare 2 selected/ }).click();
    const parameters = page.getByTestId('compare-parameters');
    await parameters.waitFor();
    const cRow = parameters.locator('tbody tr', { has: page.locator('th', { hasText: /^(≠ )?C$/ }) });
    expect(await cRow.getAttribute('data-differs')).toBe('true');
    expect(await cRow.locator('td').allTextContents()).toEqual(['1', '0.3']);
    expect(await parameters.locator('tr[data-differs="false"]').count()).toBeGreaterThan(0);
    await page.getByTestId('compare-chart').locator('svg .mark-rect path').first().waitFor();
    await expectAccessible('compare');
    await shot('compare');

    await page.goto(`${server.url}#/models/${model}/versions/2`);
    await page.getByRole('link', { name: 'Lineage' }).click();
    const graph = page.locator('ol.graph');
    await graph.waitFor();
    expect(await graph.locator('[data-node="run"] a').textContent()).toBe(runIds[1]);
    expect(await graph.locator('[data-node="aliases"]').textContent()).toContain('production');
    await expectAccessible('lineage');
    await shot('lineage');
    await graph.locator('[data-node="dataset"] a').click();
    await page.getByRole('heading', { name: `Dataset ${dataset}` }).waitFor();
    // And back: the dataset version lists the versions trained on it.
    const trained = page.getByTestId('dataset-lineage');
    await trained.getByRole('link', { name: `${model} v2` }).waitFor();
    // Profile charts: a many-valued numeric column (age) drawn from its quantiles, a few-valued one from its counts.
    for (const column of ['age', 'late_payments']) {
      await page.locator('article.column').filter({ has: page.getByRole('heading', { name: new RegExp(`^${column} `) }) }).locator('svg .mark-rect path').first().waitFor();
    }
    await expectAccessible('dataset');
    await shot('dataset');
    await trained.getByRole('link', { name: `${model} v2` }).click();
    await page.getByRole('heading', { name: `Lineage of ${model} v2` }).waitFor();

    expect(pageProblems).toEqual([]);
  });

  it('shows an API error in the dialog: promoting the production version to production', async () => {
    await page.goto(`${server.url}#/models/${model}`);
    await page.locator('tr[data-version="2"]').getByRole('button', { name: 'Promote v2' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.getByLabel('Alias').inputValue()).toBe('production');
    await dialog.getByLabel(/Reason/).fill('again');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(`ALREADY_IN_ALIAS: production already points at version 2 of ${model}`);
    await shot('api-error');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expectAccessible('model');
    await shot('model');
  });

  it('shows monitoring: each feature drift score over the checks, the estimated metric with its intervals apart from realized values, and the checks with their verdicts', async () => {
    // Traffic for production (v2): the dataset's own rows, as signed predict calls; then two checks.
    const [header, ...lines] = goodCsv().trim().split('\n');
    const columns = header!.split(',');
    const instances = lines.slice(0, 400).map((line) => Object.fromEntries(line.split(',').map((value, i) => [columns[i], Number(value)]).filter(([name]) => name !== 'defaulted')));
    for (let at = 0; at < instances.length; at += 200) expect((await platform.predict(model, JSON.stringify({ instances: instances.slice(at, at + 200) }))).status).toBe(200);
    const first = await platform.runDriftCheck(model, { window: '1h' });
    const second = await platform.runDriftCheck(model, { window: '1h' });
    const features = (second.report.features as { column: string }[]).map((f) => f.column);
    expect(features.length).toBeGreaterThan(0);

    await page.goto(`${server.url}#/monitoring/${model}`);
    const checks = page.getByTestId('drift-checks');
    await checks.locator('tbody tr').nth(1).waitFor();
    expect(await checks.locator('tbody tr').count()).toBe(2);
    expect(await checks.locator('tbody tr').first().textContent()).toContain(second.check.status);
    const chart = page.getByTestId('drift-chart');
    await chart.locator('svg').waitFor();
    // One panel per feature, each with a point per check.
    for (const feature of features) expect(await chart.locator('svg text', { hasText: new RegExp(`^${feature}$`) }).count()).toBeGreaterThan(0);
    expect(first.check.checkId).not.toBe(second.check.checkId);

    // The metric over time: no label has come back, so each check awaits labels and carries CBPE's estimate
    // of the binary model's metric with its interval; the chart draws one estimated point per check, no realized one.
    for (const { check } of [first, second]) {
      expect(check.performance).toMatchObject({ status: 'awaiting-labels', value: null, labelled: 0 });
      expect(check.performance!.estimated).toEqual(expect.any(Number));
      expect(check.performance!.estimatedInterval).toHaveLength(2);
    }
    const metric = page.getByTestId('metric-chart');
    await metric.locator('svg .mark-symbol.role-mark path').first().waitFor();
    expect(await metric.locator('figcaption').textContent()).toContain(`${second.check.performance!.metric} of ${model} over the last 2 check(s)`);
    const points = metric.locator('svg .mark-symbol.role-mark path');
    expect(await points.count()).toBe(2);
    // Both points are estimates, drawn alike, and the legend names both kinds.
    expect(new Set(await points.evaluateAll((paths) => paths.map((p) => `${p.getAttribute('fill')} ${p.getAttribute('d')}`))).size).toBe(1);
    expect(await metric.locator('svg .role-legend-label text').allTextContents()).toEqual(['realized', 'estimated']);
    // An interval rule per point, and the held-out baseline when the version recorded one.
    const baseline = second.check.performance!.baseline === null ? 0 : 1;
    expect(await metric.locator('svg .mark-rule.role-mark line').count()).toBe(2 + baseline);
    expect(await checks.locator('tbody tr').first().textContent()).toContain('(estimated)');
    await expectAccessible('monitoring');
    await shot('monitoring');
    expect(pageProblems).toEqual([]);
  });

  it('approves the pending version with the keyboard alone, and the audit log names the signer as the actor', async () => {
    await platform.createModel(parseModelSpec({ ...creditSpec(model, dataset), approval: { requiredIn: ['local'] } }));
    expect((await train({ C: 2 })).status).toBe('WAITING_FOR_APPROVAL');
    // The execution enters WaitForApproval a moment before the version records its request.
    await expect.poll(async () => (await platform.getVersion(model, 3)).status, { timeout: 10_000, interval: 250 }).toBe('PENDING_APPROVAL');
    await page.goto(`${server.url}#/models/${model}`);
    const pending = page.locator('tr[data-version="3"]');
    await pending.getByText('PENDING_APPROVAL', { exact: true }).waitFor();
    // Tab from the top of the page to the button, as a keyboard user does.
    let reached = false;
    for (let presses = 0; presses < 200 && !reached; presses += 1) {
      await page.keyboard.press('Tab');
      reached = (await page.evaluate('document.activeElement?.textContent')) === 'Approve v3';
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    // The dialog takes focus; an empty reason is refused before anything is sent.
    expect(await page.evaluate('document.activeElement?.tagName')).toBe('TEXTAREA');
    await page.keyboard.type('metrics reviewed in the console');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Confirm');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });

    const granted = page.locator('[data-testid="audit"] tr[data-action="approval.granted"]');
    await granted.waitFor();
    expect(await granted.locator('.actor').textContent()).toBe(reviewer.arn);
    expect(await granted.textContent()).toContain('metrics reviewed in the console');
    const version = await platform.getVersion(model, 3);
    expect(version).toMatchObject({ status: 'APPROVED', approval: { decidedBy: reviewer.arn, reason: 'metrics reviewed in the console' } });
    // The page never held a credential: only the session token.
    expect(received.join('\n') + (await page.content())).not.toContain(reviewer.credentials.secretAccessKey);
    expect(pageProblems).toEqual([]);
  });

  it("shows a rollout's steps and decisions as the API records them", async () => {
    // Version 1 (never production now) rolled out against production and stopped at once: the view reads the
    // rollout's record and its decisions, not its traffic.
    const started = await platform.startRollout(model, { version: 1, steps: [0.5, 1], bake: '5m', reason: 'e2e: console rollout view' });
    await platform.abortRollout(model, 'e2e: stopped for the console');
    const status = await platform.rolloutStatus(model);
    expect(status.rollout).toMatchObject({ rolloutId: started.rolloutId, version: 1, state: 'ABORTED' });
    const actions = status.decisions.map((decision) => decision.action);
    expect(actions).toEqual(expect.arrayContaining(['rollout.started', 'rollout.aborted']));

    await page.goto(`${server.url}#/monitoring/${model}`);
    await page.reload();
    const summary = page.getByTestId('rollout');
    await summary.waitFor();
    expect(await summary.textContent()).toContain(`v1 against production v${status.rollout.production}`);
    expect(await summary.textContent()).toContain('ABORTED');
    expect(await page.getByRole('list', { name: 'Canary steps' }).locator('li').allTextContents()).toEqual(['50%', '100%']);
    const decisions = page.getByTestId('rollout-decisions').locator('tbody tr');
    expect(await decisions.locator('td:nth-child(2)').allTextContents()).toEqual(actions);
    expect(await decisions.filter({ hasText: 'rollout.aborted' }).textContent()).toContain('e2e: stopped for the console');
    await expectAccessible('rollout');
    await shot('rollout');
    expect(pageProblems).toEqual([]);
  });

  it('refuses a request from another origin and one without the session token; its own page passes', async () => {
    const token = (await page.locator('meta[name="mlops-session"]').getAttribute('content'))!;
    const host = new URL(server.url).host;
    const own = await raw(server.url, '/api/models', { host, 'x-mlops-session': token, origin: server.url.replace(/\/$/, '') });
    const crossOrigin = await raw(server.url, '/api/models', { host, 'x-mlops-session': token, origin: 'http://evil.example' });
    const noToken = await raw(server.url, '/api/models', { host });
    const rebound = await raw(server.url, '/', { host: 'evil.example' });
    expect(own.status).toBe(200);
    expect(JSON.parse(own.text).models.map((m: { name: string }) => m.name)).toContain(model);
    expect([crossOrigin.status, noToken.status, rebound.status]).toEqual([403, 403, 421]);
    expect(JSON.parse(crossOrigin.text).error.code).toBe('CROSS_SITE');
    expect(JSON.parse(noToken.text).error.code).toBe('NO_SESSION');

    // A page of another origin, in the same browser, cannot call it either.
    const other = await context.newPage();
    await other.route('http://evil.example/**', (route) => route.fulfill({ contentType: 'text/html', body: '<p>evil</p>' }));
    await other.goto('http://evil.example/');
    const attempt = await other.evaluate(async (url) => {
      try {
        const response = await fetch(`${url}api/models`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
        return `status ${response.status}`;
      } catch (error) {
        return `blocked: ${(error as Error).message}`;
      }
    }, server.url);
    await other.close();
    // Either the browser stops it (private network access) or the server refuses it; nothing is relayed.
    expect(attempt).not.toBe('status 200');
  });
});
