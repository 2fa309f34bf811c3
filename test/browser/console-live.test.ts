/**
 * The console's live client (web/live.ts) in chromium: a dropped socket reconnects with the last
 * cursor and the page catches up on what it missed, without a reload.
 */
import type { Browser, WebSocket } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOperator, PASSWORD } from '../integration/control-plane/console-kit.js';
import { startHarness, type Harness } from '../integration/control-plane/harness.js';

const HOST = '127.0.83.12';

describe('the console live socket in chromium', () => {
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

  it('reconnects after a drop, sends its cursor, and shows what happened meanwhile without a reload', async () => {
    const site = await h.addSite('org-a', 'riga-office');
    const page = await browser.newPage();
    const sockets: WebSocket[] = [];
    page.on('websocket', (ws) => sockets.push(ws));
    await page.goto(`${h.url}/#/sites`);
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.getByRole('row', { name: /riga-office/ });
    await row.getByText('offline').waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    await page.evaluate('window.__noReload = true');
    expect(sockets).toHaveLength(1);

    // The control plane drops every console socket; while the page is away, the site comes online.
    const closed = new Promise<void>((resolve) => sockets[0]?.on('close', () => resolve()));
    h.cp.live.socket.stop();
    await closed;
    h.cp.live.bus.publish('org-a', { type: 'site', site_id: site.id, online: true, at: new Date().toISOString() });

    await row.getByText('online', { exact: true }).waitFor();
    expect(sockets).toHaveLength(2);
    expect(sockets[1]?.url()).toMatch(/\/console\/live\?since=\d+$/);
    expect(await page.evaluate('window.__noReload')).toBe(true);
    await page.close();
  });
});
