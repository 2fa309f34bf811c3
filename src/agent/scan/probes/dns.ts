import dnsPacket from 'dns-packet';
import { confidence, evidenceText, located, type Identification } from '../service.js';
import type { TcpProbe } from './io.js';

/** `version.bind` CHAOS TXT: the query BIND, dnsmasq, Unbound and PowerDNS answer with their version. */
export function versionBindQuery(id: number): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: 'TXT', class: 'CH', name: 'version.bind' }] });
}

export function parseVersionText(text: string): Identification {
  const evidence = evidenceText(text);
  const dnsmasq = /^dnsmasq-(\d+\.\d+(?:\.\d+)?)/.exec(text);
  if (dnsmasq?.[1]) return { service: 'dns', product: 'dnsmasq', version: dnsmasq[1], confidence: confidence.exactBanner, evidence };
  // BIND: "9.18.28-1~deb12u2-Debian"; the part after the version is the distribution build.
  // A supported-preview (-S1) or patch (-P1) build is part of the version; what follows is the packager's.
  const bind = /^(\d+\.\d+\.\d+(?:-[SP]\d+)?)(?:-(.+))?$/.exec(text);
  if (bind?.[1]) {
    const distro = bind[2];
    return {
      service: 'dns',
      product: 'ISC BIND',
      vendor: 'ISC',
      version: bind[1],
      ...(distro ? { distro } : {}),
      confidence: confidence.exactBanner,
      evidence,
    };
  }
  const unbound = /^unbound (\d+\.\d+\.\d+)/.exec(text);
  if (unbound?.[1]) return { service: 'dns', product: 'Unbound', version: unbound[1], confidence: confidence.exactBanner, evidence };
  const powerdns = /^PowerDNS (Recursor|Authoritative Server) (\d+\.\d+\.\d+)/.exec(text);
  if (powerdns?.[2]) return { service: 'dns', product: `PowerDNS ${powerdns[1]}`, version: powerdns[2], confidence: confidence.exactBanner, evidence };
  return { service: 'dns', confidence: confidence.protocolOnly, evidence };
}

/** The answer to our query id, or null when it is not a DNS response to it. */
export function parseVersionBindReply(reply: Buffer, id: number): Identification | null {
  let packet: dnsPacket.Packet;
  try {
    packet = dnsPacket.decode(reply);
  } catch {
    return null;
  }
  if (packet.type !== 'response' || packet.id !== id) return null;
  for (const answer of packet.answers ?? []) {
    if (answer.type !== 'TXT') continue;
    const data = Array.isArray(answer.data) ? answer.data : [answer.data];
    const text = data.map((part) => (typeof part === 'string' ? part : part.toString('latin1'))).join('');
    if (text.length > 0) return parseVersionText(text);
  }
  // A DNS server that refuses to say (REFUSED, NOTIMP, empty answer) is still a DNS server.
  return { service: 'dns', confidence: confidence.protocolOnly, evidence: evidenceText(`rcode ${(packet.flags ?? 0) & 0x0f}, no version.bind answer`) };
}

/** The same question over TCP (RFC 1035 4.2.2: two length bytes before the message). */
export const dnsTcpProbe: TcpProbe = async (context) => {
  const socket = await context.open();
  if (!socket) return null;
  try {
    const id = Math.floor(Math.random() * 0xffff);
    const query = versionBindQuery(id);
    const framed = Buffer.alloc(query.length + 2);
    framed.writeUInt16BE(query.length, 0);
    query.copy(framed, 2);
    socket.write(framed);
    const reply = await socket.read((received) => received.length >= 2 && received.length >= received.readUInt16BE(0) + 2);
    if (reply.length < 2) return null;
    const identified = parseVersionBindReply(reply.subarray(2, 2 + reply.readUInt16BE(0)), id);
    return identified ? located(identified, context.port, 'tcp') : null;
  } finally {
    socket.close();
  }
};
