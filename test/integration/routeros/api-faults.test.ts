import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RouterOsApiClient } from '../../../src/agent/routeros/api/api-client.js';
import { inventorySchema } from '../../../src/agent/routeros/inventory-schema.js';
import { menus } from '../../../src/agent/routeros/tables.js';
import { captureLogger } from '../../helpers/logger.js';
import { startApiSimulator, type ApiFaults, type RunningApiSimulator } from '../../simulators/routeros-api/server.js';
import { routerFromCaptures } from '../../simulators/router-data.js';
import { eventually, oneTrySource, routerSettings, silentLogger } from './helpers.js';

const data = routerFromCaptures();
let sim: RunningApiSimulator;

beforeAll(async () => {
  sim = await startApiSimulator({ data });
});
afterAll(async () => {
  await sim.stop();
});
afterEach(async () => {
  // Whatever happened, the client must not leave a socket open on the router.
  expect(await eventually(() => sim.connections() === 0)).toBe(true);
  sim.setFaults({});
});

const settings = () => routerSettings({ port: sim.port, timeout_seconds: 5 });
/** Short where the test waits for the timeout itself, generous where a loaded CI machine must not trip it. */
const stepTimeout = (fault: { code?: string; timeoutSeconds?: number }) => fault.timeoutSeconds ?? (fault.code === 'AGENT_ERR_ROUTER_TIMEOUT' ? 1.5 : 5);

describe('the API client against the simulator', () => {
  it('reads every menu exactly as the captures hold it', async () => {
    const client = new RouterOsApiClient({
      target: { host: '127.0.0.1', port: sim.port, transport: 'api' },
      user: 'admin',
      password: 'secret',
      timeoutMs: 2000,
      logger: silentLogger,
    });
    await client.connect(AbortSignal.timeout(20_000));
    try {
      for (const menu of Object.values(menus)) {
        expect(await client.print(menu, AbortSignal.timeout(20_000)), menu).toEqual(data.menus[menu] ?? []);
      }
    } finally {
      client.close();
    }
  });

  it('builds the inventory from the captures', async () => {
    const inventory = await oneTrySource(settings()).readInventory(AbortSignal.timeout(20_000));
    expect(inventorySchema.parse(inventory)).toEqual(inventory);
    expect(inventory.router).toMatchObject({
      identity: 'MikroTik',
      version: '7.4',
      channel: 'stable',
      board: 'CCR2004-16G-2S+',
    });
    expect(inventory.router).not.toHaveProperty('cpe');
    expect(inventory.hosts.find((host) => host.mac === 'C0:F5:35:00:BD:08')).toMatchObject({ ips: ['192.168.40.13'], hostnames: ['WiiM Amp-BD08'] });
    expect(inventory.neighbors).toEqual([
      {
        identity: 'sw',
        platform: 'MikroTik',
        version: '6.40.8 (bugfix)',
        board: 'CRS112-8G-4S',
        mac: '4C:5E:0C:12:AA:CC',
        address: '172.31.1.12',
        interface: 'ether3,br-lan',
      },
    ]);
    expect(inventory.transport).toBe('api');
  });

  it('sends an empty password as an empty word, never as "undefined"', async () => {
    const open = await startApiSimulator({ data: { ...data, password: '' } });
    try {
      await oneTrySource(routerSettings({ port: open.port, password: '' })).check(AbortSignal.timeout(20_000));
      expect(open.received.find((words) => words[0] === '/login')).toContain('=password=');
      expect(open.received.flat()).not.toContain('=password=undefined');
    } finally {
      await open.stop();
    }
  });

  it('never logs the password, even at trace level on a failed login', async () => {
    const { logger, lines } = captureLogger('trace');
    sim.setFaults({ rejectLogin: true });
    await expect(oneTrySource({ ...settings(), password: 'hunter2-secret' }, { logger }).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
      code: 'AGENT_ERR_ROUTER_AUTH',
    });
    expect(lines().length).toBeGreaterThan(0);
    expect(JSON.stringify(lines())).not.toContain('hunter2-secret');
  });

  it('logs in with the legacy MD5 challenge of RouterOS before 6.43', async () => {
    const legacy = await startApiSimulator({ data, login: 'legacy' });
    try {
      const check = await oneTrySource(routerSettings({ port: legacy.port })).check(AbortSignal.timeout(20_000));
      expect(check.version).toBe('7.4');
      expect(legacy.logins).toEqual(['admin:ok']);
      await expect(oneTrySource(routerSettings({ port: legacy.port, password: 'wrong' })).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
        code: 'AGENT_ERR_ROUTER_AUTH',
        message: expect.stringContaining('login failed (cannot log in)'),
      });
    } finally {
      await legacy.stop();
    }
  });
});

