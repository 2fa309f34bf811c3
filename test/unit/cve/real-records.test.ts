import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding, MatchContext } from '../../../src/cve/matcher.js';
import type { DetectedService } from '../../../src/cve/services.js';
import { allRealRecords, ids, knowledgeBase, realRecord, type TestKnowledgeBase } from './fixtures.js';

/**
 * The matcher over the 78 real NVD records: for each product family a version inside and one
 * outside each kind of bound NVD uses (start/end, Including/Excluding, exact lists), as the
 * records have them (data errors included).
 */

let kb: TestKnowledgeBase;
beforeAll(() => {
  kb = knowledgeBase(allRealRecords());
});
afterAll(() => kb.dispose());

function lookup(query: string | DetectedService, context: MatchContext = {}): Finding[] {
  if (typeof query !== 'string') return kb.matcher.matchService(query, context);
  if (query.startsWith('cpe:')) return kb.matcher.matchCpe(query, context);
  const [product = '', ...version] = query.split(' ');
  return kb.matcher.matchService({ product, version: version.join(' ') }, context);
}

function finding(query: string | DetectedService, cve: string, context: MatchContext = {}): Finding | undefined {
  return lookup(query, context).find((entry) => entry.cve_id === cve);
}

type Case = [query: string, cve: string, matches: boolean];

function table(cases: readonly Case[]) {
  it.each(cases)('%s -> %s: %s', (query, cve, matches) => {
    expect(finding(query, cve) !== undefined).toBe(matches);
  });
}

describe('every record went in', () => {
  it('holds all 78 records; the 5 without configurations are kept', () => {
    expect(kb.store.counts()).toMatchObject({ cves: 78, unanalysed: 5, rejected: 0 });
    expect(kb.log.lines().filter((line) => line.msg === 'skipped malformed CVE record')).toEqual([]);
  });
});

describe('OpenSSH', () => {
  table([
    // CVE-2018-15473: versionEndIncluding 7.7
    ['openssh 7.7p1', 'CVE-2018-15473', true],
    ['openssh 7.8p1', 'CVE-2018-15473', false],
    // CVE-2021-41617: versionStartIncluding 6.2, versionEndExcluding 8.8
    ['openssh 6.1p1', 'CVE-2021-41617', false],
    ['openssh 6.2p1', 'CVE-2021-41617', true],
    ['openssh 8.7p1', 'CVE-2021-41617', true],
    ['openssh 8.8p1', 'CVE-2021-41617', false],
    // CVE-2024-6387: < 4.4, 4.4:-, 8.5:p1, 8.6 <= v < 9.8, 9.8:- (so 9.8p1 is fixed)
    ['openssh 4.3p2', 'CVE-2024-6387', true],
    ['openssh 8.4p1', 'CVE-2024-6387', false],
    ['openssh 8.5p1', 'CVE-2024-6387', true],
    ['openssh 9.7p1', 'CVE-2024-6387', true],
    ['openssh 9.8p1', 'CVE-2024-6387', false],
    ['openssh 9.8', 'CVE-2024-6387', true],
    // CVE-2025-26465: 6.9 <= v <= 9.8 plus 9.9:- and 9.9:p1
    ['openssh 9.8p1', 'CVE-2025-26465', true],
    ['openssh 9.9p1', 'CVE-2025-26465', true],
    ['openssh 9.9p2', 'CVE-2025-26465', false],
    ['openssh 6.8p1', 'CVE-2025-26465', true],
    ['openssh 6.7p1', 'CVE-2025-26465', false],
  ]);

  describe('the update attribute (pN of portable releases)', () => {
    table([
      // CVE-2016-6210: openssh:*:p2 up to 7.2 -> only pN = p2 builds
      ['openssh 7.2p2', 'CVE-2016-6210', true],
      ['openssh 7.2p1', 'CVE-2016-6210', false],
      ['openssh 7.3p1', 'CVE-2016-6210', false],
      // CVE-2020-14145: 5.7 <= v < 8.4 plus 8.4:-, 8.5:-, 8.6:- (update NA: the OpenBSD releases)
      ['openssh 8.3p1', 'CVE-2020-14145', true],
      ['openssh 8.4p1', 'CVE-2020-14145', false],
      ['openssh 8.4', 'CVE-2020-14145', true],
      ['openssh 8.6', 'CVE-2020-14145', true],
      ['openssh 8.7', 'CVE-2020-14145', false],
      // CVE-2023-38408: < 9.3 plus 9.3:- and 9.3:p1
      ['openssh 9.3p1', 'CVE-2023-38408', true],
      ['openssh 9.3p2', 'CVE-2023-38408', false],
    ]);

    it("turns the banner form into NVD's version and update", () => {
      const found = finding('openssh 9.3p1', 'CVE-2023-38408');
      expect(found?.cpe).toBe('cpe:2.3:a:openbsd:openssh:9.3:p1:*:*:*:*:*:*');
      expect(found?.matched_criteria).toBe('cpe:2.3:a:openbsd:openssh:9.3:p1:*:*:*:*:*:*');
      expect(found?.version).toBe('9.3');
    });

    it('with the update unknown, still reports an update-specific entry, as an assumption', () => {
      const found = finding('cpe:2.3:a:openbsd:openssh:7.2:*:*:*:*:*:*:*', 'CVE-2016-6210');
      expect(found?.assumptions).toEqual(['assumed update = p2 (the scan did not learn it)']);
      expect(found?.confidence).toBe(0.8);
      expect(found?.confidence_level).toBe('medium');
    });
  });
});

