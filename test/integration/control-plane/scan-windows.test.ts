import { afterEach, describe, expect, it } from 'vitest';
import type { Command } from '../../../src/protocol/index.js';
import { finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import type { ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { loadContract, startHarness, type Contract, type Harness } from './harness.js';

let h: Harness;
let contract: Contract;
const agents: SimulatedAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  await h.stop();
});

async function call(method: string, path: string, options: Parameters<Harness['request']>[2] = {}) {
  const response = await h.request(method, path, options);
  contract.check(method, path.split('?')[0] as string, response);
  return response;
}

async function onlineSite() {
  h = await startHarness();
  contract = await loadContract(h.url);
  const site = await h.addSite();
  const agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
  agents.push(agent);
  await agent.connect();
  return agent;
}

const body = (siteId: string, extra: Record<string, unknown> = {}) => ({
  description: 'nights',
  day_of_week: 3,
  time_of_day: '23:00',
  every_n_weeks: 2,
  timezone: 'Europe/Berlin',
  min_cvss: 4,
  warning_threshold: 7,
  notification_group: 'security-alerts',
  sites: [{ id: siteId, subnet: '192.168.88.0/24' }],
  ...extra,
});

const upserts = (agent: SimulatedAgent) =>
  agent.commands.filter((c): c is Extract<Command, { type: 'schedule.upsert' }> => c.type === 'schedule.upsert').map((c) => c.schedule);

describe('scan windows over REST', () => {
  it('creates, keeps, replaces and clears a window, and pushes it to the site only when set', async () => {
    const agent = await onlineSite();
    const created = await call('POST', '/scans/cve/scheduled', { body: body(agent.siteId, { window: { start: '22:00', end: '6:00' } }) });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    expect(created.body).toMatchObject({ window: { start: '22:00', end: '06:00' } });
    await agent.waitFor(() => upserts(agent).length === 1);
    expect(upserts(agent)[0]).toMatchObject({ id, window: { start: '22:00', end: '06:00' } });

    // The seed's shape (no window) keeps the window: a client that never heard of it does not clear it.
    const kept = await call('PUT', `/scans/cve/scheduled/${id}`, { body: body(agent.siteId, { description: 'renamed' }) });
    expect(kept.body).toMatchObject({ description: 'renamed', window: { start: '22:00', end: '06:00' } });
    const moved = await call('PUT', `/scans/cve/scheduled/${id}`, { body: body(agent.siteId, { window: { start: '01:00', end: '05:30' } }) });
    expect(moved.body).toMatchObject({ window: { start: '01:00', end: '05:30' } });
    expect((await call('GET', `/scans/cve/scheduled/${id}`)).body).toMatchObject({ window: { start: '01:00', end: '05:30' } });

    const cleared = await call('PUT', `/scans/cve/scheduled/${id}`, { body: body(agent.siteId, { window: null }) });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ window: null });
    expect(((await call('GET', '/scans/cve/scheduled')).body as { window: unknown }[])[0]?.window).toBeNull();
    await agent.waitFor(() => upserts(agent).length === 4);
    // Without a window the pushed schedule has no such key, so an agent before scan windows still takes it.
    expect(Object.hasOwn(upserts(agent)[3] as object, 'window')).toBe(false);

    // A schedule written without one reads as always open.
    const plain = await call('POST', '/scans/cve/scheduled', { body: body(agent.siteId) });
    expect(plain.body).toMatchObject({ window: null });
  });

  it('refuses a bad window with the error object and changes nothing', async () => {
    const agent = await onlineSite();
    const id = ((await call('POST', '/scans/cve/scheduled', { body: body(agent.siteId, { window: { start: '22:00', end: '06:00' } }) })).body as { id: string })
      .id;
    const before = (await call('GET', `/scans/cve/scheduled/${id}`)).body;
    const bad = [
      { start: '22:00', end: '22:00' },
      { start: '22:00', end: '24:00' },
      { start: '22:00' },
      { start: '22:00', end: '06:00', days: [1] },
      '22:00-06:00',
    ];
    for (const window of bad) {
      for (const [method, path] of [
        ['PUT', `/scans/cve/scheduled/${id}`],
        ['POST', '/scans/cve/scheduled'],
      ] as const) {
        const refused = await call(method, path, { body: body(agent.siteId, { window }) });
        expect([400, 422], `${method} ${JSON.stringify(window)}`).toContain(refused.status);
        expect(refused.body).toEqual({
          type: 'invalid_request_error',
          code: expect.any(String),
          message: expect.stringMatching(/^window/),
          doc_url: expect.stringContaining('/docs/errors/'),
        });
      }
    }
    expect((await call('GET', `/scans/cve/scheduled/${id}`)).body).toEqual(before);
    expect(((await call('GET', '/scans/cve/scheduled')).body as unknown[]).length).toBe(1);
  });

  it("shows a site's paused run as a paused scan with the agent's event, then scanning, then completed", async () => {
    const agent = await onlineSite();
    const scheduleId = (
      (await call('POST', '/scans/cve/scheduled', { body: body(agent.siteId, { window: { start: '22:00', end: '06:00' } }) })).body as {
        id: string;
      }
    ).id;
    const runId = newRunId();
    const target = { runId, scheduleId, slotAt: '2026-03-04T22:00:00.000Z' };
    agent.report(scanStatus(target, 'scanning'));
    agent.report(host(runId, '192.168.88.20', '4C:5E:0C:00:00:20'));
    agent.report({ type: 'scan.progress', at: new Date().toISOString(), run_id: runId, percent: 40, hosts_done: 4, hosts_total: 10 });
    agent.report({ ...(scanStatus(target) as Extract<ReportInput, { type: 'scan.status' }>), status: 'paused', resumes_at: '2026-03-05T21:00:00.000Z' });
    agent.report({
      type: 'scan.event',
      at: new Date().toISOString(),
      run_id: runId,
      level: 'info',
      message: 'paused: window closed, resumes at 2026-03-05T22:00:00+01:00',
    });
    await agent.drained();
    const [summary] = (await call('GET', `/scans/cve?scan_schedule_id=${scheduleId}`)).body as { id: string; status: string }[];
    expect(summary?.status).toBe('paused');
    const paused = await call('GET', `/scans/cve/${summary!.id}`);
    expect(paused.body).toMatchObject({ status: 'paused', running: true, progress: 40 });
    expect((paused.body as { events: { message: string }[] }).events.map((e) => e.message)).toContain(
      'paused: window closed, resumes at 2026-03-05T22:00:00+01:00',
    );

    agent.report(scanStatus(target, 'scanning'));
    await agent.drained();
    expect((await call('GET', `/scans/cve/${summary!.id}`)).body).toMatchObject({ status: 'scanning' });
    agent.report(finished(runId, 0, 'completed'));
    await agent.drained();
    expect((await call('GET', `/scans/cve/${summary!.id}`)).body).toMatchObject({ status: 'completed', running: false });
  });
});