interface FaultCase {
  name: string;
  faults: ApiFaults;
  timeoutSeconds?: number;
  /** undefined: the read must succeed with the right data. */
  code?: string;
  message?: RegExp;
}

const faultCases: FaultCase[] = [
  { name: 'wrong password', faults: { rejectLogin: true }, code: 'AGENT_ERR_ROUTER_AUTH', message: /login failed \(invalid user name or password \(6\)\)/ },
  { name: '!empty replies (RouterOS 7.18+)', faults: { emptyReplies: true } },
  { name: 'every byte in its own segment', faults: { splitEveryByte: true }, timeoutSeconds: 20 },
  { name: 'the final NUL of each sentence alone in a segment', faults: { nulAlone: true } },
  { name: 'every length in the 3-byte form', faults: { minLengthWidth: 3 } },
  { name: 'every length in the 4-byte form', faults: { minLengthWidth: 4 } },
  { name: 'every length in the 5-byte form', faults: { minLengthWidth: 5 } },
  { name: 'a login that is never answered', faults: { silentLogin: true }, code: 'AGENT_ERR_ROUTER_TIMEOUT', message: /timeout after 1\.5 s \(login\)/ },
  { name: 'a reply that never comes', faults: { noReplyTo: ['/ip/arp'] }, code: 'AGENT_ERR_ROUTER_TIMEOUT', message: /timeout after 1\.5 s \(\/ip\/arp\)/ },
  {
    name: 'a TCP reset in the middle of a reply',
    faults: { resetMidReply: '/ip/neighbor' },
    code: 'AGENT_ERR_ROUTER_CLOSED',
    message: /reset by the router|closed by the router/,
  },
  { name: '!fatal', faults: { fatalOn: '/ip/arp' }, code: 'AGENT_ERR_ROUTER_CLOSED', message: /the router ended the session: out of memory/ },
  {
    name: 'malformed length bytes',
    faults: { malformedLengthOn: '/ip/arp' },
    code: 'AGENT_ERR_ROUTER_PROTOCOL',
    message: /protocol error: reserved length byte 0xf8/,
  },
  { name: 'a huge word', faults: { hugeWordOn: '/ip/arp' }, code: 'AGENT_ERR_ROUTER_PROTOCOL', message: /word of 2147418112 bytes exceeds the limit/ },
  { name: 'an unknown reply word', faults: { unknownReplyOn: '/ip/arp' }, code: 'AGENT_ERR_ROUTER_PROTOCOL', message: /unknown reply: !weird/ },
  {
    name: 'a !trap on a menu the inventory needs',
    faults: { trapOn: { '/ip/arp': 'not enough permissions (9)' } },
    code: 'AGENT_ERR_ROUTER_TRAP',
    message: /!trap: not enough permissions \(9\) \(category 0\)/,
  },
];

describe('every API fault over API-SSL (anonymous TLS) too', () => {
  let tlsSim: RunningApiSimulator;
  beforeAll(async () => {
    tlsSim = await startApiSimulator({ data, tls: 'anonymous' });
  });
  afterAll(async () => {
    await tlsSim.stop();
  });

  for (const fault of faultCases) {
    it(fault.name, async () => {
      tlsSim.setFaults(fault.faults);
      try {
        const tlsSettings = routerSettings({
          port: tlsSim.port,
          transport: 'api-ssl',
          tls: { reject_unauthorized: false },
          timeout_seconds: stepTimeout(fault),
        });
        const reading = oneTrySource(tlsSettings).readInventory(AbortSignal.timeout(30_000));
        if (fault.code === undefined) {
          const inventory = await reading;
          expect(inventory.transport).toBe('api-ssl');
          expect(inventory.hosts.map((host) => host.mac)).toContain('08:00:27:CE:A3:7E');
          expect(inventory.warnings).toEqual([]);
        } else {
          await expect(reading).rejects.toMatchObject({ code: fault.code, message: expect.stringMatching(fault.message ?? /./) });
        }
        expect(await eventually(() => tlsSim.connections() === 0)).toBe(true);
      } finally {
        tlsSim.setFaults({});
      }
    });
  }
});

