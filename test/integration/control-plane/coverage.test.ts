import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Command } from '../../../src/protocol/index.js';
import { coverageSummary } from '../../../src/shared/report/coverage.js';
import { finished, host, newRunId, sampleCoverage, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { loadContract, startHarness, type Contract, type Harness } from './harness.js';

let h: Harness;
let contract: Contract;
let receiver: Server | undefined;
const agents: SimulatedAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  await h.stop();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

async function startReceiver(): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`, bodies };
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

async function createSchedule(sites: { id: string; subnet: string }[]) {
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

// Before: scan.finished carried no coverage, and report.json and the webhook said nothing of what a run could not see.
describe("a report says what it could not see, on the control plane's side", () => {
  it("stores each site's coverage from scan.finished and shows it in report.json sites[] and the webhook summary; a run without one shows null", async () => {
    const hook = await startReceiver();
    h = await startHarness({ webhooks: [hook.url] });
    contract = await loadContract(h.url);
    const covered = await onlineSite();
    const older = await onlineSite();
    const scheduleId = await createSchedule([
      { id: covered.siteId, subnet: '192.168.88.0/24' },
      { id: older.siteId, subnet: '192.168.89.0/24' },
    ]);
    const invoked = await call('POST', `/scans/cve/scheduled/${scheduleId}/invoke`);
    const scanId = (invoked.body as { scan_id: string }).scan_id;
    const coverage = sampleCoverage();
    for (const [agent, statement] of [
      [covered, coverage],
      [older, undefined],
    ] as const) {
      await agent.waitFor(() => agent.commands.some((c) => c.type === 'scan.invoke'));
      const command = lastCommand(agent, 'scan.invoke');
      const runId = newRunId();
      agent.report(scanStatus({ runId, scheduleId, scanId, subScanId: command.sub_scan_id }));
      agent.report(host(runId, agent === covered ? '192.168.88.20' : '192.168.89.20', '4C:5E:0C:00:00:20'));
      agent.report(finished(runId, 0, 'completed', 1, statement));
      await agent.drained();
    }

    const report = await call('GET', `/scans/cve/${scanId}/report.json`);
    expect(report.status).toBe(200);
    const sites = (report.body as { sites: { site_id: string; coverage: unknown }[] }).sites;
    expect(sites.find((site) => site.site_id === covered.siteId)?.coverage).toEqual(coverage);
    expect(sites.find((site) => site.site_id === older.siteId)?.coverage).toBeNull();

    // The scan's own notification (its findings' change alerts go to the same receiver).
    const scanNotification = () => hook.bodies.find((body) => body.startsWith('{"event":"scan.'));
    await expect.poll(scanNotification, { timeout: 5000, interval: 50 }).toBeDefined();
    const data = (JSON.parse(scanNotification() as string) as { data: { coverage: { site_id: string; summary: unknown }[] } }).data;
    expect(data.coverage).toEqual(
      expect.arrayContaining([
        { site_id: covered.siteId, summary: coverageSummary(coverage) },
        { site_id: older.siteId, summary: null },
      ]),
    );
    expect(coverageSummary(coverage)).toMatchObject({ addresses_in_scope: 254, addresses_answered: 12, devices_not_judged: 1, cve_data: { stale: true } });
  });

  it('sends scan.ips with with_router only when single-ip or multiple-ips asks for it', async () => {
    h = await startHarness();
    contract = await loadContract(h.url);
    const agent = await onlineSite();
    const scheduleId = await createSchedule([{ id: agent.siteId, subnet: '192.168.88.0/24' }]);
    const single = (extra: Record<string, unknown>) =>
      call('POST', '/scans/cve/scheduled/single-ip', { body: { schedule_id: scheduleId, site_id: agent.siteId, ip_address: '192.168.88.55', ...extra } });

    expect((await single({})).status).toBe(202);
    await agent.waitFor(() => agent.commands.filter((c) => c.type === 'scan.ips').length === 1);
    expect(lastCommand(agent, 'scan.ips')).not.toHaveProperty('with_router');

    expect((await single({ with_router: true })).status).toBe(202);
    await agent.waitFor(() => agent.commands.filter((c) => c.type === 'scan.ips').length === 2);
    expect(lastCommand(agent, 'scan.ips')).toMatchObject({ ips: ['192.168.88.55'], with_router: true });

    const multiple = await call('POST', '/scans/cve/scan/multiple-ips', {
      body: { schedule_id: scheduleId, site_id: agent.siteId, ips: ['192.168.88.1', '192.168.88.2'], with_router: true },
    });
    expect(multiple.status).toBe(202);
    await agent.waitFor(() => agent.commands.filter((c) => c.type === 'scan.ips').length === 3);
    expect(lastCommand(agent, 'scan.ips')).toMatchObject({ ips: ['192.168.88.1', '192.168.88.2'], with_router: true });
    expect((await single({ with_router: 'yes' })).status).toBe(400);
  });
});
