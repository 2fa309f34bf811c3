import net from 'node:net';
import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { backoffDelay } from '../../../src/shared/backoff.js';
import { agentEndpoint, UplinkClient, type UplinkSession } from '../../../src/agent/uplink/uplink-client.js';
import { PROTOCOL_VERSION } from '../../../src/protocol/index.js';
import { startHubSimulator } from './hub-simulator.js';
import { ManualTimers } from './manual-timers.js';

const siteId = '5b0e3c1a-2d4f-4a6b-8c9d-0e1f2a3b4c5d';
const policy = { initialMs: 100, maxMs: 1000, factor: 2 };

async function refusedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `ws://127.0.0.1:${port}`;
}

function client(url: string, timers: ManualTimers, random: () => number, sessions: UplinkSession[] = []): UplinkClient {
  const c = new UplinkClient({
    url,
    token: 'site-token-1',
    logger: pino({ level: 'silent' }),
    timers,
    random,
    backoff: policy,
    hello: () => ({
      protocol: PROTOCOL_VERSION,
      agent_version: 'test',
      site_id: siteId,
      stream_id: '6c1f4d2b-3e5a-4b7c-9d0e-1f2a3b4c5d6e',
      last_acked_seq: 0,
      last_command_seq: 0,
    }),
    onSession: (session) => sessions.push(session),
    onFrame: () => undefined,
    onDisconnected: () => undefined,
  });
  onTestFinished(() => c.stop());
  return c;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('uplink client: reconnect backoff and heartbeats (injected timers, real sockets)', () => {
  it('doubles the wait after each refused dial up to the cap, drawn from the upper half of the ceiling', async () => {
    for (const [draw, fraction] of [
      [1, 1],
      [0, 0.5],
      [0.5, 0.75],
    ] as const) {
      const timers = new ManualTimers();
      const uplink = client(await refusedUrl(), timers, () => draw);
      uplink.start();
      for (let failure = 0; failure < 7; failure += 1) {
        await until(() => uplink.waits.length === failure + 1, `refusal ${failure + 1}`);
        timers.advance(uplink.waits[failure]!);
      }
      const ceilings = [100, 200, 400, 800, 1000, 1000, 1000];
      expect(uplink.waits).toEqual(ceilings.map((ceiling) => Math.round(ceiling * fraction)));
      await uplink.stop();
    }
    expect(backoffDelay(50, policy, () => 1)).toBe(1000);
  });

  it('starts the backoff over after a welcome, and sends the token as a bearer header', async () => {
    const hub = await startHubSimulator();
    onTestFinished(() => hub.close());
    const timers = new ManualTimers();
    const uplink = client(hub.url, timers, () => 1);
    uplink.start();
    await hub.waitFor('the first hello', () => hub.connections[0]?.frames[0]?.type === 'hello');
    expect(hub.connections[0]!.headers.authorization).toBe('Bearer site-token-1');
    await until(() => uplink.connected, 'the welcome');
    hub.connections[0]!.terminate();
    await until(() => uplink.waits.length === 1, 'the first wait');
    timers.advance(uplink.waits[0]!);
    await until(() => uplink.connected, 'the second session');
    hub.connections[1]!.terminate();
    await until(() => uplink.waits.length === 2, 'the second wait');
    // Both waits are the first step: the welcome in between reset the count.
    expect(uplink.waits).toEqual([100, 100]);
  });

  it('sends heartbeats at the interval and drops a silent control plane within three intervals (30 s)', async () => {
    const hub = await startHubSimulator({ welcome: { heartbeat_interval_ms: 10_000 } });
    onTestFinished(() => hub.close());
    const timers = new ManualTimers();
    const uplink = client(hub.url, timers, () => 1);
    uplink.start();
    await until(() => uplink.connected, 'the welcome');
    const connection = hub.connections[0]!;
    const heartbeats = () => connection.frames.filter((frame) => frame.type === 'heartbeat').length;
    timers.advance(10_000);
    await hub.waitFor('the first heartbeat', () => heartbeats() === 1);
    timers.advance(10_000);
    await hub.waitFor('the second heartbeat', () => heartbeats() === 2);
    // 20 s of silence is tolerated (one lost heartbeat); the next check finds 30 s and drops the peer.
    expect(connection.closed).toBeUndefined();
    timers.advance(10_000);
    await hub.waitFor('the drop', () => connection.closed !== undefined);
    expect(uplink.connected).toBe(false);
    expect(heartbeats()).toBe(2);
    await until(() => uplink.waits.length === 1, 'a reconnect to be armed');
  });

  it('appends the agents path to the configured URL unless it is already there', () => {
    expect(agentEndpoint('wss://cve.example.net/agents')).toBe('wss://cve.example.net/agents/agent/v1');
    expect(agentEndpoint('ws://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/agent/v1');
    expect(agentEndpoint('ws://127.0.0.1:8080/agent/v1')).toBe('ws://127.0.0.1:8080/agent/v1');
  });
});
