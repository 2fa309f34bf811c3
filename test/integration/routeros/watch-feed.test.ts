import { afterEach, describe, expect, it } from 'vitest';
import { ChangeDetector, type WatchChange } from '../../../src/agent/routeros/watch/change-detector.js';
import { createRouterFeed, type FeedEvent } from '../../../src/agent/routeros/watch/router-feed.js';
import { createWatcher } from '../../../src/agent/watch/watcher.js';
import { startApiSimulator, type RunningApiSimulator } from '../../simulators/routeros-api/server.js';
import { startSshSimulator, type RunningSshSimulator } from '../../simulators/routeros-ssh/server.js';
import { siteRouter } from '../pipeline/site-router.js';
import { eventually, routerSettings, silentLogger } from './helpers.js';

const host = '127.0.140.1';
const lease = (mac: string, ip: string) => ({
  address: ip,
  'mac-address': mac,
  'active-address': ip,
  'active-mac-address': mac,
  status: 'bound',
  dynamic: 'true',
});
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function apiSim(data = siteRouter()): Promise<RunningApiSimulator> {
  const sim = await startApiSimulator({ host, data });
  stops.push(() => sim.stop());
  return sim;
}

/** A watcher on the simulator, collecting every change. */
function watch(port: number, transport: 'api' | 'ssh' = 'api', sshPort?: number) {
  const changes: WatchChange[] = [];
  const feed = createRouterFeed({
    settings: routerSettings({
      host,
      port,
      transport,
      user: 'edge-cve',
      password: 'router-secret',
      ssh_fallback: sshPort !== undefined,
      ssh_port: sshPort ?? 22,
    }),
    logger: silentLogger,
    pollMs: 50,
    versionPollMs: 50,
  });
  const watcher = createWatcher({ feed, logger: silentLogger, onChange: (change) => changes.push(change), backoff: { baseMs: 10, maxMs: 50 } });
  watcher.start();
  stops.push(() => watcher.stop());
  return { changes, watcher };
}

describe('the RouterOS API simulator streams listen like a router', () => {
  it('answers a tagged listen with a !re per change, .dead=yes for a removal, and /cancel with !trap interrupted then !done', async () => {
    const sim = await apiSim();
    const events: FeedEvent[] = [];
    const feed = createRouterFeed({
      settings: routerSettings({ host, port: sim.port, user: 'edge-cve', password: 'router-secret' }),
      logger: silentLogger,
      pollMs: 1000,
      versionPollMs: 60_000,
    });
    const stop = new AbortController();
    const running = feed.run(stop.signal, (event) => events.push(event)).catch((error: unknown) => error);
    expect(await eventually(() => sim.listens().length === 4 && events.some((event) => event.kind === 'router'), 5000)).toBe(true);
    expect(sim.listens().map((listen) => listen.menu)).toEqual(['/ip/dhcp-server/lease', '/ip/arp', '/interface/bridge/host', '/ip/neighbor']);
    // Each listen went out tagged (node-routeros's Channel id), and the baseline print of each table after it.
    const listenWords = sim.received.filter((words) => words[0]?.endsWith('/listen'));
    expect(listenWords.every((words) => words.some((word) => word.startsWith('.tag=')))).toBe(true);
    expect(events.filter((event) => event.kind === 'snapshot').map((event) => (event as { table: string }).table)).toEqual([
      'leases',
      'arp',
      'bridgeHosts',
      'neighbors',
    ]);

    const id = sim.addRow('/ip/dhcp-server/lease', lease('02:00:00:00:00:0A', '127.0.30.10'));
    sim.setRow('/ip/dhcp-server/lease', id, { 'host-name': 'camera' });
    sim.removeRow('/ip/dhcp-server/lease', id);
    expect(await eventually(() => events.filter((event) => event.kind === 'row').length === 3)).toBe(true);
    const rows = events.flatMap((event) => (event.kind === 'row' ? [event.row] : []));
    expect(rows[0]).toMatchObject({ '.id': id, 'mac-address': '02:00:00:00:00:0A', address: '127.0.30.10' });
    expect(rows[1]).toMatchObject({ '.id': id, 'host-name': 'camera' });
    expect(rows[2]).toEqual({ '.id': id, '.dead': 'yes' });

    stop.abort(new Error('test over'));
    expect(await running).toBeInstanceOf(Error);
    // The stop cancelled every listen by its tag; the router had nothing left streaming.
    const cancels = sim.received.filter((words) => words[0] === '/cancel');
    const tags = listenWords.map((words) => words.find((word) => word.startsWith('.tag='))?.slice(5));
    expect(cancels.map((words) => words.find((word) => word.startsWith('=tag='))?.slice(5)).sort()).toEqual([...tags].sort());
    expect(sim.listens()).toEqual([]);
    expect(await eventually(() => sim.connections() === 0)).toBe(true);
  });
});

