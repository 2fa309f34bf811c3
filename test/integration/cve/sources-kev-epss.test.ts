import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CveError } from '../../../src/cve/errors.js';
import { createEpssSource } from '../../../src/cve/sources/epss.js';
import { retryAfterMs } from '../../../src/cve/sources/http.js';
import { createKevSource } from '../../../src/cve/sources/kev.js';
import type { Db } from '../../../src/shared/sqlite.js';
import { feedServer, sourceContext, sourceCveDb } from './source-kit.js';
import { realEpssGz, realKevJson } from '../../simulators/feed-server.js';

const feed = () => feedServer('127.0.61.1');
const cveDb = sourceCveDb;
const context = (now = '2024-01-13T06:00:00Z') => sourceContext(now);

const count = (db: Db, table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('KEV source', () => {
  it('fills the kev table from the real catalog', async () => {
    const server = await feed();
    server.serve('/kev.json', realKevJson());
    const db = cveDb();
    const result = await createKevSource(`${server.url}/kev.json`).run(db, context());
    const catalog = JSON.parse(realKevJson().toString('utf8')) as { count: number; dateReleased: string };
    expect(result).toEqual({ source: 'kev', changed: catalog.count, dataAsOf: catalog.dateReleased });
    expect(count(db, 'kev')).toBe(catalog.count);
    expect(db.prepare("SELECT date_added, due_date FROM kev WHERE cve_id = 'CVE-2025-48384'").get()).toEqual({
      date_added: '2025-08-25',
      due_date: '2025-09-15',
    });
  });

  it('writes only what differs: the same catalog again changes nothing; a removed and a changed entry are 2 changes', async () => {
    const server = await feed();
    const catalog = JSON.parse(realKevJson().toString('utf8')) as { count: number; vulnerabilities: { cveID: string; dueDate?: string }[] };
    server.serve('/kev.json', realKevJson());
    const db = cveDb();
    const source = createKevSource(`${server.url}/kev.json`);
    await source.run(db, context());
    expect((await source.run(db, context())).changed).toBe(0);
    const [removed, moved, ...rest] = catalog.vulnerabilities;
    const next = { ...catalog, count: catalog.count - 1, vulnerabilities: [{ ...moved!, dueDate: '2030-01-01' }, ...rest] };
    server.serve('/kev.json', JSON.stringify(next));
    expect((await source.run(db, context())).changed).toBe(2);
    expect(count(db, 'kev')).toBe(catalog.count - 1);
    expect(db.prepare('SELECT count(*) AS n FROM kev WHERE cve_id = ?').get(removed!.cveID)).toEqual({ n: 0 });
    expect(db.prepare('SELECT due_date FROM kev WHERE cve_id = ?').get(moved!.cveID)).toEqual({ due_date: '2030-01-01' });
  });

  it('retries a 429 with Retry-After and a dropped connection, then applies the catalog whole', async () => {
    const server = await feed();
    server.serve('/kev.json', realKevJson());
    server.fault('/kev.json', { kind: 'status', status: 429, retryAfter: '7' }, { kind: 'drop-mid-body' });
    const db = cveDb();
    const ctx = context();
    await createKevSource(`${server.url}/kev.json`).run(db, ctx);
    expect(server.requests('/kev.json')).toBe(3);
    expect(ctx.waits[0]).toBe(7000);
    expect(count(db, 'kev')).toBeGreaterThan(1000);
  });

  it('refuses a malformed catalog with CVE_ERR_SOURCE_PROTOCOL and keeps the previous table', async () => {
    const server = await feed();
    server.serve('/kev.json', realKevJson());
    const db = cveDb();
    const source = createKevSource(`${server.url}/kev.json`);
    await source.run(db, context());
    const before = count(db, 'kev');
    server.fault('/kev.json', {
      kind: 'malformed',
      body: JSON.stringify({ catalogVersion: 'x', dateReleased: 'y', count: 1, vulnerabilities: [{ cveID: 'nope' }] }),
    });
    await expect(source.run(db, context())).rejects.toMatchObject({ code: 'CVE_ERR_SOURCE_PROTOCOL' });
    expect(count(db, 'kev')).toBe(before);
  });

  it('gives up after its attempts with CVE_ERR_SOURCE_UNAVAILABLE', async () => {
    const server = await feed();
    server.serve('/kev.json', realKevJson());
    server.fault('/kev.json', ...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 503 as const })));
    const error = await createKevSource(`${server.url}/kev.json`)
      .run(cveDb(), context())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CveError);
    expect((error as CveError).code).toBe('CVE_ERR_SOURCE_UNAVAILABLE');
  });
});

describe('EPSS source', () => {
  it('upserts the real daily file (221k rows) with its score date, the URL taking the day', async () => {
    const server = await feed();
    server.serve('/epss_scores-2024-01-13.csv.gz', realEpssGz());
    const db = cveDb();
    const result = await createEpssSource(`${server.url}/epss_scores-{date}.csv.gz`).run(db, context());
    expect(result.dataAsOf).toBe('2024-01-13');
    expect(count(db, 'epss')).toBe(result.changed);
    expect(result.changed).toBeGreaterThan(200_000);
    expect(db.prepare("SELECT score, percentile, score_date FROM epss WHERE cve_id = 'CVE-1999-0001'").get()).toEqual({
      score: 0.01167,
      percentile: 0.83393,
      score_date: '2024-01-13',
    });
  });

  it('refuses a file with a malformed row and applies none of it', async () => {
    const server = await feed();
    server.serve(
      '/e.csv.gz',
      gzipSync('#model_version:v2023.03.01,score_date:2024-01-13T00:00:00+0000\ncve,epss,percentile\nCVE-2024-0001,0.5,0.9\nCVE-2024-0002,abc,0.1\n'),
    );
    const db = cveDb();
    await expect(createEpssSource(`${server.url}/e.csv.gz`).run(db, context())).rejects.toMatchObject({ code: 'CVE_ERR_SOURCE_PROTOCOL' });
    expect(count(db, 'epss')).toBe(0);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    const now = new Date('2024-01-13T06:00:00Z');
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs('Sat, 13 Jan 2024 06:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
