import type { Inventory, InventoryHost, InventoryNeighbor, SourceTable } from './inventory-schema.js';
import type { VendorLookup } from './mac.js';
import { parseRow, type RouterRecords } from './records.js';
import { routerError, type RouterTarget } from './router-errors.js';
import { parseRouterOsVersion } from '../../shared/routeros-version.js';
import { parseRouterOsDuration } from './routeros-version.js';
import type { ReadResult, RowSink } from './table-reader.js';
import { menus, type MenuName, type Row } from './tables.js';
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
  /** The youngest age any row gave, in ms before the read's end (when that is, the rows do not know yet). */
  minAgeMs: number;
  sources: DraftSource[];
}

type DraftSource = Omit<InventoryHost['sources'][number], 'seen_at'> & { ageMs: number };

/** Byte order, not the locale's: '~' must sort after digits. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A host's sources in this table order (rows of one table keep the order the router gave them). */
const tableOrder: readonly SourceTable[] = ['arp', 'dhcp-lease', 'bridge-host', 'ipv6-neighbor', 'neighbor'];

/** Menus kept whole as records: the router's own facts and exposure's rules, a few rows each. */
type KeptMenu = Exclude<MenuName, 'arp' | 'leases' | 'bridgeHosts' | 'ipv6Neighbors' | 'neighbors'>;
type KeptRecords = Pick<RouterRecords, KeptMenu>;

/**
 * The merge, fed one row at a time as a reader parses it off the wire (`row` is a RowSink), so a
 * site's 10,000 ARP and lease rows are never held as a table: each becomes its typed record and
 * goes straight into its host. Only the small menus are kept whole. `finish` gives the inventory.
 */
export function createInventoryMerge() {
  const hosts = new Map<string, HostDraft>();
  const neighbors: InventoryNeighbor[] = [];
  const rejected = new Map<MenuName, string[]>();
  const rowCounts = new Map<MenuName, number>();
  const kept = Object.fromEntries(
    (Object.keys(menus) as MenuName[]).filter((name) => !hostMenus.has(name)).map((name) => [name, []]),
  ) as unknown as KeptRecords;

  const note = (
    table: SourceTable,
    macAddress: string | undefined,
    facts: { ip?: string; hostname?: string; interface?: string; status?: string; age?: string },
  ) => {
    if (macAddress === undefined || isMulticastMac(macAddress)) return;
    let host = hosts.get(macAddress);
    if (host === undefined) {
      host = { mac: macAddress, ips: new Set(), hostnames: new Set(), interfaces: new Set(), minAgeMs: Number.POSITIVE_INFINITY, sources: [] };
      hosts.set(macAddress, host);
    }
    const ageMs = parseRouterOsDuration(facts.age) ?? 0;
    host.minAgeMs = Math.min(host.minAgeMs, ageMs);
    if (facts.ip !== undefined) host.ips.add(facts.ip);
    if (facts.hostname !== undefined) host.hostnames.add(facts.hostname);
    if (facts.interface !== undefined) for (const name of facts.interface.split(',')) if (name !== '') host.interfaces.add(name);
    const source: DraftSource = { table, ageMs };
    if (facts.ip !== undefined) source.ip = facts.ip;
    if (facts.hostname !== undefined) source.hostname = facts.hostname;
    if (facts.interface !== undefined) source.interface = facts.interface;
    if (facts.status !== undefined) source.status = facts.status;
    host.sources.push(source);
  };

  const parse = <K extends MenuName>(name: K, row: Row): RouterRecords[K][number] | undefined => {
    const index = rowCounts.get(name) ?? 0;
    rowCounts.set(name, index + 1);
    let lines = rejected.get(name);
    if (lines === undefined) rejected.set(name, (lines = []));
    return parseRow(name, row, index, lines);
  };

  const row: RowSink = (menu, raw) => {
    switch (menu) {
      case 'arp': {
        const record = parse('arp', raw);
        if (record === undefined || record.disabled || record.invalid || record['mac-address'] === undefined) return;
        note('arp', record['mac-address'], { ip: record.address, interface: record.interface, status: record.status });
        return;
      }
      case 'leases': {
        const record = parse('leases', raw);
        if (record === undefined || record.disabled) return;
        const leaseMac = record['active-mac-address'] ?? record['mac-address'];
        // Only a bound lease puts its address on the host now; a waiting one still names it.
        const bound = record.status === 'bound';
        const ip = bound ? (record['active-address'] ?? record.address) : undefined;
        note('dhcp-lease', leaseMac, { ip, hostname: record['host-name'], status: record.status, age: bound ? record['last-seen'] : undefined });
        return;
      }
      case 'bridgeHosts': {
        const record = parse('bridgeHosts', raw);
        // local entries are the bridge's own ports, not hosts behind them.
        if (record === undefined || record.local || record.invalid || record.disabled) return;
        note('bridge-host', record['mac-address'], { interface: record['on-interface'] ?? record.interface, age: record.age });
        return;
      }
      case 'ipv6Neighbors': {
        const record = parse('ipv6Neighbors', raw);
        if (record === undefined || record.status === 'failed') return;
        note('ipv6-neighbor', record['mac-address'], { ip: record.address, interface: record.interface, status: record.status });
        return;
      }
      case 'neighbors': {
        const record = parse('neighbors', raw);
        if (record === undefined) return;
        const address = record.address4 ?? (record.address !== undefined && isCanonicalIPv4(record.address) ? record.address : undefined);
        note('neighbor', record['mac-address'], { ip: address, hostname: record.identity, interface: record.interface, age: record.age });
        neighbors.push({
          identity: record.identity ?? null,
          platform: record.platform ?? null,
          version: record.version ?? null,
          board: record.board ?? null,
          mac: record['mac-address'] ?? null,
          address: address ?? record.address ?? null,
          interface: record.interface ?? null,
        });
        return;
      }
      default: {
        const record = parse(menu, raw);
        if (record !== undefined) (kept[menu] as unknown[]).push(record);
      }
    }
  };

  function finish({ read, target, vendors, history }: Omit<BuildInventoryInput, 'read'> & { read: Omit<ReadResult, 'tables'> }): Inventory {
    const readAtMs = Date.parse(read.readAt);
    // Rejected rows said in menu order, whatever order the menus' rows arrived in.
    const warnings = [...read.warnings, ...(Object.keys(menus) as MenuName[]).flatMap((name) => rejected.get(name) ?? [])];
    const records = kept as RouterRecords;
    const finished = [...hosts.values()].map((draft) => finishHost(draft, readAtMs, vendors, history));
    hosts.clear();
    return {
      router: routerInfo(records, target),
      hosts: finished.sort((a, b) => compareAddresses(a.ips[0], b.ips[0]) || compareText(a.mac, b.mac)),
      neighbors,
      addresses: kept.addresses
        .filter((entry) => !entry.disabled && !entry.invalid)
        .map((entry) => {
          return { address: entry.address, network: networkOfInterfaceAddress(entry.address), interface: entry.interface ?? null };
        }),
      transport: target.transport,
      read_at: read.readAt,
      warnings,
      exposure: exposureConfigFrom(records, read.missingMenus),
    };
  }

  return { row, finish };
}