describe('watching the router over the API', () => {
  it('turns a lease added into a new host, a known MAC on a new address into new-ip, and says nothing of the baseline', async () => {
    const sim = await apiSim();
    const { changes, watcher } = watch(sim.port);
    expect(await eventually(() => watcher.baselines === 1, 5000)).toBe(true);
    sim.addRow('/ip/dhcp-server/lease', lease('02:00:00:00:00:0B', '127.0.30.11'));
    // The web server's MAC (known from the ARP table) now on another address.
    sim.addRow('/ip/arp', { address: '127.0.30.12', 'mac-address': 'B8:27:EB:44:55:66', interface: 'bridge-lan', complete: 'true' });
    expect(await eventually(() => changes.length === 2)).toBe(true);
    expect(changes).toEqual([
      { kind: 'host', reason: 'new-mac', mac: '02:00:00:00:00:0B', ip: '127.0.30.11', table: 'leases' },
      { kind: 'host', reason: 'new-ip', mac: 'B8:27:EB:44:55:66', ip: '127.0.30.12', table: 'arp' },
    ]);
  });

  it('sees a neighbor upgraded and the router upgraded (polled /system/resource)', async () => {
    const data = siteRouter();
    const sim = await apiSim(data);
    const { changes, watcher } = watch(sim.port);
    expect(await eventually(() => watcher.baselines === 1, 5000)).toBe(true);
    const neighbor = sim.addRow('/ip/neighbor', {
      'mac-address': '48:A9:8A:0F:0F:0F',
      address: '127.0.30.40',
      identity: 'ap',
      platform: 'MikroTik',
      version: '6.45.1',
    });
    sim.setRow('/ip/neighbor', neighbor, { version: '6.49.7 (long-term)' });
    (data.menus['/system/resource']?.[0] as Record<string, string>).version = '6.49.7 (long-term)';
    expect(
      await eventually(() => changes.some((change) => change.kind === 'neighbor-version') && changes.some((change) => change.kind === 'router-version')),
    ).toBe(true);
    expect(changes).toContainEqual({ kind: 'router-version', from: '6.40.5 (stable)', to: '6.49.7 (long-term)' });
    expect(changes.find((change) => change.kind === 'neighbor-version')).toEqual({
      kind: 'neighbor-version',
      mac: '48:A9:8A:0F:0F:0F',
      ip: '127.0.30.40',
      identity: 'ap',
      from: '6.45.1',
      to: '6.49.7 (long-term)',
    });
  });

  it('opens the session again after the router drops it, and goes on seeing changes', async () => {
    const sim = await apiSim();
    const { changes, watcher } = watch(sim.port);
    expect(await eventually(() => watcher.baselines === 1, 5000)).toBe(true);
    sim.dropSessions();
    expect(await eventually(() => watcher.reconnects === 1 && watcher.baselines === 2, 5000)).toBe(true);
    sim.addRow('/ip/dhcp-server/lease', lease('02:00:00:00:00:0C', '127.0.30.13'));
    expect(await eventually(() => changes.length === 1)).toBe(true);
    expect(changes[0]).toMatchObject({ kind: 'host', mac: '02:00:00:00:00:0C', ip: '127.0.30.13' });
  });

  it('rejects a malformed row without a crash and keeps watching', async () => {
    const sim = await apiSim();
    const { changes, watcher } = watch(sim.port);
    expect(await eventually(() => watcher.baselines === 1, 5000)).toBe(true);
    sim.addRow('/ip/dhcp-server/lease', lease('not-a-mac', '127.0.30.14'));
    sim.addRow('/ip/arp', { address: '999.1.2.3', 'mac-address': '02:00:00:00:00:0D' });
    sim.addRow('/ip/dhcp-server/lease', lease('02:00:00:00:00:0E', '127.0.30.15'));
    expect(await eventually(() => changes.length === 1 && watcher.rejectedRows === 2)).toBe(true);
    expect(changes[0]).toMatchObject({ mac: '02:00:00:00:00:0E' });
    expect(watcher.reconnects).toBe(0);
  });
});

