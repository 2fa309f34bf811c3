import asn1 from 'asn1';
import { describe, expect, it } from 'vitest';
import { parseFtpBanner } from '../../../src/agent/scan/probes/ftp.js';
import { identifyHttp, parseHttpResponse } from '../../../src/agent/scan/probes/http.js';
import { identifyMndp, parseMndp } from '../../../src/agent/scan/probes/mndp.js';
import { decodeSentence, encodeWord, parseApiReply } from '../../../src/agent/scan/probes/routeros-api.js';
import { decodeGetResponse, encodeGetRequest, identifySnmp, snmpOids } from '../../../src/agent/scan/probes/snmp.js';
import { parseTelnetBanner, splitTelnet } from '../../../src/agent/scan/probes/telnet.js';
import { confidence } from '../../../src/agent/scan/service.js';

const { Ber, BerReader, BerWriter } = asn1;

/** A GetResponse as an agent sends it: OCTET STRING values, or noSuchObject (0x80) for absent OIDs. */
function getResponse(requestId: number, varbinds: [string, string | null][]): Buffer {
  const writer = new BerWriter();
  writer.startSequence();
  writer.writeInt(1);
  writer.writeString('public');
  writer.startSequence(0xa2);
  writer.writeInt(requestId);
  writer.writeInt(0);
  writer.writeInt(0);
  writer.startSequence();
  for (const [oid, value] of varbinds) {
    writer.startSequence();
    writer.writeOID(oid, Ber.OID);
    if (value === null) {
      writer.writeByte(0x80);
      writer.writeByte(0);
    } else writer.writeString(value);
    writer.endSequence();
  }
  writer.endSequence();
  writer.endSequence();
  writer.endSequence();
  return writer.buffer;
}

describe('SNMP v2c', () => {
  it('encodes a GetRequest with the community, the request id and every OID', () => {
    const reader = new BerReader(encodeGetRequest('s3cret', 4242, [snmpOids.sysDescr, snmpOids.routerOsVersion]));
    reader.readSequence();
    expect(reader.readInt()).toBe(1);
    expect(reader.readString()).toBe('s3cret');
    expect(reader.readSequence(0xa0)).not.toBeNull();
    expect(reader.readInt()).toBe(4242);
    reader.readInt();
    reader.readInt();
    reader.readSequence();
    reader.readSequence();
    expect(reader.readOID()).toBe(snmpOids.sysDescr);
  });

  it('decodes a GetResponse, leaving out noSuchObject, and refuses other request ids or garbage', () => {
    const reply = getResponse(7, [
      [snmpOids.sysDescr, 'RouterOS RB750Gr3'],
      [snmpOids.routerOsVersion, '6.49.7'],
      [snmpOids.netSnmpVersion, null],
    ]);
    const values = decodeGetResponse(reply, 7);
    expect(values?.get(snmpOids.sysDescr)).toBe('RouterOS RB750Gr3');
    expect(values?.get(snmpOids.routerOsVersion)).toBe('6.49.7');
    expect(values?.has(snmpOids.netSnmpVersion)).toBe(false);
    expect(decodeGetResponse(reply, 8)).toBeNull();
    expect(decodeGetResponse(Buffer.from([0x30, 0x82, 0xff, 0xff, 1, 2]), 7)).toBeNull();
    expect(decodeGetResponse(reply.subarray(0, reply.length - 5), 7)).toBeNull();
  });

  it('names RouterOS with the version from the MikroTik OID, Net-SNMP from versionTag', () => {
    expect(identifySnmp({ sysDescr: 'RouterOS RB750Gr3', routerOsVersion: '6.49.7' })).toMatchObject({
      product: 'MikroTik RouterOS',
      version: '6.49.7',
      confidence: confidence.exactBanner,
    });
    const bare = identifySnmp({ sysDescr: 'RouterOS CCR1009-7G-1C-1S+' });
    expect(bare).toMatchObject({ product: 'MikroTik RouterOS', confidence: confidence.productOnly });
    expect(bare?.version).toBeUndefined();
    expect(identifySnmp({ sysDescr: 'Linux gw 6.1.0-18-amd64 #1 SMP x86_64', sysObjectID: '1.3.6.1.4.1.8072.3.2.10', netSnmpVersion: '5.9.3' })).toMatchObject({
      product: 'Net-SNMP',
      version: '5.9.3',
    });
    const printer = identifySnmp({ sysDescr: 'HP ETHERNET MULTI-ENVIRONMENT', sysObjectID: '1.3.6.1.4.1.11.2.3.9.1' });
    expect(printer).toMatchObject({ service: 'snmp', confidence: confidence.protocolOnly, evidence: 'sysDescr: HP ETHERNET MULTI-ENVIRONMENT' });
    expect(printer?.product).toBeUndefined();
  });
});

function mndpPacket(fields: [number, Buffer][]): Buffer {
  const parts = fields.map(([type, value]) => {
    const header = Buffer.alloc(4);
    header.writeUInt16BE(type, 0);
    header.writeUInt16BE(value.length, 2);
    return Buffer.concat([header, value]);
  });
  return Buffer.concat([Buffer.from([0, 0, 0, 1]), ...parts]);
}