describe('every API fault ends in a typed error or a correct result', () => {
  for (const fault of faultCases) {
    it(fault.name, async () => {
      sim.setFaults(fault.faults);
      const reading = oneTrySource({ ...settings(), timeout_seconds: stepTimeout(fault) }).readInventory(AbortSignal.timeout(30_000));
      if (fault.code === undefined) {
        const inventory = await reading;
        expect(inventory.router.version).toBe('7.4');
        expect(inventory.hosts.map((host) => host.mac)).toContain('08:00:27:CE:A3:7E');
        expect(inventory.neighbors).toHaveLength(1);
        expect(inventory.warnings).toEqual([]);
      } else {
        await expect(reading).rejects.toMatchObject({ code: fault.code, message: expect.stringMatching(fault.message ?? /./) });
      }
    });
  }

  it('a legitimately long word (2.5 MB, the 4-byte length form) arrives whole', async () => {
    const comment = 'x'.repeat(2_500_000);
    const arp = [{ ...(data.menus['/ip/arp']?.[0] ?? {}), comment }];
    const big = await startApiSimulator({ data: { ...data, menus: { ...data.menus, '/ip/arp': arp } } });
    const client = new RouterOsApiClient({
      target: { host: '127.0.0.1', port: big.port, transport: 'api' },
      user: 'admin',
      password: 'secret',
      timeoutMs: 5000,
      logger: silentLogger,
    });
    try {
      await client.connect(AbortSignal.timeout(20_000));
      const rows = await client.print('/ip/arp', AbortSignal.timeout(20_000));
      expect(rows[0]?.comment).toHaveLength(2_500_000);
    } finally {
      client.close();
      await big.stop();
    }
  });

  it('an empty table answers [] with or without !empty', async () => {
    const empty = await startApiSimulator({ data: { ...data, menus: { ...data.menus, '/ip/dhcp-server/lease': [] } }, faults: { emptyReplies: true } });
    try {
      const check = await oneTrySource(routerSettings({ port: empty.port })).check(AbortSignal.timeout(20_000));
      expect(check.counts.leases).toBe(0);
      expect(empty.received.length).toBeGreaterThan(9);
    } finally {
      await empty.stop();
    }
  });

  it('a !trap on an optional menu leaves that table empty with a warning', async () => {
    sim.setFaults({ trapOn: { '/ipv6/neighbor': 'no such command prefix' } });
    const check = await oneTrySource(settings()).check(AbortSignal.timeout(20_000));
    expect(check.counts.ipv6Neighbors).toBe(0);
    expect(check.counts.arp).toBe(3);
    expect(check.warnings).toEqual(['/ipv6/neighbor: !trap: no such command prefix (category 0); table left empty']);
  });

  it('a closed port is "connection refused on <port>"', async () => {
    const closed = await startApiSimulator({ data });
    const port = closed.port;
    await closed.stop();
    await expect(oneTrySource(routerSettings({ port })).check(AbortSignal.timeout(20_000))).rejects.toMatchObject({
      code: 'AGENT_ERR_ROUTER_UNREACHABLE',
      message: `router 127.0.0.1:${port} (api): connection refused on ${port}`,
    });
  });

  it('an abort stops a read that hangs, at once, with the abort reason', async () => {
    sim.setFaults({ noReplyTo: ['*'] });
    const controller = new AbortController();
    const started = Date.now();
    const reading = oneTrySource(routerSettings({ port: sim.port, timeout_seconds: 30 })).readInventory(controller.signal);
    setTimeout(() => controller.abort(), 100);
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
