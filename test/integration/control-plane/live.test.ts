/**
 * The console's live socket on a real control plane: real WebSocket clients, simulated agents
 * reporting through the real hub, the REST API as the reference for what the socket says.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_TOO_SLOW } from '../../../src/control-plane/console/live-socket.js';
import { openLive, refusalOf, type LiveClient, type LiveFrame } from '../../helpers/live-client.js';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
const agents: SimulatedAgent[] = [];
const clients: LiveClient[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  for (const client of clients.splice(0)) client.ws.terminate();
  await h?.stop();
  h = undefined;
});

async function setup(options: Parameters<typeof startHarness>[0] = {}) {
  h = await startHarness(options);
  return h;
}

async function live(harness: Harness, options: { org?: string; since?: number; headers?: Record<string, string> } = {}) {
  const token = await harness.jwt({ org: options.org ?? 'org-a', scope: 'cve:view' });
  const client = await openLive(harness.url, { since: options.since, headers: { authorization: `Bearer ${token}`, ...options.headers } });
  clients.push(client);
  await client.waitFor((m) => m.type === 'hello');
  return client;
}

async function agentOf(harness: Harness, org = 'org-a') {
  const site = await harness.addSite(org);
  const agent = new SimulatedAgent({ url: harness.url, token: site.token, siteId: site.id });
  agents.push(agent);
  await agent.connect();
  return agent;
}

const schedule = (sites: { id: string; subnet: string }[]) => ({
  description: 'nightly',
  day_of_week: 3,
  time_of_day: '04:00',
  every_n_weeks: 2,
  timezone: 'UTC',
  min_cvss: 4,
  warning_threshold: 7,
  notification_group: 'security-alerts',
  sites,
});
const after = (client: LiveClient, cursor: number) => client.messages.filter((m) => m.cursor > cursor && m.type !== 'hello');
const strip = ({ cursor: _c, ...rest }: LiveFrame) => rest;

describe('the live socket: who may open it', () => {
  it('refuses before the upgrade: no credentials 401, a foreign Origin 403, no cve:view 403, a bad since 400; an unknown path is still 404', async () => {
    const harness = await setup();
    const url = harness.url;
    const token = await harness.jwt({ scope: 'cve:view' });

    const anonymous = await refusalOf(openLive(url));
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ type: 'authentication_error', code: 'authentication_required' });
    expect((anonymous.body as { doc_url: string }).doc_url).toMatch(/\/docs\/errors\/authentication_required$/);

    const forged = await refusalOf(openLive(url, { headers: { authorization: 'Bearer not-a-jwt' } }));
    expect(forged).toMatchObject({ status: 401, body: { code: 'token_invalid' } });

    const crossSite = await refusalOf(openLive(url, { headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example' } }));
    expect(crossSite).toMatchObject({ status: 403, body: { type: 'permission_error', code: 'origin_refused' } });
    const opaque = await refusalOf(openLive(url, { headers: { authorization: `Bearer ${token}`, origin: 'null' } }));
    expect(opaque).toMatchObject({ status: 403, body: { code: 'origin_refused' } });

    const noScope = await refusalOf(openLive(url, { headers: { authorization: `Bearer ${await harness.jwt({ scope: 'cve:create' })}` } }));
    expect(noScope).toMatchObject({ status: 403, body: { code: 'scope_missing' } });

    const badSince = await refusalOf(openLive(url, { headers: { authorization: `Bearer ${token}` }, path: '/console/live?since=-3' }));
    expect(badSince).toMatchObject({ status: 400, body: { code: 'parameter_invalid' } });

    const unknown = await refusalOf(openLive(url, { headers: { authorization: `Bearer ${token}` }, path: '/console/elsewhere' }));
    expect(unknown.status).toBe(404);

    // The page's own origin is welcome, and the agents' hub still answers on the same port.
    const own = await openLive(url, { headers: { authorization: `Bearer ${token}`, origin: url } });
    clients.push(own);
    expect(await own.waitFor((m) => m.type === 'hello')).toMatchObject({ type: 'hello', org_id: 'org-a' });
    const agent = await agentOf(harness);
    expect(agent.welcome).toMatchObject({ type: 'welcome', site_id: agent.siteId });
  });
});

describe('the live socket: what it pushes', () => {
  it("pushes an organization's site presence, scan progress and status, events and findings, as the REST API reports them, and nothing to another organization", async () => {
    const harness = await setup();
    const pageA = await live(harness, { org: 'org-a' });
    const pageB = await live(harness, { org: 'org-b' });
    const hello = pageA.messages[0] as LiveFrame;
    expect(hello).toEqual({ type: 'hello', cursor: expect.any(Number), org_id: 'org-a' });

    const agent = await agentOf(harness, 'org-a');
    await pageA.waitFor((m) => m.type === 'site' && m.site_id === agent.siteId && m.online === true);

    const runId = newRunId();
    agent.report(scanStatus({ runId, scheduleId: crypto.randomUUID(), slotAt: '2030-01-07T07:00:00.000Z' }));
    agent.report({ type: 'scan.progress', at: new Date().toISOString(), run_id: runId, percent: 40, hosts_done: 2, hosts_total: 5 });
    await agent.drained();
    const progressed = await pageA.waitFor((m) => m.type === 'scan' && m.progress === 40);
    const scanId = progressed.scan_id as string;
    const rest = await harness.request('GET', `/scans/cve/${scanId}`);
    const detail = rest.body as { status: string; progress: number; scan_schedule_id: string | null };
    expect(progressed).toMatchObject({ status: detail.status, progress: detail.progress, scan_schedule_id: detail.scan_schedule_id });
    expect(detail.status).toBe('scanning');

    agent.report({ type: 'scan.event', at: '2030-01-07T07:00:05.000Z', run_id: runId, level: 'info', message: 'Sweeping 192.168.88.0/24' });
    agent.report(host(runId, '192.168.88.10', '4C:5E:0C:00:00:10'));
    agent.report(finding(runId, '192.168.88.10', '4C:5E:0C:00:00:10', 'CVE-2018-14847', 9.1));
    agent.report(finished(runId, 1));
    await agent.drained();
    const done = await pageA.waitFor((m) => m.type === 'scan' && m.status === 'completed');
    expect(done).toMatchObject({ scan_id: scanId, progress: 100 });
    const finalDetail = (await harness.request('GET', `/scans/cve/${scanId}`)).body as { status: string; progress: number; events: unknown[] };
    expect(finalDetail).toMatchObject({ status: 'completed', progress: 100 });
    expect(pageA.messages.find((m) => m.type === 'event')).toMatchObject({
      scan_id: scanId,
      time: '2030-01-07T07:00:05.000Z',
      message: 'Sweeping 192.168.88.0/24',
    });
    expect(finalDetail.events).toContainEqual({ time: '2030-01-07T07:00:05.000Z', message: 'Sweeping 192.168.88.0/24' });
    expect(pageA.messages.find((m) => m.type === 'finding')).toEqual({
      type: 'finding',
      cursor: expect.any(Number),
      scan_id: scanId,
      site_id: agent.siteId,
      mac_address: '4C:5E:0C:00:00:10',
      ip_address: '192.168.88.10',
      cve_id: 'CVE-2018-14847',
      score: 9.1,
      severity: 'CRITICAL',
    });

    agent.drop();
    await pageA.waitFor((m) => m.type === 'site' && m.online === false);

    // Org B's page hears its own site, and only that: the bus is ordered, so everything of org A came before.
    const agentB = await agentOf(harness, 'org-b');
    await pageB.waitFor((m) => m.type === 'site' && m.site_id === agentB.siteId);
    expect(pageB.messages.map((m) => m.type)).toEqual(['hello', 'site']);
    expect(pageA.messages.some((m) => m.site_id === agentB.siteId)).toBe(false);
    // Every message has a cursor, increasing.
    const cursors = pageA.messages.map((m) => m.cursor);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
  });

  it('pushes scans the control plane creates and stops (invoke, stop) with their events', async () => {
    const harness = await setup();
    const page = await live(harness);
    const agent = await agentOf(harness);
    const offline = await harness.addSite();
    const created = await harness.request('POST', '/scans/cve/scheduled', {
      body: schedule([
        { id: agent.siteId, subnet: '192.168.88.0/24' },
        { id: offline.id, subnet: '10.0.0.0/24' },
      ]),
    });
    expect(created.status).toBe(201);
    const scheduleId = (created.body as { id: string }).id;
    expect((await harness.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).status).toBeLessThan(300);
    const queued = await page.waitFor((m) => m.type === 'scan' && m.scan_schedule_id === scheduleId);
    expect(queued).toMatchObject({ status: 'queued' });
    const offlineEvent = await page.waitFor((m) => m.type === 'event' && m.scan_id === queued.scan_id);
    expect(offlineEvent.message).toContain(`site ${offline.id}: agent offline at start`);

    expect((await harness.request('DELETE', `/scans/cve/scheduled/${scheduleId}/invoke`)).status).toBeLessThan(300);
    const stopEvent = await page.waitFor((m) => m.type === 'event' && m.message === 'stop requested');
    // The scan service publishes a change's events, then the scan's new state.
    const stopped = await page.waitFor((m) => m.type === 'scan' && m.cursor > stopEvent.cursor);
    expect(stopped.scan_id).toBe(queued.scan_id);
    const detail = (await harness.request('GET', `/scans/cve/${queued.scan_id as string}`)).body as { status: string; progress: number };
    expect(stopped).toMatchObject({ status: detail.status, progress: detail.progress });
  });

  it('pushes a scan whose sites timed out', async () => {
    let now = new Date();
    const harness = await setup({ clock: { now: () => now } });
    const page = await live(harness);
    const silent = await agentOf(harness);
    const created = await harness.request('POST', '/scans/cve/scheduled', { body: schedule([{ id: silent.siteId, subnet: '192.168.88.0/24' }]) });
    const scheduleId = (created.body as { id: string }).id;
    const scanId = ((await harness.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
    await page.waitFor((m) => m.type === 'scan' && m.scan_id === scanId && m.status === 'queued');

    now = new Date(now.getTime() + 61 * 60_000);
    await harness.cp.slots.tick();
    const event = await page.waitFor((m) => m.type === 'event' && m.scan_id === scanId);
    expect(event.message).toBe('1 site(s) timed out');
    const failed = await page.waitFor((m) => m.type === 'scan' && m.cursor > event.cursor);
    expect(failed).toMatchObject({ scan_id: scanId, status: 'failed', progress: 100 });
  });
});

describe('the live socket: catching up', () => {
  it('replays exactly the messages a page missed when it reconnects with since', async () => {
    const harness = await setup();
    const watcher = await live(harness);
    const page = await live(harness);
    const first = await agentOf(harness);
    await page.waitFor((m) => m.type === 'site' && m.site_id === first.siteId);
    const since = page.cursor;
    await page.close();

    // Missed: another site's presence, a whole run, and another organization's traffic (never replayed).
    const second = await agentOf(harness);
    const foreign = await agentOf(harness, 'org-b');
    const runId = newRunId();
    second.report(scanStatus({ runId, scheduleId: crypto.randomUUID(), slotAt: '2030-01-07T07:00:00.000Z' }));
    second.report({ type: 'scan.event', at: new Date().toISOString(), run_id: runId, level: 'info', message: 'missed event' });
    second.report(finding(runId, '192.168.88.11', '4C:5E:0C:00:00:11'));
    second.report(finished(runId, 1));
    await second.drained();
    await watcher.waitFor((m) => m.type === 'scan' && m.status === 'completed');
    const missed = after(watcher, since);
    expect(missed.map((m) => m.type)).toEqual(expect.arrayContaining(['site', 'scan', 'event', 'finding']));

    const back = await live(harness, { since });
    expect(back.messages[0]).toMatchObject({ type: 'hello', cursor: since });
    await back.waitFor((m) => m.cursor === (missed.at(-1) as LiveFrame).cursor);
    expect(after(back, since)).toEqual(missed);
    expect(after(back, since).some((m) => m.site_id === foreign.siteId)).toBe(false);

    // Then live, like everyone else.
    first.drop();
    const offline = await watcher.waitFor((m) => m.type === 'site' && m.online === false);
    expect(strip(await back.waitFor((m) => m.cursor === offline.cursor))).toEqual(strip(offline));
  });

  it('tells a page to resync when since is older than the ring holds, or from before this process', async () => {
    const harness = await setup({ live: { ringCapacity: 4 } });
    const watcher = await live(harness);
    const since = watcher.cursor;
    for (let i = 0; i < 3; i += 1) await agentOf(harness);
    await watcher.waitFor(() => after(watcher, since).length === 3);
    // Within the ring: replayed.
    const fresh = await live(harness, { since });
    await fresh.waitFor(() => after(fresh, since).length === 3);
    expect(fresh.messages.some((m) => m.type === 'resync')).toBe(false);

    for (let i = 0; i < 2; i += 1) await agentOf(harness);
    await watcher.waitFor(() => after(watcher, since).length === 5);
    const stale = await live(harness, { since });
    const resync = await stale.waitFor((m) => m.type === 'resync');
    expect(resync.cursor).toBe(harness.cp.live.bus.cursor);
    expect(stale.messages.map((m) => m.type)).toEqual(['hello', 'resync']);

    const previousProcess = await live(harness, { since: 12 });
    expect((await previousProcess.waitFor((m) => m.type !== 'hello')).type).toBe('resync');
  });
});

describe('the live socket: a page that does not read', () => {
  it('is closed with 1013 once too much waits for it, and the others keep getting messages', async () => {
    const harness = await setup({ live: { maxBufferedBytes: 16 * 1024 } });
    const slow = await live(harness);
    const fast = await live(harness);
    // Stop reading at the TCP level, as a stalled browser tab does.
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const { bus, socket } = harness.cp.live;
    const message = 'x'.repeat(400);
    let published = 0;
    while (socket.connected === 2 && published < 200_000) {
      bus.publish('org-a', { type: 'event', scan_id: crypto.randomUUID(), time: new Date().toISOString(), message });
      published += 1;
      if (published % 20 === 0) await turn();
    }
    expect(socket.connected).toBe(1);
    const last = bus.publish('org-a', { type: 'event', scan_id: crypto.randomUUID(), time: new Date().toISOString(), message: 'after' });
    await fast.waitFor((m) => m.cursor === last.cursor);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await slow.closed).code).toBe(CLOSE_TOO_SLOW);
    // It got a prefix of the stream, so its cursor is where a reconnect picks up.
    expect(slow.cursor).toBeLessThan(last.cursor);
  });
});
