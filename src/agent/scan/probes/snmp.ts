import asn1 from 'asn1';
import type { GuardedNet } from '../guarded-net.js';
import { routerOsVersionSource } from '../../../shared/routeros-version.js';
import { confidence, evidenceText, type Identification } from '../service.js';

// asn1 is CommonJS whose exports Node cannot name statically.
const { Ber, BerReader, BerWriter } = asn1;

export const snmpOids = {
  sysDescr: '1.3.6.1.2.1.1.1.0',
  sysObjectID: '1.3.6.1.2.1.1.2.0',
  /** UCD-SNMP-MIB::versionTag.0, the Net-SNMP agent's own version. */
  netSnmpVersion: '1.3.6.1.4.1.2021.100.2.0',
  /** MIKROTIK-MIB mtxrLicVersion.0, the RouterOS software version. */
  routerOsVersion: '1.3.6.1.4.1.14988.1.1.4.4.0',
} as const;

export type SnmpValues = Partial<Record<keyof typeof snmpOids, string>>;

/** sysDescr with the vendor OIDs that carry versions the description lacks. */
export function identifySnmp(values: SnmpValues): Identification | null {
  const description = values.sysDescr;
  if (description === undefined) return null;
  const evidence = evidenceText(`sysDescr: ${description}`);
  const facts: Record<string, string> = { sysDescr: evidenceText(description) };
  if (values.sysObjectID) facts.sysObjectID = values.sysObjectID;
  if (description.startsWith('RouterOS') || values.sysObjectID?.startsWith('1.3.6.1.4.1.14988.')) {
    const version = values.routerOsVersion ?? new RegExp(`RouterOS ${routerOsVersionSource}`).exec(description)?.[1];
    return version
      ? {
          service: 'snmp',
          product: 'MikroTik RouterOS',
          vendor: 'MikroTik',
          version,
          confidence: confidence.exactBanner,
          evidence: values.routerOsVersion ? `mtxrLicVersion: ${version}` : evidence,
          facts,
        }
      : { service: 'snmp', product: 'MikroTik RouterOS', vendor: 'MikroTik', confidence: confidence.productOnly, evidence, facts };
  }
  if (values.sysObjectID?.startsWith('1.3.6.1.4.1.8072.')) {
    const version = values.netSnmpVersion;
    return version && /^\d+\.\d+(\.\d+)*$/.test(version)
      ? {
          service: 'snmp',
          product: 'Net-SNMP',
          version,
          confidence: confidence.exactBanner,
          evidence: `versionTag: ${version}`,
          facts,
        }
      : { service: 'snmp', product: 'Net-SNMP', confidence: confidence.productOnly, evidence, facts };
  }
  return { service: 'snmp', confidence: confidence.protocolOnly, evidence, facts };
}

/** SNMPv2c GetRequest (RFC 3416) for the given OIDs, each with a NULL value. */
export function encodeGetRequest(community: string, requestId: number, oids: readonly string[]): Buffer {
  const writer = new BerWriter();
  writer.startSequence();
  writer.writeInt(1); // version: 1 = v2c
  writer.writeString(community);
  writer.startSequence(0xa0);
  writer.writeInt(requestId);
  writer.writeInt(0);
  writer.writeInt(0);
  writer.startSequence();
  for (const oid of oids) {
    writer.startSequence();
    writer.writeOID(oid, Ber.OID);
    writer.writeNull();
    writer.endSequence();
  }
  writer.endSequence();
  writer.endSequence();
  writer.endSequence();
  return writer.buffer;
}

const octetString = 0x04;
const objectIdentifier = 0x06;
const integerTags = new Set([0x02, 0x41, 0x42, 0x43, 0x46]);

/**
 * The GetResponse to our request id as OID -> text. Exceptions (noSuchObject 0x80,
 * noSuchInstance 0x81, endOfMibView 0x82) are left out; anything malformed gives null.
 */
export function decodeGetResponse(packet: Buffer, requestId: number): Map<string, string> | null {
  try {
    const reader = new BerReader(packet);
    reader.readSequence();
    if (reader.readInt() !== 1) return null;
    reader.readString();
    if (reader.readSequence(0xa2) === null) return null;
    if (reader.readInt() !== requestId) return null;
    if (reader.readInt() !== 0) return null; // error-status
    reader.readInt();
    reader.readSequence();
    const values = new Map<string, string>();
    const end = reader.offset + reader.length;
    while (reader.offset < end) {
      reader.readSequence();
      const oid = reader.readOID();
      const tag = reader.peek();
      if (oid === null || tag === null) return null;
      if (tag === octetString) values.set(oid, (reader.readString(octetString, true) ?? Buffer.alloc(0)).toString('latin1').slice(0, 1024));
      else if (tag === objectIdentifier) values.set(oid, reader.readOID() ?? '');
      else if (integerTags.has(tag)) values.set(oid, String(reader._readTag(tag)));
      else reader.readString(tag, true);
    }
    return values;
  } catch {
    return null;
  }
}

/** One v2c GET for all four OIDs through the guarded UDP socket. */
export async function querySnmp(
  guardedNet: GuardedNet,
  address: string,
  port: number,
  community: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<SnmpValues | null> {
  const requestId = Math.floor(Math.random() * 0x7fffffff);
  const names = Object.keys(snmpOids) as (keyof typeof snmpOids)[];
  const reply = await guardedNet.exchangeUdp(
    address,
    port,
    encodeGetRequest(
      community,
      requestId,
      names.map((name) => snmpOids[name]),
    ),
    { timeoutMs, signal, maxBytes: 16384 },
  );
  const decoded = reply === null ? null : decodeGetResponse(reply, requestId);
  if (!decoded) return null;
  const values: SnmpValues = {};
  for (const name of names) {
    const value = decoded.get(snmpOids[name]);
    if (value !== undefined) values[name] = value;
  }
  return values;
}
