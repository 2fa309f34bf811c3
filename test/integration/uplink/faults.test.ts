import { describe, expect, it, onTestFinished } from 'vitest';
import { startHarness, type Harness } from '../control-plane/harness.js';
import { tempDir } from '../../helpers/temp.js';
import { createSchedule, eventually, startServices, startSiteAgent, type SiteAgent } from './site.js';
import { startTcpCutter } from './tcp-cutter.js';

const net = 32;

async function invoke(cp: Harness, scheduleId: string): Promise<string> {
  const invoked = await cp.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`);
  if (invoked.status !== 202) throw new Error(`invoke: ${invoked.status} ${invoked.text}`);
  return (invoked.body as { scan_id: string }).scan_id;
}

/** Both ends hold the same findings of the scan, each once, and the agent's outbox is empty. */
async function expectExactlyOnce(cp: Harness, agent: SiteAgent, scanId: string): Promise<void> {
  await eventually('the outbox to empty', () => agent.query<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n === 0 || undefined, 30_000);
  const status = await eventually('the scan to finish on the control plane', async () => {
    const body = (await cp.request('GET', `/scans/cve/${scanId}`)).body as { status: string };
    return ['completed', 'partial', 'failed'].includes(body.status) ? body.status : undefined;
  });
  expect(status).toBe('completed');
  const local = agent.query<{ key: string }>(
    `SELECT h.ip || ' ' || f.cve_id || ' ' || coalesce(f.port, 'null') AS key FROM findings f JOIN scan_hosts h ON h.id = f.host_id JOIN scans s ON s.id = h.scan_id WHERE s.cp_scan_id = ?`,
    scanId,
  );
  const central = await cp.store.scans.findings(scanId);
  expect(local.length).toBeGreaterThan(0);
  expect(central.map((f) => `${f.host.ip} ${f.cve.id} ${f.port}`).sort()).toEqual(local.map((row) => row.key).sort());
  const hosts = await cp.store.scans.hosts(scanId);
  expect(new Set(hosts.map((host) => host.ip)).size).toBe(hosts.length);
}

describe('uplink faults with the real control plane', () => {
  it('the control plane stops mid-scan and comes back: every finding arrives exactly once', async () => {
    const dir = tempDir('cp-restart-');
    let cp = await startHarness({ dir });
    const port = Number(new URL(cp.url).port);
    let stopped = false;
    onTestFinished(async () => {
      if (!stopped) await cp.stop();
    });
    const site = await cp.addSite();
    const { routerPort } = await startServices(net);
    const agent = await startSiteAgent({ siteId: site.id, token: site.token, url: cp.url, routerPort, net });
    const scheduleId = await createSchedule(cp, site.id, net);
    await eventually('the schedule to be armed', () => agent.query('SELECT id FROM schedules WHERE id = ?', scheduleId).length > 0 || undefined);
    const scanId = await invoke(cp, scheduleId);
    await eventually(
      'the scan to start on the agent',
      () => agent.query("SELECT id FROM scans WHERE cp_scan_id = ? AND status = 'scanning'", scanId).length > 0 || undefined,
    );
    await cp.stop();
    stopped = true;
    // The scan goes on without the control plane; its reports wait in the outbox.
    await eventually(
      'the scan to finish on the agent',
      () => agent.query("SELECT id FROM scans WHERE cp_scan_id = ? AND status = 'completed'", scanId).length > 0 || undefined,
      30_000,
    );
    expect(agent.query<{ n: number }>('SELECT count(*) AS n FROM outbox')[0]!.n).toBeGreaterThan(0);
    expect(agent.agent.uplink?.connected).toBe(false);
    cp = await startHarness({ dir, config: { listen: { host: '127.0.0.1', port } } });
    stopped = false;
    await expectExactlyOnce(cp, agent, scanId);
  });

  it('the TCP connection is cut mid-frame, again and again: every finding arrives exactly once', async () => {
    const cp = await startHarness();
    onTestFinished(() => cp.stop());
    const site = await cp.addSite();
    const target = new URL(cp.url);
    const cutter = await startTcpCutter({ host: target.hostname, port: Number(target.port) });
    onTestFinished(() => cutter.close());
    const { routerPort } = await startServices(net);
    const agent = await startSiteAgent({ siteId: site.id, token: site.token, url: cutter.url, routerPort, net });
    const scheduleId = await createSchedule(cp, site.id, net);
    await eventually('the schedule to be armed', () => agent.query('SELECT id FROM schedules WHERE id = ?', scheduleId).length > 0 || undefined);
    // From the invoke on, connections are cut inside the stream of reports, at uneven points.
    cutter.arm([900, 1500, 2600, 4100, 7300]);
    const scanId = await invoke(cp, scheduleId);
    await expectExactlyOnce(cp, agent, scanId);
    expect(cutter.cuts()).toBeGreaterThanOrEqual(3);
  });
});