export type InventoryMerge = ReturnType<typeof createInventoryMerge>;

const hostMenus: ReadonlySet<MenuName> = new Set(['arp', 'leases', 'bridgeHosts', 'ipv6Neighbors', 'neighbors']);

/**
 * Merges the router's tables into one entry per MAC: its current IPs, host names, interfaces
 * and, for each fact, the table row that gave it. The router and its MikroTik neighbors get a
 * RouterOS CPE so the matcher can judge them without a probe. (A read that streams its rows
 * uses createInventoryMerge directly; this is the same merge over tables already in hand.)
 */
export function buildInventory({ read, target, vendors, history }: BuildInventoryInput): Inventory {
  const merge = createInventoryMerge();
  for (const name of Object.keys(menus) as MenuName[]) for (const entry of read.tables[name]) merge.row(name, entry);
  return merge.finish({ read, target, vendors, history });
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

function finishHost(draft: HostDraft, readAtMs: number, vendors: VendorLookup, history: BuildInventoryInput['history']): InventoryHost {
  const lastSeen = new Date(readAtMs - draft.minAgeMs).toISOString();
  const known = history?.(draft.mac);
  const sources = draft.sources
    .sort((a, b) => tableOrder.indexOf(a.table) - tableOrder.indexOf(b.table))
    .map(({ ageMs, table, ...facts }) => ({ table, seen_at: new Date(readAtMs - ageMs).toISOString(), ...facts }));
  return {
    mac: draft.mac,
    ips: [...draft.ips].sort(compareAddresses),
    hostnames: [...draft.hostnames].sort(),
    interfaces: [...draft.interfaces].sort(),
    vendor: vendors.vendorOf(draft.mac) ?? null,
    randomized_mac: isRandomizedMac(draft.mac),
    first_seen: known !== undefined && known.first_seen < lastSeen ? known.first_seen : lastSeen,
    last_seen: known !== undefined && known.last_seen > lastSeen ? known.last_seen : lastSeen,
    sources,
  };
}
