import type { Exposure } from '../../cve/priority.js';
import type { Row } from './tables.js';

/**
 * The router's configuration that decides what the WAN can reach. A menu is null when the router
 * did not give it (older RouterOS, no permission): exposure is then unknown, not "none".
 */
export interface ExposureConfig {
  nat: Row[] | null;
  filter: Row[] | null;
  services: Row[] | null;
  upnp: Row[] | null;
  interfaceListMembers: Row[] | null;
  /** The interface list that holds the WAN interfaces (RouterOS's default configuration names it WAN). */
  wanList?: string;
}

/** One listening port of one host, as the scan saw it. */
export interface ExposureTarget {
  address: string;
  port: number;
  protocol: 'tcp' | 'udp';
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

const yes = (value: string | undefined): boolean => value === 'true' || value === 'yes';

/** `80`, `80,443`, `8000-8100`: whether the port is in the list. An empty list matches every port. */
export function portListHas(list: string | undefined, port: number): boolean {
  if (list === undefined || list === '') return true;
  return list.split(',').some((part) => {
    const [low, high] = part.trim().split('-').map(Number);
    return low !== undefined && port >= low && port <= (high ?? low);
  });
}

/** A rule's interface match against a WAN interface: `in-interface-list=WAN`, `=!LAN`, `in-interface=ether1`. */
function fromWan(rule: Row, wanList: string, wanInterfaces: ReadonlySet<string>, listsOf: (iface: string) => Set<string>): boolean {
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
function seesNewWanConnection(rule: Row, protocol: string, port: number): boolean {
  if (yes(rule.disabled)) return false;
  const state = rule['connection-state'];
  if (state && !state.split(',').includes('new')) return false;
  // A rule limited to some sources neither opens nor closes the port to the whole Internet.
  if (rule['src-address'] || rule['src-address-list']) return false;
  if (rule.protocol && rule.protocol !== protocol) return false;
  return portListHas(rule['dst-port'], port);
}

export function exposureOf(config: ExposureConfig, target: ExposureTarget): ExposureVerdict {
  const wanList = config.wanList ?? 'WAN';
  const missing = (['nat', 'filter', 'services', 'upnp', 'interfaceListMembers'] as const).filter((name) => config[name] === null);
  const members = config.interfaceListMembers ?? [];
  const listsOf = (iface: string): Set<string> =>
    new Set(members.filter((member) => member.interface === iface && !yes(member.disabled)).map((member) => member.list ?? ''));
  const wanInterfaces = new Set(members.filter((member) => member.list === wanList && !yes(member.disabled)).map((member) => member.interface ?? ''));
  const wan = (rule: Row): boolean => fromWan(rule, wanList, wanInterfaces, listsOf);
  const exposure: Exposure[] = [];

  for (const rule of config.nat ?? []) {
    if (yes(rule.disabled) || rule.chain !== 'dstnat' || rule.action !== 'dst-nat' || !wan(rule)) continue;
    if (rule['to-addresses'] !== target.address) continue;
    if (rule.protocol && rule.protocol !== target.protocol) continue;
    const toPort = rule['to-ports'] || rule['dst-port'];
    if (!portListHas(toPort, target.port)) continue;
    const publicPort = rule['to-ports'] ? (rule['dst-port'] ?? 'any') : String(target.port);
    exposure.push({ kind: 'dstnat', detail: `forwarded from WAN ${target.protocol}/${publicPort} by dstnat rule ${rule['.id'] ?? '?'}` });
  }

  if (target.isRouter && target.protocol === 'tcp') {
    for (const service of config.services ?? []) {
      const name = service.name ?? '';
      const port = Number(service.port ?? routerServices[name]);
      if (!(name in routerServices) || port !== target.port || yes(service.disabled) || service.address) continue;
      // The first input rule that sees a new WAN connection to this port decides, as RouterOS does.
      const decider = (config.filter ?? []).find((rule) => rule.chain === 'input' && wan(rule) && seesNewWanConnection(rule, 'tcp', port));
      if (decider?.action === 'drop' || decider?.action === 'reject') continue;
      const by = decider === undefined ? 'no input rule drops it' : `accepted by input rule ${decider['.id'] ?? '?'}`;
      exposure.push({ kind: 'router-service', detail: `router service ${name} (tcp/${port}) open to WAN: no address restriction, ${by}` });
    }
  }

  if (!target.isRouter && (config.upnp ?? []).some((row) => yes(row.enabled))) {
    exposure.push({ kind: 'upnp', detail: 'UPnP enabled on the router: any LAN host may open WAN ports' });
  }
  return { known: missing.length === 0, exposure, missing };
}
