import { z } from 'zod';
import type { MenuName, Row, RouterTables } from './tables.js';
import { normalizeMac } from '../../shared/mac.js';

/**
 * One schema per RouterOS menu: rows from the API and from the SSH parsers (same keys, values
 * always strings) become typed records here. Unknown keys pass unseen; a row that breaks a
 * schema is dropped and named in a warning, never thrown.
 */

const flag = z
  .string()
  .optional()
  .transform((value) => value === 'true' || value === 'yes');
const text = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));
const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, { error: 'expected an IPv4 address' });
const optionalIpv4 = z
  .union([ipv4, z.literal('')])
  .optional()
  .transform((value) => (value === '' ? undefined : value));
const mac = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === '') return undefined;
    const normalised = normalizeMac(value);
    if (normalised === undefined) ctx.addIssue({ code: 'custom', message: `not a MAC address: ${value.slice(0, 40)}` });
    return normalised;
  });

export const resourceSchema = z.looseObject({
  version: z.string({ error: 'expected the RouterOS version' }).min(1, { error: 'expected the RouterOS version' }),
  uptime: text,
  'board-name': text,
  'architecture-name': text,
  platform: text,
});

export const identitySchema = z.looseObject({ name: text });

export const routerboardSchema = z.looseObject({
  routerboard: flag,
  model: text,
  'board-name': text,
  'serial-number': text,
  'current-firmware': text,
});

export const addressSchema = z.looseObject({
  address: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { error: 'expected an address with prefix' }),
  network: optionalIpv4,
  interface: text,
  disabled: flag,
  invalid: flag,
});

export const arpSchema = z.looseObject({
  address: ipv4,
  'mac-address': mac,
  interface: text,
  complete: flag,
  disabled: flag,
  invalid: flag,
  status: text,
});

export const leaseSchema = z.looseObject({
  address: optionalIpv4,
  'active-address': optionalIpv4,
  'mac-address': mac,
  'active-mac-address': mac,
  'host-name': text,
  status: text,
  'last-seen': text,
  server: text,
  disabled: flag,
});

export const bridgeHostSchema = z.looseObject({
  'mac-address': mac.refine((value) => value !== undefined, { error: 'expected a MAC address' }),
  interface: text,
  'on-interface': text,
  bridge: text,
  local: flag,
  invalid: flag,
  disabled: flag,
  age: text,
});

export const neighborSchema = z.looseObject({
  identity: text,
  platform: text,
  version: text,
  board: text,
  'mac-address': mac,
  address: text,
  address4: optionalIpv4,
  interface: text,
  age: text,
  'system-description': text,
});

export const ipv6NeighborSchema = z.looseObject({
  address: z.string().min(2),
  'mac-address': mac,
  interface: text,
  status: text,
  router: flag,
});

/** Rule fields shared by `/ip firewall nat` and `/ip firewall filter` (exposure.ts reads them). */
const ruleFields = {
  '.id': text,
  chain: text,
  action: text,
  protocol: text,
  'dst-port': text,
  'in-interface': text,
  'in-interface-list': text,
  'src-address': text,
  'src-address-list': text,
  disabled: flag,
};

export const natSchema = z.looseObject({ ...ruleFields, 'to-addresses': text, 'to-ports': text });

export const filterSchema = z.looseObject({ ...ruleFields, 'connection-state': text });

export const serviceSchema = z.looseObject({
  name: z.string().min(1, { error: 'expected the service name' }),
  port: z.string().regex(/^\d{1,5}$/, { error: 'expected a port number' }),
  address: text,
  disabled: flag,
});

export const upnpSchema = z.looseObject({ enabled: flag });

export const interfaceListMemberSchema = z.looseObject({ list: text, interface: text, disabled: flag });

const schemas = {
  resource: resourceSchema,
  identity: identitySchema,
  routerboard: routerboardSchema,
  addresses: addressSchema,
  arp: arpSchema,
  leases: leaseSchema,
  bridgeHosts: bridgeHostSchema,
  neighbors: neighborSchema,
  ipv6Neighbors: ipv6NeighborSchema,
  nat: natSchema,
  filter: filterSchema,
  services: serviceSchema,
  upnp: upnpSchema,
  interfaceListMembers: interfaceListMemberSchema,
} as const;

export type RouterRecords = { [K in MenuName]: z.output<(typeof schemas)[K]>[] };

export interface ParsedRecords {
  records: RouterRecords;
  /** One line per dropped row: menu, row number and the first problem. */
  rejected: string[];
}

/** One row of a menu as its typed record, or undefined with one line in `rejected` (menu, row number, first problem). */
export function parseRow<K extends MenuName>(name: K, row: Row, index: number, rejected: string[]): RouterRecords[K][number] | undefined {
  const parsed = schemas[name].safeParse(row);
  if (parsed.success) return parsed.data as RouterRecords[K][number];
  const issue = parsed.error.issues[0];
  rejected.push(`${name} row ${index}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.replace(/ {2,}/g, ' '));
  return undefined;
}

function parseMenu<K extends MenuName>(name: K, rows: readonly Row[], rejected: string[]): RouterRecords[K] {
  const out: RouterRecords[K] = [];
  rows.forEach((row, index) => {
    const record = parseRow(name, row, index, rejected);
    if (record !== undefined) out.push(record);
  });
  return out;
}

export function parseRecords(tables: RouterTables): ParsedRecords {
  const rejected: string[] = [];
  const records = Object.fromEntries((Object.keys(schemas) as MenuName[]).map((name) => [name, parseMenu(name, tables[name], rejected)])) as RouterRecords;
  return { records, rejected };
}
