/**
 * Commands reach their agent through the store's wake-up (ClusterSignals.onCommands), on
 * whichever node stored them: each command once per connection and in seq order, however many
 * wake-ups overlap, and none missed while the agent's replay is being read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isCommand } from '../../../src/protocol/index.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
const agents: SimulatedAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  await h.stop();
});

const stop = (siteId: string, n: number) => ({
  siteId,
  type: 'scan.stop' as const,
  body: { schedule_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, scan_id: null },
});
const commandSeqs = (agent: SimulatedAgent) => agent.frames.filter(isCommand).map((c) => c.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('command wake-ups', () => {
  it('sends each command once and in seq order while wake-ups overlap (the agent applies none meanwhile)', async () => {
    h = await startHarness();
    const site = await h.addSite();
    const agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id, ackCommands: false });
    agents.push(agent);
    await agent.connect();
    // Twenty transactions at once: each wake-up reads every unapplied command again.
    await Promise.all(range(1, 20).map((n) => h.cp.hub.command(site.id, 'scan.stop', stop(site.id, n).body)));
    await agent.waitFor(() => commandSeqs(agent).length >= 20);
    // One more after them: anything sent twice would have come before it.
    await h.cp.hub.commands([stop(site.id, 21)]);
    await agent.waitFor(() => commandSeqs(agent).includes(21));
    expect(commandSeqs(agent)).toEqual(range(1, 21));
  });

  it('misses nothing stored while the agent says hello, and replays nothing twice', async () => {
    h = await startHarness();
    const site = await h.addSite();
    await h.cp.hub.commands(range(1, 5).map((n) => stop(site.id, n)));
    const agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id, ackCommands: false, lastCommandSeq: 2 });
    agents.push(agent);
    const storing = Promise.all(range(6, 15).map((n) => h.cp.hub.commands([stop(site.id, n)])));
    await agent.connect();
    await storing;
    await agent.waitFor(() => commandSeqs(agent).includes(15));
    expect(commandSeqs(agent)).toEqual(range(3, 15));
  });

  it('counts a site online while its agent is connected to this node, and offline after', async () => {
    h = await startHarness();
    const site = await h.addSite();
    const agent = new SimulatedAgent({ url: h.url, token: site.token, siteId: site.id });
    agents.push(agent);
    expect(h.cp.hub.isOnline(site.id)).toBe(false);
    await agent.connect();
    await expect.poll(() => h.cp.hub.isOnline(site.id)).toBe(true);
    await agent.close();
    await expect.poll(() => h.cp.hub.isOnline(site.id)).toBe(false);
  });
});
