import { describe, expect, it } from 'vitest';
import { parseGreeting } from '../../../src/agent/scan/probes/banner.js';
import { parseFtpBanner } from '../../../src/agent/scan/probes/ftp.js';
import { parseImapGreeting } from '../../../src/agent/scan/probes/imap.js';
import { parseMysqlHandshake } from '../../../src/agent/scan/probes/mysql.js';
import { parsePop3Greeting } from '../../../src/agent/scan/probes/pop3.js';
import { parseSmtpGreeting } from '../../../src/agent/scan/probes/smtp.js';
import { parseSshIdentification } from '../../../src/agent/scan/probes/ssh.js';
import { confidence, MAX_EVIDENCE_CHARS } from '../../../src/agent/scan/service.js';

describe('SSH identification strings', () => {
  it.each([
    ['SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n', { product: 'OpenSSH', version: '9.2', update: 'p1', distro: 'Debian-2+deb12u3' }],
    ['SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n', { product: 'OpenSSH', version: '8.9', update: 'p1', distro: 'Ubuntu-3ubuntu0.6' }],
    // OpenBSD's own release has no pN: NVD writes update "-" (not applicable).
    ['SSH-2.0-OpenSSH_9.3\r\n', { product: 'OpenSSH', version: '9.3', update: undefined }],
    ['SSH-2.0-dropbear_2022.83\r\n', { product: 'Dropbear SSH', version: '2022.83' }],
    ['SSH-2.0-libssh_0.9.6\r\n', { product: 'libssh', version: '0.9.6' }],
  ])('%s', (banner, expected) => {
    const found = parseSshIdentification(banner);
    expect(found).toMatchObject({
      service: 'ssh',
      confidence: confidence.exactBanner,
      ...Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined)),
    });
    if (!('update' in expected && expected.update)) expect(found?.update).toBeUndefined();
    expect(found?.evidence).toBe(banner.trim());
  });

  it('names RouterOS and other servers without inventing a version', () => {
    expect(parseSshIdentification('SSH-2.0-ROSSSH\r\n')).toMatchObject({ product: 'MikroTik RouterOS SSH', confidence: confidence.productOnly });
    expect(parseSshIdentification('SSH-2.0-ROSSSH\r\n')?.version).toBeUndefined();
    const cisco = parseSshIdentification('SSH-1.99-Cisco-1.25\r\n');
    expect(cisco).toMatchObject({ product: 'Cisco-1.25', confidence: confidence.productOnly });
    expect(cisco?.version).toBeUndefined();
    expect(cisco).not.toHaveProperty('cpe');
  });

  it('rejects what is not an identification string', () => {
    expect(parseSshIdentification('HTTP/1.1 400 Bad Request\r\n')).toBeNull();
    expect(parseSshIdentification('SSH-garbage')).toBeNull();
  });
});

describe('FTP greetings', () => {
  it.each([
    ['220 (vsFTPd 3.0.3)\r\n', { product: 'vsftpd', version: '3.0.3' }],
    ['220 ProFTPD 1.3.5e Server (Debian) [::ffff:192.0.2.1]\r\n', { product: 'ProFTPD', version: '1.3.5e', distro: 'Debian' }],
    ['220 MikroTik FTP server (MikroTik 6.49.7) ready\r\n', { product: 'MikroTik RouterOS', version: '6.49.7' }],
  ])('%s', (banner, expected) => {
    expect(parseFtpBanner(banner)).toMatchObject({ service: 'ftp', confidence: confidence.exactBanner, ...expected });
  });

  it.each([
    ['220 ProFTPD Server (ProFTPD Default Installation) [192.0.2.1]\r\n', 'ProFTPD'],
    [
      '220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n220-You are user number 1 of 50 allowed.\r\n220 This is a private system.\r\n',
      'Pure-FTPd',
    ],
    ['220 Microsoft FTP Service\r\n', 'Microsoft IIS FTP'],
    ['500 OOPS: vsftpd: both local and anonymous access disabled!\r\n', 'vsftpd'],
  ])('%s names the product without a version', (banner, product) => {
    const found = parseFtpBanner(banner);
    expect(found).toMatchObject({ service: 'ftp', product, confidence: confidence.productOnly });
    expect(found?.version).toBeUndefined();
    expect(found).not.toHaveProperty('cpe');
  });
});

