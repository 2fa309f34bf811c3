import { describe, expect, it } from 'vitest';
import { isDistroRevision, splitDistroRevision } from '../../../src/cve/distro.js';
import { parseLookup } from '../../../src/cve/lookup.js';
import { pickScore, type CveMetric } from '../../../src/cve/record.js';
import { serviceCandidates } from '../../../src/cve/services.js';

const noDatabase = () => [];

describe('splitDistroRevision', () => {
  it.each([
    ['9.2p1 Debian-2+deb12u3', '9.2p1', 'Debian-2+deb12u3'],
    ['8.9p1 Ubuntu-3ubuntu0.10', '8.9p1', 'Ubuntu-3ubuntu0.10'],
    ['2.4.57 (Debian)', '2.4.57', '(Debian)'],
    ['2.4.52 (Ubuntu)', '2.4.52', '(Ubuntu)'],
    ['2022.83-1+deb12u1', '2022.83', '1+deb12u1'],
    ['9.18.28-1~deb12u2-Debian', '9.18.28', '1~deb12u2-Debian'],
    ['1.2.3-0ubuntu1', '1.2.3', '0ubuntu1'],
    ['2.4.37 (Red Hat Enterprise Linux)', '2.4.37', '(Red Hat Enterprise Linux)'],
    ['4.2.3-1.el9', '4.2.3', '1.el9'],
    ['9.16.8-S1', '9.16.8-S1', undefined],
    ['7.1rc1', '7.1rc1', undefined],
    ['1.0.2k-fips', '1.0.2k-fips', undefined],
  ])('%s -> %s + %s', (text, upstream, distro) => {
    expect(splitDistroRevision(text)).toEqual({ upstream, distro });
  });

  it('knows a distribution revision when it sees one', () => {
    expect(isDistroRevision('Debian-2+deb12u3')).toBe(true);
    expect(isDistroRevision('0+deb12u1')).toBe(true);
    expect(isDistroRevision('(Ubuntu)')).toBe(true);
    expect(isDistroRevision(undefined)).toBe(false);
    expect(isDistroRevision('')).toBe(false);
  });
});

describe('serviceCandidates', () => {
  it.each([
    [{ product: 'OpenSSH', version: '9.2p1' }, ['cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*']],
    [{ product: 'OpenSSH', version: '9.3' }, ['cpe:2.3:a:openbsd:openssh:9.3:-:*:*:*:*:*:*']],
    [{ product: 'nginx', version: '1.24.0' }, ['cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*', 'cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*']],
    [{ product: 'BIND', version: '9.16.8-S1' }, ['cpe:2.3:a:isc:bind:9.16.8:s1:*:*:supported_preview:*:*:*']],
    [{ product: 'bind', version: '9.18.24' }, ['cpe:2.3:a:isc:bind:9.18.24:*:*:*:-:*:*:*']],
    [{ product: 'ProFTPD', version: '1.3.5b' }, ['cpe:2.3:a:proftpd:proftpd:1.3.5b:*:*:*:*:*:*:*']],
    [{ product: 'ProFTPD', version: '1.3.6rc2' }, ['cpe:2.3:a:proftpd:proftpd:1.3.6:rc2:*:*:*:*:*:*']],
    [{ product: 'Dropbear sshd', version: '2022.83' }, ['cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.83:*:*:*:*:*:*:*']],
    [{ product: 'RouterOS', version: '7.1beta4' }, ['cpe:2.3:o:mikrotik:routeros:7.1:beta4:*:*:testing:*:*:*']],
    [{ product: 'RouterOS', version: '6.48.6 (long-term)' }, ['cpe:2.3:o:mikrotik:routeros:6.48.6:-:*:*:ltr:*:*:*']],
    [{ product: 'RouterOS', version: '7.12.1' }, ['cpe:2.3:o:mikrotik:routeros:7.12.1:-:*:*:*:*:*:*']],
    [{ product: 'Microsoft-IIS', version: '10.0' }, ['cpe:2.3:a:microsoft:internet_information_services:10.0:*:*:*:*:*:*:*']],
  ])('%o -> %o', (service, cpes) => {
    expect(serviceCandidates(service, noDatabase).cpes).toEqual(cpes);
  });

  it('takes the distribution revision from the version text or the service', () => {
    expect(serviceCandidates({ product: 'OpenSSH', version: '9.2p1 Debian-2+deb12u3' }, noDatabase)).toMatchObject({
      distro: 'Debian-2+deb12u3',
      version: '9.2p1',
    });
    expect(serviceCandidates({ product: 'OpenSSH', version: '9.2p1', distro: 'Ubuntu-3ubuntu0.10' }, noDatabase).distro).toBe('Ubuntu-3ubuntu0.10');
  });

  it('asks the database for a product the rules do not know, and honours a given vendor', () => {
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
    expect(serviceCandidates({ product: 'unheard-of', version: '1.0' }, vendors).cpes).toEqual([]);
  });
});

describe('parseLookup', () => {
  it.each([
    ['openssh 9.2p1', { product: 'openssh', version: '9.2p1' }],
    ['OpenSSH_9.2p1 Debian-2+deb12u3', { product: 'OpenSSH', version: '9.2p1 Debian-2+deb12u3' }],
    ['Apache/2.4.57 (Debian)', { product: 'Apache', version: '2.4.57 (Debian)' }],
    ['apache http server 2.4.49', { product: 'apache http server', version: '2.4.49' }],
    ['routeros v7.1rc1', { product: 'routeros', version: '7.1rc1' }],
  ])('%s', (query, service) => {
    expect(parseLookup(query)).toEqual({ kind: 'service', service });
  });

  it('passes a CPE through and refuses text without a version', () => {
    expect(parseLookup(' cpe:2.3:a:openbsd:openssh:9.2 ')).toEqual({ kind: 'cpe', cpe: 'cpe:2.3:a:openbsd:openssh:9.2' });
    expect(() => parseLookup('openssh')).toThrow(expect.objectContaining({ code: 'CVE_ERR_LOOKUP_INVALID' }));
  });
});

describe('pickScore', () => {
  const metric = (version: CveMetric['version'], type: CveMetric['type'], score: number): CveMetric => ({
    version,
    type,
    score,
    source: type === 'Primary' ? 'nvd@nist.gov' : 'cna',
    severity: null,
    vector: `v${version}`,
  });

  it('prefers the Primary score, v3.1 then v3.0 then v4.0 then v2, over any Secondary one', () => {
    // metrics arrive in version order (record.ts collects them so)
    expect(pickScore([metric('3.1', 'Secondary', 9), metric('3.0', 'Primary', 7), metric('2.0', 'Primary', 5)])).toMatchObject({ version: '3.0', score: 7 });
    expect(pickScore([metric('3.1', 'Primary', 8), metric('3.0', 'Primary', 7)])).toMatchObject({ version: '3.1' });
    expect(pickScore([metric('4.0', 'Primary', 6), metric('2.0', 'Primary', 5)])).toMatchObject({ version: '4.0' });
    expect(pickScore([metric('3.1', 'Secondary', 9), metric('4.0', 'Secondary', 6)])).toMatchObject({ version: '3.1', type: 'Secondary' });
    expect(pickScore([])).toBeNull();
  });
});
