/**
 * Two hubs on one PostgreSQL database, as two nodes: an agent connected to node A gets, once and
 * in seq order, the commands node B stores for it (LISTEN/NOTIFY wake-ups over the commands
 * table), and node B counts the site online. The nodes' stores are the PostgreSQL store's parts a
 * hub uses (sites, commands, signals); the whole store replaces them once it is on main.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Hub } from '../../../src/control-plane/hub/hub.js';
import { generateSiteToken, hashSiteToken } from '../../../src/control-plane/hub/tokens.js';
import { pgCommands } from '../../../src/control-plane/store/postgres/commands.js';
import { openPgDb, type PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { pgSignals } from '../../../src/control-plane/store/postgres/signals.js';
import { pgSites } from '../../../src/control-plane/store/postgres/sites.js';
import type { ControlPlaneStore } from '../../../src/control-plane/store/types.js';
import { dispatchUpgrades } from '../../../src/control-plane/upgrades.js';
import { AGENT_PATH, isCommand } from '../../../src/protocol/index.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { migratedDb } from './pg-kit.js';

const logger = pino({ level: process.env.CP_TEST_LOG ?? 'silent' });
const HOST = process.env.TEST_LISTEN_HOST ?? '127.0.0.1';
const clock = { now: () => new Date() };

interface Node {
  hub: Hub;
  server: Server;
  url: string;
  store: ControlPlaneStore;
}

const running: Node[] = [];
const agents: SimulatedAgent[] = [];
const dbs: PgDb[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  for (const node of running.splice(0)) {
    await node.hub.stop();
    node.server.closeAllConnections();
    await new Promise((resolve) => node.server.close(resolve));
  }
  for (const db of dbs.splice(0)) await db.close();
});

/** `replayGate`: the hello's read of pending commands waits for it (a slow read, on purpose). */
async function startNode(db: PgDb, heartbeatIntervalMs = 5000, replayGate?: Promise<void>): Promise<Node> {
  const commands = pgCommands(db);
  const store = {
    sites: pgSites(db),
    commands: {
      ...commands,
      async pending(...args: Parameters<typeof commands.pending>) {
        await replayGate;
        return commands.pending(...args);
      },
    },
    signals: pgSignals(db, logger),
    // A hello reads where the agent's outbox resumes; these agents report nothing.
    ingest: { streamSeq: async () => 0 },
  } as unknown as ControlPlaneStore;
  const hub = new Hub({
    store,
    clock,
    logger,
    options: { maxFrameBytes: 1 << 20, helloTimeoutMs: 5000, heartbeatIntervalMs, deadAfterMs: 30_000, serverVersion: 'test' },
    onFinishedScans: () => undefined,
  });
  const server = createServer((_request, response) => response.writeHead(404).end());
  dispatchUpgrades(server, { [AGENT_PATH]: hub.upgrade });
  hub.start();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const node = { hub, server, store, url: `http://${HOST}:${(server.address() as AddressInfo).port}` };
  running.push(node);
  return node;
}

async function siteWithAgent(a: Node, options: { ackCommands: boolean }) {
  const token = generateSiteToken();
  const site = crypto.randomUUID();
  const at = new Date().toISOString();
  await a.store.sites.create({
    id: site,
    org_id: 'org-a',
    name: 's',
    created_at: at,
    token_rotated_at: at,
    last_seen_at: null,
    agent_version: null,
    token_hash: hashSiteToken(token),
  });
  const agent = new SimulatedAgent({ url: a.url, token, siteId: site, ackCommands: options.ackCommands });
  agents.push(agent);
  await agent.connect();
  return { site, agent, seqs: () => agent.frames.filter(isCommand).map((c) => c.seq) };
}

const stop = (siteId: string, n: number) => ({
  siteId,
  type: 'scan.stop' as const,
  body: { schedule_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, scan_id: null },
});

