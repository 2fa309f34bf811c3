import { afterEach, describe, expect, it } from 'vitest';
import type { Command } from '../../../src/protocol/index.js';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { loadContract, startHarness, type Contract, type Harness } from './harness.js';

let h: Harness;
let contract: Contract;
const agents: SimulatedAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  await h.stop();
});

async function start(clock?: { now(): Date }) {
  h = await startHarness({ clock });
  contract = await loadContract(h.url);
}

async function call(method: string, path: string, options: Parameters<Harness['request']>[2] = {}) {
  const response = await h.request(method, path, options);
  contract.check(method, path.split('?')[0] as string, response);
  return response;
}

async function onlineSite() {
  const site = await h.addSite();
  const agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
  agents.push(agent);
  await agent.connect();
  return agent;
}

async function createSchedule(sites: { id: string; subnet: string }[], extra: Record<string, unknown> = {}) {
  const response = await call('POST', '/scans/cve/scheduled', {
    body: {
      description: 'nightly',
      day_of_week: 3,
      time_of_day: '04:00',
      every_n_weeks: 2,
      timezone: 'UTC',
      min_cvss: 4,
      warning_threshold: 7,
      notification_group: 'security-alerts',
      sites,
      ...extra,
    },
  });
  expect(response.status).toBe(201);
  return (response.body as { id: string }).id;
}

function lastCommand<T extends Command['type']>(agent: SimulatedAgent, type: T): Extract<Command, { type: T }> {
  const found = agent.commands.filter((c) => c.type === type).at(-1);
  if (!found) throw new Error(`no ${type} command`);
  return found as Extract<Command, { type: T }>;
}

/** The agent runs the sub-scan a command named: one host, `n` findings, then finished. */
async function runCommanded(
  agent: SimulatedAgent,
  command: { scan_id: string; sub_scan_id: string; schedule_id: string },
  n: number,
  status: 'completed' | 'stopped' | 'failed' = 'completed',
) {
  const runId = newRunId();
  agent.report(scanStatus({ runId, scheduleId: command.schedule_id, scanId: command.scan_id, subScanId: command.sub_scan_id }));
  agent.report(host(runId, '192.168.88.20', '4C:5E:0C:00:00:20'));
  for (let i = 0; i < n; i += 1) agent.report(finding(runId, '192.168.88.20', '4C:5E:0C:00:00:20', `CVE-2019-${String(3900 + i)}`, 6 + i));
  agent.report(finished(runId, n, status));
  await agent.drained();
  return runId;
}

