import ssh2 from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { routerOsCpe } from '../../../src/cve/services.js';
import { inventorySchema } from '../../../src/agent/routeros/inventory-schema.js';
import { parseRouterOsVersion } from '../../../src/shared/routeros-version.js';
import { consoleCommands } from '../../../src/agent/routeros/ssh/console-menus.js';
import { startApiSimulator } from '../../simulators/routeros-api/server.js';
import { startSshSimulator, type RunningSshSimulator, type SshFaults } from '../../simulators/routeros-ssh/server.js';
import { generateRouterData, routerFromCaptures } from '../../simulators/router-data.js';
import { eventually, oneTrySource, routerSettings } from './helpers.js';

const data = routerFromCaptures();
let sim: RunningSshSimulator;

beforeAll(async () => {
  sim = await startSshSimulator({ data });
});
afterAll(async () => {
  await sim.stop();
});
afterEach(async () => {
  expect(await eventually(() => sim.connections() === 0)).toBe(true);
  sim.setFaults({});
});

const settings = (timeout = 5) => routerSettings({ port: sim.port, transport: 'ssh', timeout_seconds: timeout });

describe('the SSH reader against the simulator', () => {
  it('logs in as user+ct and reads every menu from the captured console outputs', async () => {
    sim.logins.length = 0;
    sim.commands.length = 0;
    const inventory = await oneTrySource(settings()).readInventory(AbortSignal.timeout(20_000));
    expect(inventorySchema.parse(inventory)).toEqual(inventory);
    expect(sim.logins).toEqual(['admin+ct']);
    expect(sim.commands).toEqual(Object.values(consoleCommands));
    // The captured /system resource print of a 6.42.5 x86 router (ansible fixture).
    expect(inventory.router).toMatchObject({ version: '6.42.5', channel: 'stable', board: 'x86' });
    // Captured terse lease output: the host name and the lease's active address.
    expect(inventory.hosts.find((host) => host.mac === 'AA:C1:AB:E3:F5:E8')).toMatchObject({ ips: ['192.168.80.254'], randomized_mac: true });
    expect(inventory.hosts.find((host) => host.mac === '74:83:C2:36:5A:6E')).toMatchObject({
      ips: ['10.164.1.199'],
      hostnames: ['Unifi3B'],
      vendor: 'Ubiquiti Inc',
    });
    // Captured neighbor detail output, wrapped lines and all; cve/ names their RouterOS (a release's update is NA).
    expect(inventory.neighbors.map((n) => [n.identity, routerOsCpe(parseRouterOsVersion(n.version ?? undefined)!)])).toEqual([
      ['router1', 'cpe:2.3:o:mikrotik:routeros:6.42.2:-:*:*:-:*:*:*'],
      ['router2', 'cpe:2.3:o:mikrotik:routeros:6.42.2:-:*:*:-:*:*:*'],
      ['router3', 'cpe:2.3:o:mikrotik:routeros:6.40.8:-:*:*:ltr:*:*:*'],
      ['router4', 'cpe:2.3:o:mikrotik:routeros:6.42.2:-:*:*:-:*:*:*'],
    ]);
    expect(inventory.transport).toBe('ssh');
  });

  it('reads the same hosts over SSH as over the API from the same tables', async () => {
    const generated = generateRouterData({ arp: 300, leases: 300, neighbors: 20, ipv6Neighbors: 10 });
    const big = await startSshSimulator({ data: generated });
    const api = await startApiSimulator({ data: generated });
    try {
      const inventory = await oneTrySource(routerSettings({ port: big.port, transport: 'ssh' })).readInventory(AbortSignal.timeout(20_000));
      expect(inventory.hosts).toHaveLength(320);
      expect(inventory.neighbors).toHaveLength(20);
      expect(inventory.hosts.find((host) => host.ips.includes('10.0.0.15'))).toMatchObject({ hostnames: ['host-5'], interfaces: ['bridge-lan', 'ether7'] });
      const overApi = await oneTrySource(routerSettings({ port: api.port })).readInventory(AbortSignal.timeout(20_000));
      const facts = (hosts: typeof inventory.hosts) =>
        hosts.map(({ mac, ips, hostnames, interfaces, vendor, randomized_mac }) => ({ mac, ips, hostnames, interfaces, vendor, randomized_mac }));
      expect(facts(inventory.hosts)).toEqual(facts(overApi.hosts));
      expect(inventory.neighbors).toEqual(overApi.neighbors);
      expect({ ...inventory.router }).toEqual({ ...overApi.router });
    } finally {
      await big.stop();
      await api.stop();
    }
  });
});

