/**
 * A KEV catalog update between scans alerts at once: the real control plane's feed hub runs its KEV
 * source against the fixture feed server (the real CISA catalog, cut or whole), and an open finding
 * whose CVE just entered the catalog fires one signed finding.kev to a real receiver. Loopback 127.0.73.x only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../src/control-plane/notify/sign.js';
import { realKevJson, startFeedServer, type FeedServer } from '../../simulators/feed-server.js';
import { finding } from '../../simulators/control-plane/reports.js';
import type { ReportInput, SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { alertSite, scanWith, startHookReceiver, type HookReceiver } from './alert-site.js';
import { startHarness, WEBHOOK_SECRET, type Harness } from './harness.js';

const address = '127.0.73.1';
const mac = '4C:5E:0C:73:00:02';
// All three are in the real catalog: an open one, one the distribution patched, one under an accepted mark.
const OPEN = 'CVE-2018-14847';
const PATCHED = 'CVE-2021-44228';
const MARKED = 'CVE-2017-12149';

const catalog = JSON.parse(realKevJson().toString('utf8')) as { vulnerabilities: { cveID: string; dateAdded: string; dueDate: string }[] };
/** The real catalog without the three CVEs: what CISA published before they were added, in effect. */
const before = JSON.stringify({ ...catalog, vulnerabilities: catalog.vulnerabilities.filter((v) => ![OPEN, PATCHED, MARKED].includes(v.cveID)) });
const entry = catalog.vulnerabilities.find((v) => v.cveID === OPEN)!;

/** The requests this test is about: the scans' own notifications and the finding alerts (change alerts are change-alerts.test.ts's). */
const own = /^\{"event":"(scan\.|finding\.(kev|exposed)")/;
let h: Harness | undefined;
let hook: HookReceiver | undefined;
let agent: SimulatedAgent | undefined;
let feed: FeedServer | undefined;
afterEach(async () => {
  agent?.drop();
  await h?.stop();
  await feed?.close();
  await hook?.close();
  h = hook = agent = feed = undefined;
});

const device = { ip: '192.168.88.2', mac };
const patched = {
  distro: {
    distro: 'debian',
    release: 'bookworm',
    package: 'liblog4j2-java',
    installed_version: '2.17.1-1',
    status: 'fixed',
    fixed_version: '2.15.0-1',
    ref: 'DSA-5020-1',
    url: 'https://security-tracker.debian.org/tracker/CVE-2021-44228',
    reason: 'patched by Debian in 2.15.0-1',
  },
};

/** One scan of the device, reporting the three findings with the facts given. */
const scanFacts = (harness: Harness, sim: SimulatedAgent, scheduleId: string, kev: object | null, patchedNow: boolean) =>
  scanWith(harness, sim, scheduleId, device, (runId) => {
    const facts = { kev, epss: null, exposure: { state: 'no', reasons: [] } };
    return [
      { ...finding(runId, device.ip, mac, OPEN, 9.1), ...facts } as ReportInput,
      { ...finding(runId, device.ip, mac, PATCHED, 10), ...facts, ...(patchedNow ? patched : {}) } as ReportInput,
      { ...finding(runId, device.ip, mac, MARKED, 9.8), ...facts } as ReportInput,
    ];
  });

describe('finding alerts: a KEV catalog update between scans', () => {
  it('fires one signed finding.kev for an open finding whose CVE entered KEV, once, and none for a patched or marked one', async () => {
    const receiver = (hook = await startHookReceiver(address));
    feed = await startFeedServer(address);
    feed.serve('/kev.json', before);
    h = await startHarness({
      webhooks: [receiver.url],
      config: {
        listen: { host: address, port: 0 },
        feeds: {
          sources: {
            // Run by the test, not by the clock: the schedule is once a year.
            kev: { url: `${feed.url}/kev.json`, schedule: '0 0 1 1 *' },
            nvd: { enabled: false },
            epss: { enabled: false },
            routeros: { enabled: false },
          },
        },
      },
    });
    const hub = h.cp.feeds!.hub;
    expect(await hub.runSource('kev')).toBeDefined();
    const site = await alertSite(h, 'KEV between scans');
    agent = site.agent;
    const scheduleId = site.scheduleId;
    // The scans' own notifications and the finding alerts; change alerts (new devices, new findings) are another test's.
    const events = async () =>
      (await h!.store.notifications.list())
        .map((delivery) => delivery.event)
        .filter((event) => event.startsWith('scan.') || /^finding\.(kev|exposed)$/.test(event));

    // The three findings are ingested while none of their CVEs is in KEV: no alert. Then Debian
    // patches one (its state stays "not in KEV": a finding that is not open does not move it).
    await scanFacts(h, agent, scheduleId, null, false);
    const second = await scanFacts(h, agent, scheduleId, null, true);
    expect(await events()).toEqual(['scan.completed', 'scan.completed']);
    const marked = await h.request('POST', '/scans/cve/mac-address/cve/status', {
      body: { mac_address: mac, cve_id: MARKED, status: 'accepted', justification: 'JBoss is reachable from the management VLAN only.' },
    });
    expect(marked.status).toBe(201);

    // The catalog now holds them: one finding.kev at once, for the open finding only, from its latest scan.
    feed.serve('/kev.json', realKevJson());
    expect(await hub.runSource('kev')).toBeDefined();
    await expect.poll(async () => (await events()).filter((e) => e === 'finding.kev').length, { timeout: 5000, interval: 50 }).toBe(1);
    await h.cp.notifier.idle();
    await expect.poll(() => receiver.received.filter((r) => own.test(r.body)).length, { timeout: 5000, interval: 50 }).toBe(3);
    const alert = receiver.received
      .map((r) => ({ ...r, json: JSON.parse(r.body) as { event: string; data: Record<string, unknown> } }))
      .find((r) => r.json.event === 'finding.kev')!;
    expect(verifySignature(alert.body, WEBHOOK_SECRET, alert.signature)).toBe(true);
    expect(alert.json.data).toMatchObject({
      scan_id: second,
      finding_id: expect.any(String),
      cve_id: OPEN,
      host: { ip_address: '192.168.88.2', mac_address: mac },
      kev: { date_added: entry.dateAdded, due_date: entry.dueDate, ransomware: expect.any(Boolean) },
      exposure: { state: 'no', reasons: [] },
      report_url: `${h.url}/scans/cve/${second}/report.json`,
    });

    // The same catalog again: no second alert.
    await hub.runSource('kev');
    // A later scan reporting the finding in KEV: the state already says so, no alert.
    await scanFacts(h, agent, scheduleId, { date_added: entry.dateAdded, due_date: entry.dueDate, ransomware: false }, true);
    await expect.poll(async () => (await events()).filter((e) => e === 'scan.completed').length, { timeout: 5000, interval: 50 }).toBe(3);
    expect((await events()).filter((e) => e.startsWith('finding.'))).toEqual(['finding.kev']);
  });
});
