import { z } from 'zod';
import { MAC_PATTERN } from '../../shared/mac.js';
import type { ExposureConfig } from './exposure.js';

/**
 * The inventory the scan pipeline reads: the contract of this module, so its type comes from
 * the schema and a consumer (or a test) can check a stored or received copy with it.
 */

export const sourceTables = ['arp', 'dhcp-lease', 'bridge-host', 'ipv6-neighbor', 'neighbor'] as const;
export type SourceTable = (typeof sourceTables)[number];

/** One router table row that spoke about a host, with the facts it gave. */
export const hostSourceSchema = z.strictObject({
  table: z.enum(sourceTables),
  ip: z.string().optional(),
  hostname: z.string().optional(),
  interface: z.string().optional(),
  status: z.string().optional(),
  /** When that row says the host was last heard from, UTC ISO 8601. */
  seen_at: z.string(),
});

export const hostSchema = z.strictObject({
  mac: z.string().regex(MAC_PATTERN),
  ips: z.array(z.string()),
  hostnames: z.array(z.string()),
  interfaces: z.array(z.string()),
  vendor: z.string().nullable(),
  /** Locally administered MAC: a phone's private address or a VM; not a stable identity. */
  randomized_mac: z.boolean(),
  first_seen: z.string(),
  last_seen: z.string(),
  sources: z.array(hostSourceSchema),
});

export const routerInfoSchema = z.strictObject({
  identity: z.string().nullable(),
  version: z.string(),
  channel: z.string().nullable(),
  board: z.string().nullable(),
  model: z.string().nullable(),
  architecture: z.string().nullable(),
  firmware: z.string().nullable(),
  uptime: z.string().nullable(),
});

export const neighborSchema = z.strictObject({
  identity: z.string().nullable(),
  platform: z.string().nullable(),
  version: z.string().nullable(),
  board: z.string().nullable(),
  mac: z.string().nullable(),
  address: z.string().nullable(),
  interface: z.string().nullable(),
});

export const routerAddressSchema = z.strictObject({
  /** The router's address with its prefix, e.g. 192.168.88.1/24. */
  address: z.string(),
  /** The network it sits in, e.g. 192.168.88.0/24. */
  network: z.string(),
  interface: z.string().nullable(),
});

export const inventorySchema = z.strictObject({
  router: routerInfoSchema,
  hosts: z.array(hostSchema),
  neighbors: z.array(neighborSchema),
  addresses: z.array(routerAddressSchema),
  transport: z.enum(['api', 'api-ssl', 'ssh']),
  read_at: z.string(),
  warnings: z.array(z.string()),
  /**
   * The menus that decide what the WAN reaches (exposure.ts), as parsed records; a menu the
   * router refused is null. Absent in an inventory read before exposure was read.
   */
  exposure: z
    .custom<ExposureConfig>((value) => typeof value === 'object' && value !== null && 'nat' in value && 'services' in value, {
      error: 'expected the exposure menus',
    })
    .optional(),
});

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryHost = z.infer<typeof hostSchema>;
export type InventoryNeighbor = z.infer<typeof neighborSchema>;
export type HostSource = z.infer<typeof hostSourceSchema>;
