import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from './harness.js';
import { addOperator, Browser, PASSWORD, startConsole } from './console-kit.js';

let h: Harness;
afterEach(async () => h?.stop());

const MISSING = '00000000-0000-4000-8000-000000000000';

async function signedIn(email: string): Promise<Browser> {
  const browser = new Browser(h.url);
  expect((await browser.login(email)).status).toBe(200);
  return browser;
}

describe('console admin: operators', () => {
  it('lets an admin list, add and remove the organization’s operators; an operator role gets 403 on all of it', async () => {
    h = await startConsole();
    const ada = await addOperator(h, 'org-a', 'ada@example.net', 'admin');
    const olga = await addOperator(h, 'org-a', 'olga@example.net', 'operator');
    const stranger = await addOperator(h, 'org-b', 'zed@example.net', 'admin');
    const admin = await signedIn('ada@example.net');
    const operator = await signedIn('olga@example.net');

    for (const [method, path, body] of [
      ['GET', '/console/operators', undefined],
      ['POST', '/console/operators', { email: 'x@example.net', name: 'X', role: 'viewer', password: PASSWORD }],
      ['DELETE', `/console/operators/${ada.id}`, undefined],
      ['GET', '/console/tokens', undefined],
      ['POST', '/console/tokens', { name: 't', scopes: ['cve:view'], expires_in_days: 1 }],
      ['DELETE', `/console/tokens/${MISSING}`, undefined],
    ] as const) {
      const refused = await operator.send(method, path, { body });
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body).toMatchObject({ code: 'scope_missing', message: expect.stringContaining('cp:admin') });
    }

    const listed = await admin.send('GET', '/console/operators');
    expect(listed.body).toEqual([
      { id: ada.id, email: 'ada@example.net', name: 'ada', role: 'admin', created_at: ada.created_at },
      { id: olga.id, email: 'olga@example.net', name: 'olga', role: 'operator', created_at: olga.created_at },
    ]);

    const added = await admin.send('POST', '/console/operators', { body: { email: ' Vic@Example.net ', name: 'Vic', role: 'viewer', password: PASSWORD } });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ id: expect.any(String), email: 'vic@example.net', name: 'Vic', role: 'viewer', created_at: expect.any(String) });
    expect(JSON.stringify(added.body)).not.toContain('scrypt');
    const vic = await signedIn('vic@example.net');
    expect((await vic.send('GET', '/console/session')).body).toMatchObject({ operator: { role: 'viewer', org_id: 'org-a' } });

    const duplicate = await admin.send('POST', '/console/operators', { body: { email: 'ZED@example.net', name: 'Z', role: 'viewer', password: PASSWORD } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ code: 'operator_exists' });
    const short = await admin.send('POST', '/console/operators', { body: { email: 'w@example.net', name: 'W', role: 'viewer', password: 'short' } });
    expect(short.status).toBe(422);
    expect(short.body).toMatchObject({ code: 'parameter_invalid', message: expect.stringContaining('password: expected at least 12 characters') });
    const badRole = await admin.send('POST', '/console/operators', { body: { email: 'w@example.net', name: 'W', role: 'root', password: PASSWORD } });
    expect(badRole.body).toMatchObject({ code: 'parameter_invalid', message: expect.stringContaining('role') });
    expect(await h.store.operators.byEmail('w@example.net')).toBeUndefined();

    // Another organization's operator, an unknown id and a non-UUID are all 404; yourself is 409.
    for (const id of [stranger.id, MISSING, 'not-a-uuid']) {
      expect((await admin.send('DELETE', `/console/operators/${id}`)).body, id).toMatchObject({ code: 'operator_not_found' });
    }
    expect(await h.store.operators.get(stranger.id)).toBeDefined();
    expect((await admin.send('DELETE', `/console/operators/${ada.id}`)).body).toMatchObject({ code: 'operator_self' });

    const removed = await admin.send('DELETE', `/console/operators/${(added.body as { id: string }).id}`);
    expect(removed.status).toBe(204);
    // The removed operator's session is gone with it.
    expect((await vic.send('GET', '/scans/cve')).status).toBe(401);
  });
});

