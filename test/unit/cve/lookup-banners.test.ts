import { describe, expect, it } from 'vitest';
import { readBannerLine } from '../../../src/agent/scan/probes/banner-line.js';
import { parseGreeting } from '../../../src/agent/scan/probes/banner.js';
import { parseMysqlHandshake } from '../../../src/agent/scan/probes/mysql.js';
import { CveError } from '../../../src/cve/errors.js';
import { parseLookup } from '../../../src/cve/lookup.js';

const lookup = (query: string) => parseLookup(query, readBannerLine);

function handshake(serverVersion: string): Buffer {
  const body = Buffer.concat([Buffer.from([10]), Buffer.from(`${serverVersion}\0`, 'latin1'), Buffer.from([8, 0, 0, 0]), Buffer.from('12345678\0')]);
  const header = Buffer.alloc(4);
  header.writeUIntLE(body.length, 0, 3);
  return Buffer.concat([header, body]);
}

describe('lookup reads what a scanner sees', () => {
  // Banners of Debian 12 daemons (the lab's packages on this machine and Debian builds of the rest), as the probes capture them.
  it.each([
    ['SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3', 'SSH identification', { product: 'OpenSSH', version: '9.2', update: 'p1', distro: 'Debian-2+deb12u3' }],
    ['Server: nginx/1.22.1', 'HTTP Server header', { product: 'nginx', version: '1.22.1' }],
    ['Server: lighttpd/1.4.69', 'HTTP Server header', { product: 'lighttpd', version: '1.4.69' }],
    ['Server: Apache/2.4.62 (Debian)', 'HTTP Server header', { product: 'Apache httpd', version: '2.4.62', distro: 'Debian' }],
    ['220 (vsFTPd 3.0.3)', 'FTP/SMTP greeting', { product: 'vsftpd', version: '3.0.3' }],
    ['220 ProFTPD 1.3.8 Server (Debian) [::ffff:127.0.65.9]', 'FTP/SMTP greeting', { product: 'ProFTPD', version: '1.3.8', distro: 'Debian' }],
    ['220 mail.example ESMTP Exim 4.96 Sat, 05 Dec 2026 04:00:00 +0000', 'FTP/SMTP greeting', { product: 'Exim', version: '4.96' }],
    ['redis_version:7.0.15', 'Redis INFO line', { product: 'Redis', version: '7.0.15' }],
    ['dnsmasq-2.90', 'DNS version.bind answer', { product: 'dnsmasq', version: '2.90' }],
    ['unbound 1.17.1', 'DNS version.bind answer', { product: 'Unbound', version: '1.17.1' }],
    ['versionTag: 5.9.3', 'Net-SNMP versionTag', { product: 'Net-SNMP', version: '5.9.3' }],
    ['5.5.5-10.11.6-MariaDB-0+deb12u1', 'MySQL/MariaDB handshake version', { product: 'MariaDB', version: '10.11.6', distro: '0+deb12u1' }],
    ['8.0.36-0ubuntu0.22.04.1', 'MySQL/MariaDB handshake version', { product: 'MySQL', version: '8.0.36', distro: '0ubuntu0.22.04.1' }],
  ])('%s', (banner, shape, service) => {
    expect(lookup(banner)).toEqual({ kind: 'banner', shape, service: expect.objectContaining(service) as unknown });
  });

  it('reads the MariaDB handshake string as 10.11.6, the way the probe reads the handshake itself', () => {
    const query = lookup('5.5.5-10.11.6-MariaDB-0+deb12u1');
    expect(query.kind === 'banner' && query.service.version).toBe('10.11.6');
    const probe = parseMysqlHandshake(handshake('5.5.5-10.11.6-MariaDB-0+deb12u1'));
    expect(query.kind === 'banner' && query.service).toMatchObject({ product: probe?.product, version: probe?.version, distro: probe?.distro });
  });

  it('reads a 220 greeting the way the greeting probe does on an unknown port', () => {
    for (const line of ['220 mail.example ESMTP Exim 4.96', '220 (vsFTPd 3.0.3)', '220 ProFTPD 1.3.8 Server (Debian)']) {
      const probe = parseGreeting(Buffer.from(`${line}\r\n`), 2525);
      const query = lookup(line);
      expect(query.kind === 'banner' && query.service, line).toMatchObject({ product: probe?.product, version: probe?.version });
    }
  });

  it('keeps CPE names and "<product> <version>" as they were', () => {
    expect(lookup('cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*')).toEqual({ kind: 'cpe', cpe: 'cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*' });
    expect(lookup('openssh 9.2p1')).toEqual({ kind: 'service', service: { product: 'openssh', version: '9.2p1' } });
    expect(lookup('OpenSSH_9.2p1 Debian-2+deb12u3')).toEqual({ kind: 'service', service: { product: 'OpenSSH', version: '9.2p1 Debian-2+deb12u3' } });
    expect(lookup('routeros 7.1rc1 long-term')).toMatchObject({ kind: 'service', service: { product: 'routeros' } });
  });

  it('says in one line what a banner lacks', () => {
    expect(() => lookup('220 mail.example ESMTP Postfix (Debian/GNU)')).toThrow(
      new CveError('CVE_ERR_LOOKUP_INVALID', '"220 mail.example ESMTP Postfix (Debian/GNU)" (FTP/SMTP greeting) names Postfix but not its version'),
    );
    expect(() => lookup('SSH-2.0-ROSSSH')).toThrow(/names MikroTik RouterOS SSH but not its version/);
    expect(() => lookup('220 Service ready')).toThrow(/\(FTP\/SMTP greeting\) names no product/);
    expect(() => lookup('Server: ')).toThrow(/neither a CPE 2\.3 name, a banner, nor/);
  });
});