describe('MNDP', () => {
  const packet = mndpPacket([
    [1, Buffer.from([0x4c, 0x5e, 0x0c, 0x11, 0x22, 0x33])],
    [5, Buffer.from('gw-office')],
    [7, Buffer.from('6.48.6 (long-term)')],
    [8, Buffer.from('MikroTik')],
    [12, Buffer.from('RB750Gr3')],
  ]);

  it('reads the TLVs and names RouterOS with its version and channel', () => {
    const fields = parseMndp(packet);
    expect(fields).toMatchObject({ mac: '4C:5E:0C:11:22:33', identity: 'gw-office', version: '6.48.6 (long-term)', board: 'RB750Gr3' });
    expect(identifyMndp(fields!)).toMatchObject({ product: 'MikroTik RouterOS', version: '6.48.6', channel: 'long-term' });
  });

  it('rejects truncated or overlong TLVs', () => {
    expect(parseMndp(packet.subarray(0, packet.length - 3))).toBeNull();
    expect(parseMndp(Buffer.from([0, 0, 0, 0, 0, 5, 0xff, 0xff]))).toBeNull();
  });
});

describe('RouterOS API words', () => {
  it('encodes lengths in 1 to 3 bytes as the protocol says', () => {
    expect([...encodeWord('/login')]).toEqual([6, ...Buffer.from('/login')]);
    expect(encodeWord('x'.repeat(200)).subarray(0, 2)).toEqual(Buffer.from([0x80, 200]));
    expect(encodeWord('x'.repeat(0x4000)).subarray(0, 3)).toEqual(Buffer.from([0xc0, 0x40, 0x00]));
  });

  it('recognises a !trap or !done reply and nothing else', () => {
    const reply = Buffer.concat([encodeWord('!trap'), encodeWord('=message=invalid user name or password (6)'), encodeWord('')]);
    expect(decodeSentence(reply)).toEqual(['!trap', '=message=invalid user name or password (6)']);
    expect(parseApiReply(reply)).toMatchObject({ service: 'routeros-api', product: 'MikroTik RouterOS', confidence: confidence.productOnly });
    expect(parseApiReply(reply)?.version).toBeUndefined();
    expect(parseApiReply(Buffer.concat([encodeWord('hello'), encodeWord('')]))).toBeNull();
    expect(parseApiReply(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toBeNull();
  });
});

describe('telnet', () => {
  it('refuses every option: WONT for DO, DONT for WILL, and keeps the text', () => {
    const IAC = 255;
    const data = Buffer.from([IAC, 253, 24, IAC, 251, 1, IAC, 250, 24, 1, IAC, 240, ...Buffer.from('MikroTik v6.49.7 (stable)\r\nLogin: ')]);
    const split = splitTelnet(data);
    expect([...split.replies]).toEqual([IAC, 252, 24, IAC, 254, 1]);
    expect(split.text).toBe('MikroTik v6.49.7 (stable)\r\nLogin: ');
    expect(split.rest).toBe(0);
    expect(splitTelnet(Buffer.from([0x41, IAC, 253])).rest).toBe(2);
  });

  it('reads the RouterOS version from the banner', () => {
    expect(parseTelnetBanner('MikroTik v6.49.7 (stable)\r\nLogin: ')).toMatchObject({
      product: 'MikroTik RouterOS',
      version: '6.49.7',
    });
    expect(parseTelnetBanner('Debian GNU/Linux 12\r\nlogin: ')).toMatchObject({ service: 'telnet', confidence: confidence.protocolOnly });
  });
});

/** Probes report the RouterOS version with its beta/rc tag and the channel word as printed; cve/ names them (test/unit/cve/product-names.test.ts). */
describe('RouterOS banners', () => {
  const webfig = (heading: string) =>
    identifyHttp(
      parseHttpResponse(
        Buffer.from(
          `HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html><head><title>RouterOS router configuration page</title></head><body><h1>${heading}</h1></body></html>`,
        ),
      )!,
    );
  it.each<[string, () => unknown, { version: string; channel?: string }]>([
    ['telnet, bugfix', () => parseTelnetBanner('MikroTik v6.49.7 (bugfix)\r\nLogin: '), { version: '6.49.7', channel: 'bugfix' }],
    ['telnet, beta', () => parseTelnetBanner('MikroTik v7.1beta4 (development)\r\nLogin: '), { version: '7.1beta4', channel: 'development' }],
    // The FTP pattern had no beta/rc: the banner was not recognised as RouterOS at all.
    ['ftp, rc', () => parseFtpBanner('220 MikroTik FTP server (MikroTik 7.16rc2) ready\r\n'), { version: '7.16rc2' }],
    ['ftp, long-term', () => parseFtpBanner('220 MikroTik FTP server (MikroTik 6.48.6 (long-term)) ready\r\n'), { version: '6.48.6', channel: 'long-term' }],
    // SNMP dropped the rc tag and so claimed a release.
    ['snmp sysDescr, rc', () => identifySnmp({ sysDescr: 'RouterOS 7.16rc2 RB951' }), { version: '7.16rc2' }],
    ['webfig, testing', () => webfig('RouterOS v7.16rc2 (testing)'), { version: '7.16rc2', channel: 'testing' }],
    ['mndp, long-term', () => identifyMndp({ version: '6.48.6 (long-term)', platform: 'MikroTik' }), { version: '6.48.6', channel: 'long-term' }],
  ])('%s', (_name, identify, expected) => {
    const found = identify();
    expect(found).toMatchObject({ product: 'MikroTik RouterOS', ...expected });
    if (expected.channel === undefined) expect(found).not.toHaveProperty('channel');
    expect(found).not.toHaveProperty('cpe');
  });
});
