import { afterEach, describe, expect, it } from 'vitest';
import { openCveDatabase } from '../../../src/agent/cve/cve-database.js';
import { cveDataStatus, recordSourceRun, sourcesFreshness } from '../../../src/cve/freshness.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

const DAY = 86_400_000;
const opened: { close(): void }[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

describe('CVE data from the first minute, and its age said', () => {
  it('a new cve.db holds the starter feed as soon as it is created (no scan needed)', () => {
    const db = openCveDatabase({ stateDir: tempDir(), logger: captureLogger().logger, loadStarterFeed: true });
    opened.push(db);
    expect(db.store.counts().cves).toBe(78);
  });

  it('says the count and the age of the newest record, and warns past the configured age', () => {
    const db = openCveDatabase({ stateDir: tempDir(), logger: captureLogger().logger, loadStarterFeed: true });
    opened.push(db);
    const newest = db.store.getMeta('newest_record_modified') as string;
    const at = (days: number) => new Date(Date.parse(newest) + days * DAY + 1000);
    expect(cveDataStatus(db.store, at(3), 7 * DAY)).toMatchObject({ cves: 78, newest_record: newest, age_days: 3, stale: false, warning: null });
    const stale = cveDataStatus(db.store, at(30), 7 * DAY);
    expect(stale).toMatchObject({ age_days: 30, stale: true });
    expect(stale.warning).toMatch(/^the CVE data is 30 day\(s\) old .*older than 7 day\(s\).*feed update/);
    // An NVD update that found nothing newer still makes the data fresh.
    db.store.setMeta('data_as_of', at(29).toISOString());
    expect(cveDataStatus(db.store, at(30), 7 * DAY)).toMatchObject({ age_days: 1, stale: false });
  });

  it('judges the age against the configured limit and says it', () => {
    const db = openCveDatabase({ stateDir: tempDir(), logger: captureLogger().logger, loadStarterFeed: true });
    opened.push(db);
    const newest = db.store.getMeta('newest_record_modified') as string;
    const at10 = new Date(Date.parse(newest) + 10 * DAY + 1000);
    expect(cveDataStatus(db.store, at10, 14 * DAY)).toMatchObject({ age_days: 10, stale: false, max_age_days: 14, warning: null });
    expect(cveDataStatus(db.store, at10, 3 * DAY).warning).toMatch(/older than 3 day\(s\) \(feed\.max_age_days\)/);
  });

  it("keeps each source's last run: a failure keeps the last success and its date", () => {
    const db = openCveDatabase({ stateDir: tempDir(), logger: captureLogger().logger });
    opened.push(db);
    const t0 = new Date('2026-12-01T03:30:00Z');
    recordSourceRun(db.store, 'kev', t0, { ok: true, dataAsOf: '2026-11-30', changed: 1484 });
    recordSourceRun(db.store, 'kev', new Date('2026-12-04T03:30:00Z'), { ok: false, error: 'HTTP 503' });
    recordSourceRun(db.store, 'epss', t0, { ok: false, error: 'HTTP 404' });
    const now = new Date('2026-12-05T08:00:00Z');
    expect(sourcesFreshness(db.store, ['nvd', 'kev', 'epss'], now, 3 * DAY)).toEqual([
      {
        source: 'kev',
        last_run_at: '2026-12-04T03:30:00.000Z',
        last_ok_at: '2026-12-01T03:30:00.000Z',
        data_as_of: '2026-11-30',
        changed: 1484,
        error: 'HTTP 503',
        age_days: 4,
        stale: true,
      },
      { source: 'epss', last_run_at: t0.toISOString(), last_ok_at: null, data_as_of: null, changed: null, error: 'HTTP 404', age_days: null, stale: true },
    ]);
  });

  it('warns that an empty database finds nothing', () => {
    const db = openCveDatabase({ stateDir: tempDir(), logger: captureLogger().logger, loadStarterFeed: false });
    opened.push(db);
    expect(cveDataStatus(db.store, new Date(), 7 * DAY)).toMatchObject({ cves: 0, age_days: null, stale: true, warning: expect.stringMatching(/empty/) });
  });
});
