import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inScope } from '../../../src/shared/ipv4.js';
import type { WatchScanRequest } from '../../../src/agent/watch/index.js';
import { startDemoSystem, type DemoSystem } from '../../helpers/demo-system.js';
import { startBannerServer, type FakeService } from '../../simulators/banner-server.js';
import { ManualTimers } from '../uplink/manual-timers.js';
import { eventually } from '../routeros/helpers.js';

// The site's /24 (the router, the feed simulators and the control plane on .1, banner services on .2-.5).
const net = '127.0.141';
const scope = `${net}.0/24`;
const epoch = Date.UTC(2026, 11, 6, 3, 0, 0);
const timers = new ManualTimers();
const started: { scanId: string; request: WatchScanRequest; at: number }[] = [];
let system: DemoSystem;
let camera: FakeService;

interface ScanSummary {
  id: string;
  origin: string;
  trigger: string | null;
  status: string;
}
interface Report {
  cves: { cve_id: string; cpe: string; host: { ip_address: string } }[];
}

const lease = (mac: string, ip: string) => ({
  address: ip,
  'mac-address': mac,
  'active-address': ip,
  'active-mac-address': mac,
  status: 'bound',
  dynamic: 'true',
});

/** A schedule of the whole site (Wednesdays 10:00 UTC, far from the injected 03:00), with a scan window if given. */
const siteSchedule = (description: string, window?: { start: string; end: string }) => ({
  description,
  day_of_week: 3,
  time_of_day: '10:00',
  every_n_weeks: 2,
  timezone: 'UTC',
  min_cvss: 4,
  warning_threshold: 7,
  ignore_offline_sites: false,
  sites: [{ id: system.siteId, subnet: scope }],
  notification_group: 'security-alerts',
  ...(window ? { window } : {}),
});

/** The control plane's watch scan whose trigger says `text`, once it has ended. */
async function watchScanAtControlPlane(text: string): Promise<ScanSummary> {
  let found: ScanSummary | undefined;
  const ended = await eventually(() => {
    void system.api<ScanSummary[]>('GET', '/scans/cve?origin=watch').then((scans) => {
      found = scans.find((scan) => scan.trigger?.includes(text) === true && ['completed', 'partial', 'failed'].includes(scan.status));
    });
    return found !== undefined;
  }, 30_000);
  expect(ended, `no ended watch scan for ${text}`).toBe(true);
  return found as ScanSummary;
}

/** Injected time moves on until the policy has started `count` micro-scans in all. */
function advanceUntilStarted(count: number, stepMs = 1000, limitMs = 30_000): number {
  let waited = 0;
  while (started.length < count && waited < limitMs) {
    timers.advance(stepMs);
    waited += stepMs;
  }
  return waited;
}

beforeAll(async () => {
  system = await startDemoSystem({
    net,
    bindHost: `${net}.1`,
    agentConfig: { watch: { enabled: true, debounce: '5s', max_scans_per_minute: 5, version_poll: '1s', min_cvss: 0, warning_threshold: 7 } },
    agentDeps: {
      watch: {
        timers,
        clock: { now: () => new Date(epoch + timers.now()) },
        onStarted: (scanId, request) => started.push({ scanId, request, at: timers.now() }),
      },
    },
  });
  camera = await startBannerServer({ host: `${net}.5`, port: 8080, httpServer: 'nginx/1.13.2' });
  expect(await eventually(() => (system.agent.watch?.watcher.baselines ?? 0) >= 1, 20_000)).toBe(true);
}, 120_000);

afterAll(async () => {
  await camera?.close();
  await system?.stop();
});

