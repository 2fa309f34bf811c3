import { describe, expect, it } from 'vitest';
import { inventoryReport } from '../../../src/agent/pipeline/inventory-report.js';
import type { Inventory, InventoryHost } from '../../../src/agent/routeros/index.js';
import { upSchemas } from '../../../src/protocol/index.js';

const run = { id: '0c8f0e6a-1b2c-4d3e-8f4a-5b6c7d8e9f00', subnets: ['192.168.88.0/24'] };
const at = '2027-01-17T02:00:00.000Z';

const host = (mac: string, ips: string[], table: InventoryHost['sources'][number]['table'] = 'arp'): InventoryHost => ({
  mac,
  ips,
  hostnames: ['nas'],
  interfaces: ['bridge'],
  vendor: null,
  randomized_mac: false,
  first_seen: at,
  last_seen: at,
  sources: [{ table, seen_at: at }],
});

function inventory(changes: Partial<Inventory> = {}): Inventory {
  return {
    router: {
      identity: 'gw',
      version: '6.49.7',
      channel: 'long-term',
      board: 'RB4011iGS+',
      model: 'RB4011iGS+5HacQ2HnD',
      architecture: 'arm',
      firmware: null,
      uptime: null,
    },
    hosts: [host('4C:5E:0C:00:00:01', ['192.168.88.2'], 'dhcp-lease')],
    neighbors: [
      {
        identity: 'ap-1',
        platform: 'MikroTik',
        version: '6.48.1',
        board: null,
        mac: '4C:5E:0C:00:00:02',
        address: '192.168.88.3',
        interface: 'ether2',
      },
    ],
    addresses: [{ address: '192.168.88.1/24', network: '192.168.88.0/24', interface: 'bridge' }],
    transport: 'api',
    read_at: at,
    warnings: [],
    ...changes,
  };
}

const valid = (report: ReturnType<typeof inventoryReport>) => upSchemas.inventory.safeParse({ ...report, seq: 1 }).success;

describe('the inventory report of a run', () => {
  it("carries the router, the hosts inside the run's subnets and the neighbors, as the protocol has them", () => {
    const report = inventoryReport(inventory(), run, at);
    expect(report).toEqual({
      type: 'inventory',
      at,
      run_id: run.id,
      router: { identity: 'gw', routeros_version: '6.49.7', board: 'RB4011iGS+', serial: null },
      hosts: [{ mac: '4C:5E:0C:00:00:01', ip: '192.168.88.2', hostname: 'nas', interface: 'bridge', source: 'dhcp' }],
      neighbors: [{ mac: '4C:5E:0C:00:00:02', ip: '192.168.88.3', identity: 'ap-1', platform: 'MikroTik', version: '6.48.1' }],
    });
    expect(valid(report)).toBe(true);
  });

  it('drops what the protocol cannot carry and clamps what is too long, so the outbox never refuses it', () => {
    const report = inventoryReport(
      inventory({
        router: { ...inventory().router, identity: 'x'.repeat(300) },
        hosts: [
          host('4C:5E:0C:00:00:05', ['fe80::1']),
          host('4C:5E:0C:00:00:06', ['10.1.1.5']),
          host('4C:5E:0C:00:00:07', ['fe80::7', '192.168.88.7'], 'ipv6-neighbor'),
        ],
        neighbors: [
          { identity: 'no-mac', platform: null, version: null, board: null, mac: null, address: '192.168.88.9', interface: null },
          { identity: 'v6', platform: null, version: null, board: null, mac: '4C:5E:0C:00:00:08', address: 'fe80::8', interface: null },
        ],
      }),
      run,
      at,
    );
    expect(report.router.identity).toHaveLength(255);
    expect(report.hosts).toEqual([expect.objectContaining({ mac: '4C:5E:0C:00:00:07', ip: '192.168.88.7', source: 'neighbor' })]);
    expect(report.neighbors).toEqual([expect.objectContaining({ mac: '4C:5E:0C:00:00:08', ip: null })]);
    expect(valid(report)).toBe(true);
  });

  it('keeps at most 2048 hosts, in address order', () => {
    const hosts = Array.from({ length: 3000 }, (_, i) =>
      host(`4C:5E:0C:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0').toUpperCase()}:${(i & 0xff).toString(16).padStart(2, '0').toUpperCase()}`, [
        `10.${(i >> 8) & 0xff}.${i & 0xff}.1`,
      ]),
    );
    const report = inventoryReport(inventory({ hosts }), { ...run, subnets: ['10.0.0.0/8'] }, at);
    expect(report.hosts).toHaveLength(2048);
    expect(report.hosts[0]!.ip).toBe('10.0.0.1');
    expect(valid(report)).toBe(true);
  });
});
