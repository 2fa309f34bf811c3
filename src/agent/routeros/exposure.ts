import type { Exposure } from '../../cve/priority.js';
import type { RouterRecords } from './records.js';
import { exposureMenus, type MenuName } from './tables.js';

type Nat = RouterRecords['nat'][number];
type Filter = RouterRecords['filter'][number];
type Rule = Nat | Filter;

/**
 * The router's configuration that decides what the WAN can reach. A menu is null when the router
 * did not give it (older RouterOS, no permission): exposure is then unknown, not "none".
 */
export interface ExposureConfig {
  nat: Nat[] | null;
  filter: Filter[] | null;
  services: RouterRecords['services'] | null;
  upnp: RouterRecords['upnp'] | null;
  interfaceListMembers: RouterRecords['interfaceListMembers'] | null;
  /** The interface list that holds the WAN interfaces (RouterOS's default configuration names it WAN). */
  wanList?: string;
}

/** The exposure menus of one read; those the router refused become null (unknown). */
export function exposureConfigFrom(records: RouterRecords, missingMenus: readonly MenuName[] = []): ExposureConfig {
  const known = <K extends MenuName>(name: K): RouterRecords[K] | null => (missingMenus.includes(name) ? null : records[name]);
  return {
    nat: known('nat'),
    filter: known('filter'),
    services: known('services'),
    upnp: known('upnp'),
    interfaceListMembers: known('interfaceListMembers'),
  };
}

/**
 * One listening port of one host, as the scan saw it. Port and protocol null: the device as a
 * whole (a RouterOS CVE judged from its version, with no port): any forward to it, any of the
 * router's services, counts.
 */
export interface ExposureTarget {
  address: string;
  port: number | null;
  protocol: 'tcp' | 'udp' | null;
  /** True for the router's own address: its `/ip service` entries apply. */
  isRouter: boolean;
}

export interface ExposureVerdict {
  /** False when a menu the verdict needs was missing: "unknown exposure". */
  known: boolean;
  exposure: Exposure[];
  /** Which menus were missing, for the report. */
  missing: string[];
}

/** RouterOS's `/ip service` names and the ports they listen on by default. */
export const routerServices: Readonly<Record<string, number>> = {
  telnet: 23,
  ftp: 21,
  www: 80,
  ssh: 22,
  'www-ssl': 443,
  api: 8728,
  winbox: 8291,
  'api-ssl': 8729,
};

/** `80`, `80,443`, `8000-8100`: whether the port is in the list. An empty list matches every port. */
export function portListHas(list: string | undefined, port: number): boolean {
  if (list === undefined || list === '') return true;
  return list.split(',').some((part) => {
    const [low, high] = part.trim().split('-').map(Number);
    return low !== undefined && port >= low && port <= (high ?? low);
  });
}

/** A rule's interface match against a WAN interface: `in-interface-list=WAN`, `=!LAN`, `in-interface=ether1`. */
function fromWan(rule: Rule, wanList: string, wanInterfaces: ReadonlySet<string>, listsOf: (iface: string) => Set<string>): boolean {
  const list = rule['in-interface-list'];
  const iface = rule['in-interface'];
  // A rule without either applies on every interface, the WAN ones included.
  if (!list && !iface) return true;
  const wans = wanInterfaces.size > 0 ? [...wanInterfaces] : [];
  const matchesList = (wan: string): boolean => {
    if (!list) return true;
    if (list.startsWith('!')) return !listsOf(wan).has(list.slice(1));
    return list === wanList || listsOf(wan).has(list);
  };
  const matchesIface = (wan: string): boolean => {
    if (!iface) return true;
    return iface.startsWith('!') ? iface.slice(1) !== wan : iface === wan;
  };
  if (wans.length === 0) return list === wanList && !iface;
  return wans.some((wan) => matchesList(wan) && matchesIface(wan));
}

/** Whether a filter rule can see a new connection from any WAN source to this port. */
function seesNewWanConnection(rule: Filter, protocol: string, port: number): boolean {
  if (rule.disabled) return false;
  const state = rule['connection-state'];
  if (state && !state.split(',').includes('new')) return false;
  // A rule limited to some sources neither opens nor closes the port to the whole Internet.
  if (rule['src-address'] || rule['src-address-list']) return false;
  if (rule.protocol && rule.protocol !== protocol) return false;
  return portListHas(rule['dst-port'], port);
}

export function exposureOf(config: ExposureConfig, target: ExposureTarget): ExposureVerdict {
  const wanList = config.wanList ?? 'WAN';
  const missing = exposureMenus().filter((name) => config[name as keyof ExposureConfig] === null);
  const members = config.interfaceListMembers ?? [];
  const listsOf = (iface: string): Set<string> =>
    new Set(members.filter((member) => member.interface === iface && !member.disabled).map((member) => member.list ?? ''));
  const wanInterfaces = new Set(members.filter((member) => member.list === wanList && !member.disabled).map((member) => member.interface ?? ''));
  const wan = (rule: Rule): boolean => fromWan(rule, wanList, wanInterfaces, listsOf);
  const exposure: Exposure[] = [];

  // A rule is named by its .id (API) or, over SSH where prints omit it, by its print number.
  const ruleName = (rule: Rule, index: number): string => rule['.id'] ?? `#${index}`;
  for (const [index, rule] of (config.nat ?? []).entries()) {
    if (rule.disabled || rule.chain !== 'dstnat' || rule.action !== 'dst-nat' || !wan(rule)) continue;
    if (rule['to-addresses'] !== target.address) continue;
    if (rule.protocol && target.protocol !== null && rule.protocol !== target.protocol) continue;
    const toPort = rule['to-ports'] || rule['dst-port'];
    if (target.port !== null && !portListHas(toPort, target.port)) continue;
    const publicPort = rule['to-ports'] || target.port === null ? (rule['dst-port'] ?? 'any') : String(target.port);
    const protocol = target.protocol ?? rule.protocol ?? 'any';
    exposure.push({ kind: 'dstnat', detail: `forwarded from WAN ${protocol}/${publicPort} by dstnat rule ${ruleName(rule, index)}` });
  }

  // Without the filter menu nobody can say whether an input rule drops the service: unknown, not exposed.
  if (target.isRouter && target.protocol !== 'udp' && config.filter !== null) {
    for (const service of config.services ?? []) {
      const name = service.name ?? '';
      const port = Number(service.port);
      if (!(name in routerServices) || (target.port !== null && port !== target.port) || service.disabled || service.address !== undefined) continue;
      // The first input rule that sees a new WAN connection to this port decides, as RouterOS does.
      const filter = config.filter;
      const at = filter.findIndex((rule) => rule.chain === 'input' && wan(rule) && seesNewWanConnection(rule, 'tcp', port));
      const decider = filter[at];
      if (decider?.action === 'drop' || decider?.action === 'reject') continue;
      const by = decider === undefined ? 'no input rule drops it' : `accepted by input rule ${ruleName(decider, at)}`;
      exposure.push({ kind: 'router-service', detail: `router service ${name} (tcp/${port}) open to WAN: no address restriction, ${by}` });
    }
  }

  if (!target.isRouter && (config.upnp ?? []).some((row) => row.enabled)) {
    exposure.push({ kind: 'upnp', detail: 'UPnP enabled on the router: any LAN host may open WAN ports' });
  }
  return { known: missing.length === 0, exposure, missing };
}
