import { describe, expect, it } from 'vitest';
import { routerOsCpe, serviceCandidates, serviceCpe, type DetectedService } from '../../../src/cve/services.js';
import { parseRouterOsVersion } from '../../../src/shared/routeros-version.js';

/** cve/ alone names what a probe or the router saw; probes report product, version, update, channel, distro. */
const noDatabase = () => [];

describe('serviceCandidates: every product text the probes report', () => {
  it.each<[DetectedService, string[]]>([
    [{ product: 'OpenSSH', version: '9.2', update: 'p1', distro: 'Debian-2+deb12u3' }, ['cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*']],
    [{ product: 'OpenSSH', version: '9.3', vendor: 'OpenBSD' }, ['cpe:2.3:a:openbsd:openssh:9.3:-:*:*:*:*:*:*']],
    [{ product: 'Dropbear SSH', version: '2022.83' }, ['cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.83:*:*:*:*:*:*:*']],
    [{ product: 'libssh', version: '0.9.6' }, ['cpe:2.3:a:libssh:libssh:0.9.6:*:*:*:*:*:*:*']],
    // The probe's vendor is display only: older nginx CVEs are filed under nginx:nginx.
    [{ product: 'nginx', version: '1.13.2', vendor: 'F5' }, ['cpe:2.3:a:f5:nginx:1.13.2:*:*:*:*:*:*:*', 'cpe:2.3:a:nginx:nginx:1.13.2:*:*:*:*:*:*:*']],
    [{ product: 'lighttpd', version: '1.4.59' }, ['cpe:2.3:a:lighttpd:lighttpd:1.4.59:*:*:*:*:*:*:*']],
    [{ product: 'Apache httpd', version: '2.4.57', vendor: 'Apache', distro: 'Debian' }, ['cpe:2.3:a:apache:http_server:2.4.57:*:*:*:*:*:*:*']],
    [{ product: 'Microsoft IIS', version: '10.0', vendor: 'Microsoft' }, ['cpe:2.3:a:microsoft:internet_information_services:10.0:*:*:*:*:*:*:*']],
    [{ product: 'vsftpd', version: '3.0.3' }, ['cpe:2.3:a:vsftpd_project:vsftpd:3.0.3:*:*:*:*:*:*:*', 'cpe:2.3:a:beasts:vsftpd:3.0.3:*:*:*:*:*:*:*']],
    [{ product: 'ProFTPD', version: '1.3.5b' }, ['cpe:2.3:a:proftpd:proftpd:1.3.5b:*:*:*:*:*:*:*']],
    [{ product: 'Pure-FTPd', version: '1.0.49' }, ['cpe:2.3:a:pureftpd:pure-ftpd:1.0.49:*:*:*:*:*:*:*']],
    [{ product: 'Exim', version: '4.96' }, ['cpe:2.3:a:exim:exim:4.96:*:*:*:*:*:*:*']],
    [{ product: 'Sendmail', version: '8.15.2', distro: '8.15.2' }, ['cpe:2.3:a:sendmail:sendmail:8.15.2:*:*:*:*:*:*:*']],
    [{ product: 'Postfix', version: '3.7.6' }, ['cpe:2.3:a:postfix:postfix:3.7.6:*:*:*:*:*:*:*']],
    [{ product: 'Dovecot', version: '2.3.19' }, ['cpe:2.3:a:dovecot:dovecot:2.3.19:*:*:*:*:*:*:*']],
    [{ product: 'MariaDB', version: '10.11.6' }, ['cpe:2.3:a:mariadb:mariadb:10.11.6:*:*:*:*:*:*:*']],
    [{ product: 'MySQL', version: '8.0.35', vendor: 'Oracle' }, ['cpe:2.3:a:oracle:mysql:8.0.35:*:*:*:*:*:*:*']],
    [{ product: 'Redis', version: '7.0.15' }, ['cpe:2.3:a:redis:redis:7.0.15:*:*:*:*:*:*:*']],
    [{ product: 'PostgreSQL', version: '15.5' }, ['cpe:2.3:a:postgresql:postgresql:15.5:*:*:*:*:*:*:*']],
    [{ product: 'dnsmasq', version: '2.89' }, ['cpe:2.3:a:thekelleys:dnsmasq:2.89:*:*:*:*:*:*:*']],
    [{ product: 'ISC BIND', version: '9.16.8-S1', vendor: 'ISC' }, ['cpe:2.3:a:isc:bind:9.16.8:s1:*:*:supported_preview:*:*:*']],
    [{ product: 'ISC BIND', version: '9.12.4-P1', vendor: 'ISC' }, ['cpe:2.3:a:isc:bind:9.12.4:p1:*:*:-:*:*:*']],
    [{ product: 'ISC BIND', version: '9.18.28', distro: '1~deb12u2-Debian' }, ['cpe:2.3:a:isc:bind:9.18.28:*:*:*:-:*:*:*']],
    [{ product: 'Unbound', version: '1.17.1' }, ['cpe:2.3:a:nlnetlabs:unbound:1.17.1:*:*:*:*:*:*:*']],
    [{ product: 'Net-SNMP', version: '5.9' }, ['cpe:2.3:a:net-snmp:net-snmp:5.9:*:*:*:*:*:*:*']],
    [{ product: 'MikroTik RouterOS', version: '6.40.8', channel: 'bugfix', vendor: 'MikroTik' }, ['cpe:2.3:o:mikrotik:routeros:6.40.8:-:*:*:ltr:*:*:*']],
    [{ product: 'MikroTik RouterOS', version: '6.49.7', channel: 'ltr' }, ['cpe:2.3:o:mikrotik:routeros:6.49.7:-:*:*:ltr:*:*:*']],
    [{ product: 'RouterOS', version: '7.1beta4', channel: 'development' }, ['cpe:2.3:o:mikrotik:routeros:7.1:beta4:*:*:testing:*:*:*']],
    [{ product: 'RouterOS', version: '7.1beta4 (development)' }, ['cpe:2.3:o:mikrotik:routeros:7.1:beta4:*:*:testing:*:*:*']],
    [{ product: 'RouterOS', version: '6.40.8 (bugfix)' }, ['cpe:2.3:o:mikrotik:routeros:6.40.8:-:*:*:ltr:*:*:*']],
    [{ product: 'RouterOS', version: '7.15.1 (stable) 2024-06-07 12:49:11' }, ['cpe:2.3:o:mikrotik:routeros:7.15.1:-:*:*:-:*:*:*']],
    [{ product: 'RouterOS', version: 'v7.12.1 (stable)' }, ['cpe:2.3:o:mikrotik:routeros:7.12.1:-:*:*:-:*:*:*']],
    [{ product: 'MikroTik RouterOS', version: '7.16rc2' }, ['cpe:2.3:o:mikrotik:routeros:7.16:rc2:*:*:testing:*:*:*']],
    [{ product: 'RouterOS', version: '6.44' }, ['cpe:2.3:o:mikrotik:routeros:6.44:-:*:*:*:*:*:*']],
    [{ product: 'RouterOS', version: '7.20', channel: 'frobnicate' }, ['cpe:2.3:o:mikrotik:routeros:7.20:-:*:*:*:*:*:*']],
    // Not a RouterOS version: no name rather than a garbage one.
    [{ product: 'RouterOS', version: 'unknown' }, []],
    [{ product: 'unheard-of', version: '1.0' }, []],
  ])('%o -> %o', (service, cpes) => {
    expect(serviceCandidates(service, noDatabase).cpes).toEqual(cpes);
  });

  it('uses a vendor only to narrow what the database knows of a product the rules do not', () => {
    const vendors = (product: string) =>
      product === 'squid'
        ? [
            { vendor: 'squid-cache', part: 'a' },
            { vendor: 'other', part: 'a' },
          ]
        : [];
    expect(serviceCandidates({ product: 'Squid', version: '6.6' }, vendors).cpes).toEqual([
      'cpe:2.3:a:squid-cache:squid:6.6:*:*:*:*:*:*:*',
      'cpe:2.3:a:other:squid:6.6:*:*:*:*:*:*:*',
    ]);
    expect(serviceCandidates({ product: 'Squid', version: '6.6', vendor: 'squid-cache' }, vendors).cpes).toEqual([
      'cpe:2.3:a:squid-cache:squid:6.6:*:*:*:*:*:*:*',
    ]);
  });
});