describe('Apache httpd, nginx, lighttpd', () => {
  table([
    // CVE-2017-15715: 2.4.0 <= v <= 2.4.29
    ['apache 2.2.34', 'CVE-2017-15715', false],
    ['apache 2.4.0', 'CVE-2017-15715', true],
    ['apache 2.4.29', 'CVE-2017-15715', true],
    ['apache 2.4.30', 'CVE-2017-15715', false],
    // CVE-2022-31813: < 2.4.54
    ['httpd 2.4.53', 'CVE-2022-31813', true],
    ['httpd 2.4.54', 'CVE-2022-31813', false],
    // exact versions
    ['apache 2.4.49', 'CVE-2021-41773', true],
    ['apache 2.4.50', 'CVE-2021-41773', false],
    ['apache 2.4.50', 'CVE-2021-42013', true],
    ['apache 2.4.51', 'CVE-2021-42013', false],
    // CVE-2013-2028 (f5:nginx): 1.3.9 <= v <= 1.4.0
    ['nginx 1.3.8', 'CVE-2013-2028', false],
    ['nginx 1.3.9', 'CVE-2013-2028', true],
    ['nginx 1.4.0', 'CVE-2013-2028', true],
    ['nginx 1.4.1', 'CVE-2013-2028', false],
    // CVE-2021-23017: 0.6.18 <= v < 1.20.1
    ['nginx 0.6.17', 'CVE-2021-23017', false],
    ['nginx 1.20.0', 'CVE-2021-23017', true],
    ['nginx 1.20.1', 'CVE-2021-23017', false],
    // CVE-2017-7529: NVD includes 1.12.1 (the fixed release) and 1.13.0-1.13.2: matched as the data says
    ['nginx 1.12.1', 'CVE-2017-7529', true],
    ['nginx 1.12.2', 'CVE-2017-7529', false],
    // CVE-2018-19052: < 1.4.50; CVE-2022-22707: 1.4.46 <= v <= 1.4.63
    ['lighttpd 1.4.49', 'CVE-2018-19052', true],
    ['lighttpd 1.4.50', 'CVE-2018-19052', false],
    ['lighttpd 1.4.45', 'CVE-2022-22707', false],
    ['lighttpd 1.4.46', 'CVE-2022-22707', true],
    ['lighttpd 1.4.63', 'CVE-2022-22707', true],
    ['lighttpd 1.4.64', 'CVE-2022-22707', false],
  ]);
});

