/** The console's read APIs (overview, site detail, devices, a CVE's devices, scan delta) against a real control plane and SQLite. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadContract, type Contract } from './harness.js';
import { runScan, startConsoleSite, startScan, type ConsoleSite, type Device } from './console-site.js';

let site: ConsoleSite;
let contract: Contract;
const GW: Device = { ip: '192.168.88.1', mac: '4C:5E:0C:AA:BB:01', ports: [22, 8291] };
const NAS: Device = { ip: '192.168.88.20', mac: '00:11:32:AA:BB:20', ports: [22] };
const ROUTER = {
  identity: 'gw-riga',
  routeros_version: '6.48.6 (long-term)',
  board: 'RB4011iGS+',
  neighbors: [{ mac: '48:A9:8A:0A:0B:0C', ip: '192.168.88.9', identity: 'ap-hall', platform: 'MikroTik', version: '7.15.3 (stable)' }],
};

beforeEach(async () => {
  site = await startConsoleSite();
  contract = await loadContract(site.h.url);
});
afterEach(async () => {
  await site.stop();
});

async function call(path: string, token?: string | null) {
  const response = await site.h.request('GET', path, token === undefined ? {} : { token });
  contract.check('GET', path.split('?')[0] as string, response);
  return response;
}

/** The first scan: the gateway with three CVEs (the lower-scored one in KEV), the NAS with one. */
async function firstScan(): Promise<string> {
  return runScan(
    site,
    [GW, NAS],
    [
      { device: GW, cve: 'CVE-2018-14847', score: 9.1 },
      { device: GW, cve: 'CVE-2019-3976', score: 6.5, kev: true },
      { device: GW, cve: 'CVE-2019-3900', score: 5.3 },
      { device: NAS, cve: 'CVE-2023-30799', score: 9.1 },
    ],
    ROUTER,
  );
}

