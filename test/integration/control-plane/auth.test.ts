import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { JWT_SECRET, loadContract, startHarness, type Harness } from './harness.js';

let h: Harness;
let jwks: Server | undefined;
afterEach(async () => {
  await h.stop();
  await new Promise((resolve) => (jwks ? jwks.close(resolve) : resolve(undefined)));
  jwks = undefined;
});

const errorOf = (code: string, type: string) => ({
  type,
  code,
  message: expect.any(String),
  doc_url: expect.stringMatching(new RegExp(`/docs/errors/${code}$`)),
});

describe('JWT bearer auth', () => {
  it('answers 401 for no token, a malformed header, a bad signature, an expired token or one without org', async () => {
    h = await startHarness();
    const contract = await loadContract(h.url);
    const cases: [string | null, string][] = [
      [null, 'authentication_required'],
      ['not-a-jwt', 'token_invalid'],
      [await h.jwt({}, 'another-secret-that-is-also-long-enough-1234567890'), 'token_invalid'],
      [await h.jwt({ exp: Math.floor(Date.now() / 1000) - 3600 }), 'token_expired'],
      [
        await new SignJWT({ scope: 'cve:view' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('u')
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(JWT_SECRET)),
        'token_invalid',
      ],
      [
        await new SignJWT({ org: 'org-a', scope: 'cve:view' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').sign(new TextEncoder().encode(JWT_SECRET)),
        'token_invalid',
      ],
    ];
    for (const [token, code] of cases) {
      const response = await h.request('GET', '/scans/cve/scheduled', { token });
      expect(response.status, code).toBe(401);
      expect(response.body).toEqual(errorOf(code, 'authentication_error'));
      contract.check('GET', '/scans/cve/scheduled', response);
    }
    const header = await fetch(`${h.url}/scans/cve/scheduled`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(header.status).toBe(401);
    // Authentication comes before the body is even parsed.
    const unauthenticatedGarbage = await h.request('POST', '/scans/cve/scheduled', { token: null, raw: '{oops' });
    expect(unauthenticatedGarbage.body).toMatchObject({ code: 'authentication_required' });
    expect((await h.request('POST', '/scans/cve/scheduled', { token: await h.jwt({ scope: 'cve:view' }), raw: '{oops' })).body).toMatchObject({
      code: 'scope_missing',
    });
  });

  it('refuses an alg=none token even with the right claims', async () => {
    h = await startHarness();
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u', org: 'org-a', scope: 'cve:view', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    expect((await h.request('GET', '/scans/cve/scheduled', { token: unsigned })).status).toBe(401);
  });

  it('answers 403 scope_missing when the token lacks the route scope, per method', async () => {
    h = await startHarness();
    const viewer = await h.jwt({ scope: 'cve:view' });
    expect((await h.request('GET', '/scans/cve/scheduled', { token: viewer })).status).toBe(200);
    for (const [method, path, scope] of [
      ['POST', '/scans/cve/scheduled', 'cve:create'],
      ['PUT', '/scans/cve/scheduled/00000000-0000-4000-8000-000000000000', 'cve:update'],
      ['DELETE', '/scans/cve/scheduled/00000000-0000-4000-8000-000000000000', 'cve:delete'],
      ['DELETE', '/scans/cve/scheduled/00000000-0000-4000-8000-000000000000/invoke', 'cve:update'],
      ['POST', '/scans/cve/mac-address/cve/status', 'cve:update'],
    ] as const) {
      const response = await h.request(method, path, { token: viewer, body: {} });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body).toEqual(errorOf('scope_missing', 'permission_error'));
      expect((response.body as { message: string }).message).toContain(scope);
    }
    expect((await h.request('GET', '/scans/cve', { token: await h.jwt({ scope: 'cve:create' }) })).status).toBe(403);
  });

  it('leaves /openapi.json, /healthz and the error pages open, and points doc_url at them', async () => {
    h = await startHarness();
    expect((await h.request('GET', '/healthz', { token: null })).body).toMatchObject({ status: 'ok', agents_connected: 0 });
    expect((await h.request('GET', '/openapi.json', { token: null })).status).toBe(200);
    const denied = await h.request('GET', '/scans/cve', { token: null });
    const page = await fetch((denied.body as { doc_url: string }).doc_url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('How to solve');
    expect((await h.request('GET', '/docs/errors/no_such_code', { token: null })).body).toMatchObject({ code: 'route_not_found' });
  });

  it('verifies RS256 tokens against a JWKS URL, and answers 503 when the key set cannot be fetched', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    let up = false;
    jwks = createServer((_req, res) => {
      if (!up) return res.destroy();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks?.listen(0, '127.0.0.1', resolve));
    const port = (jwks.address() as { port: number }).port;
    h = await startHarness({ config: { auth: { jwks_url: `http://127.0.0.1:${port}/jwks.json`, issuer: 'https://id.test/', audience: 'cve-api' } } });
    const sign = (claims: Record<string, unknown>, iss = 'https://id.test/') =>
      new SignJWT({ org: 'org-a', scope: 'cve:view', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('u')
        .setIssuer(iss)
        .setAudience('cve-api')
        .setExpirationTime('5m')
        .sign(privateKey);
    const unavailable = await h.request('GET', '/scans/cve', { token: await sign({}) });
    expect(unavailable.status).toBe(503);
    expect(unavailable.body).toEqual(errorOf('auth_unavailable', 'api_error'));
    up = true;
    expect((await h.request('GET', '/scans/cve', { token: await sign({}) })).status).toBe(200);
    expect((await h.request('GET', '/scans/cve', { token: await sign({}, 'https://evil.test/') })).body).toMatchObject({ code: 'token_invalid' });
    // An HS256 token signed with the public key's bytes (the classic confusion) is refused.
    expect((await h.request('GET', '/scans/cve', { token: await h.jwt({}, JSON.stringify(jwk)) })).status).toBe(401);
    const { privateKey: otherKey } = await generateKeyPair('RS256');
    const stranger = await new SignJWT({ org: 'org-a', scope: 'cve:view' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('u')
      .setIssuer('https://id.test/')
      .setAudience('cve-api')
      .setExpirationTime('5m')
      .sign(otherKey);
    expect((await h.request('GET', '/scans/cve', { token: stranger })).body).toMatchObject({ code: 'token_invalid' });
  });
});
