/**
 * MAC addresses: the one input rule and the one canonical form (upper-case, colon-separated),
 * used by the router inventory, the CLI, the protocol, the REST API and the stores.
 */

/** The canonical form: what the protocol carries, the API returns and the stores key on. */
export const MAC_PATTERN = /^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/;

/**
 * What is accepted as input, around optional whitespace: six pairs with one consistent `:` or
 * `-`, Cisco's `xxxx.xxxx.xxxx`, or 12 bare hex digits, in either case. Mixed separators are
 * refused. Plain ECMAScript, so it can stand as the pattern of an OpenAPI field.
 */
export const MAC_INPUT_PATTERN =
  /^\s*(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})\s*$/;

/** "4c-5e-0c-12-34-56", "4c5e.0c12.3456", "4C5E0C123456" -> "4C:5E:0C:12:34:56"; undefined when it is not a MAC. */
export function normalizeMac(input: string): string | undefined {
  if (!MAC_INPUT_PATTERN.test(input)) return undefined;
  const hex = input.replace(/[^0-9A-Fa-f]/g, '').toUpperCase();
  return hex.match(/../g)?.join(':');
}

/** Six bytes off the wire (MNDP, LLDP) in the canonical form. */
export function macFromBytes(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

const firstOctet = (mac: string): number => parseInt(mac.slice(0, 2), 16);

/** Locally administered (the U/L bit): phones' private addresses, VMs, containers; not a stable identity. */
export const isRandomizedMac = (mac: string): boolean => (firstOctet(mac) & 0x02) !== 0;

/** Group addresses (33:33:.. for IPv6 multicast, 01:00:5E:.. for IPv4) name no host. */
export const isMulticastMac = (mac: string): boolean => (firstOctet(mac) & 0x01) !== 0;
