import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { advisoryFixes, debianReleaseViews, parseDebianList, parsePackageLine } from '../../../src/cve/distro/debian-tracker.js';
import { parseUctFile, ubuntuTrackerRows } from '../../../src/cve/distro/ubuntu-tracker.js';
import { ubuntuStatusRow } from '../../../src/cve/distro/tracker-rows.js';
import { isVerdictPackage } from '../../../src/cve/distro/banner-tag.js';
import { realDebianLists, realUctSnapshotGz } from '../../simulators/feed-server.js';

/** The derived views the data's provider wrote by its README rules (not by this code). */
const tsv = (name: string): string[][] =>
  readFileSync(new URL(`../../../../shared/data/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .slice(1)
    .map((line) => line.split('\t'));

describe('Debian tracker lists', () => {
  it('give exactly the provider’s bookworm/bullseye/trixie view of the real entries', () => {
    const lists = realDebianLists();
    const fixes = advisoryFixes(parseDebianList(lists.dsa, 'DSA'), 'DSA', 'DSA');
    for (const [cve, found] of advisoryFixes(parseDebianList(lists.dla, 'DLA'), 'DLA', 'DLA')) fixes.set(cve, [...(fixes.get(cve) ?? []), ...found]);
    const views = debianReleaseViews(parseDebianList(lists.cve, 'CVE'), fixes, 'CVE');
    const mine = views.map((v) => [v.cve, v.package, v.release, v.status, v.version, v.basis_and_note].join('\t')).sort();
    const theirs = tsv('debian/debian-release-status.tsv')
      .filter((cols) => cols[1] !== '') // "no package annotation" lines
      .map((cols) => cols.slice(0, 6).join('\t'))
      .sort();
    expect(mine).toEqual(theirs);
    expect(theirs.length).toBeGreaterThan(180);
  });

  it('reads package lines with releases, kinds, urgencies and bug numbers', () => {
    expect(parsePackageLine('[bullseye] - openssh <not-affected> (Vulnerable code introduced later)')).toEqual({
      release: 'bullseye',
      package: 'openssh',
      kind: 'not-affected',
      version: '',
      note: 'Vulnerable code introduced later',
    });
    expect(parsePackageLine('- vsftpd 3.0.2-18 (unimportant; bug #776922)')).toEqual({
      release: undefined,
      package: 'vsftpd',
      kind: 'fixed',
      version: '3.0.2-18',
      note: 'unimportant',
    });
    expect(parsePackageLine('NOTE: https://example')).toBeUndefined();
  });

  it('refuses a body that is not a list', () => {
    expect(() => debianReleaseViews(parseDebianList('<html>\n</html>\n', 'CVE'), new Map(), 'CVE')).toThrow(/not a CVE header/);
    expect(() => parseDebianList('\t- openssh 1:9.7p1-7\n', 'CVE')).toThrow(/annotation before any entry/);
  });
});

describe('Ubuntu CVE tracker snapshot', () => {
  it('gives every row the provider derived from the 2020 snapshot', async () => {
    const { files, rows } = await ubuntuTrackerRows(realUctSnapshotGz());
    expect(files).toBe(1352);
    const mine = new Set(rows.map((row) => JSON.stringify(row)));
    const theirs = tsv('ubuntu/ubuntu-release-status.tsv')
      .filter((cols) => cols[6]?.startsWith('nottrobin/'))
      .map((cols) => ubuntuStatusRow({ cve: cols[0] ?? '', package: cols[1] ?? '', release: cols[2] ?? '', status: cols[3] ?? '', note: cols[4] ?? '' }))
      .filter((row) => row !== null);
    expect(theirs.length).toBeGreaterThan(100);
    expect(theirs.filter((row) => !mine.has(JSON.stringify(row)))).toEqual([]);
  });

  it('reads status lines with odd spacing and turns a released line without a version into unknown', () => {
    const views = parseUctFile(
      'Candidate: CVE-2020-0001\nPatches_nginx:\nprecise_nginx:  ignored\nbionic_nginx: released\nfocal_nginx: released (1.17.10-0ubuntu1)\nupstream_nginx: \n',
      'f',
    );
    expect(views.map((v) => [v.release, v.status, v.note])).toEqual([
      ['precise', 'ignored', ''],
      ['bionic', 'released', ''],
      ['focal', 'released', '1.17.10-0ubuntu1'],
    ]);
    expect(views.map((v) => ubuntuStatusRow(v)?.status)).toEqual(['unknown', 'unknown', 'fixed']);
    expect(() => parseUctFile('Description: no candidate\n', 'f')).toThrow(/Candidate/);
  });

  it('keeps only the source packages asked for', async () => {
    const { rows } = await ubuntuTrackerRows(realUctSnapshotGz(), (pkg) => isVerdictPackage('ubuntu', pkg));
    const kept = new Set(rows.map((row) => row.package));
    expect([...kept].every((pkg) => isVerdictPackage('ubuntu', pkg))).toBe(true);
    expect(kept).toContain('openssh');
    expect(kept).toContain('mariadb-10.1');
    expect(kept).not.toContain('expat');
  });

  it('refuses a snapshot that is corrupt, cut short or not gzip, naming why', async () => {
    const tar = gunzipSync(realUctSnapshotGz());
    const corrupt = Buffer.from(tar);
    corrupt[10] = 0x41; // inside the first header: its checksum no longer matches
    await expect(ubuntuTrackerRows(gzipSync(corrupt))).rejects.toThrow(/^the tracker snapshot is not a whole \.tar\.gz \(/);
    await expect(ubuntuTrackerRows(gzipSync(tar.subarray(0, 4096 + 100)))).rejects.toThrow(/^the tracker snapshot is not a whole \.tar\.gz \(/);
    await expect(ubuntuTrackerRows(realUctSnapshotGz().subarray(0, 5000))).rejects.toThrow(/^the tracker snapshot is not a whole \.tar\.gz \(/);
    await expect(ubuntuTrackerRows(Buffer.from('<html>not here</html>'))).rejects.toThrow(/^the tracker snapshot is not a whole \.tar\.gz \(/);
  });
});