describe('FTP: vsftpd and ProFTPD (letters in versions)', () => {
  table([
    ['vsftpd 2.3.4', 'CVE-2011-2523', true],
    ['vsftpd 2.3.5', 'CVE-2011-2523', false],
    ['vsftpd 3.0.2', 'CVE-2015-1419', true],
    ['vsftpd 3.0.3', 'CVE-2015-1419', false],
    ['vsftpd 3.0.3', 'CVE-2021-30047', true],
    // CVE-2019-12815: versionEndIncluding 1.3.5b
    ['proftpd 1.3.5b', 'CVE-2019-12815', true],
    ['proftpd 1.3.5c', 'CVE-2019-12815', false],
    // CVE-2020-9272: versionEndExcluding 1.3.6c (the text says 1.3.7: the data wins)
    ['proftpd 1.3.6b', 'CVE-2020-9272', true],
    ['proftpd 1.3.6c', 'CVE-2020-9272', false],
    // CVE-2023-51713: versionEndExcluding 1.3.8a
    ['proftpd 1.3.8', 'CVE-2023-51713', true],
    ['proftpd 1.3.8a', 'CVE-2023-51713', false],
    // CVE-2015-3306 and CVE-2020-9273: exact versions
    ['proftpd 1.3.5', 'CVE-2015-3306', true],
    ['proftpd 1.3.5a', 'CVE-2015-3306', false],
    ['proftpd 1.3.7', 'CVE-2020-9273', true],
  ]);
});

describe('mail: Exim and Postfix', () => {
  table([
    // CVE-2018-6789: < 4.90.1 (four parts)
    ['exim 4.90', 'CVE-2018-6789', true],
    ['exim 4.90.1', 'CVE-2018-6789', false],
    // CVE-2019-10149: 4.87 <= v <= 4.91
    ['exim 4.86', 'CVE-2019-10149', false],
    ['exim 4.87', 'CVE-2019-10149', true],
    ['exim 4.91', 'CVE-2019-10149', true],
    ['exim 4.92', 'CVE-2019-10149', false],
    // CVE-2020-28017: < 4.94.1 while the text says 4.94.2
    ['exim 4.94', 'CVE-2020-28017', true],
    ['exim 4.94.1', 'CVE-2020-28017', false],
    // CVE-2011-1720: 109 enumerated versions; 2.3 and 2.3.0 are the same release
    ['postfix 2.7.3', 'CVE-2011-1720', true],
    ['postfix 2.3', 'CVE-2011-1720', true],
    ['postfix 2.5.13', 'CVE-2011-1720', false],
    ['postfix 2.7.4', 'CVE-2011-1720', false],
    ['postfix 2.8.3', 'CVE-2011-1720', false],
    // CVE-2023-51764: four branches
    ['postfix 3.5.22', 'CVE-2023-51764', true],
    ['postfix 3.5.23', 'CVE-2023-51764', false],
    ['postfix 3.6.12', 'CVE-2023-51764', true],
    ['postfix 3.6.13', 'CVE-2023-51764', false],
  ]);

  it('takes the fixed release from the nearest versionEndExcluding of the branch', () => {
    expect(finding('postfix 3.6.5', 'CVE-2023-51764')?.fixed_in).toBe('3.6.13');
    expect(finding('postfix 3.7.0', 'CVE-2023-51764')?.fixed_in).toBe('3.7.9');
    expect(finding('postfix 3.5.1', 'CVE-2023-51764')?.fixed_in).toBe('3.5.23');
    // An EndIncluding range names no fixed release.
    expect(finding('exim 4.90', 'CVE-2019-10149')?.fixed_in).toBeNull();
    expect(finding('exim 4.90', 'CVE-2019-10149')?.advice.actions[0]).toBe('Upgrade exim to a release later than 4.91.');
  });
});

