import { mac as macField } from '../../protocol/index.js';
import type { Inventory } from '../routeros/index.js';
import { compareAddresses, inScope, isCanonicalIPv4 } from '../../shared/ipv4.js';
import type { OutgoingReport } from '../store/outbox-repository.js';
import { sourceTag } from './runner/stage-hosts.js';

export type InventoryReport = Extract<OutgoingReport, { type: 'inventory' }>;

const clamp = (value: string | null | undefined, max: number): string | null => (value === null || value === undefined ? null : value.slice(0, max));
const isMac = (value: string | null): value is string => value !== null && macField.safeParse(value).success;

/**
 * The router as one run read it, for the control plane: its identity, version and board, the
 * hosts its tables know inside the run's subnets (their first IPv4 address there), and its
 * neighbors. Shaped to the protocol's limits, so the outbox never refuses it.
 */
export function inventoryReport(inventory: Inventory, run: { id: string; subnets: readonly string[] }, at: string): InventoryReport {
  const hosts = inventory.hosts
    .filter((host) => isMac(host.mac))
    .flatMap((host) => {
      const ip = host.ips.find((address) => isCanonicalIPv4(address) && inScope(address, run.subnets));
      if (ip === undefined) return [];
      const tag = sourceTag(host.sources[0]?.table ?? 'arp');
      return [
        {
          mac: host.mac,
          ip,
          hostname: clamp(host.hostnames[0], 255),
          interface: clamp(host.interfaces[0], 100),
          source: tag === 'sweep' ? ('arp' as const) : tag,
        },
      ];
    })
    .sort((a, b) => compareAddresses(a.ip, b.ip))
    .slice(0, 2048);
  const neighbors = inventory.neighbors
    .filter((neighbor): neighbor is typeof neighbor & { mac: string } => isMac(neighbor.mac))
    .map((neighbor) => ({
      mac: neighbor.mac,
      ip: neighbor.address !== null && isCanonicalIPv4(neighbor.address) ? neighbor.address : null,
      identity: clamp(neighbor.identity, 255),
      platform: clamp(neighbor.platform, 100),
      version: clamp(neighbor.version, 64),
    }))
    .slice(0, 1024);
  return {
    type: 'inventory',
    at,
    run_id: run.id,
    router: {
      identity: (inventory.router.identity ?? '').slice(0, 255),
      routeros_version: inventory.router.version.slice(0, 64),
      board: clamp(inventory.router.board ?? inventory.router.model, 100),
      // The agent does not read the serial number.
      serial: null,
    },
    hosts,
    neighbors,
  };
}
