import type { MenuName, Row } from '../tables.js';
import { parseColumnTable, isColumnTable } from './column-table.js';
import { parseEntries, type ConsoleEntry } from './entries.js';
import { parseKeyValue } from './key-value.js';

/**
 * The CLI command for each menu. Lists use `terse` (one line per item, never wrapped) except
 * the neighbor list, where `detail` is what ansible and ntc-templates capture and the parser
 * joins its wrapped lines. `without-paging` keeps the console from waiting for a key.
 */
export const consoleCommands: Record<MenuName, string> = {
  resource: '/system resource print without-paging',
  identity: '/system identity print without-paging',
  routerboard: '/system routerboard print without-paging',
  addresses: '/ip address print terse without-paging',
  arp: '/ip arp print terse without-paging',
  leases: '/ip dhcp-server lease print terse without-paging',
  bridgeHosts: '/interface bridge host print terse without-paging',
  neighbors: '/ip neighbor print detail without-paging',
  ipv6Neighbors: '/ipv6 neighbor print terse without-paging',
  nat: '/ip firewall nat print terse without-paging',
  filter: '/ip firewall filter print terse without-paging',
  services: '/ip service print terse without-paging',
  upnp: '/ip upnp print without-paging',
  interfaceListMembers: '/interface list member print terse without-paging',
};

const singletons: ReadonlySet<MenuName> = new Set(['resource', 'identity', 'routerboard', 'upnp']);

/** Flag letters of each list, as the legends of the captures define them; the API names the same facts as keys. */
export const flagLetters: Partial<Record<MenuName, Record<string, string>>> = {
  arp: { X: 'disabled', I: 'invalid', H: 'DHCP', D: 'dynamic', P: 'published', C: 'complete' },
  leases: { X: 'disabled', R: 'radius', D: 'dynamic', B: 'blocked' },
  bridgeHosts: { X: 'disabled', I: 'invalid', D: 'dynamic', L: 'local', E: 'external' },
  ipv6Neighbors: { R: 'router' },
  addresses: { X: 'disabled', I: 'invalid', D: 'dynamic' },
  nat: { X: 'disabled', I: 'invalid', D: 'dynamic' },
  filter: { X: 'disabled', I: 'invalid', D: 'dynamic' },
  services: { X: 'disabled', I: 'invalid' },
  interfaceListMembers: { X: 'disabled', D: 'dynamic' },
};

/** An item as an API row: its properties, and each flag letter of the menu as "true" or "false". */
export function entryToRow(menu: MenuName, entry: ConsoleEntry): Row {
  const row: Row = { ...entry.values };
  for (const [letter, key] of Object.entries(flagLetters[menu] ?? {})) {
    if (row[key] === undefined) row[key] = entry.flags.includes(letter) ? 'true' : 'false';
  }
  if (entry.comment !== undefined && row.comment === undefined) row.comment = entry.comment;
  return row;
}

/** Rows of one menu from its console output, whichever print format the router used. */
export function rowsFromConsole(menu: MenuName, text: string): Row[] {
  if (singletons.has(menu)) {
    const values = parseKeyValue(text);
    return Object.keys(values).length === 0 ? [] : [values];
  }
  const entries = isColumnTable(text) ? parseColumnTable(text) : parseEntries(text);
  return entries.map((entry) => entryToRow(menu, entry));
}
