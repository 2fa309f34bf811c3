import { AgentError } from '../errors.js';

/**
 * The default TCP ports. Why these: the ports nmap's frequency table ranks highest for TCP
 * connect scans (its "top 100", which finds the large majority of open services on LANs), plus
 * every port a MikroTik site exposes from the router itself or its neighbours: 8291 Winbox,
 * 8728/8729 the RouterOS API (plain/TLS), 2000 bandwidth test, 1723 PPTP, 1900 UPnP, 8080/8443
 * the alternative WebFig ports, 8000/8081/8888 device web UIs, 3306/5432/6379/27017 databases
 * that small sites run unprotected (161 is UDP-only and lives in the UDP list). 124 ports:
 * a /22 at this size is ~130k connects, minutes on a LAN rather than the hours of all 65535.
 */
export const DEFAULT_TCP_PORTS: readonly number[] = Object.freeze(
  [
    7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139, 143, 144, 179, 199, 389, 427, 443, 444, 445, 465, 513, 514, 515,
    543, 544, 548, 554, 587, 631, 646, 873, 990, 993, 995, 1025, 1026, 1027, 1028, 1029, 1110, 1433, 1720, 1723, 1755, 1883, 1900, 2000, 2001, 2049, 2121, 2717,
    3000, 3128, 3306, 3389, 3986, 4899, 5000, 5009, 5051, 5060, 5101, 5190, 5357, 5432, 5631, 5666, 5800, 5900, 6000, 6001, 6379, 6646, 7070, 8000, 8008, 8009,
    8080, 8081, 8291, 8443, 8728, 8729, 8888, 9100, 9999, 10000, 27017, 32768, 49152, 49153, 49154, 49155, 49156, 49157, 8883, 9090, 9200, 11211, 5985, 5986,
    8086, 8181, 1194, 1701, 500, 502, 102, 20000, 47808, 4786, 7547, 2323,
  ].sort((a, b) => a - b),
);

/** Discovery pings: ports that almost every live host either opens or refuses quickly. */
export const DISCOVERY_TCP_PORTS: readonly number[] = Object.freeze([80, 443, 22, 8291, 445, 139, 53, 8080, 23, 3389, 21, 8728]);

/** UDP services asked directly (each answers only to its own request, so there is no "UDP port scan"). */
export const UDP_PORTS = Object.freeze({ dns: 53, snmp: 161, mndp: 5678 });

/** "22,80,8000-8100" -> sorted unique ports. */
export function parsePortList(text: string): number[] {
  const ports = new Set<number>();
  const parts = text.split(',').map((part) => part.trim());
  for (const part of parts) {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (!match) throw new AgentError('AGENT_ERR_SCAN_PORTS_INVALID', `"${part}" is not a port or a range (in "${text}")`);
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low < 1 || high > 65535) throw new AgentError('AGENT_ERR_SCAN_PORTS_INVALID', `"${part}": ports are 1 to 65535`);
    if (high < low) throw new AgentError('AGENT_ERR_SCAN_PORTS_INVALID', `"${part}": the range is reversed`);
    for (let port = low; port <= high; port += 1) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}
