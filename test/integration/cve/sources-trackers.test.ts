import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { starterDistroStatusFile, type DistroStatusRow } from '../../../src/cve/distro/status-rows.js';
import { createSources, sourcesSettingsSchema } from '../../../src/cve/sources/config.js';
import { createDebianSource } from '../../../src/cve/sources/debian.js';
import { createUbuntuSource } from '../../../src/cve/sources/ubuntu.js';
import type { Db } from '../../../src/shared/sqlite.js';
import { feedServer, sourceContext, sourceCveDb } from './source-kit.js';
import { realDebianLists, realUctSnapshotGz, type FeedServer } from '../../simulators/feed-server.js';

const feed = () => feedServer('127.0.70.1');
const cveDb = sourceCveDb;
const context = () => sourceContext('2026-12-05T06:00:00Z');

const rowsOf = (db: Db, distro: string): DistroStatusRow[] =>
  db
    .prepare('SELECT distro, release, package, cve_id, status, fixed_version, ref, note FROM distro_status WHERE distro = ? ORDER BY release, package, cve_id')
    .all(distro) as DistroStatusRow[];

function serveDebian(server: FeedServer, lists = realDebianLists()): void {
  server.serve('/debian/data/CVE/list', lists.cve);
  server.serve('/debian/data/DSA/list', lists.dsa);
  server.serve('/debian/data/DLA/list', lists.dla);
}

const ubuntuRoute = '/ubuntu/ubuntu-cve-tracker-master.tar.gz';

describe('Debian tracker source', () => {
  it('reads the tracker lists into the same rows as the shipped starter file', async () => {
    const server = await feed();
    serveDebian(server);
    const db = cveDb();
    const result = await createDebianSource(`${server.url}/debian/data`).run(db, context());
    const starter = (JSON.parse(readFileSync(starterDistroStatusFile, 'utf8')) as { rows: DistroStatusRow[] }).rows.filter((r) => r.distro === 'debian');
    const key = (r: DistroStatusRow) => `${r.release} ${r.package} ${r.cve_id}`;
    expect(rowsOf(db, 'debian')).toEqual([...starter].sort((a, b) => (key(a) < key(b) ? -1 : 1)));
    expect(result).toMatchObject({ source: 'debian', changed: starter.length, dataAsOf: '2026-12-05T06:00:00.000Z' });
    // The README's spot check: bookworm fixed by DSA-5724-1, bullseye not affected.
    expect(
      db.prepare("SELECT release, status, fixed_version, ref FROM distro_status WHERE cve_id = 'CVE-2024-6387' AND distro = 'debian' ORDER BY release").all(),
    ).toEqual([
      { release: 'bookworm', status: 'fixed', fixed_version: '1:9.2p1-2+deb12u3', ref: 'DSA-5724-1' },
      { release: 'bullseye', status: 'not-affected', fixed_version: null, ref: null },
      { release: 'trixie', status: 'fixed', fixed_version: '1:9.7p1-7', ref: null },
    ]);
  });

  it('waits out a 503 with Retry-After, then applies the lists', async () => {
    const server = await feed();
    serveDebian(server);
    server.fault('/debian/data/DSA/list', { kind: 'status', status: 503, retryAfter: '11' });
    const db = cveDb();
    const ctx = context();
    await createDebianSource(`${server.url}/debian/data`).run(db, ctx);
    expect(server.requests('/debian/data/DSA/list')).toBe(2);
    expect(ctx.waits).toEqual([11_000]);
    expect(rowsOf(db, 'debian').length).toBeGreaterThan(150);
    // The same lists again: every row is rewritten, none changed.
    await expect(createDebianSource(`${server.url}/debian/data`).run(db, context())).resolves.toMatchObject({ changed: 0 });
  });

  it('keeps the previous rows when the connection keeps dropping mid-body', async () => {
    const server = await feed();
    serveDebian(server);
    const db = cveDb();
    const source = createDebianSource(`${server.url}/debian/data`);
    await source.run(db, context());
    const before = rowsOf(db, 'debian');
    // A newer CVE list that would drop every row but one, and a DLA list that never arrives whole.
    const lists = realDebianLists();
    serveDebian(server, { ...lists, cve: lists.cve.split(/\n(?=CVE-)/)[0] as string });
    server.fault('/debian/data/DLA/list', ...Array.from({ length: 5 }, () => ({ kind: 'drop-mid-body' as const })));
    await expect(source.run(db, context())).rejects.toMatchObject({ code: 'CVE_ERR_SOURCE_UNAVAILABLE' });
    expect(server.requests('/debian/data/DLA/list')).toBe(6);
    expect(rowsOf(db, 'debian')).toEqual(before);
  });

  it('rejects a malformed list with CVE_ERR_SOURCE_PROTOCOL and changes nothing', async () => {
    const server = await feed();
    serveDebian(server);
    const db = cveDb();
    const source = createDebianSource(`${server.url}/debian/data`);
    await source.run(db, context());
    const before = rowsOf(db, 'debian');
    server.fault('/debian/data/CVE/list', { kind: 'malformed', body: '<html><body>502 Bad Gateway</body></html>\n' });
    await expect(source.run(db, context())).rejects.toMatchObject({ code: 'CVE_ERR_SOURCE_PROTOCOL', message: expect.stringMatching(/not a CVE header/) });
    // A list whose fixed version is not a Debian version: the rows are checked whole before any is written.
    const lists = realDebianLists();
    server.fault('/debian/data/CVE/list', { kind: 'malformed', body: lists.cve.replace('- openssh 1:9.7p1-7', '- openssh 1:9.7p1-7!!') });
    await expect(source.run(db, context())).rejects.toMatchObject({ code: 'CVE_ERR_SOURCE_PROTOCOL', message: expect.stringMatching(/fixed_version/) });
    expect(rowsOf(db, 'debian')).toEqual(before);
  });
});