describe('invoking a schedule (6) and what it reports (10-12, report)', () => {
  it('fails an offline site at start, runs the online one, and merges into one partial scan', async () => {
    await start();
    const agent = await onlineSite();
    const offline = await h.addSite();
    const scheduleId = await createSchedule([
      { id: agent.siteId, subnet: '192.168.88.0/24' },
      { id: offline.id, subnet: '192.168.89.0/24' },
    ]);
    expect((await call('GET', `/scans/cve/${scheduleId}/status`)).body).toEqual({ targets: [], scanned: [], failed: [], storage_failing: [] });

    const invoked = await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`);
    expect(invoked.status).toBe(202);
    const scanId = (invoked.body as { scan_id: string }).scan_id;
    expect(invoked.body).toMatchObject({ status: 'pending', message: expect.any(String) });
    await agent.waitFor(() => agent.commands.some((c) => c.type === 'scan.invoke'));
    const command = lastCommand(agent, 'scan.invoke');
    expect(command).toMatchObject({ scan_id: scanId, schedule_id: scheduleId, subnets: ['192.168.88.0/24'], min_cvss: 4, warning_threshold: 7 });

    expect((await call('GET', `/scans/cve/${scheduleId}/status`)).body).toEqual({
      targets: [agent.siteId, offline.id].sort(),
      scanned: [offline.id],
      failed: [offline.id],
      storage_failing: [],
    });
    expect((await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body).toMatchObject({ type: 'conflict_error', code: 'scan_already_running' });
    expect((await call('GET', `/scans/cve/scheduled/${scheduleId}`)).body).toMatchObject({ running: true, status: 'starting' });
    expect((await call('GET', `/scans/cve/${scanId}/report.json`)).status).toBe(409);

    await runCommanded(agent, command, 3);
    const detail = await call('GET', `/scans/cve/${scanId}`);
    expect(detail.body).toMatchObject({
      id: scanId,
      scan_schedule_id: scheduleId,
      status: 'partial',
      progress: 100,
      running: false,
      targets: 2,
      cve_count: 3,
      unique_cves: 3,
      hosts_scanned: 1,
      hosts_with_cves: 1,
      sites_with_cves: 1,
      highest_score: 8,
      average_score: 7,
      percentage_done: 100,
      percentage_failed: 50,
      open_ports: 2,
      unique_ports: 2,
      cve_repeat_ratio: 1,
      // Terminal: the PDF report can be fetched.
      pdf_url: `${h.url}/scans/cve/${scanId}/report.pdf`,
    });
    expect((detail.body as { events: { message: string }[] }).events.map((e) => e.message)).toEqual([expect.stringContaining('agent offline at start')]);
    expect((await call('GET', `/scans/cve/${scheduleId}/status`)).body).toEqual({
      targets: [agent.siteId, offline.id].sort(),
      scanned: [agent.siteId, offline.id].sort(),
      failed: [offline.id],
      storage_failing: [],
    });

    const report = await call('GET', `/scans/cve/${scanId}/report.json`);
    expect(report.status).toBe(200);
    const body = report.body as { cves: { cve_id: string; score: number; host: { mac_address: string } }[]; warnings: unknown[]; hosts: unknown[] };
    expect(body.cves.map((c) => c.cve_id)).toEqual(['CVE-2019-3902', 'CVE-2019-3901', 'CVE-2019-3900']);
    expect(body.cves[0]?.host.mac_address).toBe('4C:5E:0C:00:00:20');
    expect(body.warnings).toHaveLength(2);
    expect(body.hosts).toHaveLength(1);
    const list = await call('GET', `/scans/cve?scan_schedule_id=${scheduleId}`);
    expect((list.body as { id: string }[]).map((s) => s.id)).toEqual([scanId]);
    expect((await call('GET', '/scans/cve?scan_schedule_id=nope')).status).toBe(400);
  });

  it('leaves an offline site out of the targets with ignore_offline_sites and completes without it', async () => {
    await start();
    const agent = await onlineSite();
    const offline = await h.addSite();
    const scheduleId = await createSchedule(
      [
        { id: agent.siteId, subnet: '192.168.88.0/24' },
        { id: offline.id, subnet: '192.168.89.0/24' },
      ],
      { ignore_offline_sites: true },
    );
    const scanId = ((await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
    expect((await call('GET', `/scans/cve/${scheduleId}/status`)).body).toEqual({ targets: [agent.siteId], scanned: [], failed: [], storage_failing: [] });
    await agent.waitFor(() => agent.commands.some((c) => c.type === 'scan.invoke'));
    await runCommanded(agent, lastCommand(agent, 'scan.invoke'), 1);
    expect((await call('GET', `/scans/cve/${scanId}`)).body).toMatchObject({ status: 'completed', targets: 1, percentage_failed: 0 });
    expect((await call('GET', `/scans/cve/${scheduleId}/status`)).body).toEqual({
      targets: [agent.siteId],
      scanned: [agent.siteId],
      failed: [],
      storage_failing: [],
    });
  });

  it('fails the whole scan when every site is offline', async () => {
    await start();
    const offline = await h.addSite();
    const scheduleId = await createSchedule([{ id: offline.id, subnet: '192.168.89.0/24' }]);
    const scanId = ((await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
    expect((await call('GET', `/scans/cve/${scanId}`)).body).toMatchObject({ status: 'failed', error: expect.stringContaining('offline'), running: false });
    expect((await call('GET', `/scans/cve/scheduled/${scheduleId}`)).body).toMatchObject({ running: false, status: 'ready' });
  });

  it('stops a running scan (7): the agent is told, the scan ends partial, and stopping again is a 202 no-op', async () => {
    await start();
    const agent = await onlineSite();
    const scheduleId = await createSchedule([{ id: agent.siteId, subnet: '192.168.88.0/24' }]);
    const scanId = ((await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
    await agent.waitFor(() => agent.commands.some((c) => c.type === 'scan.invoke'));
    const command = lastCommand(agent, 'scan.invoke');
    const runId = newRunId();
    agent.report(scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id }));
    agent.report(host(runId, '192.168.88.5', '4C:5E:0C:00:00:05'));
    agent.report(finding(runId, '192.168.88.5', '4C:5E:0C:00:00:05'));
    agent.report({ type: 'scan.progress', at: new Date().toISOString(), run_id: runId, percent: 40, hosts_done: 2, hosts_total: 5 });
    agent.report({ type: 'scan.event', at: new Date().toISOString(), run_id: runId, level: 'info', message: 'Sweeping 192.168.88.0/24' });
    await agent.drained();
    expect((await call('GET', `/scans/cve/scheduled/${scheduleId}`)).body).toMatchObject({ status: 'running', running: true });
    const running = (await call('GET', `/scans/cve/${scanId}`)).body as {
      progress: number;
      status: string;
      events: { message: string }[];
      runtime: string | null;
    };
    expect(running).toMatchObject({ status: 'scanning', progress: 40, runtime: expect.stringMatching(/second/), pdf_url: null });
    expect(running.events.map((e) => e.message)).toEqual(['Sweeping 192.168.88.0/24']);
    const stop = await call('DELETE', `/scans/cve/scheduled/${scheduleId}/invoke`);
    expect(stop.status).toBe(202);
    await agent.waitFor(() => agent.commands.some((c) => c.type === 'scan.stop'));
    expect(lastCommand(agent, 'scan.stop')).toMatchObject({ schedule_id: scheduleId, scan_id: scanId });
    expect((await call('GET', `/scans/cve/scheduled/${scheduleId}`)).body).toMatchObject({ status: 'stopping' });
    agent.report(finished(runId, 1, 'stopped'));
    await agent.drained();
    expect((await call('GET', `/scans/cve/${scanId}`)).body).toMatchObject({ status: 'partial', cve_count: 1 });
    expect((await call('DELETE', `/scans/cve/scheduled/${scheduleId}/invoke`)).status).toBe(202);
    expect((await call('DELETE', '/scans/cve/scheduled/00000000-0000-4000-8000-000000000000/invoke')).status).toBe(404);
  });
});

describe('single-ip (8) and multiple-ips (9)', () => {
  it('checks schedule, site, membership and subnet in that order, then sends scan.ips', async () => {
    await start();
    const agent = await onlineSite();
    const other = await h.addSite();
    const foreign = await h.addSite('org-b');
    const scheduleId = await createSchedule([{ id: agent.siteId, subnet: '192.168.88.0/24' }]);
    const single = (body: Record<string, unknown>) =>
      call('POST', '/scans/cve/scheduled/single-ip', { body: { schedule_id: scheduleId, site_id: agent.siteId, ip_address: '192.168.88.55', ...body } });
    expect((await single({ schedule_id: '00000000-0000-4000-8000-000000000000' })).body).toMatchObject({ code: 'schedule_not_found' });
    expect((await single({ site_id: foreign.id })).body).toMatchObject({ code: 'site_not_found' });
    expect((await single({ site_id: other.id })).body).toMatchObject({ code: 'site_not_in_schedule' });
    const outside = await single({ ip_address: '192.168.89.55' });
    expect(outside.status).toBe(422);
    expect(outside.body).toMatchObject({ code: 'ip_outside_site_subnet' });
    expect((await single({ ip_address: '192.168.88.300' })).status).toBe(422);
    expect((await single({ ip_address: 42 })).status).toBe(400);
    const ok = await single({});
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ status: 'pending', ip_address: '192.168.88.55', site_id: agent.siteId });
    await agent.waitFor(() => agent.commands.some((c) => c.type === 'scan.ips'));
    expect(lastCommand(agent, 'scan.ips')).toMatchObject({
      scan_id: (ok.body as { scan_id: string }).scan_id,
      ips: ['192.168.88.55'],
      subnets: ['192.168.88.0/24'],
    });

    const multiple = await call('POST', '/scans/cve/scan/multiple-ips', {
      body: { schedule_id: scheduleId, site_id: agent.siteId, ips: ['192.168.88.1', '192.168.88.2', '192.168.88.1'] },
    });
    expect(multiple.status).toBe(202);
    expect(multiple.body).toMatchObject({ target_ips: ['192.168.88.1', '192.168.88.2'] });
    expect((await call('POST', '/scans/cve/scan/multiple-ips', { body: { schedule_id: scheduleId, site_id: agent.siteId, ips: [] } })).status).toBe(422);
    expect(
      (await call('POST', '/scans/cve/scan/multiple-ips', { body: { schedule_id: scheduleId, site_id: agent.siteId, ips: ['192.168.88.1', '10.0.0.1'] } }))
        .body,
    ).toMatchObject({ code: 'ip_outside_site_subnet', message: expect.stringContaining('10.0.0.1') });
  });
});

describe('scheduled slots', () => {
  it('records the scan at the slot, and merges what each agent reports for that slot into it', async () => {
    let now = new Date('2030-01-01T12:00:00.000Z');
    await start({ now: () => now });
    const a = await onlineSite();
    const b = await onlineSite();
    const scheduleId = await createSchedule([
      { id: a.siteId, subnet: '192.168.88.0/24' },
      { id: b.siteId, subnet: '192.168.89.0/24' },
    ]);
    const slot = (await h.store.schedules.get('org-a', scheduleId))?.next_scan_at as string;
    expect(slot).toBe('2030-01-02T04:00:00.000Z');
    now = new Date(Date.parse(slot) + 2000);
    await h.cp.slots.tick();
    const scans = (await call('GET', '/scans/cve')).body as { id: string; status: string }[];
    expect(scans).toHaveLength(1);
    expect((await h.store.schedules.get('org-a', scheduleId))?.next_scan_at).toBe('2030-01-16T04:00:00.000Z');
    for (const agent of [a, b]) {
      const runId = newRunId();
      agent.report(scanStatus({ runId, scheduleId, slotAt: slot }));
      agent.report(host(runId, '192.168.88.30', '4C:5E:0C:00:00:30'));
      agent.report(finding(runId, '192.168.88.30', '4C:5E:0C:00:00:30'));
      agent.report(finished(runId, 1));
      await agent.drained();
    }
    const after = (await call('GET', '/scans/cve')).body as { id: string; status: string; targets: number; cve_count: number }[];
    expect(after).toEqual([expect.objectContaining({ id: scans[0]?.id, status: 'completed', targets: 2, cve_count: 2 })]);
    expect((await call('GET', `/scans/cve/scheduled/${scheduleId}`)).body).toMatchObject({ last_run_at: '2030-01-02T04:00:00Z' });
  });
});

describe('scans no schedule made (watch, re-match)', () => {
  it('lists an agent-local run under its origin with its trigger, filters by origin, and refuses an unknown origin', async () => {
    await start();
    const agent = await onlineSite();
    const runs = [
      { origin: 'watch', trigger: 'new device 4C:5E:0C:00:00:40 on 192.168.88.40' },
      { origin: 're-match', trigger: 'feed delta: 3 CVEs added' },
    ] as const;
    for (const origin of runs) {
      const runId = newRunId();
      agent.report(scanStatus({ runId, targetIps: origin.origin === 'watch' ? ['192.168.88.40'] : null, origin }));
      agent.report(host(runId, '192.168.88.40', '4C:5E:0C:00:00:40'));
      agent.report(finding(runId, '192.168.88.40', '4C:5E:0C:00:00:40'));
      agent.report(finished(runId, 1));
      await agent.drained();
    }
    // A local run without an origin (cve-agent scan) stays 'local'.
    const local = newRunId();
    agent.report(scanStatus({ runId: local }));
    agent.report(finished(local, 0));
    await agent.drained();

    const all = (await call('GET', '/scans/cve')).body as { origin: string; trigger: string | null; scan_schedule_id: string | null; status: string }[];
    expect(all.map((scan) => scan.origin).sort()).toEqual(['local', 're-match', 'watch']);
    const watch = (await call('GET', '/scans/cve?origin=watch')).body as typeof all;
    expect(watch).toEqual([expect.objectContaining({ origin: 'watch', trigger: runs[0].trigger, scan_schedule_id: null, status: 'completed' })]);
    expect((await call('GET', '/scans/cve?origin=re-match')).body).toEqual([expect.objectContaining({ origin: 're-match', trigger: runs[1].trigger })]);
    expect((await call('GET', '/scans/cve?origin=schedule')).body).toEqual([]);
    const bad = await call('GET', '/scans/cve?origin=cron');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'parameter_invalid', message: expect.stringContaining('origin') });
  });
});

describe('sites that never answer', () => {
  it('fails a site whose agent never starts within the command TTL, and one that never finishes within the scan timeout', async () => {
    let now = new Date();
    await start({ now: () => now });
    const silent = await onlineSite();
    const slow = await onlineSite();
    const scheduleId = await createSchedule([
      { id: silent.siteId, subnet: '192.168.88.0/24' },
      { id: slow.siteId, subnet: '192.168.89.0/24' },
    ]);
    const scanId = ((await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
    await slow.waitFor(() => slow.commands.some((c) => c.type === 'scan.invoke'));
    const command = lastCommand(slow, 'scan.invoke');
    const runId = newRunId();
    slow.report(scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id }));
    slow.report(host(runId, '192.168.89.9', '4C:5E:0C:00:00:99'));
    await slow.drained();

    now = new Date(now.getTime() + 61 * 60_000);
    await h.cp.slots.tick();
    expect((await call('GET', `/scans/cve/${scheduleId}/status`)).body).toEqual({
      targets: [silent.siteId, slow.siteId].sort(),
      scanned: [silent.siteId],
      failed: [silent.siteId],
      storage_failing: [],
    });
    expect((await call('GET', `/scans/cve/${scanId}`)).body).toMatchObject({ status: 'scanning' });

    now = new Date(now.getTime() + 6 * 3600_000);
    await h.cp.slots.tick();
    const detail = (await call('GET', `/scans/cve/${scanId}`)).body as { status: string; events: { message: string }[] };
    expect(detail.status).toBe('partial');
    const report = (await call('GET', `/scans/cve/${scanId}/report.json`)).body as { sites: { site_id: string; error: string }[] };
    expect(report.sites.find((site) => site.site_id === silent.siteId)?.error).toContain('did not start the scan within 60 minutes');
    expect(report.sites.find((site) => site.site_id === slow.siteId)?.error).toContain('no result from the site');
  });
});

describe('deleting a schedule (5) and other organizations', () => {
  it('stops the running scan first, keeps its report, and hides every scan from another organization', async () => {
    await start();
    const agent = await onlineSite();
    const scheduleId = await createSchedule([{ id: agent.siteId, subnet: '192.168.88.0/24' }]);
    const scanId = ((await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`)).body as { scan_id: string }).scan_id;
    await agent.waitFor(() => agent.commands.some((c) => c.type === 'scan.invoke'));
    const command = lastCommand(agent, 'scan.invoke');
    const runId = newRunId();
    agent.report(scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id }));
    await agent.drained();
    expect((await call('DELETE', `/scans/cve/scheduled/${scheduleId}`)).status).toBe(204);
    await agent.waitFor(() => agent.commands.some((c) => c.type === 'schedule.delete'));
    const types = agent.commands.map((c) => c.type);
    expect(types.indexOf('scan.stop')).toBeGreaterThan(-1);
    expect(types.indexOf('scan.stop')).toBeLessThan(types.lastIndexOf('schedule.delete'));
    agent.report(finished(runId, 0, 'stopped'));
    await agent.drained();
    expect((await call('GET', `/scans/cve/${scanId}`)).body).toMatchObject({ status: 'failed', scan_schedule_id: scheduleId });
    expect((await call('GET', `/scans/cve/${scheduleId}/status`)).body).toEqual({
      targets: [agent.siteId],
      scanned: [agent.siteId],
      failed: [],
      storage_failing: [],
    });

    const stranger = await h.jwt({ org: 'org-b' });
    expect((await call('GET', `/scans/cve/${scanId}`, { token: stranger })).body).toMatchObject({ code: 'scan_not_found' });
    expect((await call('GET', `/scans/cve/${scanId}/report.json`, { token: stranger })).status).toBe(404);
    expect((await call('GET', `/scans/cve/${scheduleId}/status`, { token: stranger })).body).toMatchObject({ code: 'schedule_not_found' });
    expect((await call('GET', '/scans/cve', { token: stranger })).body).toEqual([]);
    expect((await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`, { token: stranger })).status).toBe(404);
  });
});
