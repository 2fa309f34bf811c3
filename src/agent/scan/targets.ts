import { Netmask } from 'netmask';
import { AgentError } from '../errors.js';

/** The scanner's smallest accepted prefix: a /22 is 1022 hosts, the largest site subnet the API allows. */
export const MIN_PREFIX = 22;

const octet = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Pattern = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);
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

/** A subnet as the scanner uses it: a bare address counts as a /32. */
export function parseSubnet(text: string): Netmask {
  const match = cidrPattern.exec(text.trim());
  if (!match) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', `"${text}" is not an IPv4 address or CIDR`);
  const prefix = match[6] === undefined ? 32 : Number(match[6]);
  if (prefix < MIN_PREFIX || prefix > 32) {
    throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', `"${text}": the prefix must be /${MIN_PREFIX} to /32, got /${prefix}`);
  }
  return new Netmask(`${match[1]}/${prefix}`);
}

/**
 * Every address to scan, in ascending order, without duplicates. Netmask's first..last already
 * leaves out the network and broadcast addresses where the prefix has them (/30 and shorter).
 */
export function expandTargets(subnets: readonly string[], excludes: readonly string[] = []): string[] {
  if (subnets.length === 0) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', 'no subnet to scan');
  const excluded = excludes.map(parseSubnet);
  const addresses = new Set<number>();
  for (const subnet of subnets.map(parseSubnet)) {
    subnet.forEach((ip, long) => {
      if (!excluded.some((block) => block.contains(ip))) addresses.add(long >>> 0);
    });
  }
  if (addresses.size === 0) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', `the excludes (${excludes.join(', ')}) leave no address to scan`);
  return [...addresses].sort((a, b) => a - b).map(numberToIPv4);
}
