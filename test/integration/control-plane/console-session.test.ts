import { afterEach, describe, expect, it } from 'vitest';
import { openLive, refusalOf } from '../../helpers/live-client.js';
import { ALL_SCOPES, type Harness } from './harness.js';
import { addOperator, Browser, CONSOLE_HOST, fakeClock, PASSWORD, startConsole } from './console-kit.js';

let h: Harness;
afterEach(async () => h?.stop());

const SCHEDULE_ID = '00000000-0000-4000-8000-000000000000';

describe('console sign-in', () => {
  it('signs in with a session cookie that is HttpOnly, SameSite=Strict, Path=/; a wrong email or password gets one message', async () => {
    h = await startConsole();
    const admin = await addOperator(h, 'org-a', 'Ada@Example.net', 'admin');
    const browser = new Browser(h.url);
    const ok = await browser.login('ada@example.NET');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      operator: { id: admin.id, org_id: 'org-a', email: 'ada@example.net', name: admin.name, role: 'admin' },
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expires_at: expect.any(String),
    });
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cve_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/; Secure/i);
    // Only the cookie's hash is stored.
    expect(JSON.stringify(await h.store.sessions.get(browser.cookie?.split('=')[1] ?? ''))).toBeUndefined();

    const me = await browser.send('GET', '/console/session');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ operator: { email: 'ada@example.net', role: 'admin' }, csrf_token: browser.csrf });

    const wrongPassword = await new Browser(h.url).login('ada@example.net', 'not the password at all');
    const unknownEmail = await new Browser(h.url).login('nobody@example.net');
    for (const refused of [wrongPassword, unknownEmail]) {
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ code: 'login_failed', type: 'authentication_error', message: 'The email or password is wrong.' });
      expect(refused.headers.get('set-cookie')).toBeNull();
    }
    expect((await h.request('GET', '/console/session', { token: null })).body).toMatchObject({ code: 'authentication_required' });
    expect((await new Browser(h.url).send('POST', '/console/session', { body: { email: 'a@b.c' } })).status).toBe(400);
    // Another site cannot sign this browser in (login CSRF).
    const crossSite = await new Browser(h.url).send('POST', '/console/session', {
      body: { email: 'ada@example.net', password: PASSWORD },
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toMatchObject({ code: 'csrf_failed' });
    expect(crossSite.headers.get('set-cookie')).toBeNull();
  });

  it('sets Secure when the public URL is https', async () => {
    h = await startConsole({ config: { public_url: 'https://cve.example.net' } });
    await addOperator(h, 'org-a', 'ada@example.net', 'admin');
    expect((await new Browser(h.url).login('ada@example.net')).headers.get('set-cookie')).toMatch(/; Secure/i);
  });

  it('throttles after 5 failures within 15 minutes: 429 with Retry-After even for the right password, then lets the right one in', async () => {
    const clock = fakeClock();
    h = await startConsole({ clock });
    await addOperator(h, 'org-a', 'ada@example.net', 'operator');
    const browser = new Browser(h.url);
    for (let i = 0; i < 5; i++) {
      expect((await browser.login('ada@example.net', `wrong password ${i}`)).status).toBe(401);
      clock.advance(60_000);
    }
    const throttled = await browser.login('ada@example.net', PASSWORD);
    expect(throttled.status).toBe(429);
    expect(throttled.body).toMatchObject({ code: 'login_throttled' });
    // The first failure was 5 minutes ago: it leaves the 15-minute window in 10 minutes.
    expect(throttled.headers.get('retry-after')).toBe('600');
    clock.advance(599_000);
    expect((await browser.login('ada@example.net', PASSWORD)).status).toBe(429);
    clock.advance(1_000);
    expect((await browser.login('ada@example.net', PASSWORD)).status).toBe(200);
  });

  it('throttles one client address that tries many emails', async () => {
    const clock = fakeClock();
    h = await startConsole({ clock });
    await addOperator(h, 'org-a', 'bob@example.net', 'viewer');
    for (let i = 0; i < 5; i++) expect((await new Browser(h.url).login(`guess${i}@example.net`)).status).toBe(401);
    const throttled = await new Browser(h.url).login('bob@example.net');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBe(900);
    clock.advance(900_000);
    expect((await new Browser(h.url).login('bob@example.net')).status).toBe(200);
  });
});

describe('behind a TLS proxy', () => {
  it('throttles by the client address the trusted proxy forwards, and makes the cookie Secure over https', async () => {
    h = await startConsole({ config: { listen: { host: CONSOLE_HOST, port: 0, trust_proxy: ['127.0.0.0/8'] } } });
    await addOperator(h, 'org-a', 'bob@example.net', 'viewer');
    const from = (ip: string) => ({ 'x-forwarded-for': ip, 'x-forwarded-proto': 'https' });
    for (let i = 0; i < 5; i++) expect((await new Browser(h.url).login(`guess${i}@example.net`, PASSWORD, from('203.0.113.7'))).status).toBe(401);
    expect((await new Browser(h.url).login('bob@example.net', PASSWORD, from('203.0.113.7'))).status).toBe(429);
    const elsewhere = await new Browser(h.url).login('bob@example.net', PASSWORD, from('203.0.113.8'));
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get('set-cookie')).toMatch(/; Secure/i);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    h = await startConsole();
    await addOperator(h, 'org-a', 'bob@example.net', 'viewer');
    for (let i = 0; i < 5; i++) await new Browser(h.url).login(`guess${i}@example.net`, PASSWORD, { 'x-forwarded-for': `203.0.113.${i}` });
    expect((await new Browser(h.url).login('bob@example.net', PASSWORD, { 'x-forwarded-for': '203.0.113.99' })).status).toBe(429);
  });
});

