/**
 * A KEV catalog update between scans alerts at once: the real control plane's feed hub runs its KEV
 * source against the fixture feed server (the real CISA catalog, cut or whole), and an open finding
 * whose CVE just entered the catalog fires one signed finding.kev to a real receiver. Loopback 127.0.73.x only.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../src/control-plane/notify/sign.js';
import { realKevJson, startFeedServer, type FeedServer } from '../../simulators/feed-server.js';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent, type ReportInput } from '../../simulators/control-plane/simulated-agent.js';
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

let h: Harness | undefined;
let receiver: Server | undefined;
let agent: SimulatedAgent | undefined;
let feed: FeedServer | undefined;
afterEach(async () => {
  agent?.drop();
  await h?.stop();
  await feed?.close();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  h = receiver = agent = feed = undefined;
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

/** One scan of the device through the simulated agent, reporting the three findings with the facts given. */
async function scanWith(harness: Harness, sim: SimulatedAgent, scheduleId: string, kev: object | null, patchedNow: boolean): Promise<string> {
  const scanId = ((await harness.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
  await sim.waitFor(() => sim.commands.some((c) => c.type === 'scan.invoke' && (c as { scan_id: string }).scan_id === scanId));
  const command = sim.commands.find((c) => c.type === 'scan.invoke' && (c as { scan_id: string }).scan_id === scanId) as { sub_scan_id: string };
  const runId = newRunId();
  const facts = { kev, epss: null, exposure: { state: 'no', reasons: [] } };
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
  sim.report(scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id }));
  sim.report(host(runId, '192.168.88.2', mac));
  sim.report({ ...finding(runId, '192.168.88.2', mac, OPEN, 9.1), ...facts } as ReportInput);
  sim.report({ ...finding(runId, '192.168.88.2', mac, PATCHED, 10), ...facts, ...(patchedNow ? patched : {}) } as ReportInput);
  sim.report({ ...finding(runId, '192.168.88.2', mac, MARKED, 9.8), ...facts } as ReportInput);
  sim.report(finished(runId, 3));
  await sim.drained();
  await expect
    .poll(async () => (await harness.request('GET', `/scans/cve/${scanId}`)).body, { timeout: 5000, interval: 50 })
    .toMatchObject({ status: 'completed' });
  await harness.cp.notifier.idle();
  return scanId;
}

describe('finding alerts: a KEV catalog update between scans', () => {
  it('fires one signed finding.kev for an open finding whose CVE entered KEV, once, and none for a patched or marked one', async () => {
    const hook = await startReceiver();
    feed = await startFeedServer(address);
    feed.serve('/kev.json', before);
    h = await startHarness({
      webhooks: [hook.url],
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
    const site = await h.addSite();
    agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
    await agent.connect();
    const created = await h.request('POST', '/scans/cve/scheduled', {
      body: {
        description: 'KEV between scans',
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

    // The three findings are ingested while none of their CVEs is in KEV: no alert. Then Debian
    // patches one (its state stays "not in KEV": a finding that is not open does not move it).
    await scanWith(h, agent, scheduleId, null, false);
    const second = await scanWith(h, agent, scheduleId, null, true);
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
    await expect.poll(() => hook.received.length, { timeout: 5000, interval: 50 }).toBe(3);
    const alert = hook.received
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
    await scanWith(h, agent, scheduleId, { date_added: entry.dateAdded, due_date: entry.dueDate, ransomware: false }, true);
    await expect.poll(async () => (await events()).filter((e) => e === 'scan.completed').length, { timeout: 5000, interval: 50 }).toBe(3);
    expect((await events()).filter((e) => e.startsWith('finding.'))).toEqual(['finding.kev']);
  });
});
