import { parseSubnet, subnetProblem } from '../../shared/ipv4.js';
import { AgentError } from '../errors.js';

export { isCanonicalIPv4, MIN_PREFIX } from '../../shared/ipv4.js';

/** A subnet as the scanner takes it: a bare address counts as a /32; host bits are refused. */
function scannerSubnet(text: string) {
  const trimmed = text.trim();
  const problem = subnetProblem(trimmed, { bareAddress: true });
  if (problem !== undefined) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', `"${text}": ${problem}`);
  return parseSubnet(trimmed, { bareAddress: true });
}

/** Every address to scan, in ascending order, without duplicates. */
export function expandTargets(subnets: readonly string[], excludes: readonly string[] = []): string[] {
  if (subnets.length === 0) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', 'no subnet to scan');
  const excluded = excludes.map(scannerSubnet);
  const addresses = new Map<number, string>();
  for (const subnet of subnets.map(scannerSubnet)) {
    subnet.forEachHost((ip, value) => {
      if (!excluded.some((block) => block.contains(ip))) addresses.set(value, ip);
    });
  }
  if (addresses.size === 0) throw new AgentError('AGENT_ERR_SCAN_TARGET_INVALID', `the excludes (${excludes.join(', ')}) leave no address to scan`);
  return [...addresses.keys()].sort((a, b) => a - b).map((value) => addresses.get(value) as string);
}
