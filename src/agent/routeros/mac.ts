/** MAC addresses as the inventory keys them: upper-case, colon-separated. */

const macPattern = /^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/;

/** Accepts `aa:bb:..`, `AA-BB-..` and `aabb.ccdd.eeff`; undefined for anything else. */
export function normaliseMac(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const hex = value.trim().toUpperCase().replace(/[:.-]/g, '');
  if (!/^[0-9A-F]{12}$/.test(hex)) return undefined;
  const mac = hex.match(/../g)?.join(':') ?? '';
  return macPattern.test(mac) ? mac : undefined;
}

const firstOctet = (mac: string): number => parseInt(mac.slice(0, 2), 16);

/** Locally administered (the U/L bit): phones' private addresses, VMs, containers; not a stable identity. */
export const isRandomizedMac = (mac: string): boolean => (firstOctet(mac) & 0x02) !== 0;

/** Group addresses (33:33:.. for IPv6 multicast, 01:00:5E:.. for IPv4) name no host. */
export const isMulticastMac = (mac: string): boolean => (firstOctet(mac) & 0x01) !== 0;

export interface VendorLookup {
  /** The registrant of the MAC's OUI (MA-S, MA-M or MA-L block), or undefined. */
  vendorOf(mac: string): string | undefined;
}
