/**
 * What the console read-API tests share: a control plane on 127.0.82.1 (this suite's loopback
 * address), a site with a connected simulated agent and a schedule of its subnet, and scans of
 * that schedule whose hosts, findings and router inventory a test chooses.
 */
import { expect } from 'vitest';
import { finding, finished, host, inventory, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent, type ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import { startHarness, type Harness } from './harness.js';

export const ADDRESS = '127.0.82.1';

export interface ConsoleSite {
  h: Harness;
  agent: SimulatedAgent;
  siteId: string;
  scheduleId: string;
  stop(): Promise<void>;
}

export async function startConsoleSite(): Promise<ConsoleSite> {
  // No webhook answers on port 9: deliveries fail quietly, on this suite's own address.
  const h = await startHarness({ config: { listen: { host: ADDRESS, port: 0 } }, webhooks: [`http://${ADDRESS}:9/never`] });
  const site = await h.addSite('org-a', 'riga-office');
  const agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
  await agent.connect();
  const created = await h.request('POST', '/scans/cve/scheduled', {
    body: {
      description: 'Riga weekly',
      day_of_week: 1,
      time_of_day: '01:00',
      every_n_weeks: 2,
      timezone: 'Europe/Riga',
      min_cvss: 4,
      warning_threshold: 7,
      notification_group: 'security-alerts',
      sites: [{ id: site.id, subnet: '192.168.88.0/24' }],
    },
  });
  expect(created.status).toBe(201);
  return {
    h,
    agent,
    siteId: site.id,
    scheduleId: (created.body as { id: string }).id,
    async stop() {
      agent.drop();
      await h.stop();
    },
  };
}

export interface Device {
  ip: string;
  mac: string;
  ports?: number[];
}

/** A finding of `cve` on the device, with optional fix-first facts. */
export type FindingSpec = { device: Device; cve: string; score: number; kev?: boolean; epss?: number };

export const findingOf = (runId: string, spec: FindingSpec): ReportInput => ({
  ...finding(runId, spec.device.ip, spec.device.mac, spec.cve, spec.score),
  ...(spec.kev === undefined ? {} : { kev: spec.kev ? { date_added: '2024-01-10', due_date: '2024-01-31', ransomware: false } : null }),
  ...(spec.epss === undefined ? {} : { epss: { score: spec.epss, percentile: 0.9, date: '2026-11-30' } }),
});

/** Starts a scan of the schedule and waits until the agent holds its command; returns what reporting needs. */
export async function startScan(site: ConsoleSite): Promise<{ scanId: string; runId: string; subScanId: string }> {
  const { h, agent, scheduleId } = site;
  const invoked = await h.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`);
  expect(invoked.status).toBe(202);
  const scanId = (invoked.body as { scan_id: string }).scan_id;
  const isThis = (c: { type: string }) => c.type === 'scan.invoke' && (c as { scan_id?: string }).scan_id === scanId;
  await agent.waitFor(() => agent.commands.some(isThis));
  const subScanId = (agent.commands.find(isThis) as unknown as { sub_scan_id: string }).sub_scan_id;
  const runId = newRunId();
  agent.report(scanStatus({ runId, scheduleId, scanId, subScanId }));
  await agent.drained();
  return { scanId, runId, subScanId };
}

/** One whole scan of the schedule: its hosts, findings and (optionally) the router inventory, waited for until completed. */
export async function runScan(
  site: ConsoleSite,
  devices: Device[],
  findings: FindingSpec[],
  router?: Parameters<typeof inventory>[1] & { neighbors?: Parameters<typeof inventory>[2] },
): Promise<string> {
  const { h, agent } = site;
  const { scanId, runId } = await startScan(site);
  if (router) {
    const { neighbors = [], ...info } = router;
    agent.report(inventory(runId, info, neighbors));
  }
  for (const device of devices) agent.report(host(runId, device.ip, device.mac, device.ports));
  for (const spec of findings) agent.report(findingOf(runId, spec));
  agent.report(finished(runId, findings.length, 'completed', devices.length));
  await agent.drained();
  await expect.poll(async () => (await h.request('GET', `/scans/cve/${scanId}`)).body, { timeout: 5000, interval: 50 }).toMatchObject({ status: 'completed' });
  return scanId;
}
