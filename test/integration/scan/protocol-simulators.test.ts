import asn1 from 'asn1';
import { describe, expect, it } from 'vitest';
import { createScanEngine } from '../../../src/agent/scan/engine.js';
import { encodeWord } from '../../../src/agent/scan/probes/routeros-api.js';
import { SSL_REQUEST } from '../../../src/agent/scan/probes/postgres.js';
import { mndpReply, tcpServer, udpServer } from './servers.js';

// Peers that cannot run here as real programs (RouterOS, and daemons the lab does not install),
// simulated byte for byte over loopback on 127.0.13.64-79.
const { Ber, BerReader, BerWriter } = asn1;
const IAC = 255;

/** Answers an SNMP v2c GetRequest as RouterOS does: sysDescr and the MikroTik version OID. */
function routerOsSnmpReply(request: Buffer): Buffer | null {
  const reader = new BerReader(request);
  reader.readSequence();
  reader.readInt();
  if (reader.readString() !== 'public') return null;
  reader.readSequence(0xa0);
  const requestId = reader.readInt() as number;
  reader.readInt();
  reader.readInt();
  reader.readSequence();
  const oids: string[] = [];
  const end = reader.offset + reader.length;
  while (reader.offset < end) {
    reader.readSequence();
    oids.push(reader.readOID() as string);
    reader.readByte(false);
    reader.readByte(false);
  }
  const values: Record<string, string> = { '1.3.6.1.2.1.1.1.0': 'RouterOS RB750Gr3', '1.3.6.1.4.1.14988.1.1.4.4.0': '6.49.7' };
  const writer = new BerWriter();
  writer.startSequence();
  writer.writeInt(1);
  writer.writeString('public');
  writer.startSequence(0xa2);
  writer.writeInt(requestId);
  writer.writeInt(0);
  writer.writeInt(0);
  writer.startSequence();
  for (const oid of oids) {
    writer.startSequence();
    writer.writeOID(oid, Ber.OID);
    const value = values[oid];
    if (value === undefined) {
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

function mariadbHandshake(): Buffer {
  const body = Buffer.concat([Buffer.from([10]), Buffer.from('5.5.5-10.11.6-MariaDB-0+deb12u1\0'), Buffer.from([8, 0, 0, 0]), Buffer.from('12345678\0')]);
  return Buffer.concat([Buffer.from([body.length, 0, 0, 0]), body]);
}

describe('probes against protocol simulators', () => {
  it('identifies RouterOS over telnet, API, SNMP, MNDP and WebFig, and other servers by their greetings', async () => {
    const telnet = await tcpServer('127.0.13.65', 23, (socket) => {
      socket.write(Buffer.from([IAC, 253, 24, IAC, 251, 1, IAC, 251, 3]));
      socket.once('data', () => socket.write('MikroTik v6.49.7 (stable)\r\nLogin: '));
    });
    const api = await tcpServer('127.0.13.65', 8728, (socket) => {
      socket.once('data', () => socket.write(Buffer.concat([encodeWord('!trap'), encodeWord('=message=invalid user name or password (6)'), encodeWord('')])));
    });
    await tcpServer('127.0.13.65', 80, (socket) => {
      socket.once('data', () =>
        socket.end(
          'HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html><head><title>RouterOS router configuration page</title></head><body><h1>RouterOS v6.49.7</h1><a href="/webfig/">Webfig</a></body></html>',
        ),
      );
    });
    const snmp = await udpServer('127.0.13.65', 161, routerOsSnmpReply);
    await udpServer('127.0.13.65', 5678, () => mndpReply());
    await tcpServer('127.0.13.66', 3306, (socket) => socket.write(mariadbHandshake()));
    const postgres = await tcpServer('127.0.13.66', 5432, (socket) => socket.once('data', () => socket.write('N')));
    await tcpServer('127.0.13.66', 25, (socket) => socket.write('220 mail.lab ESMTP Exim 4.96 Mon, 01 Dec 2025 10:00:00 +0000\r\n'));
    await tcpServer('127.0.13.66', 110, (socket) => socket.write('+OK Dovecot (Debian) ready.\r\n'));
    await tcpServer('127.0.13.66', 143, (socket) => socket.write('* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n'));

    const result = await createScanEngine({ settings: { udpTimeoutMs: 800 } }).scan(
      { subnets: ['127.0.13.64/30'], ports: '23,25,80,110,143,3306,5432,8728' },
      { signal: AbortSignal.timeout(30_000) },
    );
    const on = (address: string, protocol: string, port: number) =>
      result.hosts.find((host) => host.address === address)?.services.find((entry) => entry.protocol === protocol && entry.port === port);

    const routerOs = { product: 'MikroTik RouterOS', version: '6.49.7' };
    expect(on('127.0.13.65', 'tcp', 23)).toMatchObject({ service: 'telnet', ...routerOs, channel: 'stable' });
    // The telnet client refused every option it was offered, as RFC 854 allows.
    expect([...(telnet.received.find((bytes) => bytes.length > 0) ?? [])]).toEqual([IAC, 252, 24, IAC, 254, 1, IAC, 254, 3]);
    expect(on('127.0.13.65', 'tcp', 8728)).toMatchObject({ service: 'routeros-api', product: 'MikroTik RouterOS' });
    expect(on('127.0.13.65', 'tcp', 8728)?.version).toBeUndefined();
    expect(api.received.find((bytes) => bytes.length > 0)).toEqual(Buffer.concat([encodeWord('/login'), encodeWord('')]));
    expect(on('127.0.13.65', 'tcp', 80)).toMatchObject({ service: 'http', ...routerOs });
    expect(on('127.0.13.65', 'udp', 161)).toMatchObject({ service: 'snmp', ...routerOs, evidence: 'mtxrLicVersion: 6.49.7' });
    expect(snmp.requests).toHaveLength(1);
    expect(on('127.0.13.65', 'udp', 5678)).toMatchObject({ service: 'mndp', ...routerOs, facts: { identity: 'gw-lab' } });

    expect(on('127.0.13.66', 'tcp', 3306)).toMatchObject({ product: 'MariaDB', version: '10.11.6', distro: '0+deb12u1' });
    expect(on('127.0.13.66', 'tcp', 5432)).toMatchObject({ product: 'PostgreSQL', evidence: "SSLRequest answered 'N'" });
    expect(on('127.0.13.66', 'tcp', 5432)?.version).toBeUndefined();
    expect(postgres.received.find((bytes) => bytes.length > 0)).toEqual(SSL_REQUEST);
    expect(on('127.0.13.66', 'tcp', 25)).toMatchObject({ service: 'smtp', product: 'Exim', version: '4.96' });
    expect(on('127.0.13.66', 'tcp', 110)).toMatchObject({ service: 'pop3', product: 'Dovecot' });
    expect(on('127.0.13.66', 'tcp', 143)).toMatchObject({ service: 'imap', product: 'Dovecot' });
  });
});
