/** One row of a RouterOS menu as the wire carries it: every value a string, keys as RouterOS names them. */
export type Row = Record<string, string>;

/** The menus a full read covers, by API path; the SSH reader runs the matching CLI commands. */
export const menus = {
  resource: '/system/resource',
  identity: '/system/identity',
  routerboard: '/system/routerboard',
  addresses: '/ip/address',
  arp: '/ip/arp',
  leases: '/ip/dhcp-server/lease',
  bridgeHosts: '/interface/bridge/host',
  neighbors: '/ip/neighbor',
  ipv6Neighbors: '/ipv6/neighbor',
  // What the WAN can reach (exposure.ts): port forwards, input rules, the router's services, UPnP, WAN interfaces.
  nat: '/ip/firewall/nat',
  filter: '/ip/firewall/filter',
  services: '/ip/service',
  upnp: '/ip/upnp',
  interfaceListMembers: '/interface/list/member',
} as const;

export type MenuName = keyof typeof menus;

/** Raw rows of every menu after one read; `routerboard` is empty on CHR/x86 where the menu is absent. */
export type RouterTables = Record<MenuName, Row[]>;

/** Menus a router may lack (no package, CHR, no permission): a trap there leaves the table empty. */
export const optionalMenus: ReadonlySet<MenuName> = new Set(['routerboard', 'leases', 'bridgeHosts', 'neighbors', 'ipv6Neighbors', ...exposureMenus()]);

/** The menus exposure is read from; a router that lacks one gives "unknown exposure", not an error. */
export function exposureMenus(): MenuName[] {
  return ['nat', 'filter', 'services', 'upnp', 'interfaceListMembers'];
}
