import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket, * as wsPackage from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_PATH, closeCodes } from '../../../src/protocol/index.js';
import { finding, finished, host, newRunId, scanStatus } from '../../simulators/control-plane/reports.js';
import { SimulatedAgent } from '../../simulators/control-plane/simulated-agent.js';
import { startHarness, type Harness } from './harness.js';
import { queryDatabase, queryValue } from '../../helpers/store-engine.js';

let h: Harness | undefined;
const agents: SimulatedAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) agent.drop();
  await h?.stop();
  h = undefined;
});

async function setup(config: Record<string, unknown> = {}) {
  h = await startHarness({ config });
  return h;
}

async function agentFor(harness: Harness, options: Partial<ConstructorParameters<typeof SimulatedAgent>[0]> = {}) {
  const site = await harness.addSite();
  const agent = new SimulatedAgent({ url: harness.url, token: site.token, siteId: site.id, ...options });
  agents.push(agent);
  return agent;
}

/** Reads the control plane's database on a connection of its own, as an operator's sqlite3 or psql would. */
async function count(harness: Harness, sql: string, ...params: unknown[]): Promise<number> {
  return Number(await queryValue(harness.dir, sql, ...params));
}

/** A run of one host and `n` findings, reported by a local scan. */
function reportRun(agent: SimulatedAgent, n: number, runId = newRunId()) {
  agent.report(scanStatus({ runId, scheduleId: randomUUID(), slotAt: '2030-01-07T07:00:00.000Z' }));
  agent.report(host(runId, '192.168.88.10', '4C:5E:0C:00:00:10'));
  for (let i = 0; i < n; i += 1) agent.report(finding(runId, '192.168.88.10', '4C:5E:0C:00:00:10', `CVE-2018-${String(10000 + i)}`, 5 + (i % 5)));
  agent.report(finished(runId, n));
  return runId;
}

function rawSocket(harness: Harness, token: string): Promise<{ ws: WebSocket; frames: Record<string, unknown>[]; closed: Promise<{ code: number }> }> {
  const ws = new WebSocket(`${harness.url.replace('http', 'ws')}${AGENT_PATH}`, { headers: { authorization: `Bearer ${token}` } });
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
  const closed = new Promise<{ code: number }>((resolve) => ws.on('close', (code) => resolve({ code })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, closed }));
    ws.once('error', reject);
  });
}

// ws's own frame codec (exported by the package, not by its type declarations).
const { Receiver, Sender } = wsPackage as unknown as {
  Receiver: new (options: { isServer: boolean }) => NodeJS.EventEmitter & { write(chunk: Buffer): void };
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

/**
 * An agent below ws: it reads the hub's frames but never answers a close nor ends its side of
 * the TCP connection, so the hub learns nothing from the network after its own close frame.
 */
function halfOpenAgent(
  harness: Harness,
  token: string,
): Promise<{ socket: Socket; send(text: string): void; frames: Record<string, unknown>[]; closeCode: Promise<number> }> {
  const upgrade = request(`${harness.url}${AGENT_PATH}`, {
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': randomBytes(16).toString('base64'),
      authorization: `Bearer ${token}`,
    },
  });
  upgrade.end();
  return new Promise((resolve, reject) => {
    upgrade.once('error', reject);
    upgrade.once('response', (res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    upgrade.once('upgrade', (_res, socket: Socket, head: Buffer) => {
      const receiver = new Receiver({ isServer: false });
      const frames: Record<string, unknown>[] = [];
      receiver.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
      const closeCode = new Promise<number>((done) => receiver.on('conclude', (code: number) => done(code)));
      if (head.length > 0) receiver.write(head);
      socket.on('data', (chunk: Buffer) => receiver.write(chunk));
      const send = (text: string) => {
        for (const part of Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: true, readOnly: false, rsv1: false })) socket.write(part);
      };
      resolve({ socket, send, frames, closeCode });
    });
  });
}

