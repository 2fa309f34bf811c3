/**
 * Alerts on change (store/change-watch.ts) through a real control plane, a simulated agent and a
 * real webhook receiver: a run's report is compared with what its site had, and only the
 * differences go out, signed, once each. Runs on both store engines (the sqlite and postgres projects).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Report } from '../../../src/protocol/index.js';
import { verifySignature } from '../../../src/control-plane/notify/sign.js';
import { finding, finished, host, newRunId, sampleCoverage, scanStatus } from '../../simulators/control-plane/reports.js';
import type { ReportInput, SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { queryDatabase } from '../../helpers/store-engine.js';
import { alertSite, startHookReceiver, type HookReceiver } from './alert-site.js';
import { startHarness, WEBHOOK_SECRET, type Harness } from './harness.js';

const address = '127.0.160.1';
const camera = { ip: '192.168.88.2', mac: '4C:5E:0C:16:00:02' };
const printer = { ip: '192.168.88.3', mac: '4C:5E:0C:16:00:03' };
const OLD = 'CVE-2018-14847';
const GONE = 'CVE-2019-3976';

let h: Harness | undefined;
let hook: HookReceiver | undefined;
let agent: SimulatedAgent | undefined;
afterEach(async () => {
  agent?.drop();
  await h?.stop();
  await hook?.close();
  h = hook = agent = undefined;
});

interface Received {
  event: string;
  data: Record<string, unknown>;
}

interface Seen {
  ip: string;
  mac: string;
  cves?: [string, number][];
}

const inventory = (runId: string | null, version: string): ReportInput => ({
  type: 'inventory',
  at: new Date().toISOString(),
  run_id: runId,
  router: { identity: 'gw', routeros_version: version, board: 'RB4011', serial: null },
  hosts: [],
  neighbors: [],
});

/**
 * Invokes the schedule; the agent reports the hosts with their CVEs (and `extra` reports), then
 * finishes with `status`; waits for the scan to end and the notifier to queue what it raised.
 * Answers the scan's id and the reports sent, as the agent's outbox numbered them.
 */
