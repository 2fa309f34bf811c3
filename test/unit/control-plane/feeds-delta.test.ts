import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { applyDelta, applyDeltaFile, createDeltaEncoder, decodeDelta, encodeDelta, heldFeedVersion } from '../../../src/cve/delta.js';
import { cveMigrations } from '../../../src/cve/migrations.js';
import { openFeedStore, type FeedStore } from '../../../src/control-plane/feeds/feed-store.js';
import { openSqlite } from '../../../src/shared/sqlite.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';
import { allRealRecords } from '../cve/fixtures.js';

const kevFile = path.resolve('../shared/data/kev/known_exploited_vulnerabilities.json');
interface KevEntry {
  cveID: string;
  dateAdded: string;
  dueDate: string;
  knownRansomwareCampaignUse: string;
  vendorProject: string;
  product: string;
  vulnerabilityName: string;
}
const kev = (JSON.parse(readFileSync(kevFile, 'utf8')) as { vulnerabilities: KevEntry[] }).vulnerabilities;
const records = allRealRecords() as { id: string; lastModified: string }[];

/** A real run of the sources' kind: NVD records kept raw, KEV rows written into feed.db. */
function runSources(store: FeedStore, nvd: typeof records, kevRows: KevEntry[]): void {
  store.keepRawRecords(nvd);
  const put = store.db.prepare('INSERT OR REPLACE INTO kev (cve_id, date_added, due_date, ransomware, vendor, product, name) VALUES (?, ?, ?, ?, ?, ?, ?)');
  store.db.transaction(() => {
    for (const k of kevRows)
      put.run(k.cveID, k.dateAdded, k.dueDate, k.knownRansomwareCampaignUse === 'Known' ? 1 : 0, k.vendorProject, k.product, k.vulnerabilityName);
  })();
  store.setDataAsOf('kev', '2025-08-25');
}

function fresh() {
  const dir = tempDir();
  const { logger } = captureLogger();
  const store = openFeedStore({ file: path.join(dir, 'feed.db'), logger });
  const agent = openSqlite({ file: path.join(dir, 'cve.db'), logger, migrations: cveMigrations });
  return { store, agent, logger };
}

