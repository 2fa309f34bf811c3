import { afterEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../src/control-plane/notify/sign.js';
import { finding } from '../../simulators/control-plane/reports.js';
import type { ReportInput, SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { alertSite, scanWith, startHookReceiver, type HookReceiver } from './alert-site.js';
import { startHarness, WEBHOOK_SECRET, type Harness } from './harness.js';

const address = '127.0.67.1';
const mac = '4C:5E:0C:67:00:02';
const kev = { date_added: '2021-12-01', due_date: '2022-06-01', ransomware: false };
const exposed = {
  state: 'yes' as const,
  reasons: [{ kind: 'router-service' as const, detail: 'router service winbox (tcp/8291) open to WAN: no address restriction, no input rule drops it' }],
};

/** The requests this test is about: the scans' own notifications and the finding alerts (change alerts are change-alerts.test.ts's). */
const own = /^\{"event":"(scan\.|finding\.(kev|exposed)")/;
let h: Harness | undefined;
let hook: HookReceiver | undefined;
let agent: SimulatedAgent | undefined;
afterEach(async () => {
  agent?.drop();
  await h?.stop();
  await hook?.close();
  h = hook = agent = undefined;
});

const device = { ip: '192.168.88.2', mac };

/** One scan of the site: the router (CVE-2018-14847) and a neighbor (CVE-2019-3976) with the facts given. */
const scanFacts = (harness: Harness, sim: SimulatedAgent, scheduleId: string, facts: { router: object; neighbor: object }) =>
  scanWith(harness, sim, scheduleId, device, (runId) => [
    { ...finding(runId, device.ip, mac, 'CVE-2018-14847', 9.1), ...facts.router } as ReportInput,
    { ...finding(runId, device.ip, mac, 'CVE-2019-3976', 8.8), ...facts.neighbor } as ReportInput,
  ]);

describe('finding alerts: an open finding entering KEV or becoming exposed', () => {
  it('fires a signed finding.kev and finding.exposed once per change, and never for a patched or unknown one', async () => {
    const receiver = (hook = await startHookReceiver(address));
    h = await startHarness({ webhooks: [receiver.url], config: { listen: { host: address, port: 0 } } });
    const site = await alertSite(h, 'fix-first alerts');
    agent = site.agent;
    const scheduleId = site.scheduleId;
    // The scans' own notifications and the finding alerts; change alerts (new devices, new findings) are another test's.
    const events = async () =>
      (await h!.store.notifications.list())
        .map((delivery) => delivery.event)
        .filter((event) => event.startsWith('scan.') || /^finding\.(kev|exposed)$/.test(event));

    // First sighting: the state is recorded, nothing but the scan's own notification goes out.
    const quiet = { kev: null, epss: null, exposure: { state: 'no', reasons: [] } };
    await scanFacts(h, agent, scheduleId, { router: quiet, neighbor: quiet });
    expect(await events()).toEqual(['scan.completed']);

    // The router's CVE entered KEV and became exposed; the neighbor's exposure is unknown (no change),
    // and a finding the distribution patched never alerts.
    const second = await scanFacts(h, agent, scheduleId, {
      router: { kev, epss: { score: 0.97473, percentile: 0.99963, date: '2024-01-13' }, exposure: exposed, why: ['KEV since 2021-12-01'] },
      neighbor: { kev: null, epss: null, exposure: { state: 'unknown', reasons: [] } },
    });
    await expect
      .poll(async () => (await events()).sort(), { timeout: 5000, interval: 50 })
      .toEqual(['finding.exposed', 'finding.kev', 'scan.completed', 'scan.completed']);
    await expect.poll(() => receiver.received.filter((r) => own.test(r.body)).length, { timeout: 5000, interval: 50 }).toBe(4);
    const alerts = receiver.received
      .map((r) => ({ ...r, json: JSON.parse(r.body) as { event: string; data: Record<string, unknown> } }))
      .filter((r) => r.json.event === 'finding.kev' || r.json.event === 'finding.exposed');
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
    await scanFacts(h, agent, scheduleId, { router: { kev, exposure: exposed }, neighbor: { ...patched, kev, exposure: exposed } });
    await expect.poll(async () => (await events()).filter((e) => e === 'scan.completed').length, { timeout: 5000, interval: 50 }).toBe(3);
    expect((await events()).filter((e) => e.startsWith('finding.')).sort()).toEqual(['finding.exposed', 'finding.kev']);
  });
});
