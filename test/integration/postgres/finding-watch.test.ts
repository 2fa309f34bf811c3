/**
 * A KEV catalog update between scans on PostgreSQL (kevCatalogWatch) raises what SQLite's raises:
 * one alert per open finding whose device's state is not in KEV yet, none for a patched or marked
 * one, none the second time; and once when two nodes apply the same update at the same moment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportInput } from '../../simulators/control-plane/simulated-agent.js';
import { finding, finished, scanStatus } from '../../simulators/control-plane/reports.js';
import { kevCatalogWatch, type KevEntry } from '../../../src/control-plane/store/postgres/finding-watch.js';
import type { PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { migratedDb } from './pg-kit.js';
import { at, newId, ORG, pgCore, site, sqliteCore, stream, type Core } from './core-kit.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const OPEN = 'CVE-2018-14847';
const PATCHED = 'CVE-2021-44228';
const MARKED = 'CVE-2017-12149';
const NO_MAC = 'CVE-2019-3924';
const entry: KevEntry = { date_added: '2026-02-01', due_date: null, ransomware: false };
const catalog = new Map([OPEN, PATCHED, MARKED, NO_MAC, 'CVE-2000-0001'].map((id) => [id, entry]));
const mac = '4C:5E:0C:00:00:02';
const facts = { kev: null, epss: null, exposure: { state: 'no', reasons: [] } };
const patched = {
  distro: {
    distro: 'debian',
    release: 'bookworm',
    package: 'liblog4j2-java',
    installed_version: '2.17.1-1',
    status: 'fixed',
    fixed_version: '2.15.0-1',
    ref: 'DSA-5020-1',
    url: 'https://security-tracker.debian.org/tracker/CVE-2021-44228',
    reason: 'patched',
  },
};

/** A local scan reporting the four findings (one on a host without a MAC) out of KEV; a mark accepts one. */
async function seed(store: Core, markIt: (mark: { id: string; cve: string }) => Promise<void>): Promise<void> {
  await store.sites.create(site('s-a'));
  const runId = newId();
  const reports = [
    scanStatus({ runId }),
    { ...finding(runId, '192.168.88.2', mac, OPEN, 9.1), ...facts },
    { ...finding(runId, '192.168.88.2', mac, PATCHED, 10), ...facts, ...patched },
    { ...finding(runId, '192.168.88.2', mac, MARKED, 9.8), ...facts },
    { ...finding(runId, '192.168.88.3', null as unknown as string, NO_MAC, 7.5), ...facts },
    finished(runId, 4),
  ] as ReportInput[];
  await store.ingest.ingest(stream('s-a', 'st', reports, 2));
  await markIt({ id: newId(), cve: MARKED });
}

const pgMark = (db: PgDb) => async (mark: { id: string; cve: string }) => {
  await db.query(
    `INSERT INTO cve_marks (id, org_id, mac, cve_id, status, justification, created_by, updated_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'accepted', 'risk accepted', 'op', 'op', $5, $5)`,
    [mark.id, ORG, mac, mark.cve, at(3)],
  );
};

const kevUpdate = (db: PgDb) => db.tx((client) => kevCatalogWatch(client, catalog, at(10)));

describe('kevCatalogWatch on PostgreSQL', () => {
  it('raises what SQLite raises: the open findings once, not the patched or marked one', async () => {
    const lite = sqliteCore();
    closers.push(() => void lite.close());
    await seed(lite, async (mark) => {
      await lite.vulns.insertMark({
        id: mark.id,
        org_id: ORG,
        mac_address: mac,
        cve_id: mark.cve,
        status: 'accepted',
        justification: 'risk accepted',
        scan_id: null,
        product: null,
        version: null,
        cpe: null,
        expiration_date: null,
        created_by: 'op',
        updated_by: 'op',
        created_at: at(3),
        updated_at: at(3),
      });
    });
    const { db } = await migratedDb();
    await seed(pgCore(db), pgMark(db));
    const expected = [await lite.notifications.kevCatalogUpdated(catalog, at(10)), await lite.notifications.kevCatalogUpdated(catalog, at(11))];
    expect([await kevUpdate(db), await kevUpdate(db)]).toEqual(expected);
    expect(expected).toEqual([2, 0]);
    const alerts = await db.query<{ kind: string; kev: string; created_at: string; cve_id: string }>(
      'SELECT a.kind, a.kev, a.created_at, f.cve_id FROM finding_alerts a JOIN findings f ON f.id = a.finding_id ORDER BY f.cve_id',
    );
    expect(alerts).toEqual([
      { kind: 'kev', kev: JSON.stringify(entry), created_at: at(10), cve_id: OPEN },
      { kind: 'kev', kev: JSON.stringify(entry), created_at: at(10), cve_id: NO_MAC },
    ]);
    expect((await lite.notifications.pendingAlerts()).map((a) => a.finding.cve.id).sort()).toEqual([OPEN, NO_MAC].sort());
  });

  it('raises each alert once when two nodes apply the same catalog update at once', async () => {
    const { db, open } = await migratedDb();
    await seed(pgCore(db), pgMark(db));
    const raised = await Promise.all([kevUpdate(db), kevUpdate(open())]);
    expect(raised.reduce((sum, n) => sum + n, 0)).toBe(2);
    expect((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM finding_alerts'))[0]?.n).toBe(2);
  });
});
