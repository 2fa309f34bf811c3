import { describe, expect, it } from 'vitest';
import { buildInventory } from '../../../src/agent/routeros/inventory.js';
import { inventorySchema } from '../../../src/agent/routeros/inventory-schema.js';
import { parseRecords } from '../../../src/agent/routeros/records.js';
import { menus, type MenuName, type RouterTables } from '../../../src/agent/routeros/tables.js';
import { openOuiTable } from '../../../src/agent/routeros/oui-table.js';
import { apiCaptureFiles, readApiCapture } from '../../simulators/captures.js';

const vendors = openOuiTable();
const target = { host: '127.0.0.1', port: 8728, transport: 'api' as const };
const readAt = '2026-03-01T12:00:00.000Z';

function tables(partial: Partial<RouterTables>): RouterTables {
  const empty = Object.fromEntries(Object.keys(menus).map((name) => [name, []])) as unknown as RouterTables;
  return { ...empty, resource: [{ version: '7.16.2 (stable)', 'board-name': 'hAP ax3', 'architecture-name': 'arm64' }], ...partial };
}

const menuNames = Object.fromEntries(Object.entries(menus).map(([name, path]) => [path, name])) as Record<string, MenuName>;

describe('API captures as records', () => {
  it.each(apiCaptureFiles())('%s parses with no row rejected', (file) => {
    const capture = readApiCapture(file);
    const name = menuNames[capture.menu];
    expect(name, capture.menu).toBeDefined();
    const { records, rejected } = parseRecords(tables({ [name as MenuName]: capture.rows }));
    expect(rejected).toEqual([]);
    expect(records[name as MenuName]).toHaveLength(capture.rows.length);
  });

  it('types the fields the inventory uses', () => {
    const { records } = parseRecords(tables({ arp: readApiCapture('api.ip-arp-print.napalm-ros.json').rows }));
    expect(records.arp[2]).toMatchObject({ address: '192.168.0.220', complete: false });
    expect(records.arp[2]?.['mac-address']).toBeUndefined();
    expect(records.arp[0]).toMatchObject({ 'mac-address': '08:00:27:CE:A3:7E', disabled: false, interface: 'ether1' });
  });
});

