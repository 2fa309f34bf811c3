/**
 * The console's serving: GET / is index.html with the CSP and security headers, /assets/* the
 * hashed bundles with an immutable cache, the API's paths unchanged, and 503 console_not_built
 * when the console was never built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../../src/control-plane/console/static.js';
import { startHarness, type Harness } from '../control-plane/harness.js';

const HOST = '127.0.83.10';
const listen = { listen: { host: HOST, port: 0 } };

describe('a built console', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'console-static-'));
    mkdirSync(path.join(dir, 'console/assets'), { recursive: true });
    writeFileSync(path.join(dir, 'console/index.html'), '<!doctype html><title>t</title><script type="module" src="/assets/index-abc123.js"></script>');
    writeFileSync(path.join(dir, 'console/assets/index-abc123.js'), 'console.log("console");\n');
    h = await startHarness({ dir, config: listen, consoleDir: path.join(dir, 'console') });
  });
  afterAll(async () => {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with the CSP, nosniff and same-origin referrer, and no unsafe-inline', async () => {
    const response = await fetch(`${h.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('/assets/index-abc123.js');
    const csp = response.headers.get('content-security-policy');
    expect(csp).toBe(CONSOLE_CSP);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('serves /assets/* with a year-long immutable cache and the same headers', async () => {
    const response = await fetch(`${h.url}/assets/index-abc123.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toContain('console');
  });

  it('answers a missing asset, or a path out of the assets dir, with the API error object', async () => {
    const missing = await h.request('GET', '/assets/nope-123.js', { token: null });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: expect.any(String), doc_url: expect.any(String) });
    const escape = await h.request('GET', '/assets/..%2findex.html', { token: null });
    expect(escape.status).toBeGreaterThanOrEqual(400);
    expect(escape.text).not.toContain('<title>t</title>');
  });

  it('leaves the API paths as they were', async () => {
    const openapi = await fetch(`${h.url}/openapi.json`);
    expect(openapi.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await openapi.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    expect((await h.request('GET', '/healthz', { token: null })).body).toMatchObject({ status: 'ok' });
    expect((await h.request('GET', '/sites')).status).toBe(200);
    expect((await h.request('GET', '/sites', { token: null })).status).toBe(401);
    expect((await h.request('GET', '/nowhere', { token: null })).status).toBe(404);
    // / serves only GET and HEAD.
    expect((await h.request('POST', '/', { token: null, body: {} })).status).toBe(405);
  });
});

describe('a console never built', () => {
  it('answers GET / and /assets/* with 503 console_not_built, and the API still works', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'console-missing-'));
    const h = await startHarness({ dir, config: listen, consoleDir: path.join(dir, 'no-such-console') });
    try {
      const root = await h.request('GET', '/', { token: null });
      expect(root.status).toBe(503);
      expect(root.body).toMatchObject({ type: 'api_error', code: 'console_not_built', doc_url: `${h.url}/docs/errors/console_not_built` });
      expect((root.body as { message: string }).message).toContain('npm run build');
      const asset = await h.request('GET', '/assets/index-abc123.js', { token: null });
      expect(asset.status).toBe(503);
      expect(asset.body).toMatchObject({ code: 'console_not_built' });
      expect((await h.request('GET', '/sites')).status).toBe(200);
    } finally {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