interface FaultCase {
  name: string;
  faults: SshFaults;
  code?: string;
  message?: RegExp;
}

const faultCases: FaultCase[] = [
  { name: 'wrong password', faults: { rejectLogin: true }, code: 'AGENT_ERR_ROUTER_AUTH', message: /login failed/ },
  { name: 'console log lines inside the outputs', faults: { logEcho: true } },
  { name: 'outputs in 7-byte pieces', faults: { chunkBytes: 7 } },
  {
    name: 'a command that never finishes',
    faults: { noReplyTo: [consoleCommands.arp] },
    code: 'AGENT_ERR_ROUTER_TIMEOUT',
    message: /timeout after 1 s \(\/ip arp print terse without-paging\)/,
  },
  { name: 'a TCP reset in the middle of an output', faults: { resetMidOutput: consoleCommands.leases }, code: 'AGENT_ERR_ROUTER_CLOSED' },
];

describe('every SSH fault ends in a typed error or a correct result', () => {
  for (const fault of faultCases) {
    it(fault.name, async () => {
      sim.setFaults(fault.faults);
      const reading = oneTrySource(settings(fault.code === 'AGENT_ERR_ROUTER_TIMEOUT' ? 1 : 5)).readInventory(AbortSignal.timeout(20_000));
      if (fault.code === undefined) {
        const inventory = await reading;
        expect(inventory.router.version).toBe('6.42.5');
        expect(inventory.hosts.map((host) => host.mac)).toEqual(expect.arrayContaining(['12:34:56:78:90:AA', '74:83:C2:36:5A:6E', 'D4:CA:6D:C6:16:4C']));
        expect(inventory.warnings).toEqual([]);
        expect(JSON.stringify(inventory)).not.toContain('echo:');
      } else {
        await expect(reading).rejects.toMatchObject({ code: fault.code, message: expect.stringMatching(fault.message ?? /./) });
      }
    });
  }

  it('a menu the router lacks: a required one is a trap, an optional one a warning', async () => {
    const { '/ipv6/neighbor': _ipv6, ...withoutIpv6 } = data.menus;
    const noIpv6 = await startSshSimulator({ data: { ...data, menus: withoutIpv6 } });
    const { '/ip/address': _addresses, ...withoutAddresses } = data.menus;
    const noAddresses = await startSshSimulator({ data: { ...data, menus: withoutAddresses } });
    try {
      const check = await oneTrySource(routerSettings({ port: noIpv6.port, transport: 'ssh' })).check(AbortSignal.timeout(20_000));
      expect(check.warnings).toEqual(['/ipv6 neighbor print terse without-paging: bad command name ipv6 neighbor (line 1 column 2); table left empty']);
      await expect(oneTrySource(routerSettings({ port: noAddresses.port, transport: 'ssh' })).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_TRAP',
        message: expect.stringContaining('/ip address print terse without-paging: bad command name ip address'),
      });
    } finally {
      await noIpv6.stop();
      await noAddresses.stop();
    }
  });

  it('an old router offering only diffie-hellman-group14-sha1 and ssh-dss: ssh2 alone fails, ours connects', async () => {
    const legacy = await startSshSimulator({ data, legacyAlgorithms: true });
    try {
      const plain = await new Promise<string>((resolve) => {
        const client = new ssh2.Client();
        client.on('ready', () => resolve('connected'));
        client.on('error', (error) => resolve(error.message));
        client.connect({ host: '127.0.0.1', port: legacy.port, username: 'admin', password: 'secret' });
      });
      expect(plain).toMatch(/no matching/i);
      const check = await oneTrySource(routerSettings({ port: legacy.port, transport: 'ssh' })).check(AbortSignal.timeout(20_000));
      expect(check.version).toBe('6.42.5');
      expect(await eventually(() => legacy.connections() === 0)).toBe(true);
    } finally {
      await legacy.stop();
    }
  });

  it('a closed SSH port is "connection refused on <port>"', async () => {
    const closed = await startSshSimulator({ data });
    const port = closed.port;
    await closed.stop();
    await expect(oneTrySource(routerSettings({ port, transport: 'ssh' })).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
      code: 'AGENT_ERR_ROUTER_UNREACHABLE',
      message: `router 127.0.0.1:${port} (ssh): connection refused on ${port}`,
    });
  });

  it('an abort stops a hanging command at once', async () => {
    sim.setFaults({ noReplyTo: ['*'] });
    const controller = new AbortController();
    const reading = oneTrySource(settings(30)).readInventory(controller.signal);
    setTimeout(() => controller.abort(), 200);
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
  });
});