describe('Ubuntu tracker source', () => {
  it('reads the UCT snapshot (gzip) and replaces only the ubuntu rows', async () => {
    const server = await feed();
    server.serve(ubuntuRoute, realUctSnapshotGz());
    serveDebian(server);
    const db = cveDb();
    await createDebianSource(`${server.url}/debian/data`).run(db, context());
    const debianRows = rowsOf(db, 'debian');
    const result = await createUbuntuSource(`${server.url}${ubuntuRoute}`).run(db, context());
    const ubuntu = rowsOf(db, 'ubuntu');
    expect(result.changed).toBe(ubuntu.length);
    expect(ubuntu.length).toBeGreaterThan(1_000);
    // Only the source packages a verdict can read: not the snapshot's expat, apr-util, postgresql-*.
    expect(new Set(ubuntu.map((r) => r.package))).toEqual(
      new Set([
        'apache2',
        'bind9',
        'dnsmasq',
        'dropbear',
        'exim4',
        'lighttpd',
        'mariadb-10.0',
        'mariadb-10.1',
        'mariadb-10.3',
        'mariadb-5.5',
        'nginx',
        'openssh',
        'openssl',
        'postfix',
        'proftpd-dfsg',
        'redis',
        'samba',
        'vsftpd',
      ]),
    );
    expect(ubuntu.every((r) => /^[a-z]+$/.test(r.release) && r.release !== 'devel' && r.release !== 'upstream')).toBe(true);
    // The README's example file: CVE-2018-15473, openssh, bionic released (1:7.6p1-4ubuntu0.1).
    expect(
      db
        .prepare(
          "SELECT status, fixed_version FROM distro_status WHERE distro = 'ubuntu' AND cve_id = 'CVE-2018-15473' AND package = 'openssh' AND release = 'bionic'",
        )
        .get(),
    ).toEqual({
      status: 'fixed',
      fixed_version: '1:7.6p1-4ubuntu0.1',
    });
    expect(rowsOf(db, 'debian')).toEqual(debianRows);
  });

  it('waits out a 503 with Retry-After; a dropped body and a malformed one leave the rows as they were', async () => {
    const server = await feed();
    server.serve(ubuntuRoute, realUctSnapshotGz());
    server.fault(ubuntuRoute, { kind: 'status', status: 503, retryAfter: '3' });
    const db = cveDb();
    const source = createUbuntuSource(`${server.url}${ubuntuRoute}`);
    const ctx = context();
    await source.run(db, ctx);
    expect(ctx.waits).toEqual([3000]);
    const before = rowsOf(db, 'ubuntu');

    server.fault(ubuntuRoute, ...Array.from({ length: 5 }, () => ({ kind: 'drop-mid-body' as const })));
    await expect(source.run(db, context())).rejects.toMatchObject({ code: 'CVE_ERR_SOURCE_UNAVAILABLE' });
    for (const body of [
      Buffer.from('<html>not found</html>'),
      gzipSync(Buffer.from('not a tar archive, just text '.repeat(40))),
      realUctSnapshotGz().subarray(0, 5000),
    ]) {
      server.fault(ubuntuRoute, { kind: 'malformed', body });
      await expect(source.run(db, context())).rejects.toMatchObject({ code: 'CVE_ERR_SOURCE_PROTOCOL' });
    }
    expect(rowsOf(db, 'ubuntu')).toEqual(before);
  });
});

describe('tracker sources in the settings', () => {
  it('are on by default with the public trackers as URLs, and take a mirror', () => {
    const settings = sourcesSettingsSchema.parse({ ubuntu: { url: 'http://mirror.example/uct.tar.gz' }, debian: { enabled: false } });
    expect(settings.debian.url).toBe('https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data');
    expect(
      createSources(settings)
        .filter((s) => s.name === 'ubuntu' || s.name === 'debian')
        .map((s) => [s.name, s.url]),
    ).toEqual([['ubuntu', 'http://mirror.example/uct.tar.gz']]);
  });
});
