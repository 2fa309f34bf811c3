import { afterEach, describe, expect, it } from 'vitest';
import { FeedAssembler, scheduleUpsertSchema, type FeedFile } from '../../../src/protocol/index.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
const agents: SimulatedAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  await h.stop();
});

async function agentAt(siteId: string, token: string, ackCommands = true) {
  const agent = new SimulatedAgent({ url: h.url, token, siteId, ackCommands });
  agents.push(agent);
  return agent;
}

const schedule = (sites: { id: string; subnet: string }[], extra: Record<string, unknown> = {}) => ({
  description: 'weekly',
  day_of_week: 2,
  time_of_day: '03:00',
  every_n_weeks: 2,
  timezone: 'Europe/Berlin',
  min_cvss: 4,
  warning_threshold: 7,
  notification_group: 'security-alerts',
  sites,
  ...extra,
});

describe('commands down to the agents', () => {
  it('sends each site only its own part of a schedule, and a delete to a site the schedule drops', async () => {
    h = await startHarness();
    const a = await h.addSite();
    const b = await h.addSite();
    const agentA = await agentAt(a.id, a.token);
    const agentB = await agentAt(b.id, b.token);
    await agentA.connect();
    await agentB.connect();
    const created = await h.request('POST', '/scans/cve/scheduled', {
      body: schedule([
        { id: a.id, subnet: '10.1.0.0/24' },
        { id: b.id, subnet: '10.2.0.0/24' },
        { id: a.id, subnet: '10.1.4.0/22' },
      ]),
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    await agentA.waitFor(() => agentA.commands.length === 1);
    await agentB.waitFor(() => agentB.commands.length === 1);
    const pushed = scheduleUpsertSchema.parse(agentA.commands[0]);
    expect(pushed.schedule).toMatchObject({
      id,
      timezone: 'Europe/Berlin',
      sites: [
        { id: a.id, subnet: '10.1.0.0/24' },
        { id: a.id, subnet: '10.1.4.0/22' },
      ],
    });
    expect(scheduleUpsertSchema.parse(agentB.commands[0]).schedule.sites).toEqual([{ id: b.id, subnet: '10.2.0.0/24' }]);
    // The anchor travels with the schedule: both ends count the same slots.
    expect(pushed.schedule.anchor_at).toBe((await h.store.schedules.get('org-a', id))?.anchor_at);

    await h.request('PUT', `/scans/cve/scheduled/${id}`, { body: schedule([{ id: a.id, subnet: '10.1.0.0/24' }]) });
    await agentB.waitFor(() => agentB.commands.length === 2);
    expect(agentB.commands[1]).toMatchObject({ type: 'schedule.delete', schedule_id: id });
    await agentA.waitFor(() => agentA.commands.length === 2);
    expect(agentA.commands[1]).toMatchObject({ type: 'schedule.upsert', schedule: { sites: [{ id: a.id, subnet: '10.1.0.0/24' }] } });
  });

  it('keeps commands for an offline agent and replays exactly the unacknowledged ones, in order, on reconnect', async () => {
    h = await startHarness();
    const site = await h.addSite();
    for (const hour of ['01:00', '02:00', '03:00']) {
      expect(
        (await h.request('POST', '/scans/cve/scheduled', { body: schedule([{ id: site.id, subnet: '10.9.0.0/24' }], { time_of_day: hour }) })).status,
      ).toBe(201);
    }
    const lazy = await agentAt(site.id, site.token, false);
    await lazy.connect();
    await lazy.waitFor(() => lazy.commands.length === 3);
    expect(lazy.commands.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(lazy.commands.map((c) => (c.type === 'schedule.upsert' ? c.schedule.time_of_day : ''))).toEqual(['01:00', '02:00', '03:00']);
    // Apply only the first, then lose the connection: the other two come again, and only they.
    lazy.sendRaw(JSON.stringify({ type: 'ack', seq: 1 }));
    await expect.poll(async () => (await h.store.commands.pending(site.id, 0, new Date().toISOString())).length).toBe(2);
    lazy.drop();
    const again = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id, lastCommandSeq: 1 });
    agents.push(again);
    await again.connect();
    await again.waitFor(() => again.commands.length === 2);
    expect(again.commands.map((c) => c.seq)).toEqual([2, 3]);
    await expect.poll(async () => (await h.store.commands.pending(site.id, 0, new Date().toISOString())).length).toBe(0);
    await again.close();
    const third = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id, lastCommandSeq: 3 });
    agents.push(third);
    await third.connect();
    await third.close();
    expect(third.commands).toEqual([]);
  });

  it('pushes a CVE feed file in chunks that the agent puts back together byte for byte', async () => {
    h = await startHarness();
    const site = await h.addSite();
    const agent = await agentAt(site.id, site.token);
    await agent.connect();
    const bytes = Buffer.from(JSON.stringify({ vulnerabilities: Array.from({ length: 12_000 }, (_, i) => ({ cve: { id: `CVE-2024-${10000 + i}` } })) }));
    expect(bytes.length).toBeGreaterThan(256 * 1024);
    const transfer = await h.cp.hub.pushFeedFile([site.id], 'nvd-recent.json', bytes);
    const chunks = () => agent.commands.filter((c): c is FeedFile => c.type === 'feed.file');
    await agent.waitFor(() => chunks().length > 0 && chunks().length === chunks()[0]?.chunk_count);
    const assembler = new FeedAssembler();
    const results = chunks().map((chunk) => assembler.add(chunk));
    const done = results.at(-1);
    expect(chunks().every((c) => c.transfer_id === transfer)).toBe(true);
    expect(done?.state === 'complete' && done.name === 'nvd-recent.json' && done.bytes.equals(bytes)).toBe(true);
  });
});