describe('DNS: dnsmasq and ISC BIND', () => {
  table([
    ['dnsmasq 2.82', 'CVE-2020-25681', true],
    ['dnsmasq 2.83', 'CVE-2020-25681', false],
    ['dnsmasq 2.77', 'CVE-2017-14491', true],
    ['dnsmasq 2.78', 'CVE-2017-14491', false],
    ['dnsmasq 2.89', 'CVE-2023-28450', true],
    ['dnsmasq 2.90', 'CVE-2023-28450', false],
    // CVE-2023-3341: 9.18.0 <= v < 9.18.19 (standard edition, sw_edition NA) and supported-preview builds
    ['bind 9.18.18', 'CVE-2023-3341', true],
    ['bind 9.18.19', 'CVE-2023-3341', false],
    ['bind 9.17.22', 'CVE-2023-3341', false],
    // CVE-2021-25216: supported-preview builds listed one by one
    ['bind 9.16.8-S1', 'CVE-2021-25216', true],
    ['bind 9.16.9-S1', 'CVE-2021-25216', false],
    // …and 9.12.0 <= v < 9.16.15 for the standard edition
    ['bind 9.16.14', 'CVE-2021-25216', true],
    ['bind 9.16.15', 'CVE-2021-25216', false],
    // CVE-2020-8617: 9.12.4-P1 and -P2 patch releases, exact
    ['bind 9.12.4-P2', 'CVE-2020-8617', true],
  ]);

  it('matches a standard BIND release without assuming its edition', () => {
    expect(finding('bind 9.18.18', 'CVE-2023-3341')).toMatchObject({ confidence: 1, assumptions: [], fixed_in: '9.18.19' });
  });
});

describe('Dropbear (date versions), Samba, OpenSSL, IIS, MariaDB, Redis, WinBox', () => {
  table([
    ['dropbear 2016.73', 'CVE-2016-7406', true],
    ['dropbear 2016.74', 'CVE-2016-7406', false],
    ['dropbear 2019.78', 'CVE-2020-36254', true],
    ['dropbear 2020.79', 'CVE-2020-36254', false],
    // CVE-2017-7494: 3.5.0 <= v < 4.4.0, 4.4.0 <= v < 4.4.14, …
    ['samba 3.4.17', 'CVE-2017-7494', false],
    ['samba 3.5.0', 'CVE-2017-7494', true],
    ['samba 4.4.13', 'CVE-2017-7494', true],
    ['samba 4.4.14', 'CVE-2017-7494', false],
    ['samba 4.6.3', 'CVE-2017-7494', true],
    ['samba 4.6.4', 'CVE-2017-7494', false],
    ['openssl 3.0.6', 'CVE-2022-3602', true],
    ['openssl 3.0.7', 'CVE-2022-3602', false],
    ['openssl 1.1.1k', 'CVE-2022-3602', false],
    ['iis 7.5', 'CVE-2010-3972', true],
    ['iis 8.0', 'CVE-2010-3972', false],
    ['mariadb 10.4.21', 'CVE-2022-27385', true],
    ['mariadb 10.4.22', 'CVE-2022-27385', false],
    ['redis 7.0.13', 'CVE-2023-45145', true],
    ['redis 7.0.14', 'CVE-2023-45145', false],
    // 2.6.0-rc1 sorts before 2.6.0 (outside 2.6.0 <= v), and NVD lists it by name
    ['redis 2.6.0-rc1', 'CVE-2023-45145', true],
    ['redis 2.5.9', 'CVE-2023-45145', false],
    // WinBox is filed as an OS (part o) in NVD
    ['winbox 3.20', 'CVE-2020-5720', true],
    ['winbox 3.21', 'CVE-2020-5720', false],
  ]);

  it('gives Samba the fix of its own branch', () => {
    expect(finding('samba 4.4.5', 'CVE-2017-7494')?.fixed_in).toBe('4.4.14');
    expect(finding('samba 4.5.1', 'CVE-2017-7494')?.fixed_in).toBe('4.5.10');
  });
});

