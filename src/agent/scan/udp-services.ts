import type { GuardedNet } from './guarded-net.js';
import { MNDP_REQUEST, identifyMndp, parseMndp } from './probes/mndp.js';
import { parseVersionBindReply, versionBindQuery } from './probes/dns.js';
import { identifySnmp, querySnmp } from './probes/snmp.js';
import { UDP_PORTS } from './ports.js';
import { located, type ServiceFinding } from './service.js';

export interface UdpOptions {
  timeoutMs: number;
  snmpCommunity: string;
  maxBytes: number;
}

/**
 * The UDP services worth asking on a site: DNS, SNMP and MNDP. A UDP port is reported open
 * only when its service answered (silence proves nothing over UDP), so each answer is also the
 * identification.
 */
export async function scanUdpServices(guardedNet: GuardedNet, address: string, options: UdpOptions, signal: AbortSignal): Promise<ServiceFinding[]> {
  const exchange = (port: number, payload: Uint8Array) =>
    guardedNet.exchangeUdp(address, port, payload, { timeoutMs: options.timeoutMs, signal, maxBytes: options.maxBytes });
  const dns = async () => {
    const id = Math.floor(Math.random() * 0xffff);
    const reply = await exchange(UDP_PORTS.dns, versionBindQuery(id));
    const identified = reply ? parseVersionBindReply(reply, id) : null;
    return identified ? located(identified, UDP_PORTS.dns, 'udp') : null;
  };
  const snmp = async () => {
    const values = await querySnmp(guardedNet, address, UDP_PORTS.snmp, options.snmpCommunity, options.timeoutMs, signal);
    const identified = values ? identifySnmp(values) : null;
    return identified ? located(identified, UDP_PORTS.snmp, 'udp') : null;
  };
  const mndp = async () => {
    const reply = await exchange(UDP_PORTS.mndp, MNDP_REQUEST);
    const fields = reply ? parseMndp(reply) : null;
    const identified = fields ? identifyMndp(fields) : null;
    return identified ? located(identified, UDP_PORTS.mndp, 'udp') : null;
  };
  const found = await Promise.all([dns(), snmp(), mndp()]);
  return found.filter((finding): finding is ServiceFinding => finding !== null);
}
