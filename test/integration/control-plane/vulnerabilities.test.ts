import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { loadContract, startHarness, type Contract, type Harness } from './harness.js';

let h: Harness;
let contract: Contract;
let agent: SimulatedAgent;
const MAC = '4C:5E:0C:AA:BB:01';

beforeEach(async () => {
  h = await startHarness();
  contract = await loadContract(h.url);
  const site = await h.addSite();
  agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
  await agent.connect();
});
afterEach(async () => {
  agent.drop();
  await h.stop();
});

async function call(method: string, path: string, options: Parameters<Harness['request']>[2] = {}) {
  const response = await h.request(method, path, options);
  contract.check(method, path.split('?')[0] as string, response);
  return response;
}

/** One local scan of the device with the given RouterOS version and CVEs. */
async function scanDevice(version: string, cves: [string, number][], as?: { cpe: string; product: string }) {
  const runId = newRunId();
  agent.report(scanStatus({ runId }));
  agent.report(host(runId, '192.168.88.1', MAC));
  for (const [id, score] of cves) agent.report({ ...finding(runId, '192.168.88.1', MAC, id, score, version), ...as });
  agent.report(finished(runId, cves.length));
  await agent.drained();
}

describe('CVEs by MAC (13)', () => {
  it('returns every instance across scans with stats, other occurrences, and zero counts for an unknown MAC', async () => {
    await scanDevice('6.40.5', [
      ['CVE-2018-14847', 9.1],
      ['CVE-2019-3976', 6.5],
    ]);
    await scanDevice('6.40.5', [['CVE-2018-14847', 9.1]]);
    const response = await call('POST', '/scans/cve/mac-address/cves', { body: { mac_addresses: ['4c-5e-0c-aa-bb-01', '00:11:22:33:44:55'] } });
    expect(response.status).toBe(200);
    const body = response.body as {
      mac_addresses: string[];
      cves: { cve_id: string; other_occurrences: unknown[]; status: string; host: { mac_address: string } }[];
      mac_stats: Record<string, unknown>;
      stats: unknown;
      total_scans: number;
      total_cve_instances: number;
    };
    expect(body.mac_addresses).toEqual([MAC, '00:11:22:33:44:55']);
    expect(body.total_scans).toBe(2);
    expect(body.total_cve_instances).toBe(3);
    expect(body.stats).toEqual({ unique_cve_count: 2, highest_score: 9.1, average_score: 8.23 });
    expect(body.mac_stats['00:11:22:33:44:55']).toEqual({
      total_scans: 0,
      total_cve_instances: 0,
      unique_cve_count: 0,
      highest_score: null,
      average_score: null,
    });
    const winbox = body.cves.filter((c) => c.cve_id === 'CVE-2018-14847');
    expect(winbox).toHaveLength(2);
    expect(winbox.every((c) => c.other_occurrences.length === 1 && c.status === 'open' && c.host.mac_address === MAC)).toBe(true);
    expect((await call('POST', '/scans/cve/mac-address/cves', { body: { mac_addresses: ['not-a-mac'] } })).status).toBe(422);
    expect((await call('POST', '/scans/cve/mac-address/cves', { body: { mac_addresses: 'AA:BB:CC:DD:EE:FF' } })).status).toBe(400);
  });
});

describe('mitigation (14)', () => {
  it('builds Markdown advice from the reported CVE record, 404 for an unknown CVE, 422 for a bad id', async () => {
    await scanDevice('6.40.5', [['CVE-2018-14847', 9.1]]);
    const response = await call('GET', '/scans/cve/mitigation/CVE-2018-14847');
    expect(response.status).toBe(200);
    const mitigation = (response.body as { mitigation: string }).mitigation;
    expect(mitigation).toContain('`6.42.1`');
    expect(mitigation).toContain('/system package update install');
    expect(mitigation).toContain('https://blog.mikrotik.com/security/winbox-vulnerability.html (Vendor Advisory)');
    expect((await call('GET', '/scans/cve/mitigation/CVE-2099-0001')).body).toMatchObject({ code: 'cve_not_found' });
    expect((await call('GET', '/scans/cve/mitigation/winbox')).status).toBe(422);
  });
});

