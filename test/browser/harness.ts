/**
 * The browser tests' world: the demo's system (a real control plane on temp SQLite, a real agent,
 * the RouterOS API simulator and banner services, all on loopback) and Debian's chromium driven by
 * playwright-core. Helpers sign in, run axe-core on a page and take the README's screenshots.
 *
 * Addresses (default, console.test.ts): the site's /24 is 127.0.84.0/24 (services on .2-.4); the
 * control plane, the router simulator and the webhook receiver listen on 127.0.85.1. Another file
 * that runs at the same time passes its own (harness.test.ts: 127.0.85.0/24, 127.0.85.254).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AxeResults } from 'axe-core';
import axe from 'axe-core';
import pino from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startDemoSystem, type DemoSystem } from '../helpers/demo-system.js';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOTS = path.join(root, 'docs/console');
export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export interface ConsoleWorld {
  system: DemoSystem;
  browser: Browser;
  /** The console's address (the control plane's base URL). */
  url: string;
  /** A fresh browser context (its own cookies) and page at 1280×800; page errors and console errors are collected. */
  newPage(viewport?: { width: number; height: number }): Promise<ConsolePage>;
  stop(): Promise<void>;
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors, console errors and CSP violations: a test ends with `expect(errors).toEqual([])`. */
  errors: string[];
  /** Every message the page's live socket (`/console/live`) received, in order. */
  live: LiveMessage[];
}

/** A server → browser message of the live socket (console spec: hello, scan, event, finding, site, resync). */
export type LiveMessage = { type: string; cursor: number; scan_id?: string } & Record<string, unknown>;

export async function startConsoleWorld(options: { net?: string; bindHost?: `127.${number}.${number}.${number}` } = {}): Promise<ConsoleWorld> {
  const system = await startDemoSystem({
    net: options.net ?? '127.0.84',
    bindHost: options.bindHost ?? '127.0.85.1',
    org: 'org-browser',
    logger: pino({ level: process.env.CP_TEST_LOG ?? 'silent' }),
  });
  let browser: Browser;
  try {
    // Root (CI containers) cannot use chromium's sandbox.
    browser = await launchChromium();
  } catch (error) {
    await system.stop();
    throw error;
  }
  const contexts: BrowserContext[] = [];
  return {
    system,
    browser,
    url: system.url,
    async newPage(viewport = DESKTOP) {
      // The operator's zone differs from the schedules' (Europe/Riga), so the two time columns show the conversion.
      const context = await browser.newContext({ viewport, baseURL: system.url, acceptDownloads: true, timezoneId: 'America/New_York', locale: 'en-GB' });
      contexts.push(context);
      // A step that waits longer than this has failed: say which one before the test's own timeout does.
      context.setDefaultTimeout(30_000);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        // The browser logs every 4xx/5xx fetch; the tests provoke some (the session probe, refusals) and assert on the page instead.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
          errors.push(`console: ${message.text()} @ ${message.location().url}`);
      });
      // Injected by the browser before the page's scripts (so the CSP does not apply to it): records what the CSP refused.
      await page.addInitScript({
        content: `document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
      });
      const live: LiveMessage[] = [];
      page.on('websocket', (socket) => {
        if (!socket.url().includes('/console/live')) return;
        socket.on('framereceived', (frame) => {
          if (typeof frame.payload === 'string') live.push(JSON.parse(frame.payload) as LiveMessage);
        });
      });
      return { context, page, errors, live };
    },
    async stop() {
      for (const context of contexts.splice(0)) await context.close().catch(() => {});
      await browser.close().catch(() => {});
      await system.stop();
    },
  };
}

/** Signs in through the login page; resolves once the console shows a page other than the login. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/#/login');
  await page.getByLabel(/e-?mail/i).fill(email);
  await page.getByLabel(/password/i).fill(password);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((url) => !url.hash.startsWith('#/login'));
}

export interface AxeSummary {
  page: string;
  violations: number;
  /** Violations of impact serious or critical: the issue's bar is 0 on every page. */
  serious: { id: string; impact: string; nodes: string[] }[];
}

/** Every page's axe summary of this test file, in the order they were checked. */
export const axeSummaries: AxeSummary[] = [];

/** Runs axe-core (WCAG 2 A and AA) on the page as it is now; prints one line per page. */
export async function checkAxe(page: Page, name: string): Promise<AxeSummary> {
  // Injected through the DevTools protocol: the console's CSP (script-src 'self') stays on.
  await page.evaluate(axe.source);
  const results = (await page.evaluate("axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })")) as AxeResults;
  const serious = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({ id: violation.id, impact: String(violation.impact), nodes: violation.nodes.map((node) => node.target.join(' ')) }));
  const summary = { page: name, violations: results.violations.length, serious };
  axeSummaries.push(summary);
  const ids = results.violations.map((violation) => `${violation.id}(${violation.impact ?? '?'})`).join(', ');
  console.log(
    `axe ${name.padEnd(24)} ${results.passes.length} rules passed, ${summary.violations} violations, ${serious.length} serious/critical${ids ? `: ${ids}` : ''}`,
  );
  return summary;
}

/** A screenshot into docs/console/<name>.png at the page's viewport (the README shows them). */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/** A window marker that a reload would wipe: set it, later `expect(await hasMarker(page))` proves no reload happened. */
export async function setMarker(page: Page): Promise<void> {
  await page.evaluate('window.__edgeCveNoReload = true');
}

export async function hasMarker(page: Page): Promise<boolean> {
  return (await page.evaluate('window.__edgeCveNoReload === true')) as boolean;
}