describe('mail greetings', () => {
  it('reads Exim and Sendmail versions, and Postfix without one', () => {
    expect(parseSmtpGreeting('220 mail.example.org ESMTP Exim 4.96 Mon, 01 Dec 2025 10:00:00 +0000\r\n')).toMatchObject({
      product: 'Exim',
      version: '4.96',
    });
    expect(parseSmtpGreeting('220 host.example.org ESMTP Sendmail 8.15.2/8.15.2/Debian-22; Mon, 1 Dec 2025 10:00:00 GMT\r\n')).toMatchObject({
      product: 'Sendmail',
      version: '8.15.2',
      distro: 'Debian-22',
    });
    const postfix = parseSmtpGreeting('220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n');
    expect(postfix).toMatchObject({ product: 'Postfix', distro: 'Debian/GNU', confidence: confidence.productOnly });
    expect(postfix?.version).toBeUndefined();
  });

  it('reads Dovecot over POP3 and IMAP', () => {
    expect(parsePop3Greeting('+OK Dovecot (Debian) ready.\r\n')).toMatchObject({ service: 'pop3', product: 'Dovecot', distro: 'Debian' });
    expect(
      parseImapGreeting('* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n'),
    ).toMatchObject({ service: 'imap', product: 'Dovecot', distro: 'Debian' });
    expect(parsePop3Greeting('+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n')).toMatchObject({ service: 'pop3', confidence: confidence.protocolOnly });
  });

  it('tells FTP from SMTP by the greeting, then by the port', () => {
    expect(parseGreeting(Buffer.from('220 mx.example.org ESMTP Postfix\r\n'), 21)?.service).toBe('smtp');
    expect(parseGreeting(Buffer.from('220 (vsFTPd 3.0.3)\r\n'), 25)?.service).toBe('ftp');
    expect(parseGreeting(Buffer.from('220 Service ready\r\n'), 21)?.service).toBe('ftp');
    expect(parseGreeting(Buffer.from('220 Service ready\r\n'), 25)?.service).toBe('smtp');
  });
});

function handshake(serverVersion: string): Buffer {
  const body = Buffer.concat([
    Buffer.from([10]),
    Buffer.from(serverVersion, 'latin1'),
    Buffer.from([0]),
    Buffer.from([0x2c, 0, 0, 0]),
    Buffer.from('abcdefgh\0', 'latin1'),
  ]);
  const header = Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, 0, 0]);
  return Buffer.concat([header, body]);
}

describe('MySQL and MariaDB handshakes', () => {
  it('reads MariaDB behind its 5.5.5- prefix, with the Debian build', () => {
    expect(parseMysqlHandshake(handshake('5.5.5-10.11.6-MariaDB-0+deb12u1'))).toMatchObject({
      product: 'MariaDB',
      version: '10.11.6',
      distro: '0+deb12u1',
      evidence: '5.5.5-10.11.6-MariaDB-0+deb12u1',
    });
  });

  it('reads MySQL as Oracle MySQL', () => {
    expect(parseMysqlHandshake(handshake('8.0.36-0ubuntu0.22.04.1'))).toMatchObject({
      product: 'MySQL',
      version: '8.0.36',
      distro: '0ubuntu0.22.04.1',
    });
  });

  it('says "MySQL-compatible, no version" for a host-not-allowed error packet', () => {
    const message = Buffer.from("Host '192.0.2.7' is not allowed to connect to this MariaDB server", 'latin1');
    const body = Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), message]);
    const found = parseMysqlHandshake(Buffer.concat([Buffer.from([body.length, 0, 0, 0]), body]));
    expect(found).toMatchObject({ service: 'mysql', confidence: confidence.protocolOnly });
    expect(found?.version).toBeUndefined();
  });

  it('rejects bytes that only look like a packet', () => {
    expect(parseMysqlHandshake(Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'))).toBeNull();
    expect(parseMysqlHandshake(handshake('not a version'))).toBeNull();
    expect(parseMysqlHandshake(Buffer.from([5, 0, 0, 0, 10]))).toBeNull();
  });
});

describe('evidence', () => {
  it('is bounded and printable whatever the peer sent', () => {
    const flood = parseGreeting(Buffer.concat([Buffer.from('220 '), Buffer.alloc(20_000, 0x41), Buffer.from([0, 1, 2, 0xff]), Buffer.from('\r\n')]), 25);
    expect(flood?.evidence.length).toBeLessThanOrEqual(MAX_EVIDENCE_CHARS);
    expect([...(flood?.evidence ?? '')].every((c) => c.charCodeAt(0) >= 0x20)).toBe(true);
  });
});
