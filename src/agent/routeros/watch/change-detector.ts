import { isCanonicalIPv4 } from '../../../shared/ipv4.js';
import { parseRouterOsChannel, parseRouterOsVersion } from '../../../shared/routeros-version.js';
import type { Row } from '../tables.js';
import type { FeedEvent, WatchTable } from './router-feed.js';

/** What the router's tables say changed; the watch's trigger policy decides what to do about it. */
export type WatchChange =
  /** A MAC never seen before (with its IPv4 address when the row gives one), or a known MAC on a new address. */
  | { kind: 'host'; reason: 'new-mac' | 'new-ip'; mac: string; ip: string | null; table: WatchTable }
  /** A MikroTik neighbor that now reports another RouterOS version. */
  | { kind: 'neighbor-version'; mac: string | null; ip: string | null; identity: string | null; from: string; to: string }
  /** The router's own RouterOS version or update channel changed. */
  | { kind: 'router-version'; from: string; to: string };

export interface Detected {
  changes: WatchChange[];
  /** Rows refused as malformed, said in words (the row is skipped; nothing else happens). */
  rejected: string[];
}

const macPattern = /^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/i;

interface Facts {
  mac: string | null;
  ip: string | null;
  neighbor?: { key: string; identity: string | null; version: string };
}

/** The facts of one row, or why it is malformed; a row that says nothing (removed, disabled, local) gives none. */
function factsOf(table: WatchTable, row: Row): Facts | string | undefined {
  if (row['.dead'] === 'yes') return undefined;
  if (row.disabled === 'true' || row.invalid === 'true' || row.local === 'true') return undefined;
  const macText = table === 'leases' ? (row['active-mac-address'] ?? row['mac-address']) : row['mac-address'];
  const ipText = table === 'leases' ? (row['active-address'] ?? row.address) : table === 'neighbors' ? (row.address4 ?? row.address) : row.address;
  const mac = macText === undefined || macText === '' ? null : macText.toUpperCase();
  if (mac !== null && !macPattern.test(mac)) return `${table}: malformed MAC ${JSON.stringify(macText).slice(0, 40)}`;
  // A neighbor's address may be IPv6; only an IPv4 address is one to scan. Elsewhere a bad address is a bad row.
  let ip: string | null = ipText === undefined || ipText === '' ? null : ipText;
  if (ip !== null && !isCanonicalIPv4(ip)) {
    if (table !== 'neighbors') return `${table}: malformed address ${JSON.stringify(ipText).slice(0, 40)}`;
    ip = null;
  }
  if (table === 'leases' && row.status !== undefined && row.status !== 'bound') ip = null;
  if (table === 'arp' && row.complete === 'false') ip = null;
  const facts: Facts = { mac, ip };
  if (table === 'neighbors' && row.version !== undefined && row.version !== '' && /mikrotik/i.test(row.platform ?? 'MikroTik')) {
    const key = mac ?? row.identity;
    if (key !== undefined) facts.neighbor = { key, identity: row.identity ?? null, version: row.version };
  }
  if (mac === null && facts.neighbor === undefined) return undefined;
  return facts;
}

/** The router's version and channel as one string, e.g. `7.4 (stable)`; undefined when the row has none. */
function routerVersionOf(resource: Row | undefined, update: Row | undefined): string | undefined {
  const release = parseRouterOsVersion(resource?.version);
  if (release === undefined) return undefined;
  const channel = parseRouterOsChannel(update?.channel) ?? release.channel;
  return channel === undefined ? release.display : `${release.display} (${channel})`;
}

/** What the agent knew of the site's MACs before this start (agent.db's router_hosts, from the last full read). */
export interface KnownHosts {
  /** The MAC's addresses at the last read; undefined: never seen. */
  lastIps(mac: string): readonly string[] | undefined;
}

/**
 * Turns the router's rows into changes. The first full read of each table is the baseline:
 * without `known`, nothing in it is a change (the schedule's scans cover what was there); with
 * it, what appeared while the agent was down is (a MAC it never saw, or on an address it did not
 * have). After that, a MAC never seen, a MAC on an address it never had, and a neighbor's new
 * version are. A MAC seen once is remembered even when its row goes away, so a lease that comes
 * back as it was is not news.
 */
export class ChangeDetector {
  readonly #known: KnownHosts | undefined;
  readonly #addresses = new Map<string, Set<string>>();
  readonly #neighborVersions = new Map<string, string>();
  readonly #baselined = new Set<WatchTable>();
  #routerVersion: string | undefined;

  constructor(known?: KnownHosts) {
    this.#known = known;
  }

  /** Feeds one event from the router feed; returns what changed. */
  take(event: FeedEvent): Detected {
    if (event.kind === 'router') return { changes: this.#router(event.resource, event.update), rejected: [] };
    const rows = event.kind === 'snapshot' ? event.rows : [event.row];
    const detected: Detected = { changes: [], rejected: [] };
    // Rows streamed before the table's first read are part of the baseline too.
    const report = this.#baselined.has(event.table);
    for (const row of rows) {
      const facts = factsOf(event.table, row);
      if (typeof facts === 'string') detected.rejected.push(facts);
      else if (facts !== undefined) this.#learn(event.table, facts, report, detected.changes);
    }
    if (event.kind === 'snapshot') this.#baselined.add(event.table);
    return detected;
  }

  /** How many MACs are known: memory grows with the network, not with the changes. */
  get knownMacs(): number {
    return this.#addresses.size;
  }

  #learn(table: WatchTable, facts: Facts, report: boolean, changes: WatchChange[]): void {
    const { mac, ip } = facts;
    if (mac !== null) {
      const known = this.#addresses.get(mac);
      if (known === undefined) {
        this.#addresses.set(mac, new Set(ip === null ? [] : [ip]));
        const before = report ? undefined : this.#known?.lastIps(mac);
        if (report || (this.#known !== undefined && before === undefined)) changes.push({ kind: 'host', reason: 'new-mac', mac, ip, table });
        else if (ip !== null && before !== undefined && !before.includes(ip)) changes.push({ kind: 'host', reason: 'new-ip', mac, ip, table });
      } else if (ip !== null && !known.has(ip)) {
        known.add(ip);
        const before = report ? undefined : this.#known?.lastIps(mac);
        if (report || (before !== undefined && !before.includes(ip))) changes.push({ kind: 'host', reason: 'new-ip', mac, ip, table });
      }
    }
    const neighbor = facts.neighbor;
    if (neighbor === undefined) return;
    const before = this.#neighborVersions.get(neighbor.key);
    this.#neighborVersions.set(neighbor.key, neighbor.version);
    if (report && before !== undefined && before !== neighbor.version)
      changes.push({ kind: 'neighbor-version', mac, ip, identity: neighbor.identity, from: before, to: neighbor.version });
  }

  #router(resource: Row | undefined, update: Row | undefined): WatchChange[] {
    const version = routerVersionOf(resource, update);
    if (version === undefined) return [];
    const before = this.#routerVersion;
    this.#routerVersion = version;
    return before !== undefined && before !== version ? [{ kind: 'router-version', from: before, to: version }] : [];
  }
}