describe('serviceCpe: the one name a service is listed under', () => {
  it.each<[Partial<DetectedService>, string | null]>([
    [{ product: 'nginx', version: '1.13.2', vendor: 'F5' }, 'cpe:2.3:a:f5:nginx:1.13.2:*:*:*:*:*:*:*'],
    [{ product: 'MikroTik RouterOS', version: '7.16rc2', channel: 'testing' }, 'cpe:2.3:o:mikrotik:routeros:7.16:rc2:*:*:testing:*:*:*'],
    [{ product: 'nginx' }, null],
    [{ version: '1.0' }, null],
    [{ product: 'PowerDNS Recursor', version: '4.8.4' }, null],
  ])('%o -> %s', (service, cpe) => {
    expect(serviceCpe(service)).toBe(cpe);
  });
});

describe('routerOsCpe', () => {
  it.each([
    ['6.48.6 (long-term)', 'cpe:2.3:o:mikrotik:routeros:6.48.6:-:*:*:ltr:*:*:*'],
    ['6.40.8 (bugfix)', 'cpe:2.3:o:mikrotik:routeros:6.40.8:-:*:*:ltr:*:*:*'],
    ['6.49.7 (ltr)', 'cpe:2.3:o:mikrotik:routeros:6.49.7:-:*:*:ltr:*:*:*'],
    ['7.15.1 (stable) 2024-06-07 12:49:11', 'cpe:2.3:o:mikrotik:routeros:7.15.1:-:*:*:-:*:*:*'],
    ['7.12.1 (Stable)', 'cpe:2.3:o:mikrotik:routeros:7.12.1:-:*:*:-:*:*:*'],
    ['v7.12.1 (stable)', 'cpe:2.3:o:mikrotik:routeros:7.12.1:-:*:*:-:*:*:*'],
    ['6.38.5 (current)', 'cpe:2.3:o:mikrotik:routeros:6.38.5:-:*:*:-:*:*:*'],
    ['7.16rc2 (testing)', 'cpe:2.3:o:mikrotik:routeros:7.16:rc2:*:*:testing:*:*:*'],
    ['7.1beta4 (development)', 'cpe:2.3:o:mikrotik:routeros:7.1:beta4:*:*:testing:*:*:*'],
    ['7.16rc2', 'cpe:2.3:o:mikrotik:routeros:7.16:rc2:*:*:testing:*:*:*'],
    ['"5.0rc1"', 'cpe:2.3:o:mikrotik:routeros:5.0:rc1:*:*:testing:*:*:*'],
    ['6.44', 'cpe:2.3:o:mikrotik:routeros:6.44:-:*:*:*:*:*:*'],
    ['7.4', 'cpe:2.3:o:mikrotik:routeros:7.4:-:*:*:*:*:*:*'],
    ['7.20 (frobnicate)', 'cpe:2.3:o:mikrotik:routeros:7.20:-:*:*:*:*:*:*'],
    ['7.1.1.1', 'cpe:2.3:o:mikrotik:routeros:7.1.1.1:-:*:*:*:*:*:*'],
  ])('%s -> %s', (text, cpe) => {
    expect(routerOsCpe(parseRouterOsVersion(text)!)).toBe(cpe);
  });
});