describe('status marks (15, 16)', () => {
  it('appends marks, shows the latest everywhere, and lets it lapse when the detected version changes', async () => {
    await scanDevice('6.40.5', [['CVE-2018-14847', 9.1]]);
    const mark = (status: string, justification = 'Winbox is firewalled to the management VLAN.') =>
      call('POST', '/scans/cve/mac-address/cve/status', { body: { mac_address: '4c:5e:0c:aa:bb:01', cve_id: 'CVE-2018-14847', status, justification } });
    const first = await mark('accepted');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      data: { mac_address: MAC, cve_id: 'CVE-2018-14847', status: 'accepted', created_by: 'user-1', expiration_date: null, scan_id: expect.any(String) },
      message: expect.any(String),
    });
    await mark('mitigated', 'Upgraded the firmware and rebooted the router.');
    const list = await call('GET', `/scans/cve/mac-address/cve/status?mac_address=${encodeURIComponent(MAC)}`);
    expect((list.body as { data: { status: string }[] }).data.map((m) => m.status)).toEqual(['mitigated', 'accepted']);
    expect(((await call('GET', '/scans/cve/mac-address/cve/status?status=accepted')).body as { data: unknown[] }).data).toHaveLength(1);
    // The one MAC input rule: Cisco dotted and bare hex are the same device; mixed separators are refused.
    for (const spelling of ['4c5e.0caa.bb01', '4C5E0CAABB01']) {
      const same = await call('GET', `/scans/cve/mac-address/cve/status?mac_address=${spelling}`);
      expect((same.body as { data: { mac_address: string }[] }).data.map((m) => m.mac_address)).toEqual([MAC, MAC]);
    }
    expect((await call('GET', '/scans/cve/mac-address/cve/status?mac_address=4c:5e-0c:aa-bb:01')).status).toBe(422);
    // The one CVE id rule: the case of the id does not matter on input, as on the mitigation path.
    const lower = await call('POST', '/scans/cve/mac-address/cve/status', {
      body: { mac_address: MAC, cve_id: 'cve-2018-14847', status: 'mitigated', justification: 'Upgraded the firmware and rebooted the router.' },
    });
    expect(lower.status).toBe(201);
    expect(lower.body).toMatchObject({ data: { cve_id: 'CVE-2018-14847' } });
    const byLowerId = await call('GET', '/scans/cve/mac-address/cve/status?cve_id=cve-2018-14847');
    expect((byLowerId.body as { data: unknown[] }).data).toHaveLength(3);
    const cves = async () =>
      ((await call('POST', '/scans/cve/mac-address/cves', { body: { mac_addresses: [MAC] } })).body as { cves: { status: string; created_at: string }[] }).cves;
    expect((await cves()).map((c) => c.status)).toEqual(['mitigated']);
    // The vuln.mark reached the site that reported the device.
    await agent.waitFor(() => agent.commands.filter((c) => c.type === 'vuln.mark').length === 3);

    // A newer scan finds another version: the mark was about 6.40.5 and does not carry over.
    await scanDevice('6.41.0', [['CVE-2018-14847', 9.1]]);
    expect((await cves()).map((c) => c.status)).toEqual(['open', 'mitigated']);

    expect((await mark('accepted', 'too short')).status).toBe(422);
    expect((await mark('ignored')).status).toBe(422);
    expect(
      (
        await call('POST', '/scans/cve/mac-address/cve/status', {
          body: {
            mac_address: MAC,
            cve_id: 'CVE-2018-14847',
            status: 'accepted',
            justification: 'a long enough reason',
            expiration_date: '2001-01-01T00:00:00Z',
          },
        })
      ).status,
    ).toBe(422);
    expect((await call('GET', '/scans/cve/mac-address/cve/status?mac_address=zz')).status).toBe(422);
    const otherOrg = await h.jwt({ org: 'org-b' });
    expect(((await call('GET', '/scans/cve/mac-address/cve/status', { token: otherOrg })).body as { data: unknown[] }).data).toEqual([]);
    expect(
      ((await call('POST', '/scans/cve/mac-address/cves', { token: otherOrg, body: { mac_addresses: [MAC] } })).body as { total_cve_instances: number })
        .total_cve_instances,
    ).toBe(0);
  });

  // Bug fix: the mark kept the probe's product text and version_used (9.2 for 9.2p1 and 9.2p2), so
  // an OpenSSH update did not lapse it; it now lapses on the product key of the CPE, as on the agent.
  it('lets a mark lapse when OpenSSH 9.2p1 becomes 9.2p2', async () => {
    const openssh = (update: string) => ({ cpe: `cpe:2.3:a:openbsd:openssh:9.2:${update}:*:*:*:*:*:*`, product: 'OpenSSH' });
    await scanDevice('9.2', [['CVE-2023-38408', 9.8]], openssh('p1'));
    const body = { mac_address: MAC, cve_id: 'CVE-2023-38408', status: 'accepted', justification: 'ssh is reachable from the management VLAN only' };
    expect((await call('POST', '/scans/cve/mac-address/cve/status', { body })).status).toBe(201);
    const statuses = async () =>
      ((await call('POST', '/scans/cve/mac-address/cves', { body: { mac_addresses: [MAC] } })).body as { cves: { status: string }[] }).cves.map(
        (c) => c.status,
      );
    expect(await statuses()).toEqual(['accepted']);
    await scanDevice('9.2', [['CVE-2023-38408', 9.8]], openssh('p2'));
    expect(await statuses()).toEqual(['open', 'accepted']);
  });

  it('stops applying a mark once it expires', async () => {
    await scanDevice('6.40.5', [['CVE-2018-14847', 9.1]]);
    const soon = new Date(Date.now() + 400).toISOString();
    expect(
      (
        await call('POST', '/scans/cve/mac-address/cve/status', {
          body: { mac_address: MAC, cve_id: 'CVE-2018-14847', status: 'accepted', justification: 'accepted for a short while', expiration_date: soon },
        })
      ).status,
    ).toBe(201);
    const statusNow = async () =>
      ((await call('POST', '/scans/cve/mac-address/cves', { body: { mac_addresses: [MAC] } })).body as { cves: { status: string }[] }).cves[0]?.status;
    expect(await statusNow()).toBe('accepted');
    await expect.poll(statusNow, { timeout: 3000, interval: 100 }).toBe('open');
  });
});
