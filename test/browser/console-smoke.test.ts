/**
 * The console in a real browser (Debian's chromium through playwright-core): the sign-in page
 * renders from the built bundle under the control plane's CSP with no violation and no console
 * error, and a refused sign-in shows the API's message.
 */
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOperator, PASSWORD } from '../integration/control-plane/console-kit.js';
import { startHarness, type Harness } from '../integration/control-plane/harness.js';

const HOST = '127.0.83.11';

describe('the console in chromium', () => {
  let h: Harness;
  let browser: Browser;
  beforeAll(async () => {
    h = await startHarness({ config: { listen: { host: HOST, port: 0 } } });
    await addOperator(h, 'org-a', 'ada@example.com', 'viewer');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('signs in from the login page with no CSP violation and no console error', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const consoleErrors: string[] = [];
    const pageErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // Chromium logs every 4xx answer to a fetch (the session probe, the refused sign-in); those are statuses, not script errors.
      if (!message.text().startsWith('Failed to load resource: the server responded with a status of'))
        consoleErrors.push(`${message.text()} @ ${message.location().url}`);
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Runs before the page's own scripts (injected by the browser, so the CSP does not apply to it). A string: the test's tsconfig has no DOM.
    await page.addInitScript({
      content: `window.cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`,
    });

    const response = await page.goto(`${h.url}/#/login`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByRole('heading', { level: 1, name: 'Sign in to edge-cve' }).waitFor();
    await page.getByLabel('Email').fill('nobody@example.com');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const refusal = page.getByTestId('login-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/email or password/i);

    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await page.locator('header').textContent()).toContain('(viewer)');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to edge-cve' }).waitFor();

    const violations = (await page.evaluate('window.cspViolations')) as string[];
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('folds the left nav into a Menu button at 390 px', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${h.url}/#/login`);
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const menu = page.getByRole('button', { name: 'Menu' });
    await menu.waitFor();
    const sites = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sites' });
    expect(await sites.isVisible()).toBe(false);
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await sites.click();
    await page.getByRole('heading', { level: 1, name: 'Sites' }).waitFor();
    // Following a link closes the menu again.
    await sites.waitFor({ state: 'hidden' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    await page.close();
  });
});