describe('the hub: authentication and hello', () => {
  it('refuses an upgrade without a token or with an unknown one (401), and welcomes a registered site', async () => {
    const harness = await setup();
    const agent = await agentFor(harness);
    const stranger = new SimulatedAgent({ url: harness.url, token: 'ecp_not-a-real-token', siteId: agent.siteId });
    await expect(stranger.connect()).rejects.toThrow('HTTP 401');
    const anonymous = new WebSocket(`${harness.url.replace('http', 'ws')}${AGENT_PATH}`);
    const status = await new Promise<number | undefined>((resolve) => anonymous.once('unexpected-response', (_req, res) => resolve(res.statusCode)));
    expect(status).toBe(401);
    const welcome = await agent.connect();
    expect(welcome).toMatchObject({ type: 'welcome', protocol: 1, site_id: agent.siteId, resume_after_seq: 0 });
    expect(harness.cp.hub.isOnline(agent.siteId)).toBe(true);
  });

  it('closes 1008 on a hello naming another site, another protocol version, or a report before hello', async () => {
    const harness = await setup();
    const a = await harness.addSite();
    const b = await harness.addSite();
    const hello = (siteId: string, protocol = 1) =>
      JSON.stringify({ type: 'hello', protocol, agent_version: 'x', site_id: siteId, stream_id: randomUUID(), last_acked_seq: 0, last_command_seq: 0 });
    for (const [frame, code] of [
      [hello(b.id), 'site_mismatch'],
      [hello(a.id, 2), 'protocol_version_unsupported'],
      [JSON.stringify(finished(randomUUID(), 0)).replace('"type"', '"seq":1,"type"'), 'hello_required'],
    ] as const) {
      const socket = await rawSocket(harness, a.token);
      socket.ws.send(frame);
      expect(await socket.closed).toEqual({ code: closeCodes.policy });
      expect(socket.frames.at(-1)).toMatchObject({ type: 'error', code, fatal: true });
    }
  });
});