describe('RouterOS channels (sw_edition) and pre-releases', () => {
  table([
    // CVE-2018-1156: ltr < 6.40.9, any channel < 6.42.7
    ['routeros 6.40.8 long-term', 'CVE-2018-1156', true],
    ['routeros 6.42.6 stable', 'CVE-2018-1156', true],
    ['routeros 6.42.7 stable', 'CVE-2018-1156', false],
    // CVE-2019-3976: ltr <= 6.44.5, stable (sw_edition -) <= 6.45.6
    ['routeros 6.44.5 long-term', 'CVE-2019-3976', true],
    ['routeros 6.44.6 long-term', 'CVE-2019-3976', false],
    ['routeros 6.45.6 stable', 'CVE-2019-3976', true],
    ['routeros 6.45.7 stable', 'CVE-2019-3976', false],
    ['routeros 6.45.6 long-term', 'CVE-2019-3976', false],
    // CVE-2023-30799: stable 6.34 <= v < 6.49.7, ltr <= 6.48.7
    ['routeros 6.33.6 stable', 'CVE-2023-30799', false],
    ['routeros 6.34 stable', 'CVE-2023-30799', true],
    ['routeros 6.49.6 stable', 'CVE-2023-30799', true],
    ['routeros 6.49.7 stable', 'CVE-2023-30799', false],
    ['routeros 6.48.7 long-term', 'CVE-2023-30799', true],
    ['routeros 6.48.8 long-term', 'CVE-2023-30799', false],
    // CVE-2019-3943: testing builds listed by name (6.44:beta20 on sw_edition testing)
    ['routeros 6.44beta20', 'CVE-2019-3943', true],
    ['routeros 6.44beta21', 'CVE-2019-3943', false],
    ['routeros 6.43rc64 testing', 'CVE-2019-3943', true],
    // CVE-2020-20245 and CVE-2021-41987: exact versions
    ['routeros 6.46.3 stable', 'CVE-2020-20245', true],
    ['routeros 6.46.3 long-term', 'CVE-2020-20245', false],
    ['routeros 6.46.4 stable', 'CVE-2020-20245', false],
    ['routeros 6.47.9', 'CVE-2021-41987', true],
    ['routeros 6.47.10', 'CVE-2021-41987', true],
    ['routeros 6.47.8', 'CVE-2021-41987', false],
  ]);

  it('reads a RouterOS CPE as the router inventory writes it (release update as ANY)', () => {
    // 6.44 is a release: NVD's 6.44:beta20 testing build must not match it with an assumed update.
    expect(finding('cpe:2.3:o:mikrotik:routeros:6.44:*:*:*:*:*:*:*', 'CVE-2019-3943')).toBeUndefined();
    expect(finding('cpe:2.3:o:mikrotik:routeros:6.44:beta20:*:*:testing:*:*:*', 'CVE-2019-3943')).toMatchObject({ confidence: 1 });
    expect(finding('cpe:2.3:o:mikrotik:routeros:6.42.6:*:*:*:-:*:*:*', 'CVE-2018-1156')).toMatchObject({ confidence: 1, fixed_in: '6.42.7' });
  });

  it('with the channel unknown, reports a long-term-only entry as an assumption', () => {
    const found = finding('routeros 6.44.5', 'CVE-2019-3976');
    expect(found?.assumptions).toEqual([expect.stringMatching(/assumed the (long-term|stable) channel/)]);
    expect(found?.confidence_level).toBe('medium');
  });

  it("gives upgrade advice per channel, and the fix of the device's own channel", () => {
    const longTerm = finding('routeros 6.40.5 long-term', 'CVE-2018-1156');
    expect(longTerm?.fixed_in).toBe('6.40.9');
    expect(longTerm?.advice.actions).toEqual([
      'RouterOS long-term: upgrade to 6.40.9 or later (/system package update set channel=long-term; /system package update install)',
    ]);
    const unknown = finding('routeros 6.40.5', 'CVE-2018-1156');
    // The "*" entry fits a device of unknown channel as observed: its fix is the one reported.
    expect(unknown?.fixed_in).toBe('6.42.7');
    expect(unknown?.advice.actions).toEqual([
      'RouterOS long-term: upgrade to 6.40.9 or later (/system package update set channel=long-term; /system package update install)',
      'RouterOS stable: upgrade to 6.42.7 or later (/system package update set channel=stable; /system package update install)',
    ]);
    expect(finding('routeros 6.48.6 long-term', 'CVE-2023-30799')?.advice.actions[0]).toContain('upgrade to a release later than 6.48.7');
  });

  it('reports a pre-release of the fixed release with lower confidence', () => {
    const found = finding('routeros 6.42.7rc1 testing', 'CVE-2018-1156');
    expect(found?.version).toBe('6.42.7rc1');
    expect(found?.assumptions).toEqual(['6.42.7rc1 is a pre-release of the fixed release 6.42.7 and may already carry the fix']);
    expect(found?.confidence).toBe(0.7);
    expect(finding('routeros 6.42.8rc1 testing', 'CVE-2018-1156')).toBeUndefined();
  });
});

