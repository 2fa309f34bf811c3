/**
 * Item 10: tenants see only their own data. Organization A has a schedule, a finished scan with a
 * finding, and a mark; every route asked with organization B's token answers 404 or an empty
 * answer for A's ids and data, and a CVE both found shows each its own per-device facts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { loadContract, startHarness, type Contract, type Harness } from './harness.js';

let h: Harness;
let contract: Contract;
const agents: SimulatedAgent[] = [];
const MAC_A = '4C:5E:0C:AA:BB:01';
const MAC_B = '4C:5E:0C:BB:BB:02';
const A: { token: string; site: string; schedule: string; scan: string } = { token: '', site: '', schedule: '', scan: '' };
let tokenB = '';

async function scanWith(org: string, mac: string, cveId: string, advice: string | null, fixed: string[]): Promise<string> {
  const site = await h.addSite(org);
  const agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
  agents.push(agent);
  await agent.connect();
  const runId = newRunId();
  agent.report(scanStatus({ runId }));
  agent.report(host(runId, '192.168.88.1', mac));
  const report = finding(runId, '192.168.88.1', mac, cveId, 9.1);
  agent.report({ ...report, cve: { ...(report as { cve: Record<string, unknown> }).cve, advice, fixed_versions: fixed } } as typeof report);
  agent.report(finished(runId, 1));
  await agent.drained();
  return site.id;
}

beforeAll(async () => {
  h = await startHarness();
  contract = await loadContract(h.url);
  A.token = await h.jwt({ org: 'org-a' });
  tokenB = await h.jwt({ org: 'org-b' });
  A.site = await scanWith('org-a', MAC_A, 'CVE-2018-14847', 'Upgrade the Main Office router to 6.42.1 (advice for org A).', ['6.42.1']);
  const schedule = await h.request('POST', '/scans/cve/scheduled', {
    token: A.token,
    body: {
      description: 'org A schedule',
      day_of_week: 1,
      time_of_day: '02:00',
      every_n_weeks: 2,
      timezone: 'UTC',
      min_cvss: 4,
      warning_threshold: 7,
      notification_group: 'security-alerts',
      sites: [{ id: A.site, subnet: '192.168.88.0/24' }],
    },
  });
  A.schedule = (schedule.body as { id: string }).id;
  A.scan = ((await h.request('GET', '/scans/cve', { token: A.token })).body as { id: string }[])[0]?.id as string;
  // A scan of the schedule too (its agent is online), after the finished local scan was noted.
  expect((await h.request('POST', `/scans/cve/scheduled/${A.schedule}/invoke`, { token: A.token })).status).toBe(202);
  const mark = await h.request('POST', '/scans/cve/mac-address/cve/status', {
    token: A.token,
    body: { mac_address: MAC_A, cve_id: 'CVE-2018-14847', status: 'accepted', justification: 'compensating control in place' },
  });
  expect(mark.status).toBe(201);
}, 30_000);
afterAll(async () => {
  for (const agent of agents) agent.drop();
  await h.stop();
});

type Expectation = { status: 404 } | { status: 200; empty: (body: unknown) => unknown };

const routes: [string, () => { method: string; path: string; body?: unknown }, Expectation][] = [
  ['list schedules', () => ({ method: 'GET', path: '/scans/cve/scheduled' }), { status: 200, empty: (b) => b }],
  ['get schedule', () => ({ method: 'GET', path: `/scans/cve/scheduled/${A.schedule}` }), { status: 404 }],
  ['replace schedule', () => ({ method: 'PUT', path: `/scans/cve/scheduled/${A.schedule}`, body: {} }), { status: 404 }],
  ['delete schedule', () => ({ method: 'DELETE', path: `/scans/cve/scheduled/${A.schedule}` }), { status: 404 }],
  ['invoke', () => ({ method: 'POST', path: `/scans/cve/scheduled/${A.schedule}/invoke` }), { status: 404 }],
  ['stop', () => ({ method: 'DELETE', path: `/scans/cve/scheduled/${A.schedule}/invoke` }), { status: 404 }],
  [
    'single-ip',
    () => ({ method: 'POST', path: '/scans/cve/scheduled/single-ip', body: { schedule_id: A.schedule, site_id: A.site, ip_address: '192.168.88.1' } }),
    { status: 404 },
  ],
  [
    'multiple-ips',
    () => ({ method: 'POST', path: '/scans/cve/scan/multiple-ips', body: { schedule_id: A.schedule, site_id: A.site, ips: ['192.168.88.1'] } }),
    { status: 404 },
  ],
  ['list scans', () => ({ method: 'GET', path: '/scans/cve' }), { status: 200, empty: (b) => b }],
  ['list scans of a schedule', () => ({ method: 'GET', path: `/scans/cve?scan_schedule_id=${A.schedule}` }), { status: 200, empty: (b) => b }],
  ['get scan', () => ({ method: 'GET', path: `/scans/cve/${A.scan}` }), { status: 404 }],
  ['schedule status', () => ({ method: 'GET', path: `/scans/cve/${A.schedule}/status` }), { status: 404 }],
  ['report', () => ({ method: 'GET', path: `/scans/cve/${A.scan}/report.json` }), { status: 404 }],
  [
    'CVEs by MAC',
    () => ({ method: 'POST', path: '/scans/cve/mac-address/cves', body: { mac_addresses: [MAC_A] } }),
    { status: 200, empty: (b) => (b as { cves: unknown[] }).cves },
  ],
  ['mitigation', () => ({ method: 'GET', path: '/scans/cve/mitigation/CVE-2018-14847' }), { status: 404 }],
  ['status marks', () => ({ method: 'GET', path: '/scans/cve/mac-address/cve/status' }), { status: 200, empty: (b) => (b as { data: unknown[] }).data }],
  [
    'status marks of the MAC',
    () => ({ method: 'GET', path: `/scans/cve/mac-address/cve/status?mac_address=${MAC_A}` }),
    { status: 200, empty: (b) => (b as { data: unknown[] }).data },
  ],
];

describe("organization B's token on organization A's ids and data (item 10)", () => {
  for (const [name, build, expected] of routes) {
    it(`${name}: ${expected.status === 404 ? '404' : 'empty'} for org B, while org A sees its own`, async () => {
      const { method, path, body } = build();
      const asB = await h.request(method, path, { token: tokenB, body });
      contract.check(method, path.split('?')[0] as string, asB);
      expect(asB.status, `${method} ${path}`).toBe(expected.status);
      if (expected.status === 404) {
        expect(asB.body).toMatchObject({ type: 'not_found_error' });
      } else {
        expect(expected.empty(asB.body)).toEqual([]);
      }
      // The same read as A finds something: the 404 or the empty answer is about B, not about the data.
      if (method === 'GET' || path.endsWith('/cves')) {
        const asA = await h.request(method, path, { token: A.token, body });
        expect(asA.status, `${method} ${path} as A`).toBe(200);
        if (expected.status === 200) expect(expected.empty(asA.body)).not.toEqual([]);
      }
    });
  }

  it('keeps per-device facts per organization: a CVE both found shows each only its own advice and fixed versions', async () => {
    await scanWith('org-b', MAC_B, 'CVE-2018-14847', 'Org B: replace the hAP lite in the warehouse.', ['7.99.9']);
    const asA = (await h.request('GET', '/scans/cve/mitigation/CVE-2018-14847', { token: A.token })).body as { mitigation: string };
    const asB = (await h.request('GET', '/scans/cve/mitigation/CVE-2018-14847', { token: tokenB })).body as { mitigation: string };
    expect(asA.mitigation).toContain('advice for org A');
    expect(asA.mitigation).toContain('`6.42.1`');
    expect(asA.mitigation).not.toMatch(/Org B|7\.99\.9/);
    expect(asB.mitigation).toContain('Org B: replace the hAP lite');
    expect(asB.mitigation).not.toMatch(/advice for org A|6\.42\.1/);
    const cvesA = (await h.request('POST', '/scans/cve/mac-address/cves', { token: A.token, body: { mac_addresses: [MAC_A, MAC_B] } })).body as {
      cves: { host: { mac_address: string } }[];
    };
    expect(cvesA.cves.map((cve) => cve.host.mac_address)).toEqual([MAC_A]);
  });
});
