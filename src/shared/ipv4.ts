/**
 * IPv4 addresses, subnets and scope: the one place that parses them, so the config, the REST
 * API, the CLI and the scanner accept and refuse the same strings. `netmask` is used here only.
 */
import { Netmask } from 'netmask';

/** The smallest accepted site subnet: a /22 is 1022 hosts, the largest the API allows. */
export const MIN_PREFIX = 22;

const octet = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Pattern = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);
// Strict dotted quads only: netmask also takes '10.1/24', octal '010.0.0.0' and IPv6, none of
// which a user means when writing a subnet.
const cidrPattern = new RegExp(`^(${octet}\\.${octet}\\.${octet}\\.${octet})(?:/(\\d{1,2}))?$`);

/** Dotted-quad IPv4 in canonical form only: no leading zeros, no octal, no hex, no IPv6. */
export function isCanonicalIPv4(address: string): boolean {
  return ipv4Pattern.test(address);
}

export function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

export function numberToIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Address order: IPv4 numerically, then anything else (IPv6, absent) after, as text. */
export function compareAddresses(a: string | undefined, b: string | undefined): number {
  const ka = a !== undefined && isCanonicalIPv4(a) ? ipv4ToNumber(a) : undefined;
  const kb = b !== undefined && isCanonicalIPv4(b) ? ipv4ToNumber(b) : undefined;
  if (ka !== undefined && kb !== undefined) return ka - kb;
  if (ka !== undefined) return -1;
  if (kb !== undefined) return 1;
  const ta = a ?? '\u{10FFFF}';
  const tb = b ?? '\u{10FFFF}';
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

export interface SubnetRules {
  /** Accept a bare address as a /32 (the CLI's --subnet and --ip); default false. */
  bareAddress?: boolean;
  /** The shortest prefix accepted; default MIN_PREFIX. */
  minPrefix?: number;
}

/**
 * Why `text` is not an acceptable subnet, or undefined when it is. One wording everywhere; the
 * caller adds where it came from (a config path, a request field, a CLI flag).
 */
export function subnetProblem(text: string, rules: SubnetRules = {}): string | undefined {
  const match = cidrPattern.exec(text);
  if (!match || (match[6] === undefined && !rules.bareAddress)) return 'expected IPv4 CIDR like 192.168.88.0/24';
  const prefix = match[6] === undefined ? 32 : Number(match[6]);
  const minPrefix = rules.minPrefix ?? MIN_PREFIX;
  if (prefix < minPrefix || prefix > 32) return `expected a prefix between /${minPrefix} and /32`;
  const block = new Netmask(`${match[1]}/${prefix}`);
  if (block.base !== match[1]) return `host bits set, did you mean ${block.base}/${prefix}?`;
  return undefined;
}

export interface Subnet {
  /** Canonical CIDR text, "a.b.c.d/n". */
  cidr: string;
  base: string;
  prefix: number;
  contains(address: string): boolean;
  /** Every host address, ascending; the network and broadcast addresses are left out where the prefix has them (/30 and shorter). */
  forEachHost(visit: (address: string, value: number) => void): void;
}

function subnetOfBlock(block: Netmask): Subnet {
  return {
    cidr: `${block.base}/${block.bitmask}`,
    base: block.base,
    prefix: block.bitmask,
    contains: (address) => isCanonicalIPv4(address) && block.contains(address),
    forEachHost: (visit) => block.forEach((ip, long) => visit(ip, long >>> 0)),
  };
}

/** A subnet already validated by `subnetProblem`; throws RangeError on anything else. */
export function parseSubnet(text: string, rules: SubnetRules = {}): Subnet {
  const problem = subnetProblem(text, rules);
  if (problem !== undefined) throw new RangeError(`${JSON.stringify(text)}: ${problem}`);
  return subnetOfBlock(new Netmask(text.includes('/') ? text : `${text}/32`));
}

/** The network an interface address sits on: "192.168.88.1/24" -> "192.168.88.0/24" (host bits are the point here). */
export function networkOfInterfaceAddress(address: string): string {
  const block = new Netmask(address);
  return `${block.base}/${block.bitmask}`;
}

/** The scope rule: an address is in scope when it lies inside one of the subnets. */
export function inScope(address: string, subnets: readonly string[]): boolean {
  return subnets.some((subnet) => parseSubnet(subnet, { bareAddress: true, minPrefix: 0 }).contains(address));
}
