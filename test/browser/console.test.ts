/**
 * The console as an operator uses it, in Debian's chromium, against a real control plane, agent,
 * RouterOS simulator and banner services (the demo's system): every point of issue 13's "What
 * must be shown", a screenshot of every page into docs/console/ and an axe pass over each.
 * The tests run in order and build on each other (the schedule made in one is scanned in the next).
 * Sign-in throttling runs last: its failures also throttle the test's client address.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.js';
import { addOperator, forge, PASSWORD, record, visit, writeControls } from './console-kit.js';
import { axeSummaries, checkAxe, hasMarker, PHONE, setMarker, signIn, startConsoleWorld, type ConsolePage, type ConsoleWorld } from './harness.js';

const ORG = 'org-browser';
const OTHER_ORG = 'org-other';
const BUILD_BOX = '00:0C:29:11:22:33';
const LIVE_TIMEOUT = 90_000;
const SUBNET_1 = /^Subnet (of site )?1 \(CIDR\)/;

describe('the console in chromium', { timeout: 120_000 }, () => {
  let world: ConsoleWorld;
  let ops: ConsolePage;
  const made = { scheduleId: '', scanId: '' };
  const other = { siteId: '', scheduleId: '', scanId: '' };

  beforeAll(async () => {
    world = await startConsoleWorld();
    await addOperator(world, ORG, 'admin@browser.example', 'admin');
    await addOperator(world, ORG, 'ops@browser.example', 'operator');
    await addOperator(world, ORG, 'viewer@browser.example', 'viewer');
    await addOperator(world, ORG, 'locked@browser.example', 'operator');
    // Another organization with a site and a schedule of its own: its ids must be 404 to ours.
    other.siteId = await world.system.addSite(OTHER_ORG, 'other-site');
    const bearer = await world.system.jwt({ org: OTHER_ORG });
    const response = await fetch(`${world.url}/scans/cve/scheduled`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        description: 'other org',
        day_of_week: 1,
        time_of_day: '03:00',
        every_n_weeks: 2,
        timezone: 'UTC',
        min_cvss: 4,
        warning_threshold: 7,
        ignore_offline_sites: false,
        sites: [{ id: other.siteId, subnet: '10.9.0.0/24' }],
        notification_group: 'security-alerts',
      }),
    });
    expect(response.status).toBe(201);
    other.scheduleId = ((await response.json()) as { id: string }).id;
    const invoked = await fetch(`${world.url}/scans/cve/scheduled/${other.scheduleId}/invoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(invoked.status).toBe(202);
    other.scanId = ((await invoked.json()) as { scan_id: string }).scan_id;
    ops = await world.newPage();
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('signs an operator in', async () => {
    const { page, errors } = ops;
    await page.goto('/#/login');
    await page.getByRole('heading', { level: 1, name: 'Sign in to edge-cve' }).waitFor();
    await record(page, 'login');
    // With the keyboard only: the email field, Tab to the password, Enter submits.
    await page.getByLabel('Email').focus();
    await page.keyboard.type('ops@browser.example');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('login-password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: /overview/i }).waitFor();
    expect(await page.getByText('ops (operator)').isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('creates a schedule: the API refuses a field, the form shows it beside the field, the fix is saved', async () => {
    const { page, errors } = ops;
    await visit(page, '/schedules/new', 'New schedule');
    await page.getByLabel('Description').fill('Build boxes, every other Monday');
    await page.getByLabel('Site 1', { exact: true }).selectOption({ label: 'demo-site' });
    // Wider than a /24: the API's 422 names sites[0].subnet.
    await page.getByLabel(SUBNET_1).fill(`${world.system.net}.0/16`);
    await page.getByLabel('Notification group').fill('security-alerts');
    // The site's zone, not the operator's (the browser runs in America/New_York): the two time columns differ.
    await page.getByLabel('Time zone (IANA)').fill('Europe/Riga');
    await page.getByRole('button', { name: 'Create schedule' }).click();
    const fieldError = page.getByTestId('field-error-sites[0].subnet');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toMatch(/\S/);
    expect(await page.getByLabel(SUBNET_1).getAttribute('aria-invalid')).toBe('true');
    // Full page: the heading and the refused field are both in the shot.
    await record(page, 'schedule-new', true);

    await page.getByLabel(SUBNET_1).fill(`${world.system.net}.0/24`);
    await page.getByRole('button', { name: 'Create schedule' }).click();
    await page.waitForURL(/#\/schedules\/[0-9a-f-]{36}$/);
    made.scheduleId = /schedules\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? '';
    await page.getByRole('heading', { level: 2, name: 'Next runs' }).waitFor();
    expect(await fieldError.count()).toBe(0);
    await record(page, 'schedule');
    const saved = await world.system.api<{ sites: { subnet: string }[] }>('GET', `/scans/cve/scheduled/${made.scheduleId}`);
    expect(saved.sites).toEqual([expect.objectContaining({ subnet: `${world.system.net}.0/24` })]);
    expect(errors).toEqual([]);
  });

  it('invokes it and shows progress arriving live over the socket, to completed, without a reload', async () => {
    const { page, errors, live } = ops;
    await setMarker(page);
    // Every text the status badge shows, as the DOM changes (a reload would also lose this list).
    await page.evaluate(`window.__statuses = [];
      new MutationObserver(() => {
        const text = document.querySelector('[data-testid=scan-status]')?.textContent?.trim();
        if (text && window.__statuses.at(-1) !== text) window.__statuses.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });`);
    await page.getByRole('button', { name: 'Invoke' }).click();
    await page.waitForURL(/#\/scans\/[0-9a-f-]{36}$/);
    made.scanId = /scans\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? '';
    await page.getByTestId('scan-status').filter({ hasText: 'completed' }).waitFor({ timeout: LIVE_TIMEOUT });
    await page.waitForFunction("document.querySelector('[data-testid=scan-progress]').value === 100");
    await page.getByTestId('scan-events').filter({ hasText: 'Scan completed' }).waitFor();
    // The same document all along: the marker set before the click survived, and the page showed the scan running before completed.
    expect(await hasMarker(page)).toBe(true);
    const statuses = (await page.evaluate('window.__statuses')) as string[];
    expect(statuses.at(-1)).toBe('completed');
    expect(statuses.slice(0, -1).length, statuses.join(' -> ')).toBeGreaterThan(0);
    // What moved the page came over the live socket: progress of this scan before it completed, its events, its findings.
    const mine = live.filter((message) => message.scan_id === made.scanId);
    expect(mine.some((message) => message.type === 'scan' && message.status !== 'completed')).toBe(true);
    expect(mine.some((message) => message.type === 'scan' && message.status === 'completed' && message.progress === 100)).toBe(true);
    expect(mine.some((message) => message.type === 'event')).toBe(true);
    expect(mine.some((message) => message.type === 'finding' && message.mac_address === BUILD_BOX)).toBe(true);
    await record(page, 'scan');
    await visit(page, '/scans', 'Scans', 'scans');
    expect(errors).toEqual([]);
  });

  it('opens a device by its MAC with its CVEs, and a CVE with the devices it is on', async () => {
    const { page, errors } = ops;
    await visit(page, '/devices', 'Devices', 'devices');
    await page.getByRole('link', { name: BUILD_BOX }).click();
    await page.getByRole('heading', { level: 1, name: `Device ${BUILD_BOX}` }).waitFor();
    const cves = page.getByTestId('device-cves');
    await cves.filter({ hasText: 'CVE-2023-38408' }).waitFor();
    await record(page, 'device');
    await cves.getByRole('link', { name: 'CVE-2023-38408' }).click();
    await page.getByRole('heading', { level: 1, name: /CVE-2023-38408/ }).waitFor();
    await page.getByRole('link', { name: BUILD_BOX }).first().waitFor();
    await record(page, 'cve');
    expect(errors).toEqual([]);
  });

  it('accepts a CVE on the device with a justification and shows it in the history', async () => {
    const { page, errors } = ops;
    await visit(page, `/devices/${encodeURIComponent(BUILD_BOX)}`, `Device ${BUILD_BOX}`);
    await page
      .getByRole('row', { name: /CVE-2023-38408/ })
      .getByRole('link', { name: 'Accept or mitigate' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Marks' }).waitFor();
    expect(await page.getByLabel('CVE id').inputValue()).toBe('CVE-2023-38408');
    const justification = 'Build box on an isolated VLAN; agent forwarding disabled (ticket OPS-4711)';
    await page.getByLabel('Mark as').selectOption('accepted');
    await page.getByLabel(/Justification/).fill(justification);
    await page.getByRole('button', { name: 'Save mark' }).click();
    await page.getByTestId('mark-history').filter({ hasText: justification }).waitFor();
    // The shot shows the history with the new mark (the form above fills the first screen).
    await page.waitForLoadState('networkidle');
    await page.evaluate(`document.querySelector('[data-testid="mark-history"]').scrollIntoView({ block: 'end' })`);
    await record(page, 'marks');
    // The device's own history shows it too.
    await visit(page, `/devices/${encodeURIComponent(BUILD_BOX)}`, `Device ${BUILD_BOX}`);
    await page.getByTestId('mark-history').filter({ hasText: justification }).waitFor();
    expect(errors).toEqual([]);
  });

  it("downloads the scan's PDF report, which holds every CVE id of the report", async () => {
    const { page, errors } = ops;
    await visit(page, `/reports/${made.scanId}`, /^Report/, 'report');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /PDF/ }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
    const file = path.join(tempDir('console-pdf-'), 'report.pdf');
    await download.saveAs(file);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    const report = await world.system.api<{ cves: { cve_id: string }[] }>('GET', `/scans/cve/${made.scanId}/report.json`);
    const ids = [...new Set(report.cves.map((cve) => cve.cve_id))];
    expect(ids.length).toBeGreaterThan(5);
    expect(ids.filter((id) => !text.includes(id))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('shows the overview, sites and a site (and the overview at phone width)', async () => {
    const { page, errors } = ops;
    await visit(page, '/sites', 'Sites', 'sites');
    await visit(page, `/sites/${world.system.siteId}`, /demo-site/, 'site');
    await page.getByText('site-gw').first().waitFor();
    await visit(page, '/schedules', 'Schedules', 'schedules');
    await visit(page, '/', /overview/i, 'overview');
    await page.getByText('CVE-2018-14847').first().waitFor();
    await page.setViewportSize(PHONE);
    await record(page, 'overview-phone');
    // Tables reflow into labelled cards: every cell names its column.
    expect(await page.locator('tbody td:not([data-label])').count()).toBe(0);
    await visit(page, `/scans/${made.scanId}`, /^Scan/, 'scan-phone');
    await visit(page, `/devices/${encodeURIComponent(BUILD_BOX)}`, `Device ${BUILD_BOX}`, 'device-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(errors).toEqual([]);
  });

  it('lets an admin mint an API token, shown once', async () => {
    const admin = await world.newPage();
    await signIn(admin.page, 'admin@browser.example', PASSWORD);
    await visit(admin.page, '/admin', 'Admin');
    await admin.page.getByLabel('Name', { exact: true }).last().fill('nightly export');
    await admin.page.getByRole('button', { name: 'Mint token' }).click();
    const token = admin.page.getByTestId('token-once');
    await token.waitFor();
    expect(await token.textContent()).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    await record(admin.page, 'admin');
    expect(admin.errors).toEqual([]);
  });

  it('shows a viewer no write control, and refuses their forged writes with 403', async () => {
    const viewer = await world.newPage();
    const { page } = viewer;
    await signIn(page, 'viewer@browser.example', PASSWORD);
    const pages: [string, RegExp | string][] = [
      ['/', /overview/i],
      ['/sites', 'Sites'],
      [`/sites/${world.system.siteId}`, /demo-site/],
      ['/schedules', 'Schedules'],
      [`/schedules/${made.scheduleId}`, /^Schedule/],
      ['/scans', 'Scans'],
      [`/scans/${made.scanId}`, /^Scan/],
      ['/devices', 'Devices'],
      [`/devices/${encodeURIComponent(BUILD_BOX)}`, `Device ${BUILD_BOX}`],
      ['/cves/CVE-2023-38408', /CVE-2023-38408/],
      ['/marks', 'Marks'],
      [`/reports/${made.scanId}`, /^Report/],
    ];
    for (const [route, heading] of pages) {
      await visit(page, route, heading);
      await page.waitForLoadState('networkidle');
      expect(await writeControls(page), route).toEqual([]);
      // The viewer's variant of each page (fewer controls, facts instead of forms) passes axe too.
      await checkAxe(page, `viewer ${route.split('/')[1] || 'overview'}${route.split('/').length > 2 ? ' detail' : ''}`);
    }
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);

    const scansBefore = (await world.system.api<unknown[]>('GET', '/scans/cve?limit=100')).length;
    expect(await forge(page, 'POST', `/scans/cve/scheduled/${made.scheduleId}/invoke`)).toEqual({ status: 403, code: 'scope_missing' });
    expect(await forge(page, 'DELETE', `/scans/cve/scheduled/${made.scheduleId}`)).toEqual({ status: 403, code: 'scope_missing' });
    expect(
      await forge(page, 'POST', '/scans/cve/mac-address/cve/status', {
        mac_address: BUILD_BOX,
        cve_id: 'CVE-2023-38408',
        status: 'mitigated',
        justification: 'forged by a viewer',
        expiration_date: null,
      }),
    ).toEqual({ status: 403, code: 'scope_missing' });
    // Nothing changed: the schedule is there, no scan started.
    await world.system.api('GET', `/scans/cve/scheduled/${made.scheduleId}`);
    expect((await world.system.api<unknown[]>('GET', '/scans/cve?limit=100')).length).toBe(scansBefore);
    expect(viewer.errors).toEqual([]);
  });

  it("answers 404 for another organization's ids, in the API and on the pages", async () => {
    const { page, errors } = ops;
    for (const target of [
      `/scans/cve/scheduled/${other.scheduleId}`,
      `/sites/${other.siteId}`,
      `/scans/cve/${other.scanId}`,
      `/scans/cve/${other.scanId}/report.pdf`,
    ]) {
      expect((await forge(page, 'GET', target)).status, target).toBe(404);
    }
    expect((await forge(page, 'POST', `/scans/cve/scheduled/${other.scheduleId}/invoke`)).status).toBe(404);
    await page.goto(`/#/schedules/${other.scheduleId}`);
    await page.getByRole('alert').filter({ hasText: 'schedule_not_found' }).waitFor();
    await page.goto(`/#/sites/${other.siteId}`);
    await page.getByRole('alert').filter({ hasText: 'site_not_found' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('reconnects a dropped live socket and catches up on what it missed, without a reload', async () => {
    const { page, errors } = await world.newPage();
    // Every live socket of the page goes through here: the test drops one and holds the reconnects back.
    const opened: string[] = [];
    let reachable = true;
    const routes: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/console\/live/, (route) => {
      opened.push(route.url());
      if (!reachable) return void route.close({ code: 1001, reason: 'test: unreachable' });
      route.connectToServer();
      routes.push(route);
    });
    await signIn(page, 'ops@browser.example', PASSWORD);
    await visit(page, '/scans', 'Scans');
    await page.getByText('Live', { exact: true }).waitFor();
    await setMarker(page);

    reachable = false;
    await routes[0]?.close({ code: 1006, reason: 'test: dropped' });
    await page.getByText('Offline, reconnecting').waitFor();
    // While the page is away, a scan starts.
    const { scan_id: missed } = await world.system.api<{ scan_id: string }>('POST', `/scans/cve/scheduled/${made.scheduleId}/invoke`);
    reachable = true;
    await page.getByText('Live', { exact: true }).waitFor();
    await page.locator(`a[href*="${missed}"]`).first().waitFor();
    // It came back asking for what followed its last cursor, in the same document.
    expect(opened.at(-1)).toMatch(/[?&]since=\d+/);
    expect(await hasMarker(page)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('tells an organization with no site yet how to add one', async () => {
    await addOperator(world, 'org-empty', 'first@empty.example', 'admin');
    const { page, errors } = await world.newPage();
    await signIn(page, 'first@empty.example', PASSWORD);
    await page.getByRole('heading', { level: 1, name: /overview/i }).waitFor();
    await page.getByText('cve-control-plane sites add').waitFor();
    await record(page, 'overview-empty');
    await visit(page, '/sites', 'Sites');
    await page.getByText('cve-control-plane sites add').waitFor();
    expect(errors).toEqual([]);
  });

  it('passes axe (WCAG 2 A and AA) on every page with no serious or critical violation', () => {
    const names = axeSummaries.map((summary) => summary.page);
    for (const page of [
      'login',
      'overview-empty',
      'overview',
      'overview-phone',
      'scan-phone',
      'device-phone',
      'sites',
      'site',
      'schedules',
      'schedule-new',
      'schedule',
      'scans',
      'scan',
      'devices',
      'device',
      'cve',
      'marks',
      'report',
      'admin',
    ])
      expect(names, page).toContain(page);
    expect(axeSummaries.filter((summary) => summary.serious.length > 0)).toEqual([]);
  });

  it('refuses a wrong password, then throttles sign-in even with the right one', async () => {
    const { page, errors } = await world.newPage();
    await page.goto('/#/login');
    const error = page.getByTestId('login-error');
    const attempt = async (password: string) => {
      await page.getByLabel('Email').fill('locked@browser.example');
      await page.getByLabel('Password').fill(password);
      const [answer] = await Promise.all([
        page.waitForResponse((response) => response.url().endsWith('/console/session') && response.request().method() === 'POST'),
        page.getByRole('button', { name: 'Sign in' }).click(),
      ]);
      await error.waitFor();
      return answer.status();
    };
    for (let n = 1; n <= 5; n += 1) {
      expect(await attempt(`wrong password ${n}`)).toBe(401);
      expect(await error.textContent()).not.toContain('Too many');
      if (n === 1) await record(page, 'login-refused');
    }
    expect(await attempt(PASSWORD)).toBe(429);
    await error.filter({ hasText: 'Too many failed sign-ins' }).waitFor();
    expect(page.url()).toContain('#/login');
    const answer = await fetch(`${world.url}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'locked@browser.example', password: PASSWORD }),
    });
    expect(answer.status).toBe(429);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
});