describe('AND configurations: running on a platform', () => {
  // Listed in the record with a quoted plus: ccr1009-7g-1c-1s\+
  const board = 'cpe:2.3:h:mikrotik:ccr1009-7g-1c-1s\\+:-:*:*:*:*:*:*:*';

  it('reports CVE-2020-10364 on a listed board with full confidence', () => {
    expect(finding('routeros 6.44.3 stable', 'CVE-2020-10364', { platforms: [board] })).toMatchObject({ confidence: 1, assumptions: [] });
    expect(finding('routeros 6.44.4 stable', 'CVE-2020-10364', { platforms: [board] })).toBeUndefined();
  });

  it('does not report it on a board the record does not list', () => {
    expect(finding('routeros 6.44.3 stable', 'CVE-2020-10364', { platforms: ['cpe:2.3:h:mikrotik:rb951ui-2hnd:-:*:*:*:*:*:*:*'] })).toBeUndefined();
    expect(finding('routeros 6.44.3 stable', 'CVE-2020-10364', { platforms: ['cpe:2.3:h:mikrotik:hex:-:*:*:*:*:*:*:*'] })).toMatchObject({ confidence: 1 });
  });

  it('reports it with lower confidence and the assumed condition when the hardware was not observed', () => {
    const found = finding('routeros 6.44.3 stable', 'CVE-2020-10364');
    expect(found?.confidence).toBe(0.6);
    expect(found?.assumptions).toEqual([
      'assumed the host runs mikrotik ccr1009-7g-1c-1s+, mikrotik ccr1009-7g-1c-1s+pc, mikrotik ccr1009-7g-1c-pc or 22 more (not observed by the scan)',
    ]);
  });

  it('decides "software on Windows" with the OS the scan saw', () => {
    const geforce = 'cpe:2.3:a:nvidia:geforce_experience:3.9:*:*:*:*:*:*:*';
    expect(finding(geforce, 'CVE-2017-14491', { platforms: ['cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*'] })).toMatchObject({ confidence: 1 });
    expect(finding(geforce, 'CVE-2017-14491', { platforms: ['cpe:2.3:o:debian:debian_linux:12.0:*:*:*:*:*:*:*'] })).toBeUndefined();
    expect(finding(geforce, 'CVE-2017-14491')?.assumptions).toEqual(['assumed the host runs microsoft windows (not observed by the scan)']);
  });

  it('decides firmware on hardware whichever node comes first', () => {
    // CVE-2021-25216 lists the hardware node before the firmware node.
    const firmware = 'cpe:2.3:o:netapp:h300s_firmware:-:*:*:*:*:*:*:*';
    expect(finding(firmware, 'CVE-2021-25216', { platforms: ['cpe:2.3:h:netapp:h300s:-:*:*:*:*:*:*:*'] })).toMatchObject({ confidence: 1 });
    expect(finding(firmware, 'CVE-2021-25216', { platforms: ['cpe:2.3:h:netapp:h500s:-:*:*:*:*:*:*:*'] })).toBeUndefined();
  });
});

