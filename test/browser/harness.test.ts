import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAxe, hasMarker, setMarker, startConsoleWorld, type ConsoleWorld } from './harness.js';

describe('the browser harness', () => {
  let world: ConsoleWorld;
  beforeAll(async () => {
    world = await startConsoleWorld();
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('drives Debian chromium against the real control plane on its loopback address', async () => {
    expect(world.url).toMatch(/^http:\/\/127\.0\.85\.1:\d+$/);
    const { page } = await world.newPage();
    const response = await page.goto('/openapi.json');
    expect(response?.status()).toBe(200);
    expect(await response?.json()).toHaveProperty('openapi');
    // The agent of the demo's site is connected to that control plane.
    expect(world.system.agent.uplink?.connected).toBe(true);
  });

  it('counts serious and critical axe violations, so a page without labels fails', async () => {
    const { page } = await world.newPage();
    await page.setContent('<!doctype html><html lang="en"><title>t</title><main><h1>t</h1><input id="q"></main></html>');
    expect((await checkAxe(page, 'unlabelled')).serious.map((violation) => violation.id)).toEqual(['label']);
    await page.setContent('<!doctype html><html lang="en"><title>t</title><main><h1>t</h1><label for="q">Search</label><input id="q"></main></html>');
    expect((await checkAxe(page, 'labelled')).serious).toEqual([]);
  });

  it('tells a reload from an in-page change', async () => {
    const { page } = await world.newPage();
    await page.goto('/openapi.json');
    await setMarker(page);
    await page.evaluate('history.pushState(null, "", "#/elsewhere")');
    expect(await hasMarker(page)).toBe(true);
    await page.reload();
    expect(await hasMarker(page)).toBe(false);
  });

  it("collects what the console's CSP refuses, so a page that needs unsafe-inline fails its test", async () => {
    const { page, errors } = await world.newPage();
    const response = await page.goto('/');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.evaluate("document.body.append(Object.assign(document.createElement('script'), { textContent: 'window.inlineRan = true' }))");
    await expect.poll(() => errors.join('\n')).toContain('CSP violation: script-src');
    expect(await page.evaluate('window.inlineRan === true')).toBe(false);
  });
});
