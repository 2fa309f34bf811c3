import type { Inventory, InventoryHost, InventoryNeighbor, SourceTable } from './inventory-schema.js';
import type { VendorLookup } from './mac.js';
import { parseRecords, type RouterRecords } from './records.js';
import { routerError, type RouterTarget } from './router-errors.js';
import { parseRouterOsVersion } from '../../shared/routeros-version.js';
import { parseRouterOsDuration } from './routeros-version.js';
import type { ReadResult } from './table-reader.js';
import { exposureConfigFrom } from './exposure.js';
import { compareAddresses, isCanonicalIPv4, networkOfInterfaceAddress } from '../../shared/ipv4.js';
import { isMulticastMac, isRandomizedMac } from '../../shared/mac.js';

/** What the agent remembers of a MAC from earlier reads (the inventory store). */
export interface Sighting {
  first_seen: string;
  last_seen: string;
}

export interface BuildInventoryInput {
  read: ReadResult;
  target: RouterTarget;
  vendors: VendorLookup;
  history?: (mac: string) => Sighting | undefined;
}

interface HostDraft {
  mac: string;
  ips: Set<string>;
  hostnames: Set<string>;
  interfaces: Set<string>;
  lastSeenMs: number;
  sources: InventoryHost['sources'];
}

/** Byte order, not the locale's: '~' must sort after digits. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Merges the router's tables into one entry per MAC: its current IPs, host names, interfaces
 * and, for each fact, the table row that gave it. The router and its MikroTik neighbors get a
 * RouterOS CPE so the matcher can judge them without a probe.
 */
export function buildInventory({ read, target, vendors, history }: BuildInventoryInput): Inventory {
  const { records, rejected } = parseRecords(read.tables);
  const warnings = [...read.warnings, ...rejected];
  const readAtMs = Date.parse(read.readAt);
  const hosts = new Map<string, HostDraft>();

  const note = (
    table: SourceTable,
    macAddress: string | undefined,
    facts: { ip?: string; hostname?: string; interface?: string; status?: string; age?: string },
  ) => {
    if (macAddress === undefined || isMulticastMac(macAddress)) return;
    let host = hosts.get(macAddress);
    if (host === undefined) {
      host = { mac: macAddress, ips: new Set(), hostnames: new Set(), interfaces: new Set(), lastSeenMs: Number.NEGATIVE_INFINITY, sources: [] };
      hosts.set(macAddress, host);
    }
    const seenMs = readAtMs - (parseRouterOsDuration(facts.age) ?? 0);
    host.lastSeenMs = Math.max(host.lastSeenMs, seenMs);
    if (facts.ip !== undefined) host.ips.add(facts.ip);
    if (facts.hostname !== undefined) host.hostnames.add(facts.hostname);
    if (facts.interface !== undefined) for (const name of facts.interface.split(',')) if (name !== '') host.interfaces.add(name);
    const source: InventoryHost['sources'][number] = { table, seen_at: new Date(seenMs).toISOString() };
    if (facts.ip !== undefined) source.ip = facts.ip;
    if (facts.hostname !== undefined) source.hostname = facts.hostname;
    if (facts.interface !== undefined) source.interface = facts.interface;
    if (facts.status !== undefined) source.status = facts.status;
    host.sources.push(source);
  };

  for (const row of records.arp) {
    if (row.disabled || row.invalid || row['mac-address'] === undefined) continue;
    note('arp', row['mac-address'], { ip: row.address, interface: row.interface, status: row.status });
  }
  for (const row of records.leases) {
    if (row.disabled) continue;
    const leaseMac = row['active-mac-address'] ?? row['mac-address'];
    // Only a bound lease puts its address on the host now; a waiting one still names it.
    const bound = row.status === 'bound';
    const ip = bound ? (row['active-address'] ?? row.address) : undefined;
    note('dhcp-lease', leaseMac, { ip, hostname: row['host-name'], status: row.status, age: bound ? row['last-seen'] : undefined });
  }
  for (const row of records.bridgeHosts) {
    // local entries are the bridge's own ports, not hosts behind them.
    if (row.local || row.invalid || row.disabled) continue;
    note('bridge-host', row['mac-address'], { interface: row['on-interface'] ?? row.interface, age: row.age });
  }
  for (const row of records.ipv6Neighbors) {
    if (row.status === 'failed') continue;
    note('ipv6-neighbor', row['mac-address'], { ip: row.address, interface: row.interface, status: row.status });
  }
  const neighbors: InventoryNeighbor[] = records.neighbors.map((row) => {
    const address = row.address4 ?? (row.address !== undefined && isCanonicalIPv4(row.address) ? row.address : undefined);
    note('neighbor', row['mac-address'], { ip: address, hostname: row.identity, interface: row.interface, age: row.age });
    return {
      identity: row.identity ?? null,
      platform: row.platform ?? null,
      version: row.version ?? null,
      board: row.board ?? null,
      mac: row['mac-address'] ?? null,
      address: address ?? row.address ?? null,
      interface: row.interface ?? null,
    };
  });

  return {
    router: routerInfo(records, target),
    hosts: [...hosts.values()]
      .map((draft) => finishHost(draft, vendors, history))
      .sort((a, b) => compareAddresses(a.ips[0], b.ips[0]) || compareText(a.mac, b.mac)),
    neighbors,
    addresses: records.addresses
      .filter((row) => !row.disabled && !row.invalid)
      .map((row) => {
        return { address: row.address, network: networkOfInterfaceAddress(row.address), interface: row.interface ?? null };
      }),
    transport: target.transport,
    read_at: read.readAt,
    warnings,
    exposure: exposureConfigFrom(records, read.missingMenus),
  };
}

function routerInfo(records: RouterRecords, target: RouterTarget): Inventory['router'] {
  const resource = records.resource[0];
  const version = parseRouterOsVersion(resource?.version);
  if (resource === undefined || version === undefined) {
    throw routerError('AGENT_ERR_ROUTER_PROTOCOL', target, `/system/resource gave no readable version (${resource?.version ?? 'no row'})`);
  }
  const board = records.routerboard[0];
  return {
    identity: records.identity[0]?.name ?? null,
    version: version.display,
    channel: version.channel ?? null,
    board: resource['board-name'] ?? board?.['board-name'] ?? null,
    model: board?.routerboard ? (board.model ?? null) : null,
    architecture: resource['architecture-name'] ?? null,
    firmware: board?.routerboard ? (board['current-firmware'] ?? null) : null,
    uptime: resource.uptime ?? null,
  };
}

function finishHost(draft: HostDraft, vendors: VendorLookup, history: BuildInventoryInput['history']): InventoryHost {
  const lastSeen = new Date(draft.lastSeenMs).toISOString();
  const known = history?.(draft.mac);
  return {
    mac: draft.mac,
    ips: [...draft.ips].sort(compareAddresses),
    hostnames: [...draft.hostnames].sort(),
    interfaces: [...draft.interfaces].sort(),
    vendor: vendors.vendorOf(draft.mac) ?? null,
    randomized_mac: isRandomizedMac(draft.mac),
    first_seen: known !== undefined && known.first_seen < lastSeen ? known.first_seen : lastSeen,
    last_seen: known !== undefined && known.last_seen > lastSeen ? known.last_seen : lastSeen,
    sources: draft.sources,
  };
}
