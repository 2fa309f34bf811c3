import { describe, expect, it, onTestFinished } from 'vitest';
import { startHarness } from '../control-plane/harness.js';
import { createSchedule, eventually, macs, startServices, startSiteAgent } from './site.js';

const net = 31;

interface LocalFinding {
  ip: string;
  cve_id: string;
  port: number | null;
}

describe('the uplink against the real control plane', () => {
  it('arms a schedule pushed through the REST API, runs an invoked scan and delivers its findings exactly once', async () => {
    const cp = await startHarness();
    onTestFinished(() => cp.stop());
    const site = await cp.addSite();
    const { routerPort } = await startServices(net);
    const agent = await startSiteAgent({ siteId: site.id, token: site.token, url: cp.url, routerPort, net });
    await eventually('the uplink to connect', () => agent.agent.uplink?.connected);

    const scheduleId = await createSchedule(cp, site.id, net);
    const [armed] = await eventually('the schedule to be armed', () => {
      const rows = agent.query<{ id: string; origin: string; next_scan_at: string | null; anchor_at: string }>(
        'SELECT id, origin, next_scan_at, anchor_at FROM schedules WHERE id = ?',
        scheduleId,
      );
      return rows.length > 0 ? rows : undefined;
    });
    const stored = (await cp.request('GET', `/scans/cve/scheduled/${scheduleId}`)).body as { next_scan_at: string };
    expect(armed).toMatchObject({ origin: 'control_plane' });
    // Armed on the same slot as the control plane computed, so both name the same scan.
    expect(Date.parse(armed!.next_scan_at!)).toBe(Date.parse(stored.next_scan_at));

    const invoked = await cp.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`);
    expect(invoked.status).toBe(202);
    const scanId = (invoked.body as { scan_id: string }).scan_id;
    const status = await eventually('the scan to reach a terminal state', async () => {
      const body = (await cp.request('GET', `/scans/cve/${scanId}`)).body as { status: string };
      return ['completed', 'partial', 'failed'].includes(body.status) ? body : undefined;
    });
    expect(status).toMatchObject({ status: 'completed' });

    // One label for the scan on both sides: the agent derives it from the control-plane scan id, as the control plane does.
    const [run] = agent.query<{ label: string }>('SELECT label FROM scans WHERE cp_scan_id = ?', scanId);
    const label = (status as unknown as { scan_id: string }).scan_id;
    expect(run!.label).toBe(label);
    // The scan list takes that label (any case, dashes optional) as a filter.
    const listed = await cp.request('GET', `/scans/cve?scan_id=${label.replaceAll('-', '').toLowerCase()}`);
    expect(listed.status).toBe(200);
    expect((listed.body as { id: string }[]).map((scan) => scan.id)).toEqual([scanId]);
    expect((await cp.request('GET', '/scans/cve?scan_id=not-a-scan')).status).toBe(400);
    await eventually('the outbox to empty', () => agent.query<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n === 0 || undefined);

    const local = agent.query<LocalFinding>(
      `SELECT h.ip, f.cve_id, f.port FROM findings f JOIN scan_hosts h ON h.id = f.host_id JOIN scans s ON s.id = h.scan_id WHERE s.cp_scan_id = ?`,
      scanId,
    );
    const central = await cp.store.scans.findings(scanId);
    expect(local.length).toBeGreaterThan(0);
    // Exactly once: the same multiset of (host, CVE, port) on both ends, nothing missing, nothing twice.
    expect(central.map((f) => `${f.host.ip} ${f.cve.id} ${f.port}`).sort()).toEqual(local.map((f) => `${f.ip} ${f.cve_id} ${f.port}`).sort());
    const ssh = central.filter((f) => f.host.ip === `127.0.${net}.2`);
    expect(ssh.map((f) => f.cve.id)).toContain('CVE-2023-38408');
    expect(ssh.every((f) => f.host.mac === macs.ssh)).toBe(true);
    // The report shows the site's router as the run read it (the agent's inventory report).
    const report = (await cp.request('GET', `/scans/cve/${scanId}/report.json`)).body as {
      sites: { site_id: string; router: Record<string, unknown> | null }[];
    };
    expect(report.sites).toEqual([
      expect.objectContaining({
        site_id: site.id,
        router: expect.objectContaining({ identity: 'site-gw', routeros_version: '6.40.5', board: 'RB951Ui-2HnD', hosts_known: expect.any(Number) }),
      }),
    ]);
    expect(report.sites[0]!.router!.neighbors).toEqual([expect.objectContaining({ mac_address: macs.neighbor, identity: expect.any(String) })]);

    // A single-IP scan through the REST API: one host scanned, its findings only.
    const single = await cp.request('POST', '/scans/cve/scheduled/single-ip', {
      body: { schedule_id: scheduleId, site_id: site.id, ip_address: `127.0.${net}.3` },
    });
    expect(single.status).toBe(202);
    const singleId = (single.body as { scan_id: string }).scan_id;
    await eventually('the single-IP scan to finish', async () => {
      const body = (await cp.request('GET', `/scans/cve/${singleId}`)).body as { status: string };
      return ['completed', 'partial', 'failed'].includes(body.status) ? body : undefined;
    });
    expect(((await cp.request('GET', `/scans/cve/${singleId}`)).body as { status: string }).status).toBe('completed');
    const singleFindings = await cp.store.scans.findings(singleId);
    expect(singleFindings.length).toBeGreaterThan(0);
    expect(new Set(singleFindings.map((f) => f.host.ip))).toEqual(new Set([`127.0.${net}.3`]));
    expect(agent.query('SELECT kind, target_ips FROM scans WHERE cp_scan_id = ?', singleId)).toEqual([
      { kind: 'single_ip', target_ips: JSON.stringify([`127.0.${net}.3`]) },
    ]);

    // A mark made through the REST API reaches the agent, so its local reports agree.
    const marked = await cp.request('POST', '/scans/cve/mac-address/cve/status', {
      body: { mac_address: macs.ssh, cve_id: 'CVE-2023-38408', status: 'mitigated', justification: 'ssh-agent forwarding disabled' },
    });
    expect(marked.status).toBe(201);
    const [mark] = await eventually('the mark to reach the agent', () => {
      const rows = agent.query<{ mac: string; cve_id: string; status: string; origin: string }>('SELECT mac, cve_id, status, origin FROM vuln_marks');
      return rows.length > 0 ? rows : undefined;
    });
    expect(mark).toEqual({ mac: macs.ssh, cve_id: 'CVE-2023-38408', status: 'mitigated', origin: 'control_plane' });
  });
});