describe('watching the router over SSH (no listen: polled and diffed)', () => {
  let ssh: RunningSshSimulator;
  it('finds a lease added between two polls, and the router upgraded', async () => {
    const data = siteRouter();
    ssh = await startSshSimulator({ host, data });
    stops.push(() => ssh.stop());
    const { changes, watcher } = watch(ssh.port, 'ssh');
    // The first poll is the baseline.
    expect(await eventually(() => watcher.baselines === 1, 5000)).toBe(true);
    data.menus['/ip/dhcp-server/lease']?.push(lease('02:00:00:00:00:0F', '127.0.30.16'));
    (data.menus['/system/resource']?.[0] as Record<string, string>).version = '6.49.7 (long-term)';
    expect(await eventually(() => changes.length === 2, 5000)).toBe(true);
    expect(changes).toContainEqual({ kind: 'host', reason: 'new-mac', mac: '02:00:00:00:00:0F', ip: '127.0.30.16', table: 'leases' });
    expect(changes).toContainEqual({ kind: 'router-version', from: '6.40.5 (stable)', to: '6.49.7 (long-term)' });
  });
});

describe('a closed API port with ssh_fallback', () => {
  it('watches over SSH instead (polling), as a read falls back', async () => {
    const data = siteRouter();
    // A port nothing listens on: a simulator started and stopped.
    const closed = await startApiSimulator({ host, data });
    await closed.stop();
    const ssh = await startSshSimulator({ host, data });
    stops.push(() => ssh.stop());
    const { changes, watcher } = watch(closed.port, 'api', ssh.port);
    expect(await eventually(() => watcher.baselines === 1, 5000)).toBe(true);
    data.menus['/ip/arp']?.push({ address: '127.0.30.17', 'mac-address': '02:00:00:00:00:11', interface: 'bridge-lan', complete: 'true' });
    expect(await eventually(() => changes.length === 1, 5000)).toBe(true);
    expect(changes[0]).toEqual({ kind: 'host', reason: 'new-mac', mac: '02:00:00:00:00:11', ip: '127.0.30.17', table: 'arp' });
    expect(watcher.reconnects).toBe(0);
  });
});

describe('the change detector', () => {
  it('takes the first read of each table as the baseline and remembers MACs whose rows went away', () => {
    const detector = new ChangeDetector();
    expect(detector.take({ kind: 'snapshot', table: 'leases', rows: [lease('02:00:00:00:00:01', '10.0.0.1')] }).changes).toEqual([]);
    expect(detector.take({ kind: 'row', table: 'leases', row: { '.id': '*1', '.dead': 'yes' } }).changes).toEqual([]);
    expect(detector.take({ kind: 'row', table: 'leases', row: lease('02:00:00:00:00:01', '10.0.0.1') }).changes).toEqual([]);
    // A waiting lease gives no address yet: the MAC is new, with no IP to scan.
    expect(detector.take({ kind: 'row', table: 'leases', row: { ...lease('02:00:00:00:00:02', '10.0.0.2'), status: 'waiting' } }).changes).toEqual([
      { kind: 'host', reason: 'new-mac', mac: '02:00:00:00:00:02', ip: null, table: 'leases' },
    ]);
    expect(detector.take({ kind: 'router', resource: { version: '7.4 (stable)' }, update: undefined }).changes).toEqual([]);
    expect(detector.take({ kind: 'router', resource: { version: '7.4' }, update: { channel: 'stable' } }).changes).toEqual([]);
    expect(detector.take({ kind: 'router', resource: { version: '7.4' }, update: { channel: 'long-term' } }).changes).toEqual([
      { kind: 'router-version', from: '7.4 (stable)', to: '7.4 (long-term)' },
    ]);
  });

  it('with what the last full read knew, reports at start what came while the agent was down, and only that', () => {
    const lastRead = new Map([
      ['02:00:00:00:00:01', ['10.0.0.1']],
      ['02:00:00:00:00:02', ['10.0.0.2']],
    ]);
    const detector = new ChangeDetector({ lastIps: (mac) => lastRead.get(mac) });
    expect(
      detector.take({
        kind: 'snapshot',
        table: 'leases',
        rows: [lease('02:00:00:00:00:01', '10.0.0.1'), lease('02:00:00:00:00:02', '10.0.0.22'), lease('02:00:00:00:00:03', '10.0.0.3')],
      }).changes,
    ).toEqual([
      { kind: 'host', reason: 'new-ip', mac: '02:00:00:00:00:02', ip: '10.0.0.22', table: 'leases' },
      { kind: 'host', reason: 'new-mac', mac: '02:00:00:00:00:03', ip: '10.0.0.3', table: 'leases' },
    ]);
    // The same hosts in the next table's first read are not news twice.
    expect(detector.take({ kind: 'snapshot', table: 'arp', rows: [{ address: '10.0.0.3', 'mac-address': '02:00:00:00:00:03' }] }).changes).toEqual([]);
  });
});