describe('the hub: ingest, acks and replays', () => {
  it('acknowledges every report after it is stored, and the scan is queryable by then', async () => {
    const harness = await setup();
    const agent = await agentFor(harness);
    await agent.connect();
    reportRun(agent, 5);
    await agent.drained();
    expect(agent.outbox.size).toBe(0);
    expect(await count(harness, 'SELECT COUNT(*) FROM findings')).toBe(5);
    const scans = await harness.request('GET', '/scans/cve');
    expect(scans.body).toMatchObject([{ status: 'completed', cve_count: 5, unique_cves: 5, hosts_scanned: 1, targets: 1 }]);
  });

  it('holds every finding exactly once when the TCP connection drops before the acks and the agent replays', async () => {
    const harness = await setup();
    const agent = await agentFor(harness, { window: 10_000 });
    await agent.connect();
    reportRun(agent, 200);
    agent.drop();
    await agent.waitFor(() => agent.closes.length === 1);
    expect(agent.outbox.size).toBeGreaterThan(0);
    const welcome = await agent.connect();
    // Whatever was committed before the drop is known to the control plane and not sent again.
    expect(welcome.resume_after_seq).toBeGreaterThanOrEqual(0);
    await agent.drained();
    expect(await count(harness, 'SELECT COUNT(*) FROM findings')).toBe(200);
    expect(await count(harness, 'SELECT COUNT(*) FROM hosts')).toBe(1);
    expect(await count(harness, 'SELECT cve_count FROM scans')).toBe(200);
  });

  it('acknowledges a replayed old frame again without applying it twice', async () => {
    const harness = await setup();
    const agent = await agentFor(harness);
    await agent.connect();
    const runId = newRunId();
    agent.report(scanStatus({ runId }));
    agent.report(host(runId, '192.168.88.7', '4C:5E:0C:00:00:07'));
    const seq = agent.report(finding(runId, '192.168.88.7', '4C:5E:0C:00:00:07'));
    await agent.drained();
    const acksBefore = agent.frames.filter((f) => f.type === 'ack').length;
    agent.sendRaw(JSON.stringify({ ...finding(runId, '192.168.88.7', '4C:5E:0C:00:00:07'), seq }));
    await agent.waitFor(() => agent.frames.filter((f) => f.type === 'ack').length > acksBefore);
    expect(agent.frames.at(-1)).toEqual({ type: 'ack', seq });
    expect(await count(harness, 'SELECT COUNT(*) FROM findings')).toBe(1);
  });

  it('starts a new sequence for a new stream (a wiped agent database) instead of taking it for replays', async () => {
    const harness = await setup();
    const site = await harness.addSite();
    const first = new SimulatedAgent({ url: harness.url, token: site.token, siteId: site.id });
    agents.push(first);
    await first.connect();
    reportRun(first, 3);
    await first.drained();
    await first.close();
    const second = new SimulatedAgent({ url: harness.url, token: site.token, siteId: site.id });
    agents.push(second);
    expect((await second.connect()).resume_after_seq).toBe(0);
    reportRun(second, 3);
    await second.drained();
    expect(await count(harness, 'SELECT COUNT(*) FROM findings')).toBe(6);
  });

  it('stores the router inventory an agent reports', async () => {
    const harness = await setup();
    const agent = await agentFor(harness);
    await agent.connect();
    agent.report({
      type: 'inventory',
      at: new Date().toISOString(),
      run_id: null,
      router: { identity: 'gw-main', routeros_version: '6.49.7', board: 'RB4011', serial: null },
      hosts: [{ mac: '4C:5E:0C:00:00:01', ip: '192.168.88.2', hostname: 'nas', interface: 'bridge', source: 'dhcp' }],
      neighbors: [{ mac: '4C:5E:0C:00:00:02', ip: '192.168.88.3', identity: 'ap-1', platform: 'MikroTik', version: '6.48.1' }],
    });
    await agent.drained();
    expect(agent.rejections).toEqual([]);
    const bodies = await queryDatabase<{ body: string }>(harness.dir, 'SELECT body FROM inventories WHERE site_id = ?', agent.siteId);
    expect(bodies.map((row) => (JSON.parse(row.body) as { router: { routeros_version: string } }).router.routeros_version)).toEqual(['6.49.7']);
  });

  it("ties a run's router inventory to the run's sub-scan, and quarantines one naming an unknown run", async () => {
    const harness = await setup();
    const agent = await agentFor(harness);
    await agent.connect();
    const inventoryOf = (runId: string) => ({
      type: 'inventory' as const,
      at: new Date().toISOString(),
      run_id: runId,
      router: { identity: 'gw-main', routeros_version: '6.49.7', board: 'RB4011', serial: null },
      hosts: [{ mac: '4C:5E:0C:00:00:01', ip: '192.168.88.2', hostname: 'nas', interface: 'bridge', source: 'dhcp' as const }],
      neighbors: [],
    });
    const runId = newRunId();
    agent.report(scanStatus({ runId, scheduleId: randomUUID(), slotAt: '2030-01-07T07:00:00.000Z' }));
    agent.report(inventoryOf(runId));
    const stray = agent.report(inventoryOf(newRunId()));
    await agent.drained();
    expect(agent.rejections).toEqual([{ seq: stray, message: expect.stringContaining('unknown run') }]);
    expect(await count(harness, 'SELECT COUNT(*) FROM inventories i JOIN sub_scans s ON s.id = i.sub_scan_id WHERE s.run_id = ?', runId)).toBe(1);
    expect(await count(harness, 'SELECT COUNT(*) FROM inventories')).toBe(1);
  });

  it('quarantines a report it cannot apply, acknowledges it and says why, without closing', async () => {
    const harness = await setup();
    const agent = await agentFor(harness);
    await agent.connect();
    const seq = agent.report(finding(newRunId(), '192.168.88.9', '4C:5E:0C:00:00:09'));
    await agent.drained();
    expect(agent.rejections).toEqual([{ seq, message: expect.stringContaining('unknown run') }]);
    expect(agent.connected).toBe(true);
    expect(await count(harness, 'SELECT COUNT(*) FROM ingest_rejects WHERE seq = ?', seq)).toBe(1);
    expect(await count(harness, 'SELECT COUNT(*) FROM findings')).toBe(0);
  });
});

describe('the hub: backpressure', () => {
  it('stops reading every connection while the ingest queue is long, resumes them, and still holds everything once', async () => {
    h = await startHarness({ hubLimits: { pauseAbove: 20, resumeBelow: 5 } });
    const harness = h;
    const fleet = await Promise.all(Array.from({ length: 12 }, () => agentFor(harness, { window: 200 })));
    await Promise.all(fleet.map((agent) => agent.connect()));
    for (const agent of fleet) reportRun(agent, 80);
    await Promise.all(fleet.map((agent) => agent.drained(20_000)));
    expect(harness.cp.hub.throttled).toBeGreaterThan(0);
    expect(await count(harness, 'SELECT COUNT(*) FROM findings')).toBe(12 * 80);
    expect(fleet.every((agent) => agent.connected)).toBe(true);
  });
});

