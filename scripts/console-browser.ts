// The headless browser the console's tests and the README's screenshot use: playwright-core driving
// the Chromium that @sparticuz/chromium ships inside its npm package (no download at run time; see
// docs/ARCHITECTURE.md, "Web console", for why this one), and axe-core for accessibility checks.
import chromium from '@sparticuz/chromium';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { chromium as playwright, type Browser, type Page } from 'playwright-core';

/** Launches headless Chromium (the binary is unpacked to the temp folder on first use). */
export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Makes axe-core available in every page of the context. An init script is injected by the browser
 * itself, not by the page, so the console's Content-Security-Policy stays on while axe is there.
 */
export async function withAxe(page: Page): Promise<void> {
  await page.addInitScript({ content: AXE_SOURCE });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's WCAG 2 A/AA violations of the page as it is now. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  return page.evaluate(async () => {
    const page = globalThis as unknown as { document: unknown; axe: { run: (context: unknown, options: unknown) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } };
    const result = await page.axe.run(page.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/** The serious and critical ones: what the tests refuse. */
export const serious = (violations: AxeViolation[]) => violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
