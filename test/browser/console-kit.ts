/**
 * What the console tests do on every page: operators stored with real scrypt hashes, a visit that
 * waits for the page's heading then takes its screenshot and its axe pass, a look for write
 * controls, and a forged request from inside the page (the session cookie and the CSRF token).
 */
import type { Page } from 'playwright-core';
import type { OperatorRole } from '../../src/control-plane/store/types.js';
import { checkAxe, screenshot, type ConsoleWorld } from './harness.js';

export const PASSWORD = 'correct horse battery staple';

export async function addOperator(world: ConsoleWorld, org: string, email: string, role: OperatorRole, password = PASSWORD): Promise<void> {
  await world.system.addOperator({ org, email, role, password });
}

/** Goes to a console page (a hash route), waits for its `<h1>` and, when named, screenshots and axe-checks it. */
export async function visit(page: Page, route: string, heading: RegExp | string, name?: string): Promise<void> {
  await page.goto(`/#${route}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  if (name !== undefined) await record(page, name);
}

/** The screenshot (docs/console/<name>.png) and the axe pass of the page as it is now. */
export async function record(page: Page, name: string, fullPage = false): Promise<void> {
  // Nothing still loading in the shot: the page's requests have settled.
  await page.waitForLoadState('networkidle');
  await screenshot(page, name, fullPage);
  await checkAxe(page, name);
}

/** Buttons and links that change something: a viewer must see none of them. */
const WRITE_CONTROL =
  /^(invoke|stop|stop scan|delete|edit|new schedule|create schedule|save changes|save mark|accept or mitigate|add a site|mint token|revoke|remove|add operator)$/i;

export async function writeControls(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const role of ['button', 'link'] as const) {
    for (const control of await page.getByRole(role, { name: WRITE_CONTROL }).all()) {
      if (await control.isVisible()) found.push(`${role} "${(await control.textContent())?.trim() ?? ''}"`);
    }
  }
  // Form fields a viewer could type into (the search and filter fields of lists excepted: they only read).
  for (const field of await page.locator('form.form input:not([disabled]), form.form textarea:not([disabled])').all()) {
    if (await field.isEditable()) found.push(`field #${(await field.getAttribute('id')) ?? '?'}`);
  }
  return found;
}

/** A request made by the page itself, as a forger in the console would: the session cookie and its CSRF token. */
export async function forge(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; code: string | undefined }> {
  const script = `(async () => {
    const session = await (await fetch('/console/session')).json();
    const response = await fetch(${JSON.stringify(path)}, {
      method: ${JSON.stringify(method)},
      headers: { 'x-csrf-token': session.csrf_token${body === undefined ? '' : ", 'content-type': 'application/json'"} },
      body: ${body === undefined ? 'undefined' : JSON.stringify(JSON.stringify(body))},
    });
    const text = await response.text();
    let code;
    try { code = JSON.parse(text).code; } catch {}
    return { status: response.status, code };
  })()`;
  return (await page.evaluate(script)) as { status: number; code: string | undefined };
}
