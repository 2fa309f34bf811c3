import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { addOperator, Browser } from './console-kit.js';
import { loadContract, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const schedule = (siteId: string) => ({
  description: 'refused or not',
  day_of_week: 1,
  time_of_day: '02:00',
  every_n_weeks: 1,
  timezone: 'UTC',
  min_cvss: 4,
  warning_threshold: 7,
  ignore_offline_sites: false,
  notification_group: 'security-alerts',
  sites: [{ id: siteId, subnet: '192.168.1.0/24' }],
});

/** A request as from `from` (X-Forwarded-For, believed from loopback: listen.trust_proxy), or from the socket's own address. */
async function send(url: string, method: string, path: string, options: { token?: string; from?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.from !== undefined) headers['x-forwarded-for'] = options.from;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

const refusal = (url: string, what: string, max: number) => ({
  type: 'invalid_request_error',
  code: 'rate_limited',
  message: expect.stringContaining(`Too many requests ${what}: at most ${max} a minute on this node`) as string,
  doc_url: `${url}/docs/errors/rate_limited`,
});

describe('request rate limits', () => {
  it('per client address: the next request is 429 with Retry-After and the error object, changes nothing; other addresses, health checks and agents pass', async () => {
    h = await startHarness({
      config: {
        rate_limit: { per_address_per_minute: 4 },
        listen: { host: process.env.TEST_LISTEN_HOST ?? '127.0.0.1', port: 0, trust_proxy: ['127.0.0.0/8'] },
      },
    });
    const { url } = h;
    const contract = await loadContract(url);
    const site = await h.addSite('org-a');
    const token = await h.jwt();
    for (let i = 0; i < 3; i++) expect((await send(url, 'GET', '/scans/cve/scheduled', { token, from: '198.51.100.7' })).status).toBe(200);
    // The fourth is the last admitted (the contract check read /openapi.json from the socket's own address, not this one).
    expect((await send(url, 'GET', '/sites', { token, from: '198.51.100.7' })).status).toBe(200);

    const refused = await send(url, 'POST', '/scans/cve/scheduled', { token, from: '198.51.100.7', body: schedule(site.id) });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(refusal(url, 'from this address', 4));
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    contract.check('POST', '/scans/cve/scheduled', refused);
    // Refused before authentication: not even an invalid token is looked at.
    expect((await send(url, 'GET', '/scans/cve/scheduled', { token: 'not-a-jwt', from: '198.51.100.7' })).status).toBe(429);

    // The balancer's checks are never counted.
    expect((await send(url, 'GET', '/healthz', { from: '198.51.100.7' })).status).toBe(200);
    expect((await send(url, 'GET', '/readyz', { from: '198.51.100.7' })).status).toBe(200);
    // Another address is unaffected, and sees that the refused write created nothing.
    const listed = await send(url, 'GET', '/scans/cve/scheduled', { token, from: '198.51.100.8' });
    expect(listed).toMatchObject({ status: 200, body: [] });
    // An agent's WebSocket upgrade from the exhausted address is not counted.
    const agent = new SimulatedAgent({ url, token: site.token, siteId: site.id });
    await agent.connect({ 'x-forwarded-for': '198.51.100.7' });
    expect(agent.connected).toBe(true);
    await agent.close();
  });

  it('per token (its org and subject) or console session: 429 for that caller only, nothing changed by the refused write', async () => {
    h = await startHarness({ config: { rate_limit: { per_token_per_minute: 3 } } });
    const { url } = h;
    const site = await h.addSite('org-a');
    const alice = await h.jwt({ sub: 'alice' });
    for (let i = 0; i < 3; i++) expect((await send(url, 'GET', '/scans/cve/scheduled', { token: alice })).status).toBe(200);
    const refused = await send(url, 'POST', '/scans/cve/scheduled', { token: alice, body: schedule(site.id) });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(refusal(url, 'with this token', 3));
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another token of the same subject and organization shares the budget.
    expect((await send(url, 'GET', '/sites', { token: await h.jwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 900 }) })).status).toBe(429);
    // Another subject is unaffected, and finds no schedule: the refused write stored nothing.
    const bob = await h.jwt({ sub: 'bob' });
    expect(await send(url, 'GET', '/scans/cve/scheduled', { token: bob })).toMatchObject({ status: 200, body: [] });
    // A token forged with alice's claims is refused as invalid (401), never as hers.
    expect((await send(url, 'GET', '/sites', { token: await h.jwt({ sub: 'alice' }, 'another-secret-of-at-least-thirty-two-bytes!!') })).status).toBe(401);

    // A console session is a budget of its own; signing in is counted by address only.
    await addOperator(h, 'org-a', 'ops@a.test', 'operator');
    const first = new Browser(url);
    const second = new Browser(url);
    expect((await first.login('ops@a.test')).status).toBe(200);
    expect((await second.login('ops@a.test')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await first.send('GET', '/sites')).status).toBe(200);
    const throttled = await first.send('GET', '/sites');
    expect(throttled).toMatchObject({ status: 429, body: refusal(url, 'in this console session', 3) });
    expect((await second.send('GET', '/sites')).status).toBe(200);
  });
});