describe('records NVD has not analysed', () => {
  it('keeps them but never matches them by guesswork', () => {
    for (const id of ['CVE-2023-41570', 'CVE-2024-54772', 'CVE-2023-42115', 'CVE-2024-38476', 'CVE-2024-7347']) {
      expect(kb.store.get(id)?.analysed, id).toBe(false);
    }
    const everything = [
      ...lookup('routeros 7.12.1 stable'),
      ...lookup('routeros 6.40.1'),
      ...lookup('winbox 3.40'),
      ...lookup('exim 4.96'),
      ...lookup('apache 2.4.59'),
      ...lookup('nginx 1.27.0'),
    ];
    expect(ids(everything).filter((id) => ['CVE-2023-41570', 'CVE-2024-54772', 'CVE-2023-42115', 'CVE-2024-38476', 'CVE-2024-7347'].includes(id))).toEqual([]);
  });
});

describe('scores', () => {
  it('shows the Primary score, preferring v3.1 over v2', () => {
    expect(finding('openssh 9.7p1', 'CVE-2024-6387')).toMatchObject({
      score: 8.1,
      severity: 'HIGH',
      cvss_version: '3.1',
      score_type: 'Primary',
      vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H',
    });
  });

  it('takes v3.0 when NVD scored a record with v3.0 and v2 only', () => {
    expect(finding('routeros 6.40.8 long-term', 'CVE-2018-1156')).toMatchObject({ score: 8.8, cvss_version: '3.0', score_source: 'nvd@nist.gov' });
  });

  it("falls back to the CNA's Secondary score, v3.1 before v4.0", () => {
    const record = kb.store.get('CVE-2024-7347');
    expect(record?.score).toMatchObject({ version: '3.1', type: 'Secondary', score: 4.7, severity: 'MEDIUM' });
    expect(kb.store.get('CVE-2023-41570')?.score).toBeNull();
  });
});

describe('backports', () => {
  it('marks a match on a distribution package possibly_backported, with lower confidence, and says where to check', () => {
    const plain = finding('openssh 9.2p1', 'CVE-2024-6387');
    const debian = finding({ product: 'OpenSSH', version: '9.2p1 Debian-2+deb12u3' }, 'CVE-2024-6387');
    expect(plain).toMatchObject({ possibly_backported: false, confidence: 1, confidence_level: 'high' });
    expect(debian).toMatchObject({ possibly_backported: true, confidence: 0.5, confidence_level: 'medium', fixed_in: '9.8' });
    expect(debian?.advice.actions[0]).toContain('https://security-tracker.debian.org/tracker/CVE-2024-6387');
    const ubuntu = finding({ product: 'apache', version: '2.4.49 (Ubuntu)' }, 'CVE-2021-41773');
    expect(ubuntu).toMatchObject({ possibly_backported: true, confidence: 0.5 });
    expect(ubuntu?.advice.actions[0]).toContain('https://ubuntu.com/security/CVE-2021-41773');
  });
});

describe('advice', () => {
  it('lists the references tagged Patch, Vendor Advisory or Mitigation, and no others', () => {
    const found = finding('openssh 9.7p1', 'CVE-2024-6387');
    const raw = realRecord('CVE-2024-6387') as unknown as { references: { url: string; tags?: string[] }[] };
    const tagged = raw.references
      .filter((reference) => (reference.tags ?? []).some((tag) => ['Patch', 'Vendor Advisory', 'Mitigation'].includes(tag)))
      .map((reference) => ({ url: reference.url, tags: reference.tags ?? [] }));
    expect(tagged.length).toBeGreaterThan(0);
    expect(found?.advice.references).toEqual(tagged);
    expect(found?.advice.actions[0]).toBe('Upgrade OpenSSH to 9.8 or later.');
    expect(found?.advice.summary).toBe(found?.advice.actions[0]);
  });
});
