import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSiteToken } from '../../../src/control-plane/hub/tokens.js';
import { startNginx, type Balancer } from '../../helpers/cluster.js';
import { tempDir } from '../../helpers/temp.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { startHarness, type Harness } from './harness.js';

const HOST = process.env.TEST_LISTEN_HOST ?? '127.0.0.1';
/** Two more addresses of the same loopback block, for clients that nginx must tell apart. */
const client = (n: number) => `${HOST.split('.').slice(0, 3).join('.')}.${200 + n}`;

let nodes: Harness[] = [];
let nginx: Balancer | undefined;
afterEach(async () => {
  await nginx?.stop();
  nginx = undefined;
  await Promise.all(nodes.map((node) => node.stop()));
  nodes = [];
});

/** A GET from a chosen local address (fetch cannot choose one). */
function get(url: string, path: string, from: string, token: string): Promise<{ status: number; retryAfter: string | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { localAddress: from, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('docs/deploy/nginx-cve-control-plane.conf in front of two nodes', () => {
  it('passes REST, the health checks and the agents WebSocket upgrade, and the client address for per-address limits', async () => {
    const config = { rate_limit: { per_address_per_minute: 3 }, listen: { host: HOST, port: 0, trust_proxy: [`${HOST.split('.')[0]}.0.0.0/8`] } };
    nodes = [await startHarness({ config }), await startHarness({ config })];
    const [a, b] = nodes as [Harness, Harness];
    nginx = await startNginx({ dir: tempDir('nginx-'), host: HOST, upstreams: nodes.map((node) => new URL(node.url).host) });
    const balancer = nginx.url;

    expect(await (await fetch(`${balancer}/readyz`)).json()).toEqual({ status: 'ready' });
    expect(await (await fetch(`${balancer}/healthz`)).json()).toMatchObject({ status: 'ok' });

    // Each node counts its own: one client gets up to 2 × 3 through the balancer, then 429 with Retry-After.
    const token = await a.jwt();
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push(await get(balancer, '/sites', client(1), token));
    const admitted = answers.filter((answer) => answer.status === 200).length;
    expect(admitted).toBeGreaterThan(3);
    expect(admitted).toBeLessThanOrEqual(6);
    const refused = answers.find((answer) => answer.status === 429);
    expect(refused?.body).toMatchObject({ code: 'rate_limited' });
    expect(Number(refused?.retryAfter)).toBeGreaterThanOrEqual(1);
    // X-Forwarded-For reached the nodes: another client is not limited with the first.
    expect((await get(balancer, '/sites', client(2), token)).status).toBe(200);

    // The agents' WebSocket through nginx (Upgrade and Connection passed on), whichever node it lands on.
    const site = await a.addSite('org-a');
    const row = await a.store.sites.get(site.id);
    await b.store.sites.create({ ...(row as NonNullable<typeof row>), token_hash: hashSiteToken(site.token) });
    const agent = new SimulatedAgent({ url: balancer, token: site.token, siteId: site.id });
    await agent.connect();
    expect(agent.connected).toBe(true);
    expect(a.cp.hub.connected + b.cp.hub.connected).toBe(1);
    await agent.close();
  });
});
