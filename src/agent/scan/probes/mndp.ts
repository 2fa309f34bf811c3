import { macFromBytes } from '../../../shared/mac.js';
import { routerOsChannelSource, routerOsVersionSource } from '../../../shared/routeros-version.js';
import { confidence, evidenceText, type Identification } from '../service.js';

/** MNDP discovery request: a zero header and sequence; RouterOS answers with its TLVs. */
export const MNDP_REQUEST = Buffer.alloc(4);

const tlvNames: Record<number, string> = { 1: 'mac', 5: 'identity', 7: 'version', 8: 'platform', 11: 'software-id', 12: 'board', 16: 'interface', 17: 'ipv4' };

/** Type-length-value records after the 4-byte header, type and length big-endian (16 bits each). */
export function parseMndp(packet: Buffer): Record<string, string> | null {
  if (packet.length < 8) return null;
  const fields: Record<string, string> = {};
  let index = 4;
  while (index + 4 <= packet.length) {
    const type = packet.readUInt16BE(index);
    const length = packet.readUInt16BE(index + 2);
    if (index + 4 + length > packet.length) return null;
    const value = packet.subarray(index + 4, index + 4 + length);
    const name = tlvNames[type];
    if (name === 'mac') fields.mac = macFromBytes(value);
    else if (name === 'ipv4' && value.length === 4) fields.ipv4 = [...value].join('.');
    else if (name) fields[name] = value.toString('utf8').slice(0, 256);
    index += 4 + length;
  }
  return index === packet.length && Object.keys(fields).length > 0 ? fields : null;
}

export function identifyMndp(fields: Record<string, string>): Identification | null {
  const version = new RegExp(`^${routerOsVersionSource}(?:${routerOsChannelSource})?`).exec(fields.version ?? '');
  if (!version?.[1] && fields.platform !== 'MikroTik') return null;
  const facts = Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, evidenceText(value)]));
  return version?.[1]
    ? {
        service: 'mndp',
        product: 'MikroTik RouterOS',
        vendor: 'MikroTik',
        version: version[1],
        ...(version[2] ? { channel: version[2] } : {}),
        confidence: confidence.exactBanner,
        evidence: evidenceText(`version: ${fields.version}`),
        facts,
      }
    : {
        service: 'mndp',
        product: 'MikroTik RouterOS',
        vendor: 'MikroTik',
        confidence: confidence.productOnly,
        evidence: evidenceText(`platform: ${fields.platform}`),
        facts,
      };
}