async function run(
  harness: Harness,
  sim: SimulatedAgent,
  scheduleId: string,
  seen: Seen[],
  options: { status?: 'completed' | 'stopped' | 'failed'; extra?: (runId: string) => ReportInput[]; coverage?: ReturnType<typeof sampleCoverage> } = {},
): Promise<{ scanId: string; sent: Report[] }> {
  const scanId = ((await harness.request('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
  const isThis = (c: { type: string }) => c.type === 'scan.invoke' && (c as { scan_id?: string }).scan_id === scanId;
  await sim.waitFor(() => sim.commands.some(isThis));
  const command = sim.commands.find(isThis) as unknown as { sub_scan_id: string };
  const runId = newRunId();
  const reports: ReportInput[] = [scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id })];
  let findings = 0;
  for (const device of seen) {
    reports.push(host(runId, device.ip, device.mac));
    for (const [cve, score] of device.cves ?? []) {
      reports.push(finding(runId, device.ip, device.mac, cve, score));
      findings++;
    }
  }
  reports.push(...(options.extra?.(runId) ?? []));
  reports.push(finished(runId, findings, options.status ?? 'completed', seen.length, options.coverage));
  const sent = reports.map((report) => ({ ...report, seq: sim.report(report) }) as Report);
  await sim.drained();
  await expect
    .poll(async () => ((await harness.request('GET', `/scans/cve/${scanId}`)).body as { status: string }).status, { timeout: 5000, interval: 50 })
    .toMatch(/^(completed|partial|failed)$/);
  await harness.cp.notifier.idle();
  return { scanId, sent };
}

/** The change events the receiver got, each checked against the group's secret. */
function changes(receiver: HookReceiver): Received[] {
  return receiver.received.flatMap((r) => {
    expect(verifySignature(r.body, WEBHOOK_SECRET, r.signature)).toBe(true);
    const json = JSON.parse(r.body) as Received;
    return json.event.startsWith('scan.') ? [] : [json];
  });
}

/** What each change says in short: `event device cve` (or the versions). */
const short = (all: Received[]) =>
  all
    .map(({ event, data }) => {
      const device = data.device as { ip: string } | undefined;
      const cve = data.cve as { id: string } | undefined;
      return event === 'router.version_changed'
        ? `${event} ${String(data.previous_version)} -> ${String(data.new_version)}`
        : [event, device?.ip, cve?.id].filter(Boolean).join(' ');
    })
    .sort();

describe('alerts on change, not on noise', () => {
  it('tells a new device, a new, closed and resurfaced finding once each, and nothing for a replay or a run that did not look', async () => {
    const receiver = (hook = await startHookReceiver(address));
    h = await startHarness({ webhooks: [receiver.url], config: { listen: { host: address, port: 0 } } });
    const harness = h;
    const site = await alertSite(harness, 'change alerts');
    agent = site.agent;
    const settle = async (count: number) => {
      // Every scan's own notification too: once all are in, nothing of this step is still on its way.
      await expect.poll(() => receiver.received.length, { timeout: 5000, interval: 50 }).toBe(count);
      return short(changes(receiver));
    };

    // A new device with two CVEs: device.new and finding.new for each, with what the run said.
    const first = await run(harness, agent, site.scheduleId, [
      {
        ...camera,
        cves: [
          [OLD, 9.1],
          [GONE, 8.8],
        ],
      },
    ]);
    expect(await settle(4)).toEqual([`device.new ${camera.ip}`, `finding.new ${camera.ip} ${OLD}`, `finding.new ${camera.ip} ${GONE}`]);
    const news = changes(receiver).filter((c) => c.event === 'finding.new');
    expect(news.find((c) => (c.data.cve as { id: string }).id === OLD)?.data).toEqual({
      site_id: agent.siteId,
      scan_id: first.scanId,
      scan_schedule_id: site.scheduleId,
      origin: 'on-demand',
      device: { mac: camera.mac, ip: camera.ip, hostname: 'host-2' },
      cve: { id: OLD, score: 9.1, severity: 'CRITICAL' },
      report_url: `${harness.url}/scans/cve/${first.scanId}/report.json`,
    });

    // The whole run's reports arrive once more (as an agent that lost the acknowledgements resends
    // them): they are ingested once, nothing more goes out. The next run's reports follow them on
    // the same connection, so once it is settled the replay was handled.
    for (const report of first.sent) agent.sendRaw(JSON.stringify(report));

    // The same findings again: nothing. Then one CVE gone from the device: finding.closed, once.
    await run(harness, agent, site.scheduleId, [
      {
        ...camera,
        cves: [
          [OLD, 9.1],
          [GONE, 8.8],
        ],
      },
    ]);
    expect(await settle(5)).toHaveLength(3);
    await run(harness, agent, site.scheduleId, [{ ...camera, cves: [[OLD, 9.1]] }]);
    expect((await settle(7)).filter((c) => c.startsWith('finding.closed'))).toEqual([`finding.closed ${camera.ip} ${GONE}`]);
    await run(harness, agent, site.scheduleId, [{ ...camera, cves: [[OLD, 9.1]] }]);
    expect(await settle(8)).toHaveLength(4);

    // Runs that did not look at the camera close nothing of it: another host only (a new device),
    // a failed run, and a run without CVE data (its coverage says none was loaded).
    await run(harness, agent, site.scheduleId, [{ ...printer }]);
    await run(harness, agent, site.scheduleId, [{ ...camera }], { status: 'failed' });
    await run(harness, agent, site.scheduleId, [{ ...camera }], { coverage: { ...sampleCoverage(), cve_data: null } });
    expect(await settle(12)).toEqual([
      `device.new ${camera.ip}`,
      `device.new ${printer.ip}`,
      `finding.closed ${camera.ip} ${GONE}`,
      `finding.new ${camera.ip} ${OLD}`,
      `finding.new ${camera.ip} ${GONE}`,
    ]);

    // Seen again by a stopped run (the hosts it reported were scanned whole): finding.resurfaced, once.
    const again = await run(
      harness,
      agent,
      site.scheduleId,
      [
        {
          ...camera,
          cves: [
            [OLD, 9.1],
            [GONE, 8.8],
          ],
        },
      ],
      { status: 'stopped' },
    );
    expect((await settle(14)).filter((c) => c.startsWith('finding.resurfaced'))).toEqual([`finding.resurfaced ${camera.ip} ${GONE}`]);
    expect(changes(receiver).find((c) => c.event === 'finding.resurfaced')?.data).toMatchObject({
      scan_id: again.scanId,
      cve: { id: GONE, score: 8.8, severity: 'HIGH' },
      device: { mac: camera.mac, ip: camera.ip },
    });
    await run(harness, agent, site.scheduleId, [
      {
        ...camera,
        cves: [
          [OLD, 9.1],
          [GONE, 8.8],
        ],
      },
    ]);
    expect(await settle(15)).toHaveLength(6);

    // What the store kept: one row per device and CVE, the resurfaced one opened twice; each change delivered.
    expect(await queryDatabase(harness.dir, 'SELECT device, cve_id, state, opened FROM finding_states ORDER BY cve_id')).toEqual([
      { device: camera.mac, cve_id: OLD, state: 'open', opened: 1 },
      { device: camera.mac, cve_id: GONE, state: 'open', opened: 2 },
    ]);
    const deliveries = await harness.store.notifications.list();
    expect(deliveries.filter((d) => !d.event.startsWith('scan.')).map((d) => d.status)).toEqual(Array(6).fill('delivered'));
  });

  it('tells a router version change once, not the first inventory, and not an inventory outside a run', async () => {
    const receiver = (hook = await startHookReceiver(address));
    h = await startHarness({ webhooks: [receiver.url], config: { listen: { host: address, port: 0 } } });
    const harness = h;
    const site = await alertSite(harness, 'router versions');
    agent = site.agent;
    const settle = async (count: number) => {
      await expect.poll(() => receiver.received.length, { timeout: 5000, interval: 50 }).toBe(count);
      return short(changes(receiver)).filter((c) => c.startsWith('router.'));
    };

    await run(harness, agent, site.scheduleId, [], { extra: (runId) => [inventory(runId, '6.40.5')] });
    expect(await settle(1)).toEqual([]);
    const upgraded = await run(harness, agent, site.scheduleId, [], { extra: (runId) => [inventory(runId, '6.49.8')] });
    expect(await settle(3)).toEqual(['router.version_changed 6.40.5 -> 6.49.8']);
    expect(changes(receiver).find((c) => c.event === 'router.version_changed')?.data).toEqual({
      site_id: agent.siteId,
      scan_id: upgraded.scanId,
      scan_schedule_id: site.scheduleId,
      origin: 'on-demand',
      router: { identity: 'gw', board: 'RB4011' },
      previous_version: '6.40.5',
      new_version: '6.49.8',
      report_url: `${harness.url}/scans/cve/${upgraded.scanId}/report.json`,
    });
    // The same version again: no change. An inventory of no run moves the state without telling anyone,
    // so the next run reporting that version is no change either.
    await run(harness, agent, site.scheduleId, [], { extra: (runId) => [inventory(runId, '6.49.8')] });
    expect(await settle(4)).toHaveLength(1);
    agent.report(inventory(null, '7.12'));
    await agent.drained();
    await run(harness, agent, site.scheduleId, [], { extra: (runId) => [inventory(runId, '7.12')] });
    expect(await settle(5)).toEqual(['router.version_changed 6.40.5 -> 6.49.8']);
    await run(harness, agent, site.scheduleId, [], { extra: (runId) => [inventory(runId, '7.13')] });
    expect(await settle(7)).toEqual(['router.version_changed 6.40.5 -> 6.49.8', 'router.version_changed 7.12 -> 7.13']);
  });

  it("tells a watch run's changes, which no schedule made, to the groups of the schedules covering the site", async () => {
    const receiver = (hook = await startHookReceiver(address));
    h = await startHarness({ webhooks: [receiver.url], config: { listen: { host: address, port: 0 } } });
    const site = await alertSite(h, 'watched site');
    agent = site.agent;
    const runId = newRunId();
    agent.report(scanStatus({ runId, origin: { origin: 'watch', trigger: 'DHCP lease 192.168.88.2 added' }, targetIps: [camera.ip] }));
    agent.report(host(runId, camera.ip, camera.mac));
    agent.report(finding(runId, camera.ip, camera.mac, OLD, 9.1));
    agent.report(finished(runId, 1));
    await agent.drained();
    await expect.poll(() => receiver.received.length, { timeout: 5000, interval: 50 }).toBe(2);
    const told = changes(receiver);
    expect(short(told)).toEqual([`device.new ${camera.ip}`, `finding.new ${camera.ip} ${OLD}`]);
    for (const change of told) expect(change.data).toMatchObject({ site_id: agent.siteId, origin: 'watch', scan_schedule_id: null });
    expect((await h.store.notifications.list()).map((d) => d.group_name)).toEqual(['security-alerts', 'security-alerts']);
  });
});
