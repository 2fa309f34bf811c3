import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitDistroRevision } from '../../../src/cve/distro.js';
import { distroPackageOf, releaseOfRevision } from '../../../src/cve/distro/banner-tag.js';
import { compareDebianVersions } from '../../../src/cve/distro/debian-version.js';
import { createDistroStatusLookup, ensureStarterDistroStatus, loadDistroStatus } from '../../../src/cve/distro/status-rows.js';
import { decideDistroVerdict, type DistroVerdictStatus } from '../../../src/cve/distro/verdict.js';
import { createCveMatcher } from '../../../src/cve/matcher.js';
import { CveError } from '../../../src/cve/errors.js';
import { findingsForHost } from '../../../src/agent/pipeline/cve-findings.js';
import type { HostRecord } from '../../../src/agent/pipeline/scan-types.js';
import { allRealRecords, knowledgeBase, type TestKnowledgeBase } from './fixtures.js';

/** Rows of a TSV with `#` comment lines and a header line. */
function readTsv(file: string | URL): Record<string, string>[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
  const header = (lines[0] as string).split('\t');
  return lines.slice(1).map((line) => Object.fromEntries(line.split('\t').map((value, k) => [header[k] as string, value])));
}

const fixtureFile = new URL('../../fixtures/distro/banners.tsv', import.meta.url);
const fixtureText = readFileSync(fixtureFile, 'utf8');
const fixtureColumns = (fixtureText.split('\n').find((line) => line.startsWith('# build')) ?? '').slice(2).split('\t');
const fixtures = fixtureText
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => Object.fromEntries(line.split('\t').map((value, k) => [fixtureColumns[k] as string, value])));

const debianTsv = readTsv(new URL('../../../../shared/data/debian/debian-release-status.tsv', import.meta.url));
const ubuntuTsv = readTsv(new URL('../../../../shared/data/ubuntu/ubuntu-release-status.tsv', import.meta.url));

/**
 * What the tracker data says for one release's package at an installed version, read straight
 * from the TSVs (their READMEs' rules), independent of the generated starter rows.
 */
function expectedFromTsv(distro: string, release: string, pkg: string, installed: string | undefined): Map<string, DistroVerdictStatus> {
  const byVersion = (fixed: string): DistroVerdictStatus =>
    installed === undefined ? 'unknown' : compareDebianVersions(installed, fixed) >= 0 ? 'fixed' : 'vulnerable';
  const result = new Map<string, DistroVerdictStatus>();
  if (distro === 'debian') {
    for (const row of debianTsv.filter((r) => r.release === release && r.package === pkg)) {
      const status = row.status as string;
      const verdict: DistroVerdictStatus = /^(inherits-unstable:)?fixed$/.test(status)
        ? byVersion(row.version as string)
        : /not-affected$/.test(status)
          ? 'not-affected'
          : /unfixed$|^no-dsa$/.test(status)
            ? 'vulnerable'
            : 'unknown';
      result.set(row.cve as string, verdict);
    }
  } else {
    for (const row of ubuntuTsv.filter((r) => r.release === release && r.package === pkg)) {
      const status = row.status as string;
      const verdict: DistroVerdictStatus =
        status === 'released'
          ? byVersion(row.note as string)
          : status === 'not-affected'
            ? 'not-affected'
            : ['needed', 'active', 'pending'].includes(status)
              ? 'vulnerable'
              : 'unknown';
      result.set(row.cve as string, verdict);
    }
  }
  return result;
}