describe('console admin: API tokens', () => {
  it('mints a token shown once that works as a bearer until it is revoked; another organization’s token is 404', async () => {
    h = await startConsole();
    await addOperator(h, 'org-a', 'ada@example.net', 'admin');
    await addOperator(h, 'org-b', 'zed@example.net', 'admin');
    const admin = await signedIn('ada@example.net');
    const other = await signedIn('zed@example.net');

    const minted = await admin.send('POST', '/console/tokens', { body: { name: 'ci pipeline', scopes: ['cve:view', 'cve:create'], expires_in_days: 30 } });
    expect(minted.status).toBe(201);
    const token = minted.body as { id: string; name: string; scopes: string[]; expires_at: string; token: string };
    expect(token).toEqual({
      id: expect.any(String),
      name: 'ci pipeline',
      scopes: ['cve:view', 'cve:create'],
      expires_at: expect.any(String),
      token: expect.any(String),
    });
    expect(Date.parse(token.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const asBearer = await h.request('GET', '/scans/cve', { token: token.token });
    expect(asBearer.status).toBe(200);
    expect((await h.request('DELETE', `/scans/cve/scheduled/${MISSING}`, { token: token.token })).body).toMatchObject({ code: 'scope_missing' });

    const list = await admin.send('GET', '/console/tokens');
    expect(list.body).toEqual([
      {
        id: token.id,
        name: 'ci pipeline',
        scopes: ['cve:view', 'cve:create'],
        created_by: 'ada@example.net',
        created_at: expect.any(String),
        expires_at: token.expires_at,
        revoked_at: null,
      },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(token.token);
    expect((await other.send('GET', '/console/tokens')).body).toEqual([]);

    // Org B cannot see or revoke it.
    expect((await other.send('DELETE', `/console/tokens/${token.id}`)).body).toMatchObject({ code: 'token_not_found' });
    expect((await h.request('GET', '/scans/cve', { token: token.token })).status).toBe(200);
    expect((await admin.send('DELETE', `/console/tokens/${MISSING}`)).status).toBe(404);

    expect((await admin.send('DELETE', `/console/tokens/${token.id}`)).status).toBe(204);
    const revoked = await h.request('GET', '/scans/cve', { token: token.token });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ code: 'token_revoked', type: 'authentication_error' });
    expect(((await admin.send('GET', '/console/tokens')).body as { revoked_at: string | null }[])[0]?.revoked_at).toEqual(expect.any(String));
  });

  it('refuses bad mint requests and never mints past the caller’s own scopes', async () => {
    h = await startConsole();
    await addOperator(h, 'org-a', 'ada@example.net', 'admin');
    const admin = await signedIn('ada@example.net');
    for (const body of [
      { name: 't', scopes: ['cve:everything'], expires_in_days: 1 },
      { name: 't', scopes: ['cve:view'], expires_in_days: 366 },
      { name: 't', scopes: [], expires_in_days: 1 },
      { name: '', scopes: ['cve:view'], expires_in_days: 1 },
    ]) {
      const refused = await admin.send('POST', '/console/tokens', { body });
      expect(refused.status, JSON.stringify(body)).toBe(422);
      expect(refused.body).toMatchObject({ code: 'parameter_invalid' });
    }
    const onlyAdmin = await h.jwt({ scope: 'cp:admin' });
    const escalation = await h.request('POST', '/console/tokens', { token: onlyAdmin, body: { name: 't', scopes: ['cve:delete'], expires_in_days: 1 } });
    expect(escalation.status).toBe(403);
    expect(escalation.body).toMatchObject({ code: 'scope_missing' });
    expect(await h.store.apiTokens.list('org-a')).toEqual([]);
  });

  it('answers 409 token_minting_unavailable when tokens are verified with an identity provider’s JWKS', async () => {
    h = await startConsole({ config: { auth: { jwks_url: 'http://127.0.80.2:9/jwks.json' } } });
    await addOperator(h, 'org-a', 'ada@example.net', 'admin');
    const admin = await signedIn('ada@example.net');
    const refused = await admin.send('POST', '/console/tokens', { body: { name: 't', scopes: ['cve:view'], expires_in_days: 1 } });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'token_minting_unavailable', type: 'conflict_error' });
  });
});