describe('GET /sites/{site_id}: router, neighbors, subnets, last scan', () => {
  it('is empty before a scan and shows the router inventory and last scan after one', async () => {
    const before = await call(`/sites/${site.siteId}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ id: site.siteId, name: 'riga-office', router: null, neighbors: [], subnets: ['192.168.88.0/24'], last_scan: null });
    const scanId = await firstScan();
    const after = await call(`/sites/${site.siteId}`);
    expect(after.body).toMatchObject({
      online: true,
      router: { identity: 'gw-riga', model: 'RB4011iGS+', board: 'RB4011iGS+', routeros_version: '6.48.6 (long-term)', channel: 'long-term', serial: null },
      neighbors: [
        { identity: 'ap-hall', platform: 'MikroTik', version: '7.15.3 (stable)', mac_address: '48:A9:8A:0A:0B:0C', address: '192.168.88.9', interface: null },
      ],
      subnets: ['192.168.88.0/24'],
      last_scan: { id: scanId, status: 'completed', finished_at: expect.any(String) },
    });
  });
});

describe('GET /overview', () => {
  it('counts sites and open findings and lists what to fix first in the report order, marks taken out', async () => {
    const scanId = await firstScan();
    const overview = await call('/overview');
    expect(overview.status).toBe(200);
    const body = overview.body as {
      sites: unknown;
      feeds: unknown;
      findings_by_severity: Record<string, number>;
      fix_first: { cve_id: string; mac_address: string; site_id: string; scan_id: string; priority_rank: number; kev: unknown }[];
      recent_scans: { id: string; pdf_url: string | null }[];
    };
    expect(body.sites).toEqual({ total: 1, online: 1, offline: 0 });
    expect(body.feeds).toEqual([{ site_id: site.siteId, name: 'riga-office', age_days: null }]);
    expect(body.findings_by_severity).toEqual({ CRITICAL: 2, HIGH: 0, MEDIUM: 2, LOW: 0, NONE: 0 });
    // KEV first, then by score; the same order as the scan's report.json.
    const report = (await site.h.request('GET', `/scans/cve/${scanId}/report.json`)).body as { cves: { cve_id: string; host: { mac_address: string } }[] };
    expect(body.fix_first.map((f) => `${f.cve_id} ${f.mac_address}`)).toEqual(report.cves.map((c) => `${c.cve_id} ${c.host.mac_address}`));
    expect(body.fix_first[0]).toMatchObject({ cve_id: 'CVE-2019-3976', kev: { ransomware: false }, site_id: site.siteId, scan_id: scanId, priority_rank: 1 });
    expect(body.recent_scans.map((s) => s.id)).toEqual([scanId]);
    expect(body.recent_scans[0]?.pdf_url).toMatch(new RegExp(`/scans/cve/${scanId}/report\\.pdf$`));

    const marked = await site.h.request('POST', '/scans/cve/mac-address/cve/status', {
      body: { mac_address: GW.mac, cve_id: 'CVE-2019-3976', status: 'accepted', justification: 'Winbox only on the management VLAN.' },
    });
    expect(marked.status).toBe(201);
    const afterMark = (await call('/overview')).body as typeof body;
    expect(afterMark.findings_by_severity.MEDIUM).toBe(1);
    expect(afterMark.fix_first.map((f) => f.cve_id)).not.toContain('CVE-2019-3976');
  });

  it("shows another organization nothing of this one's, and needs only cve:view", async () => {
    await firstScan();
    const other = await call('/overview', await site.h.jwt({ org: 'org-b' }));
    expect(other.body).toMatchObject({ sites: { total: 0, online: 0, offline: 0 }, feeds: [], fix_first: [], recent_scans: [] });
    const viewer = await site.h.jwt({ scope: 'cve:view' });
    expect((await call('/overview', viewer)).status).toBe(200);
    expect((await call('/overview', null)).status).toBe(401);
    expect((await call('/overview', await site.h.jwt({ scope: 'cve:create' }))).status).toBe(403);
  });
});

describe('devices by MAC', () => {
  it('lists devices with open CVEs, filters by text and site, and pages', async () => {
    await firstScan();
    const list = await call('/devices');
    expect(list.status).toBe(200);
    expect(list.body).toEqual(
      expect.arrayContaining([
        {
          mac_address: GW.mac,
          manufacturer: 'Routerboard.com',
          hostname: 'host-1',
          site_id: site.siteId,
          last_ip: GW.ip,
          last_seen_at: expect.any(String),
          open_cves: 3,
          highest_score: 9.1,
        },
        expect.objectContaining({ mac_address: NAS.mac, open_cves: 1, highest_score: 9.1 }),
      ]),
    );
    expect((list.body as unknown[]).length).toBe(2);
    expect(((await call('/devices?q=host-20')).body as { mac_address: string }[]).map((d) => d.mac_address)).toEqual([NAS.mac]);
    expect(((await call('/devices?q=4c:5e')).body as { mac_address: string }[]).map((d) => d.mac_address)).toEqual([GW.mac]);
    expect((await call(`/devices?site_id=${crypto.randomUUID()}`)).body).toEqual([]);
    expect((await call(`/devices?site_id=${site.siteId}`)).body).toHaveLength(2);
    expect((await call('/devices?site_id=riga')).status).toBe(400);
    const first = await call('/devices?limit=1');
    expect(first.body).toHaveLength(1);
    const cursor = first.headers.get('x-next-cursor') as string;
    const second = await call(`/devices?limit=1&cursor=${cursor}`);
    expect([...(first.body as { mac_address: string }[]), ...(second.body as { mac_address: string }[])].map((d) => d.mac_address).sort()).toEqual(
      [GW.mac, NAS.mac].sort(),
    );
  });

  it('shows one device in any MAC notation: addresses, services, current CVEs fix-first and marks; unknown is 404', async () => {
    await firstScan();
    await site.h.request('POST', '/scans/cve/mac-address/cve/status', {
      body: { mac_address: GW.mac, cve_id: 'CVE-2018-14847', status: 'mitigated', justification: 'Upgraded the firmware and rebooted the router.' },
    });
    const detail = await call('/devices/4c-5e-0c-aa-bb-01');
    expect(detail.status).toBe(200);
    const body = detail.body as {
      mac_address: string;
      ips: { ip_address: string; scans: number }[];
      services: { port: number; product: string | null }[];
      cves: { cve_id: string; status: string; priority_rank: number }[];
      marks: { cve_id: string; status: string }[];
      hostnames: string[];
      site_ids: string[];
      manufacturer: string;
    };
    expect(body).toMatchObject({ mac_address: GW.mac, manufacturer: 'Routerboard.com', hostnames: ['host-1'], site_ids: [site.siteId] });
    expect(body.ips).toEqual([{ ip_address: GW.ip, first_seen_at: expect.any(String), last_seen_at: expect.any(String), scans: 1 }]);
    expect(body.services.map((s) => [s.port, s.product])).toEqual([
      [22, 'OpenSSH'],
      [8291, 'MikroTik RouterOS'],
    ]);
    // Open first (KEV, then score), the mitigated one last.
    expect(body.cves.map((c) => [c.cve_id, c.status, c.priority_rank])).toEqual([
      ['CVE-2019-3976', 'open', 1],
      ['CVE-2019-3900', 'open', 2],
      ['CVE-2018-14847', 'mitigated', 3],
    ]);
    expect(body.marks.map((m) => [m.cve_id, m.status])).toEqual([['CVE-2018-14847', 'mitigated']]);
    expect((await call('/devices/4C5E.0CAA.BB01')).status).toBe(200);
    expect((await call('/devices/AA:BB:CC:DD:EE:FF')).body).toMatchObject({ code: 'device_not_found' });
    expect((await call('/devices/not-a-mac')).body).toMatchObject({ code: 'device_not_found' });
    expect((await call(`/devices/${GW.mac}`, await site.h.jwt({ org: 'org-b' }))).body).toMatchObject({ code: 'device_not_found' });
    expect((await call(`/devices/${GW.mac}`, await site.h.jwt({ scope: 'cve:view' }))).status).toBe(200);
    expect((await call(`/devices/${GW.mac}`, null)).status).toBe(401);
  });

  it("lists a CVE's devices across the organization; another organization's or an unknown CVE is 404", async () => {
    const scanId = await firstScan();
    const devices = await call('/cves/cve-2018-14847/devices');
    expect(devices.status).toBe(200);
    expect(devices.body).toEqual([
      {
        mac_address: GW.mac,
        ip_address: GW.ip,
        hostname: 'host-1',
        site_id: site.siteId,
        scan_id: scanId,
        port: 8291,
        product: 'routeros',
        version: '6.40.5',
        score: 9.1,
        status: 'open',
        last_seen_at: expect.any(String),
      },
    ]);
    expect(((await call('/cves/CVE-2023-30799/devices')).body as { mac_address: string }[]).map((d) => d.mac_address)).toEqual([NAS.mac]);
    expect((await call('/cves/CVE-2018-14847/devices', await site.h.jwt({ org: 'org-b' }))).body).toMatchObject({ code: 'cve_not_found' });
    expect((await call('/cves/CVE-2099-0001/devices')).status).toBe(404);
    expect((await call('/cves/winbox/devices')).status).toBe(422);
  });
});

describe('GET /scans/cve/{scan_id}/delta', () => {
  it('compares a scan with the previous finished scan of its schedule: new, resolved, unchanged', async () => {
    const first = await firstScan();
    const initial = await call(`/scans/cve/${first}/delta`);
    expect(initial.status).toBe(200);
    expect(initial.body).toMatchObject({ scan_id: first, previous_scan_id: null, resolved: [], unchanged: 0 });
    expect((initial.body as { new: unknown[] }).new).toHaveLength(4);

    // The gateway was upgraded past two CVEs, a new one appeared on the NAS.
    const second = await runScan(
      site,
      [GW, NAS],
      [
        { device: GW, cve: 'CVE-2019-3976', score: 6.5, kev: true },
        { device: NAS, cve: 'CVE-2023-30799', score: 9.1 },
        { device: NAS, cve: 'CVE-2024-54772', score: 5.4 },
      ],
    );
    const delta = await call(`/scans/cve/${second}/delta`);
    expect(delta.body).toEqual({
      scan_id: second,
      previous_scan_id: first,
      new: [{ mac_address: NAS.mac, ip_address: NAS.ip, hostname: 'host-20', site_id: site.siteId, cve_id: 'CVE-2024-54772', score: 5.4, severity: 'MEDIUM' }],
      resolved: [
        { mac_address: GW.mac, ip_address: GW.ip, hostname: 'host-1', site_id: site.siteId, cve_id: 'CVE-2018-14847', score: 9.1, severity: 'CRITICAL' },
        { mac_address: GW.mac, ip_address: GW.ip, hostname: 'host-1', site_id: site.siteId, cve_id: 'CVE-2019-3900', score: 5.3, severity: 'MEDIUM' },
      ],
      unchanged: 2,
    });
    // The device page and the overview follow the newest scan: what it no longer reports is resolved.
    const gw = (await call(`/devices/${GW.mac}`)).body as { cves: { cve_id: string }[]; ips: { scans: number }[] };
    expect(gw.cves.map((c) => c.cve_id)).toEqual(['CVE-2019-3976']);
    expect(gw.ips[0]?.scans).toBe(2);
    expect((await call(`/scans/cve/${second}/delta`, await site.h.jwt({ org: 'org-b' }))).body).toMatchObject({ code: 'scan_not_found' });
    expect((await call(`/scans/cve/${second}/delta`, await site.h.jwt({ scope: 'cve:view' }))).status).toBe(200);
  });

  it('answers for a running scan against the last finished one', async () => {
    const first = await firstScan();
    const { scanId } = await startScan(site);
    const delta = await call(`/scans/cve/${scanId}/delta`);
    expect(delta.body).toMatchObject({ scan_id: scanId, previous_scan_id: first, new: [], unchanged: 0 });
    expect((delta.body as { resolved: unknown[] }).resolved).toHaveLength(4);
  });
});
