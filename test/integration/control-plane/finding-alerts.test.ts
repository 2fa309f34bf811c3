import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../src/control-plane/notify/sign.js';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent, type ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import { startHarness, WEBHOOK_SECRET, type Harness } from './harness.js';

const address = '127.0.67.1';
const mac = '4C:5E:0C:67:00:02';
const kev = { date_added: '2021-12-01', due_date: '2022-06-01', ransomware: false };
const exposed = {
  state: 'yes' as const,
  reasons: [{ kind: 'router-service' as const, detail: 'router service winbox (tcp/8291) open to WAN: no address restriction, no input rule drops it' }],
};

let h: Harness | undefined;
let receiver: Server | undefined;
let agent: SimulatedAgent | undefined;
afterEach(async () => {
  agent?.drop();
  await h?.stop();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  h = receiver = agent = undefined;
});

async function startReceiver(): Promise<{ url: string; received: { body: string; signature: string | undefined }[] }> {
  const received: { body: string; signature: string | undefined }[] = [];
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ body, signature: request.headers['x-signature'] as string | undefined });
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, address, resolve));
  return { url: `http://${address}:${(receiver.address() as { port: number }).port}/hook`, received };
}

/** One scan of the site through the simulated agent: the router (CVE-2018-14847) and a neighbor (CVE-2019-3976) with the facts given. */
async function scanWith(harness: Harness, sim: SimulatedAgent, scheduleId: string, facts: { router: object; neighbor: object }): Promise<string> {
  const scanId = ((await harness.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
  await sim.waitFor(() => sim.commands.some((c) => c.type === 'scan.invoke' && (c as { scan_id: string }).scan_id === scanId));
  const command = sim.commands.find((c) => c.type === 'scan.invoke' && (c as { scan_id: string }).scan_id === scanId) as { sub_scan_id: string };
  const runId = newRunId();
  sim.report(scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id }));
  sim.report(host(runId, '192.168.88.2', mac));
  sim.report({ ...finding(runId, '192.168.88.2', mac, 'CVE-2018-14847', 9.1), ...facts.router } as ReportInput);
  sim.report({ ...finding(runId, '192.168.88.2', mac, 'CVE-2019-3976', 8.8), ...facts.neighbor } as ReportInput);
  sim.report(finished(runId, 2));
  await sim.drained();
  await expect
    .poll(async () => (await harness.request('GET', `/scans/cve/${scanId}`)).body, { timeout: 5000, interval: 50 })
    .toMatchObject({ status: 'completed' });
  await harness.cp.notifier.idle();
  return scanId;
}

describe('finding alerts: an open finding entering KEV or becoming exposed', () => {
  it('fires a signed finding.kev and finding.exposed once per change, and never for a patched or unknown one', async () => {
    const hook = await startReceiver();
    h = await startHarness({ webhooks: [hook.url], config: { listen: { host: address, port: 0 } } });
    const site = await h.addSite();
    agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
    await agent.connect();
    const created = await h.request('POST', '/scans/cve/scheduled', {
      body: {
        description: 'fix-first alerts',
        day_of_week: 1,
        time_of_day: '01:00',
        every_n_weeks: 2,
        timezone: 'UTC',
        min_cvss: 4,
        warning_threshold: 7,
        notification_group: 'security-alerts',
        sites: [{ id: site.id, subnet: '192.168.88.0/24' }],
      },
    });
    const scheduleId = (created.body as { id: string }).id;
    const events = async () => (await h!.store.notifications.list()).map((delivery) => delivery.event);

    // First sighting: the state is recorded, nothing but the scan's own notification goes out.
    const quiet = { kev: null, epss: null, exposure: { state: 'no', reasons: [] } };
    await scanWith(h, agent, scheduleId, { router: quiet, neighbor: quiet });
    expect(await events()).toEqual(['scan.completed']);

    // The router's CVE entered KEV and became exposed; the neighbor's exposure is unknown (no change),
    // and a finding the distribution patched never alerts.
    const second = await scanWith(h, agent, scheduleId, {
      router: { kev, epss: { score: 0.97473, percentile: 0.99963, date: '2024-01-13' }, exposure: exposed, why: ['KEV since 2021-12-01'] },
      neighbor: { kev: null, epss: null, exposure: { state: 'unknown', reasons: [] } },
    });
    await expect
      .poll(async () => (await events()).sort(), { timeout: 5000, interval: 50 })
      .toEqual(['finding.exposed', 'finding.kev', 'scan.completed', 'scan.completed']);
    await expect.poll(() => hook.received.length, { timeout: 5000, interval: 50 }).toBe(4);
    const alerts = hook.received
      .map((r) => ({ ...r, json: JSON.parse(r.body) as { event: string; data: Record<string, unknown> } }))
      .filter((r) => r.json.event.startsWith('finding.'));
    for (const alert of alerts) {
      expect(verifySignature(alert.body, WEBHOOK_SECRET, alert.signature)).toBe(true);
      expect(alert.json.data).toMatchObject({
        scan_id: second,
        cve_id: 'CVE-2018-14847',
        host: { ip_address: '192.168.88.2', mac_address: mac },
        kev,
        exposure: exposed,
        why: ['KEV since 2021-12-01'],
        report_url: `${h.url}/scans/cve/${second}/report.json`,
      });
    }

    // The same facts again: no change, no alert. A patched finding that enters KEV: no alert either.
    const patched = {
      distro: {
        distro: 'debian',
        release: 'bookworm',
        package: 'openssh',
        installed_version: '1:9.2p1-2+deb12u3',
        status: 'fixed',
        fixed_version: '1:9.2p1-2+deb12u3',
        ref: 'DSA-5724-1',
        url: 'https://security-tracker.debian.org/tracker/CVE-2019-3976',
        reason: 'patched by Debian in 1:9.2p1-2+deb12u3',
      },
    };
    await scanWith(h, agent, scheduleId, { router: { kev, exposure: exposed }, neighbor: { ...patched, kev, exposure: exposed } });
    await expect.poll(async () => (await events()).filter((e) => e === 'scan.completed').length, { timeout: 5000, interval: 50 }).toBe(3);
    expect((await events()).filter((e) => e.startsWith('finding.')).sort()).toEqual(['finding.exposed', 'finding.kev']);
  });
});