describe('two hubs on one PostgreSQL database', () => {
  it('an agent on node A gets the commands node B stores, once each, in seq order; B counts it online', async () => {
    const { open } = await migratedDb();
    const [a, b] = [await startNode(open()), await startNode(open())];
    // Applies nothing: every wake-up reads every command again, and only the hub's rule keeps them single.
    const { site, agent, seqs } = await siteWithAgent(a, { ackCommands: false });
    // B hears A's presence on the same LISTEN connection as the command wake-ups: both are listened to.
    await vi.waitFor(() => expect(b.hub.isOnline(site)).toBe(true), { timeout: 20_000, interval: 100 });
    expect(b.hub.connected).toBe(0);
    // A hears B: a wake-up B causes reaches it (a command stored before A listened would wait for the next one).
    await vi.waitFor(
      async () => {
        await b.hub.commands([stop(site, seqs().length + 1)]);
        expect(seqs().length).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 500 },
    );
    const first = seqs().length;
    await Promise.all([1, 2, 3].map((n) => b.hub.commands([stop(site, first + n)])));
    await a.hub.commands([stop(site, first + 4)]);
    await agent.waitFor(() => seqs().includes(first + 4));
    const last = (await b.store.commands.pending(site, 0, new Date().toISOString())).at(-1)?.seq;
    // Every command stored, each sent once, in order (the probes included).
    expect(seqs()).toEqual(Array.from({ length: last ?? 0 }, (_, i) => i + 1));

    await agent.close();
    await vi.waitFor(() => expect(b.hub.isOnline(site)).toBe(false), { timeout: 20_000, interval: 100 });
  }, 60_000);

  it('a node whose LISTEN connection was cut reads what it missed once it listens again', async () => {
    const { url } = await migratedDb();
    const open = (name: string) => {
      const db = openPgDb({ url, logger, max: 3, applicationName: name });
      dbs.push(db);
      return db;
    };
    const dbA = open('node-a');
    const [a, b] = [await startNode(dbA), await startNode(open('node-b'))];
    const { site, agent, seqs } = await siteWithAgent(a, { ackCommands: false });
    await vi.waitFor(
      async () => {
        await b.hub.commands([stop(site, 1)]);
        expect(seqs().length).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 500 },
    );
    let listening = 0;
    dbA.events.on('listening', () => (listening += 1));
    // Node A's LISTEN connection dies; the wake-up B sends meanwhile reaches nobody on A.
    await b.store.signals.publish('cp_test', 'x');
    const [cut] = await dbA.query<{ cut: boolean }>("SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity WHERE application_name = 'node-a listen'");
    expect(cut?.cut).toBe(true);
    await b.hub.commands([stop(site, 99)]);
    const last = (await b.store.commands.pending(site, 0, new Date().toISOString())).at(-1)?.seq ?? 0;
    await vi.waitFor(() => expect(listening).toBe(1), { timeout: 20_000, interval: 100 });
    await agent.waitFor(() => seqs().includes(last));
    expect(seqs()).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  }, 60_000);

  it('a node that starts learns at once which agents the others hold (it asks; it does not wait for their refresh)', async () => {
    const { open } = await migratedDb();
    // Refreshes a minute apart: within the test only the answer to the new node's question can tell it.
    const a = await startNode(open(), 60_000);
    const { site } = await siteWithAgent(a, { ackCommands: true });
    const late = await startNode(open(), 60_000);
    await vi.waitFor(() => expect(late.hub.isOnline(site)).toBe(true), { timeout: 20_000, interval: 100 });
  }, 60_000);

  it("never sends a command twice on one connection when the hello's replay ends after a wake-up's read", async () => {
    const { open } = await migratedDb();
    let openGate = () => undefined as void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const a = await startNode(open(), 5000, gate);
    const b = await startNode(open());
    // Stored before the agent says hello: its replay holds them, but the read waits for the gate.
    const { site, agent, seqs } = await (async () => {
      const token = generateSiteToken();
      const id = crypto.randomUUID();
      const at = new Date().toISOString();
      await b.store.sites.create({
        id,
        org_id: 'org-a',
        name: 's',
        created_at: at,
        token_rotated_at: at,
        last_seen_at: null,
        agent_version: null,
        token_hash: hashSiteToken(token),
      });
      await b.hub.commands([stop(id, 1), stop(id, 2)]);
      const simulated = new SimulatedAgent({ url: a.url, token, siteId: id, ackCommands: false });
      agents.push(simulated);
      await simulated.connect();
      return { site: id, agent: simulated, seqs: () => simulated.frames.filter(isCommand).map((c) => c.seq) };
    })();
    // Wake-ups from B until A's read of unsent commands sent them (the replay still waits).
    await vi.waitFor(
      async () => {
        await b.hub.commands([stop(site, 3)]);
        expect(seqs().length).toBeGreaterThan(2);
      },
      { timeout: 20_000, interval: 500 },
    );
    const sent = seqs().length;
    openGate();
    // The replay read now answers every command again; then one more command marks the end.
    await b.hub.commands([stop(site, 4)]);
    await agent.waitFor(() => seqs().length > sent);
    const last = (await b.store.commands.pending(site, 0, new Date().toISOString())).at(-1)?.seq ?? 0;
    await agent.waitFor(() => seqs().includes(last));
    expect(seqs()).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  }, 60_000);
});