describe('the hub: bad frames never crash it', () => {
  it('answers garbage with an error frame and close 1007, an unknown type with 1008, and keeps serving others', async () => {
    const harness = await setup();
    const site = await harness.addSite();
    const cases: [string | Buffer, number, string][] = [
      ['{not json', closeCodes.malformed, 'malformed_frame'],
      ['[1,2,3]', closeCodes.malformed, 'malformed_frame'],
      [JSON.stringify({ type: 'hello', protocol: 'one' }), closeCodes.malformed, 'malformed_frame'],
      [JSON.stringify({ type: 'rm -rf', seq: 1 }), closeCodes.policy, 'unknown_type'],
      [Buffer.from([0xde, 0xad, 0xbe, 0xef]), closeCodes.malformed, 'malformed_frame'],
    ];
    for (const [frame, closeCode, code] of cases) {
      const socket = await rawSocket(harness, site.token);
      socket.ws.send(frame);
      expect(await socket.closed, String(frame)).toEqual({ code: closeCode });
      expect(socket.frames).toEqual([expect.objectContaining({ type: 'error', code, fatal: true })]);
    }
    const agent = await agentFor(harness);
    await agent.connect();
    reportRun(agent, 2);
    await agent.drained();
    expect(await count(harness, 'SELECT COUNT(*) FROM findings')).toBe(2);
  });

  it('closes 1009 on a frame larger than max_frame_bytes', async () => {
    const harness = await setup({ hub: { max_frame_bytes: 16 * 1024 } });
    const agent = await agentFor(harness);
    await agent.connect();
    agent.sendRaw(JSON.stringify({ type: 'heartbeat', at: new Date().toISOString(), pad: 'x'.repeat(20_000) }));
    await agent.waitFor(() => agent.closes.length > 0);
    expect(agent.closes[0]?.code).toBe(closeCodes.tooLarge);
    expect(harness.cp.hub.isOnline(agent.siteId)).toBe(false);
  });

  // Its offline state must not wait for the TCP close: on Node 24 that comes after the agent has
  // seen the 1009 (on Node 20 before), and an agent that never answers the close holds it for 30 s.
  it('counts the site offline as soon as it closes 1009, before the agent answers the close', async () => {
    const harness = await setup({ hub: { max_frame_bytes: 16 * 1024 } });
    const site = await harness.addSite();
    const agent = await halfOpenAgent(harness, site.token);
    try {
      agent.send(
        JSON.stringify({ type: 'hello', protocol: 1, agent_version: 'x', site_id: site.id, stream_id: randomUUID(), last_acked_seq: 0, last_command_seq: 0 }),
      );
      await expect.poll(() => agent.frames.some((f) => f.type === 'welcome') && harness.cp.hub.isOnline(site.id)).toBe(true);
      agent.send(JSON.stringify({ type: 'heartbeat', at: new Date().toISOString(), pad: 'x'.repeat(20_000) }));
      expect(await agent.closeCode).toBe(closeCodes.tooLarge);
      expect(harness.cp.hub.isOnline(site.id)).toBe(false);
    } finally {
      agent.socket.destroy();
    }
  });

  it('lets a newer connection of the same site replace the older one (close 4000)', async () => {
    const harness = await setup();
    const first = await agentFor(harness);
    await first.connect();
    const second = new SimulatedAgent({ url: harness.url, token: first.token, siteId: first.siteId, streamId: first.streamId });
    agents.push(second);
    await second.connect();
    await first.waitFor(() => first.closes.length > 0);
    expect(first.closes[0]?.code).toBe(closeCodes.replaced);
    expect(harness.cp.hub.isOnline(first.siteId)).toBe(true);
    reportRun(second, 1);
    await second.drained();
  });
});

describe('the hub: heartbeats', () => {
  it('answers a heartbeat, and drops a peer that stops answering pings within three intervals', async () => {
    const harness = await setup({ hub: { heartbeat_interval_seconds: 1 } });
    const agent = await agentFor(harness);
    const lively = await agentFor(harness);
    await agent.connect();
    await lively.connect();
    agent.sendRaw(JSON.stringify({ type: 'heartbeat', at: new Date().toISOString() }));
    await agent.waitFor(() => agent.frames.some((f) => f.type === 'heartbeat'));
    const silentSince = Date.now();
    agent.goSilent();
    await expect.poll(() => harness.cp.hub.isOnline(agent.siteId), { timeout: 6000, interval: 100 }).toBe(false);
    // Not at the first missed ping: a live peer gets a full interval to answer.
    expect(Date.now() - silentSince).toBeGreaterThan(1000);
    // The agent that answers its pings stays, through the same intervals.
    expect(harness.cp.hub.isOnline(lively.siteId)).toBe(true);
  });
});