describe('the merged inventory', () => {
  const read = {
    readAt,
    warnings: [],
    tables: tables({
      identity: [{ name: 'gw' }],
      routerboard: [{ routerboard: 'true', model: 'C53UiG+5HPaxD2HPaxD', 'current-firmware': '7.16.2' }],
      addresses: [
        { address: '192.168.88.1/24', network: '192.168.88.0', interface: 'bridge' },
        { address: '10.9.9.1/30', interface: 'ether1', disabled: 'true' },
      ],
      arp: [
        { address: '192.168.88.20', 'mac-address': '4c:5e:0c:00:00:01', interface: 'bridge', complete: 'true' },
        { address: '192.168.88.21', interface: 'bridge' },
        { address: '192.168.88.22', 'mac-address': 'DA:A1:19:00:00:01', interface: 'bridge' },
        { address: '192.168.88.23', 'mac-address': 'not-a-mac', interface: 'bridge' },
      ],
      leases: [
        { address: '192.168.88.20', 'mac-address': '4C:5E:0C:00:00:01', 'host-name': 'printer', status: 'bound', 'last-seen': '5m' },
        { address: '192.168.88.30', 'mac-address': '08:00:27:00:00:02', 'host-name': 'old-pc', status: 'waiting', 'last-seen': 'never' },
      ],
      bridgeHosts: [
        { 'mac-address': '4C:5E:0C:00:00:01', 'on-interface': 'ether3', age: '30s', local: 'false' },
        { 'mac-address': 'B8:69:F4:00:00:09', 'on-interface': 'ether1', local: 'true' },
      ],
      ipv6Neighbors: [
        { address: 'ff02::1', 'mac-address': '33:33:00:00:00:01', interface: 'bridge', status: 'noarp' },
        { address: 'fe80::1', 'mac-address': '4C:5E:0C:00:00:01', interface: 'bridge', status: 'stale' },
      ],
      neighbors: [
        {
          identity: 'ap-1',
          platform: 'MikroTik',
          version: '6.49.8 (long-term)',
          board: 'RBwAPG-5HacD2HnD',
          'mac-address': '48:A9:8A:00:00:01',
          address: '192.168.88.2',
          interface: 'ether2,bridge',
        },
        { identity: 'phone', platform: '', version: '', 'mac-address': '4C:5E:0C:12:AA:CC', address4: '192.168.88.9', interface: 'ether4' },
      ],
    }),
  };

  it('keys hosts by MAC and says which row gave each fact', () => {
    const inventory = buildInventory({ read, target, vendors });
    expect(inventorySchema.parse(inventory)).toEqual(inventory);
    const printer = inventory.hosts.find((host) => host.mac === '4C:5E:0C:00:00:01');
    expect(printer).toMatchObject({
      ips: ['192.168.88.20', 'fe80::1'],
      hostnames: ['printer'],
      interfaces: ['bridge', 'ether3'],
      vendor: 'Routerboard.com',
      randomized_mac: false,
    });
    expect(printer?.sources.map((source) => source.table)).toEqual(['arp', 'dhcp-lease', 'bridge-host', 'ipv6-neighbor']);
    expect(printer?.sources[1]).toMatchObject({ table: 'dhcp-lease', ip: '192.168.88.20', hostname: 'printer', status: 'bound' });
    // The freshest row wins: the bridge saw it 30 s ago, the lease 5 min ago, ARP gives no age.
    expect(printer?.last_seen).toBe(readAt);
  });

  it('skips incomplete ARP, local bridge ports and multicast; keeps a waiting lease without its address', () => {
    const inventory = buildInventory({ read, target, vendors });
    const macs = inventory.hosts.map((host) => host.mac);
    expect(macs).not.toContain('B8:69:F4:00:00:09');
    expect(macs).not.toContain('33:33:00:00:00:01');
    expect(inventory.hosts.flatMap((host) => host.ips)).not.toContain('192.168.88.21');
    expect(inventory.hosts.find((host) => host.mac === '08:00:27:00:00:02')).toMatchObject({ ips: [], hostnames: ['old-pc'] });
    expect(inventory.warnings).toEqual(['arp row 3: mac-address not a MAC address: not-a-mac']);
  });

  it('flags randomized MACs and gives them no vendor', () => {
    const host = buildInventory({ read, target, vendors }).hosts.find((entry) => entry.mac === 'DA:A1:19:00:00:01');
    expect(host).toMatchObject({ randomized_mac: true, vendor: null, ips: ['192.168.88.22'] });
  });

  it('reports the router and its neighbors as read, naming no CPE (cve/ does)', () => {
    const inventory = buildInventory({ read, target, vendors });
    expect(inventory.router).toEqual({
      identity: 'gw',
      version: '7.16.2',
      channel: 'stable',
      board: 'hAP ax3',
      model: 'C53UiG+5HPaxD2HPaxD',
      architecture: 'arm64',
      firmware: '7.16.2',
      uptime: null,
    });
    expect(inventory.neighbors.map((n) => [n.platform, n.version])).toEqual([
      ['MikroTik', '6.49.8 (long-term)'],
      [null, null],
    ]);
    expect(inventory.neighbors[0]).not.toHaveProperty('cpe');
    expect(inventory.neighbors[1]?.address).toBe('192.168.88.9');
  });

  it('notes a neighbor address as a host IP only when it is a canonical IPv4 address (the kernel rule)', () => {
    const neighbor = (address: string) => ({ identity: 'n', platform: '', version: '', 'mac-address': '4C:5E:0C:12:AA:CD', address, interface: 'ether5' });
    const tablesWith = { ...read.tables, neighbors: ['192.168.88.3', '999.1.1.1', '010.0.0.1', 'fe80::1'].map(neighbor) };
    const host = buildInventory({ read: { ...read, tables: tablesWith }, target, vendors }).hosts.find((h) => h.mac === '4C:5E:0C:12:AA:CD');
    // Before: /^\d+(\.\d+){3}$/ took 999.1.1.1 and 010.0.0.1 as the host's addresses.
    expect(host?.ips).toEqual(['192.168.88.3']);
  });

  it('lists the router networks it is attached to, without disabled addresses', () => {
    expect(buildInventory({ read, target, vendors }).addresses).toEqual([{ address: '192.168.88.1/24', network: '192.168.88.0/24', interface: 'bridge' }]);
  });

  it('keeps the earliest first sighting the history knows', () => {
    const inventory = buildInventory({
      read,
      target,
      vendors,
      history: (mac) => (mac === '4C:5E:0C:00:00:01' ? { first_seen: '2025-01-01T00:00:00.000Z', last_seen: '2025-02-01T00:00:00.000Z' } : undefined),
    });
    const printer = inventory.hosts.find((host) => host.mac === '4C:5E:0C:00:00:01');
    expect(printer).toMatchObject({ first_seen: '2025-01-01T00:00:00.000Z', last_seen: readAt });
  });

  it.each([
    ['6.40.8 (bugfix)', '6.40.8', 'long-term'],
    ['7.1beta4 (development)', '7.1beta4', 'development'],
    ['v7.12.1 (Stable)', '7.12.1', 'stable'],
    ['"5.0rc1"', '5.0rc1', null],
  ])('reads the router version %s through the one RouterOS rule', (version, shown, channel) => {
    const inventory = buildInventory({ read: { ...read, tables: tables({ resource: [{ version }] }) }, target, vendors });
    expect(inventory.router).toMatchObject({ version: shown, channel });
  });

  it('refuses a router whose version it cannot read, with a typed error', () => {
    expect(() => buildInventory({ read: { ...read, tables: tables({ resource: [{ version: 'unknown' }] }) }, target, vendors })).toThrow(
      expect.objectContaining({ code: 'AGENT_ERR_ROUTER_PROTOCOL' }),
    );
  });
});