describe('the agent watching its router', () => {
  it('a lease added: a micro-scan of that host within 30 s of injected time, its findings at the control plane once', async () => {
    const addedAt = timers.now();
    system.router.addRow('/ip/dhcp-server/lease', { ...lease('02:00:00:00:00:05', `${net}.5`), 'host-name': 'camera' });
    expect(await eventually(() => system.agent.watch?.waiting === 1, 10_000)).toBe(true);
    const waited = advanceUntilStarted(1);
    expect(started).toHaveLength(1);
    expect(waited).toBeLessThanOrEqual(30_000);
    expect((started[0]?.at ?? Infinity) - addedAt).toBeLessThanOrEqual(30_000);
    expect(started[0]?.request).toMatchObject({ ips: [`${net}.5`], withRouter: false });

    const scan = await watchScanAtControlPlane('02:00:00:00:00:05');
    expect(scan).toMatchObject({ origin: 'watch', status: 'completed' });
    const report = await system.api<Report>('GET', `/scans/cve/${scan.id}/report.json`);
    const instances = report.cves.filter((instance) => instance.host.ip_address === `${net}.5`);
    // nginx 1.13.2's CVEs, each once.
    expect(instances.length).toBeGreaterThan(0);
    const ids = instances.map((instance) => instance.cve_id);
    expect(new Set(ids).size).toBe(ids.length);
    // Exactly one watch scan for this lease reached the control plane.
    const all = await system.api<ScanSummary[]>('GET', '/scans/cve?origin=watch');
    expect(all.filter((summary) => summary.trigger?.includes('02:00:00:00:00:05'))).toHaveLength(1);
  });

  it("a neighbor's version changed: a run that re-judges it from the router's data, with the new version's CVEs", async () => {
    const before = started.length;
    system.router.setRow('/ip/neighbor', (row) => row['mac-address'] === '48:A9:8A:01:02:03', { version: '6.42.1 (long-term)' });
    expect(await eventually(() => system.agent.watch?.waiting === 1, 10_000)).toBe(true);
    advanceUntilStarted(before + 1);
    expect(started[before]?.request).toMatchObject({
      ips: [`${net}.9`],
      withRouter: true,
      trigger: expect.stringContaining('6.45.1 (stable) -> 6.42.1 (long-term)'),
    });
    const scan = await watchScanAtControlPlane('6.42.1 (long-term)');
    const report = await system.api<Report>('GET', `/scans/cve/${scan.id}/report.json`);
    const neighbor = report.cves.filter((instance) => instance.host.ip_address === `${net}.9`);
    // Judged as the version it reports now (the CPE names it), not the one of the last scheduled scan.
    expect(neighbor.length).toBeGreaterThan(0);
    expect(neighbor.every((instance) => instance.cpe.startsWith('cpe:2.3:o:mikrotik:routeros:6.42.1:'))).toBe(true);
  });

  it("the router's version changed: the router re-judged, and router.version_changed sent once", async () => {
    // A schedule that covers the site: its group hears the site's change alerts.
    await system.api('POST', '/scans/cve/scheduled', siteSchedule('fortnightly'));
    const before = started.length;
    system.router.setRow('/system/resource', () => true, { version: '6.42.1 (long-term)' });
    expect(await eventually(() => system.agent.watch?.waiting === 1, 10_000)).toBe(true);
    advanceUntilStarted(before + 1);
    expect(started[before]?.request).toMatchObject({ ips: [`${net}.1`], withRouter: true, trigger: 'router RouterOS 6.40.5 (stable) -> 6.42.1 (long-term)' });
    const scan = await watchScanAtControlPlane('router RouterOS 6.40.5');
    const report = await system.api<Report>('GET', `/scans/cve/${scan.id}/report.json`);
    const router = report.cves.filter((instance) => instance.host.ip_address === `${net}.1`);
    expect(router.length).toBeGreaterThan(0);
    expect(router.every((instance) => instance.cpe.startsWith('cpe:2.3:o:mikrotik:routeros:6.42.1:'))).toBe(true);
    const changed = () => system.webhook.events.filter((delivery) => delivery.event === 'router.version_changed');
    expect(await eventually(() => changed().length > 0, 10_000)).toBe(true);
    expect(changed()).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ previous_version: '6.40.5', new_version: '6.42.1', origin: 'watch' }) }),
    ]);
  });

  it("a new device in a schedule's closed window hours: no micro-scan until the window allows it", async () => {
    // 09:00-17:00 UTC: closed at the injected 03:00.
    const schedule = await system.api<{ id: string }>('POST', '/scans/cve/scheduled', siteSchedule('office hours only', { start: '09:00', end: '17:00' }));
    const held = () => system.agent.schedules().some((stored) => stored.id === schedule.id);
    expect(await eventually(held, 20_000)).toBe(true);
    const before = started.length;
    system.router.addRow('/ip/dhcp-server/lease', lease('02:00:00:00:00:06', `${net}.6`));
    expect(await eventually(() => system.agent.watch?.waiting === 1, 10_000)).toBe(true);
    // Five minutes of injected time: the host waits, nothing is sent.
    for (let second = 0; second < 300; second += 1) timers.advance(1000);
    expect(started.length).toBe(before);
    expect(system.agent.watch?.waiting).toBe(1);
    // The schedule (and its window) goes: the host is scanned at the next ask.
    await system.api('DELETE', `/scans/cve/scheduled/${schedule.id}`);
    expect(await eventually(() => !held(), 20_000)).toBe(true);
    advanceUntilStarted(before + 1, 1000, 120_000);
    expect(started[before]?.request).toMatchObject({ ips: [`${net}.6`] });
  });

  it('a flood of 1,000 lease changes in a minute: micro-scans capped as configured, none outside the scope', async () => {
    const watch = system.agent.watch;
    if (watch === undefined) throw new Error('no watch');
    // Let the earlier micro-scans leave the rate window.
    timers.advance(120_000);
    const before = started.length;
    const outOfScopeBefore = watch.stats.outOfScope;
    // 250 leases inside the site's /24 and 750 on neighbouring networks this site does not scan.
    for (let i = 0; i < 1000; i += 1) {
      const ip = i < 250 ? `${net}.${(i % 240) + 10}` : `127.0.${142 + Math.floor((i - 250) / 250)}.${((i - 250) % 250) + 1}`;
      system.router.addRow(
        '/ip/dhcp-server/lease',
        lease(`02:00:00:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, ip),
      );
    }
    expect(await eventually(() => watch.stats.outOfScope - outOfScopeBefore === 750 && watch.waiting === 240, 20_000)).toBe(true);
    // A minute of injected time, second by second: the cap (5 a minute) holds.
    for (let second = 0; second < 60; second += 1) timers.advance(1000);
    expect(started.length - before).toBe(5);
    timers.advance(60_000);
    expect(started.length - before).toBe(10);
    const flood = started.slice(before);
    expect(flood.every(({ request }) => request.ips.every((ip) => inScope(ip, [scope])))).toBe(true);
    // And the agent's own runs: every watch run's targets lie inside the scope.
    const runs = system.agent.scans().list({ limit: 1000 });
    const watchRuns = runs.filter((run) => run.origin === 'watch');
    expect(watchRuns.length).toBe(started.length);
    expect(watchRuns.every((run) => (run.target_ips ?? []).every((ip) => inScope(ip, [scope])))).toBe(true);
  });

  it("the agent's stop cancels every listen on the router by its tag before closing the session", async () => {
    expect(system.router.listens()).toHaveLength(4);
    await system.agent.stop();
    expect(system.router.listens()).toEqual([]);
    const cancelled = system.router.received.filter((words) => words[0] === '/cancel').map((words) => words.find((word) => word.startsWith('=tag='))?.slice(5));
    expect(cancelled).toHaveLength(4);
    expect(await eventually(() => system.router.connections() === 0, 5000)).toBe(true);
  });
});