describe('distribution verdicts', () => {
  let kb: TestKnowledgeBase;
  beforeAll(() => {
    kb = knowledgeBase(allRealRecords());
    expect(ensureStarterDistroStatus(kb.db)).toBeGreaterThan(500);
  });
  afterAll(() => kb.dispose());

  it('reads the distribution package from each banner', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
    for (const fixture of fixtures) {
      const { upstream, distro } = splitDistroRevision(fixture.version_text as string);
      const pkg = distroPackageOf(fixture.cpe_product as string, upstream, distro);
      const want =
        fixture.distro === '-'
          ? undefined
          : {
              distro: fixture.distro,
              sourcePackage: fixture.source_package,
              ...(fixture.release === '-' ? {} : { release: fixture.release }),
              ...(fixture.package_version === '-' ? {} : { packageVersion: fixture.package_version }),
            };
      expect(pkg, fixture.banner).toEqual(want);
    }
  });

  it('names the release from the backport suffix', () => {
    const cases: [string, string | undefined][] = [
      ['0+deb12u1', 'bookworm'],
      ['1~deb12u1', 'bookworm'],
      ['5+deb11u2', 'bullseye'],
      ['1+deb10u4', 'buster'],
      ['2+deb13u1', 'trixie'],
      ['4ubuntu0.20.04.1', 'focal'],
      ['0ubuntu0.22.04.3', 'jammy'],
      ['1ubuntu0.24.04.2', 'noble'],
      ['3ubuntu0.10', undefined],
      ['2', undefined],
    ];
    for (const [revision, release] of cases) expect(releaseOfRevision(revision)?.release, revision).toBe(release);
  });

  it('agrees with the tracker data in ../shared/data for every banner and CVE', () => {
    const lookup = createDistroStatusLookup(kb.db);
    let checked = 0;
    const seen = new Set<DistroVerdictStatus>();
    for (const fixture of fixtures) {
      const { upstream, distro } = splitDistroRevision(fixture.version_text as string);
      const pkg = distroPackageOf(fixture.cpe_product as string, upstream, distro);
      if (pkg === undefined) continue;
      if (pkg.release === undefined) {
        // Without a release nothing in the tracker applies: every verdict is "unknown".
        for (const cve of new Set(debianTsv.filter((r) => r.package === pkg.sourcePackage).map((r) => r.cve as string))) {
          expect(decideDistroVerdict(pkg, cve, lookup(pkg.distro, pkg.sourcePackage, cve)).status).toBe('unknown');
          checked += 1;
        }
        continue;
      }
      const expected = expectedFromTsv(pkg.distro, pkg.release, pkg.sourcePackage, pkg.packageVersion);
      for (const [cve, status] of expected) {
        const verdict = decideDistroVerdict(pkg, cve, lookup(pkg.distro, pkg.sourcePackage, cve));
        expect(verdict.status, `${fixture.banner} ${cve}`).toBe(status);
        seen.add(status);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(seen).toEqual(new Set(['fixed', 'vulnerable', 'not-affected', 'unknown']));
  });

  it('spot checks: CVE-2024-6387 in the openssh builds', () => {
    const lookup = createDistroStatusLookup(kb.db);
    const verdictOf = (versionText: string) => {
      const { upstream, distro } = splitDistroRevision(versionText);
      const pkg = distroPackageOf('openssh', upstream, distro);
      if (pkg === undefined) throw new Error(versionText);
      return decideDistroVerdict(pkg, 'CVE-2024-6387', lookup(pkg.distro, pkg.sourcePackage, 'CVE-2024-6387'));
    };
    expect(verdictOf('9.2p1 Debian-2+deb12u3')).toMatchObject({
      status: 'fixed',
      fixed_version: '1:9.2p1-2+deb12u3',
      ref: 'DSA-5724-1',
      reason: 'patched by Debian in 1:9.2p1-2+deb12u3',
      url: 'https://security-tracker.debian.org/tracker/CVE-2024-6387',
    });
    expect(verdictOf('9.2p1 Debian-2+deb12u2')).toMatchObject({ status: 'vulnerable', fixed_version: '1:9.2p1-2+deb12u3' });
    expect(verdictOf('8.4p1 Debian-5+deb11u3')).toMatchObject({ status: 'not-affected', release: 'bullseye' });
    expect(verdictOf('8.9p1 Ubuntu-3ubuntu0.10')).toMatchObject({ status: 'fixed', release: 'jammy', url: 'https://ubuntu.com/security/CVE-2024-6387' });
    expect(verdictOf('8.9p1 Ubuntu-3ubuntu0.6')).toMatchObject({ status: 'vulnerable', fixed_version: '1:8.9p1-3ubuntu0.10' });
    expect(verdictOf('9.6p1 Ubuntu-3ubuntu13')).toMatchObject({ status: 'vulnerable', fixed_version: '1:9.6p1-3ubuntu13.3' });
  });

  it('matcher: a tracker verdict replaces "possibly backported" and is carried on the finding', () => {
    const matcher = createCveMatcher(kb.store, createDistroStatusLookup(kb.db));
    const cpe = 'cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*';
    const patched = matcher.matchCpe(cpe, { distro: 'Debian-2+deb12u3' }).find((finding) => finding.cve_id === 'CVE-2024-6387');
    expect(patched?.distro).toMatchObject({ status: 'fixed', package: 'openssh', installed_version: '1:9.2p1-2+deb12u3' });
    expect(patched?.possibly_backported).toBe(false);
    const open = matcher.matchCpe(cpe, { distro: 'Debian-2+deb12u2' }).find((finding) => finding.cve_id === 'CVE-2024-6387');
    expect(open?.distro?.status).toBe('vulnerable');
    // Confidence goes up from the "possibly backported" halving of a matcher without tracker data.
    const before = kb.matcher.matchCpe(cpe, { distro: 'Debian-2+deb12u2' }).find((finding) => finding.cve_id === 'CVE-2024-6387');
    expect(before?.distro).toBeUndefined();
    expect(before?.possibly_backported).toBe(true);
    expect(open?.confidence).toBeGreaterThan(before?.confidence ?? 1);
  });

  it('rejects a malformed tracker row with CVE_ERR_DISTRO_STATUS_INVALID and writes nothing of the batch', () => {
    const good = {
      distro: 'debian',
      release: 'bookworm',
      package: 'zzz-test',
      cve_id: 'CVE-2099-0001',
      status: 'fixed',
      fixed_version: '1.0-1',
      ref: null,
      note: null,
    };
    const bad = { ...good, cve_id: 'CVE-2099-0002', fixed_version: 'not a version' };
    expect(() => loadDistroStatus(kb.db, [good, bad])).toThrow(CveError);
    expect(() => loadDistroStatus(kb.db, [good, bad])).toThrow(/row 2 is malformed: fixed_version/);
    expect(() => loadDistroStatus(kb.db, [{ ...good, status: 'patched' }])).toThrow(
      expect.objectContaining({ code: 'CVE_ERR_DISTRO_STATUS_INVALID' }) as Error,
    );
    expect(createDistroStatusLookup(kb.db)('debian', 'zzz-test', 'CVE-2099-0001')).toEqual([]);
    expect(loadDistroStatus(kb.db, [good])).toBe(1);
    expect(createDistroStatusLookup(kb.db)('debian', 'zzz-test', 'CVE-2099-0001')).toEqual([good]);
  });

  it('scan findings: a patched CVE stays listed, says so, and is never a warning', () => {
    const service = {
      port: 22,
      protocol: 'tcp',
      service: 'ssh',
      product: 'OpenSSH',
      vendor: null,
      version: '9.2p1',
      update: null,
      channel: null,
      distro: 'Debian-2+deb12u3',
      cpe: null,
      evidence: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3',
    };
    const host = { ip: '127.0.60.10', services: [service] } as unknown as HostRecord;
    const lookup = { matcher: createCveMatcher(kb.store, createDistroStatusLookup(kb.db)), vendorsOfProduct: kb.store.vendorsOfProduct };
    const findings = findingsForHost(host, lookup, { min_cvss: 0, warning_threshold: 7 });
    const patched = findings.find((finding) => finding.cve_id === 'CVE-2024-6387');
    expect(patched?.warning).toBe(false);
    expect(patched?.advice).toMatch(
      /^Patched: patched by Debian in 1:9\.2p1-2\+deb12u3 \(DSA-5724-1, https:\/\/security-tracker\.debian\.org\/tracker\/CVE-2024-6387\)\./,
    );
    const open = findings.find((finding) => finding.cve_id === 'CVE-2023-38408');
    expect(open?.warning).toBe(true);
    expect(open?.possibly_backported).toBe(false);
    expect(open?.advice).toMatch(/^Vulnerable per the debian tracker/);
  });
});