const count = (db: ReturnType<typeof openSqlite>, table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('feed store and deltas', () => {
  it('makes a version only after a run that changed something, and a catch-up delta brings an agent to the hub state', () => {
    const { store, agent, logger } = fresh();
    runSources(store, records.slice(0, 40), kev.slice(0, 100));
    expect(store.recordVersion(new Date('2026-01-01T00:00:00Z'))?.version).toBe(1);
    expect(store.recordVersion(new Date())).toBeUndefined();

    const snapshot = decodeDelta(encodeDelta(store.buildDelta(0, new Date())!));
    expect(snapshot.header).toMatchObject({ from: 0, to: 1 });
    applyDelta(agent, snapshot, logger);
    expect(heldFeedVersion(agent)).toBe(1);
    expect(count(agent, 'cves')).toBe(40);

    // Three updates while the agent is offline; then one delta 1→4.
    runSources(store, records.slice(40, 60), kev.slice(100, 150));
    store.recordVersion(new Date());
    runSources(store, records.slice(60), []);
    store.recordVersion(new Date());
    store.db.prepare('DELETE FROM kev WHERE cve_id = ?').run(kev[0]!.cveID);
    store.recordVersion(new Date());
    const catchUp = store.buildDelta(1, new Date())!;
    expect(catchUp.header).toMatchObject({ from: 1, to: 4 });
    expect(catchUp.lines.filter((line) => line.t === 'nvd')).toHaveLength(records.length - 40);
    applyDelta(agent, decodeDelta(encodeDelta(catchUp)), logger);
    expect(heldFeedVersion(agent)).toBe(4);
    expect(count(agent, 'cves')).toBe(records.length);
    expect(agent.prepare('SELECT cve_id FROM kev ORDER BY cve_id').all()).toEqual(store.db.prepare('SELECT cve_id FROM kev ORDER BY cve_id').all());
    expect(store.buildDelta(4, new Date())).toBeUndefined();
  });

  it('rejects a malformed delta without touching cve.db', () => {
    const { store, agent, logger } = fresh();
    runSources(store, records.slice(0, 5), kev.slice(0, 5));
    store.recordVersion(new Date());
    const good = encodeDelta(store.buildDelta(0, new Date())!);
    expect(() => decodeDelta(Buffer.from('not gzip'))).toThrow(/not gzip/);
    const body = gunzipSync(good).toString('utf8').split('\n');
    const badJson = gzipSync([body[0], '{"t":"nvd",', ...body.slice(2)].join('\n'));
    expect(() => decodeDelta(badJson)).toThrow(expect.objectContaining({ code: 'CVE_ERR_DELTA_INVALID' }));
    const truncated = gzipSync(body.slice(0, 3).join('\n'));
    expect(() => decodeDelta(truncated)).toThrow(/truncated/);
    expect(count(agent, 'cves')).toBe(0);
    expect(heldFeedVersion(agent)).toBe(0);
    // A delta that starts after the version held is refused, and nothing is applied.
    const gap = decodeDelta(good);
    gap.header.from = 3;
    gap.header.to = 5;
    expect(() => applyDelta(agent, gap, logger)).toThrow(expect.objectContaining({ code: 'CVE_ERR_DELTA_VERSION' }));
    expect(count(agent, 'cves')).toBe(0);
  });

  it('applies a delta from an older version than the one held (its rows are a superset), skips one it already holds, and takes the hub NVD date', () => {
    const { store, agent, logger } = fresh();
    runSources(store, records.slice(0, 10), kev.slice(0, 10));
    store.setDataAsOf('nvd', '2026-11-30T00:00:00.000Z');
    store.recordVersion(new Date());
    const first = decodeDelta(encodeDelta(store.buildDelta(0, new Date())!));
    runSources(store, records.slice(10, 20), kev.slice(10, 20));
    store.recordVersion(new Date());
    applyDelta(agent, decodeDelta(encodeDelta(store.buildDelta(0, new Date())!)), logger);
    expect(heldFeedVersion(agent)).toBe(2);
    runSources(store, records.slice(20, 30), kev.slice(20, 30));
    store.recordVersion(new Date());
    // Built for an agent at version 1 (a heartbeat that raced the apply), applied at version 2.
    const fromOne = decodeDelta(encodeDelta(store.buildDelta(1, new Date())!));
    expect(applyDelta(agent, fromOne, logger)).toMatchObject({ version: 3, skipped: false });
    expect(count(agent, 'cves')).toBe(30);
    expect(agent.prepare('SELECT cve_id FROM kev ORDER BY cve_id').all()).toEqual(store.db.prepare('SELECT cve_id FROM kev ORDER BY cve_id').all());
    // A replayed transfer the cve.db already holds changes nothing.
    expect(applyDelta(agent, first, logger)).toEqual({ version: 3, records: 0, rows: 0, skipped: true });
    expect(heldFeedVersion(agent)).toBe(3);
    expect(agent.prepare("SELECT value FROM feed_meta WHERE key = 'data_as_of'").get()).toEqual({ value: '2026-11-30T00:00:00.000Z' });
  });

  it('writes a delta as it reads it (gzip members) and applies a delta file as a stream, with the same result as in memory', async () => {
    const { store, agent, logger } = fresh();
    runSources(store, records, kev.slice(0, 300));
    store.recordVersion(new Date());
    const written = store.writeDelta(0, new Date('2026-12-01T00:00:00Z'))!;
    const built = store.buildDelta(0, new Date('2026-12-01T00:00:00Z'))!;
    expect(decodeDelta(written.bytes)).toEqual(built);
    expect(written.lines).toBe(records.length + 300);
    // Many small gzip members read as one stream, by both readers.
    const encoder = createDeltaEncoder(built.header, 2000);
    for (const line of built.lines) encoder.add(line);
    const members = encoder.finish();
    expect(decodeDelta(members)).toEqual(built);
    const file = path.join(tempDir(), 'feed-delta-0-1.jsonl.gz');
    writeFileSync(file, members);
    const applied = await applyDeltaFile(agent, file, logger);
    expect(applied).toMatchObject({ version: 1, records: records.length, rows: 300, skipped: false, header: { from: 0, to: 1 } });
    expect(count(agent, 'cves')).toBe(records.length);
    expect(count(agent, 'kev')).toBe(300);
    expect(await applyDeltaFile(agent, file, logger)).toMatchObject({ version: 1, skipped: true });
  });

  it('refuses a cut or altered delta file before writing anything, however far into the file the fault is', async () => {
    const { store, agent, logger } = fresh();
    runSources(store, records, kev.slice(0, 50));
    store.recordVersion(new Date());
    const { header, lines } = store.buildDelta(0, new Date())!;
    const dir = tempDir();
    const cut = path.join(dir, 'cut.gz');
    const good = encodeDelta({ header, lines });
    writeFileSync(cut, good.subarray(0, good.length - 40));
    await expect(applyDeltaFile(agent, cut, logger)).rejects.toMatchObject({ code: 'CVE_ERR_DELTA_INVALID' });
    // The last body line broken: every record before it is valid, and still none is applied.
    const altered = path.join(dir, 'altered.gz');
    const original = gunzipSync(good).toString('utf8').split('\n');
    const text = [...original];
    text[text.length - 3] = '{"t":"kev","row":{"cve_id":""}}';
    writeFileSync(altered, gzipSync(text.join('\n')));
    await expect(applyDeltaFile(agent, altered, logger)).rejects.toMatchObject({ code: 'CVE_ERR_DELTA_INVALID' });
    const noEnd = path.join(dir, 'no-end.gz');
    writeFileSync(noEnd, gzipSync(original.slice(0, -2).join('\n')));
    await expect(applyDeltaFile(agent, noEnd, logger)).rejects.toThrow(/truncated/);
    expect(count(agent, 'cves')).toBe(0);
    expect(count(agent, 'kev')).toBe(0);
    expect(heldFeedVersion(agent)).toBe(0);
    expect(agent.inTransaction).toBe(false);
  });
});
