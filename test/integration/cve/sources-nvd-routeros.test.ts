import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cveMigrations } from '../../../src/cve/migrations.js';
import type { WaitingClock } from '../../../src/cve/rate-limiter.js';
import { createSources, sourcesSettingsSchema } from '../../../src/cve/sources/config.js';
import { createNvdSource } from '../../../src/cve/sources/nvd.js';
import { createRouterosSource } from '../../../src/cve/sources/routeros.js';
import type { SourceContext } from '../../../src/cve/sources/source.js';
import { closeSqlite, openSqlite, type Db } from '../../../src/shared/sqlite.js';
import { captureLogger } from '../../helpers/logger.js';
import { startFeedServer } from '../../simulators/feed-server.js';
import { allRealRecords } from '../../unit/cve/fixtures.js';
import { startNvdServer } from './nvd-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function cveDb(): Db {
  const dir = mkdtempSync(path.join(tmpdir(), 'edge-cve-sources-'));
  const log = captureLogger();
  const db = openSqlite({ file: path.join(dir, 'cve.db'), logger: log.logger, migrations: cveMigrations });
  cleanups.push(() => {
    closeSqlite(db, log.logger);
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

/** A clock whose sleeps advance it at once: rate limits and Retry-After cost no real time. */
function context(start = '2026-12-01T00:00:00Z'): SourceContext {
  let now = Date.parse(start);
  const clock: WaitingClock = {
    now: () => new Date(now),
    sleep: async (ms) => {
      now += ms;
    },
  };
  return { logger: captureLogger().logger, clock };
}

const count = (db: Db, table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('NVD source', () => {
  it('pages the real records in, and after a kill at page 3 resumes there: none missing or duplicated', async () => {
    const records = allRealRecords();
    const server = await startNvdServer({ records });
    cleanups.push(() => server.close());
    const db = cveDb();
    const source = createNvdSource(server.url, undefined, 10);
    // The run is killed (aborted) as page 3 is requested: pages 1 and 2 are in, with their cursor.
    const controller = new AbortController();
    server.onRequest = () => {
      if (server.requests.length === 3) controller.abort();
    };
    await expect(source.run(db, { ...context(), signal: controller.signal })).rejects.toThrow();
    expect(count(db, 'cves')).toBe(20);
    server.onRequest = undefined;
    const before = server.requests.length;
    await source.run(db, context());
    // Resumed at page 3, then every page once: start indexes 20, 30, ... with none repeated.
    const resumed = server.requests.slice(before).map((r) => r.startIndex);
    expect(resumed[0]).toBe(20);
    expect(new Set(resumed).size).toBe(resumed.length);
    expect(count(db, 'cves')).toBe(records.length);
  });
});

describe('RouterOS source', () => {
  it('reads the four NEWEST channel files and refuses a malformed one keeping the old rows', async () => {
    const server = await startFeedServer();
    cleanups.push(() => server.close());
    const files = { stable: '7.16.2 1734012345', 'long-term': '7.15.3 1722000000', testing: '7.17rc2 1734500000', development: '7.17beta6 1733000000' };
    for (const [channel, body] of Object.entries(files)) server.serve(`/routeros/NEWESTa7.${channel}`, body);
    const db = cveDb();
    const source = createRouterosSource(`${server.url}/routeros`);
    const result = await source.run(db, context());
    expect(result.changed).toBe(4);
    expect(db.prepare("SELECT version, released FROM routeros_releases WHERE channel = 'stable'").get()).toEqual({
      version: '7.16.2',
      released: new Date(1734012345000).toISOString(),
    });
    server.fault('/routeros/NEWESTa7.development', { kind: 'malformed', body: '<html>' });
    await expect(source.run(db, context())).rejects.toMatchObject({ code: 'CVE_ERR_SOURCE_PROTOCOL' });
    expect(count(db, 'routeros_releases')).toBe(4);
  });
});

describe('sources settings', () => {
  it('defaults every source with its schedule and builds them; a disabled one is left out', () => {
    const settings = sourcesSettingsSchema.parse({ kev: { enabled: false }, epss: { url: 'http://127.0.61.1/epss-{date}.csv.gz' } });
    expect(settings.nvd.schedule).toBe('0 */2 * * *');
    expect(createSources(settings).map((s) => [s.name, s.url])).toEqual([
      ['nvd', 'https://services.nvd.nist.gov/rest/json/cves/2.0'],
      ['epss', 'http://127.0.61.1/epss-{date}.csv.gz'],
      ['debian', 'https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data'],
      ['ubuntu', 'https://git.launchpad.net/ubuntu-cve-tracker/snapshot/ubuntu-cve-tracker-master.tar.gz'],
      ['routeros', 'https://upgrade.mikrotik.com/routeros'],
    ]);
    expect(() => sourcesSettingsSchema.parse({ kev: { schedule: 'daily' } })).toThrow(/cron/);
  });
});
