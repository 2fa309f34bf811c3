import type { RouterData, Row } from '../router-data.js';

/**
 * Renders menus the way the RouterOS console prints them, for commands that have no verbatim
 * capture. Written from the captures' layout, not from the agent's parsers.
 */

const singletons = new Set(['/system/resource', '/system/identity', '/system/routerboard', '/ip/upnp']);

/** Booleans the console shows as flag letters in front of an item, per menu (legends of the captures). */
const flags: Record<string, [string, string][]> = {
  '/ip/arp': [
    ['disabled', 'X'],
    ['invalid', 'I'],
    ['DHCP', 'H'],
    ['dynamic', 'D'],
    ['published', 'P'],
    ['complete', 'C'],
  ],
  '/ip/dhcp-server/lease': [
    ['disabled', 'X'],
    ['radius', 'R'],
    ['dynamic', 'D'],
    ['blocked', 'B'],
  ],
  '/interface/bridge/host': [
    ['disabled', 'X'],
    ['invalid', 'I'],
    ['dynamic', 'D'],
    ['local', 'L'],
    ['external', 'E'],
  ],
  '/ipv6/neighbor': [['router', 'R']],
  '/ip/address': [
    ['disabled', 'X'],
    ['invalid', 'I'],
    ['dynamic', 'D'],
  ],
  '/ip/firewall/nat': [
    ['disabled', 'X'],
    ['invalid', 'I'],
    ['dynamic', 'D'],
  ],
  '/ip/firewall/filter': [
    ['disabled', 'X'],
    ['invalid', 'I'],
    ['dynamic', 'D'],
  ],
  '/ip/service': [
    ['disabled', 'X'],
    ['invalid', 'I'],
  ],
  '/interface/list/member': [
    ['disabled', 'X'],
    ['dynamic', 'D'],
  ],
};

/** Keys RouterOS leaves unquoted even with spaces (seen in the captures: `comment=test comment`, `class-id=udhcp 1.37.0`). */
const bareKeys = new Set(['comment', 'class-id']);

function consoleValue(key: string, value: string): string {
  if (bareKeys.has(key) && value !== '') return value;
  if (value !== '' && /^[^\s"\\]+$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function renderItem(menu: string, row: Row, index: number): string {
  const letters = (flags[menu] ?? [])
    .filter(([key]) => row[key] === 'true')
    .map(([, letter]) => letter)
    .join('');
  const hidden = new Set(['.id', ...(flags[menu] ?? []).map(([key]) => key)]);
  const pairs = Object.entries(row)
    .filter(([key]) => !hidden.has(key))
    .map(([key, value]) => `${key}=${consoleValue(key, value)}`);
  return `${String(index).padStart(2)} ${letters.padEnd(2)} ${pairs.join(' ')}`;
}

function renderSingleton(row: Row): string {
  const width = Math.max(...Object.keys(row).map((key) => key.length));
  return Object.entries(row)
    .map(([key, value]) => `${key.padStart(width + 2)}: ${value}`)
    .join('\n');
}

export interface ParsedCommand {
  menu: string;
  words: string[];
}

/** `/ip dhcp-server lease print terse without-paging` -> menu `/ip/dhcp-server/lease`, words after print. */
export function parseCliCommand(command: string): ParsedCommand | undefined {
  const parts = command.trim().split(/\s+/);
  const at = parts.indexOf('print');
  if (at < 1 || !parts[0]?.startsWith('/')) return undefined;
  const menu = `/${parts
    .slice(0, at)
    .map((part) => part.replace(/^\//, ''))
    .join('/')}`;
  return { menu, words: parts.slice(at + 1) };
}

/** The console output for a command, LF line ends; undefined when the router has no such menu. */
export function renderCommand(command: string, data: RouterData): string | undefined {
  const verbatim = data.console[command];
  if (verbatim !== undefined) return verbatim;
  const put = /^:put \[\/system resource get version\]$/.exec(command.trim());
  if (put) return `${data.menus['/system/resource']?.[0]?.version ?? ''}\n`;
  const parsed = parseCliCommand(command);
  if (parsed === undefined) return undefined;
  const rows = data.menus[parsed.menu];
  if (rows === undefined) return undefined;
  if (singletons.has(parsed.menu)) return rows[0] === undefined ? '' : `${renderSingleton(rows[0])}\n`;
  const detail = parsed.words.includes('detail');
  // detail separates items with a blank line; terse prints one line each.
  return rows.map((row, index) => `${renderItem(parsed.menu, row, index)}\n${detail ? '\n' : ''}`).join('');
}

/** What RouterOS prints for a command it does not know. */
export function badCommand(command: string): string {
  const first = command.trim().split(/\s+/).slice(0, 2).join(' ');
  return `bad command name ${first.replace(/^\//, '')} (line 1 column 2)\n`;
}