describe('a console session on the API', () => {
  it('is refused a write without the CSRF token, with a wrong one or from another origin, and nothing changes', async () => {
    h = await startConsole();
    await addOperator(h, 'org-a', 'ada@example.net', 'operator');
    const browser = new Browser(h.url);
    await browser.login('ada@example.net');
    const site = await h.addSite('org-a');
    const body = {
      description: 'weekly',
      day_of_week: 1,
      time_of_day: '02:00',
      every_n_weeks: 2,
      timezone: 'UTC',
      min_cvss: 4,
      warning_threshold: 7,
      ignore_offline_sites: false,
      notification_group: 'security-alerts',
      sites: [{ id: site.id, subnet: '192.168.88.0/24' }],
    };
    for (const [csrf, origin] of [
      [null, undefined],
      ['x'.repeat(43), undefined],
      [undefined, 'http://evil.example'],
    ] as const) {
      const refused = await browser.send('POST', '/scans/cve/scheduled', { body, csrf, origin });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'csrf_failed', type: 'permission_error' });
    }
    expect(await h.store.schedules.list('org-a')).toEqual([]);
    const created = await browser.send('POST', '/scans/cve/scheduled', { body, origin: `http://${CONSOLE_HOST}:${new URL(h.url).port}` });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await browser.send('GET', '/scans/cve/scheduled')).body).toHaveLength(1);
    // A bearer needs no CSRF token, even when the client also holds a cookie.
    expect((await browser.send('POST', '/scans/cve/scheduled', { body, csrf: null, bearer: await h.jwt({ scope: ALL_SCOPES }) })).status).toBe(201);
  });

  it('gives a viewer read scopes only: a forged write is 403 scope_missing', async () => {
    h = await startConsole();
    await addOperator(h, 'org-a', 'vic@example.net', 'viewer');
    const browser = new Browser(h.url);
    await browser.login('vic@example.net');
    expect((await browser.send('GET', '/scans/cve')).status).toBe(200);
    const forged = await browser.send('DELETE', `/scans/cve/scheduled/${SCHEDULE_ID}`);
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ code: 'scope_missing' });
  });

  it('signs out here (the cookie is cleared and dead) and everywhere (every session of the operator ends)', async () => {
    h = await startConsole();
    await addOperator(h, 'org-a', 'ada@example.net', 'operator');
    await addOperator(h, 'org-a', 'eve@example.net', 'operator');
    const [laptop, phone, tablet, other] = [new Browser(h.url), new Browser(h.url), new Browser(h.url), new Browser(h.url)];
    for (const b of [laptop, phone, tablet]) expect((await b.login('ada@example.net')).status).toBe(200);
    await other.login('eve@example.net');

    expect((await tablet.send('DELETE', '/console/session', { csrf: null })).status).toBe(403);
    const out = await tablet.send('DELETE', '/console/session');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^cve_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await tablet.send('GET', '/console/session')).status).toBe(401);
    expect((await laptop.send('GET', '/console/session')).status).toBe(200);

    expect((await laptop.send('DELETE', '/console/sessions')).status).toBe(204);
    for (const b of [laptop, phone]) expect((await b.send('GET', '/scans/cve')).body).toMatchObject({ code: 'authentication_required' });
    expect((await other.send('GET', '/console/session')).status).toBe(200);
    expect((await laptop.login('ada@example.net')).status).toBe(200);
  });

  it('ends after the idle time and after the absolute time', async () => {
    const clock = fakeClock();
    h = await startConsole({ clock, config: { console: { session_idle_minutes: 60, session_max_hours: 2 } } });
    await addOperator(h, 'org-a', 'ada@example.net', 'viewer');
    const idle = new Browser(h.url);
    const busy = new Browser(h.url);
    await idle.login('ada@example.net');
    await busy.login('ada@example.net');
    for (let step = 0; step < 2; step++) {
      clock.advance(50 * 60_000);
      expect((await busy.send('GET', '/console/session')).status, `after ${(step + 1) * 50} minutes`).toBe(200);
    }
    expect((await idle.send('GET', '/console/session')).status).toBe(401);
    // 100 minutes in, busy all along: the 2-hour cap still ends it.
    clock.advance(21 * 60_000);
    expect((await busy.send('GET', '/console/session')).status).toBe(401);
  });

  it('opens the live socket with the session cookie alone, and not once signed out', async () => {
    h = await startConsole();
    await addOperator(h, 'org-a', 'vic@example.net', 'viewer');
    const browser = new Browser(h.url);
    await browser.login('vic@example.net');
    const client = await openLive(h.url, { headers: { cookie: browser.cookie ?? '' } });
    await client.waitFor((m) => m.type === 'hello');
    expect(client.messages[0]).toMatchObject({ type: 'hello', org_id: 'org-a' });
    client.ws.terminate();
    await browser.send('DELETE', '/console/session');
    expect((await refusalOf(openLive(h.url, { headers: { cookie: browser.cookie ?? '' } }))).status).toBe(401);
  });
});
