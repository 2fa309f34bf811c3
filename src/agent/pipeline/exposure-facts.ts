import { exposureOf, type Inventory } from '../routeros/index.js';
import type { FindingExposure } from './scan-types.js';

/** Where on a device a finding sits: a port, or the device as a whole (port null: a RouterOS version). */
export interface FindingPlace {
  port: number | null;
  protocol: 'tcp' | 'udp' | null;
}

/** The exposure of one place on one device, as this run's router read tells it. */
export type ExposureLookup = (place: FindingPlace) => FindingExposure;

/** The exposure menus (routeros/tables.ts exposureMenus) as an admin names them. */
const menuNames: Record<string, string> = { nat: 'NAT', filter: 'filter', services: 'service', upnp: 'UPnP', interfaceListMembers: 'interface-list' };

/** "no NAT/filter/service/UPnP/interface-list menus from the router", or the ones missing. */
export function missingMenusReason(missing: readonly string[]): string {
  const names = missing.map((name) => menuNames[name] ?? name);
  return `no ${names.join('/')} ${names.length === 1 ? 'menu' : 'menus'} from the router`;
}

const unknown =
  (reason: string): ExposureLookup =>
  () => ({ state: 'unknown', reasons: [], unknown_reason: reason });

/** Whether the address is one of the router's own (its `/ip address` entries). */
export function isRouterAddress(inventory: Inventory | undefined, address: string): boolean {
  return (inventory?.addresses ?? []).some((entry) => entry.address.split('/')[0] === address);
}

/**
 * The exposure lookup for one device, from the router read of the same run. Without a read (no
 * router, router offline, an inventory without the exposure menus) every place is "unknown",
 * never "no": a scan that could not see the router cannot say nothing is forwarded.
 */
export function exposureLookup(inventory: Inventory | undefined, address: string, isRouter: boolean): ExposureLookup {
  if (inventory === undefined) return unknown('the router was not read');
  const config = inventory.exposure;
  if (config === undefined) return unknown('the router read had no exposure menus');
  return (place) => {
    const verdict = exposureOf(config, { address, port: place.port, protocol: place.protocol, isRouter });
    if (verdict.exposure.length > 0) return { state: 'yes', reasons: verdict.exposure, unknown_reason: null };
    if (verdict.known) return { state: 'no', reasons: [], unknown_reason: null };
    return { state: 'unknown', reasons: [], unknown_reason: missingMenusReason(verdict.missing) };
  };
}
