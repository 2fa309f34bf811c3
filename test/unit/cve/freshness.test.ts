import { afterEach, describe, expect, it } from 'vitest';
import { openCveDatabase } from '../../../src/agent/cve/cve-database.js';
import { cveDataStatus } from '../../../src/cve/freshness.js';
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

  it('warns that an empty database finds nothing', () => {
    const db = openCveDatabase({ stateDir: tempDir(), logger: captureLogger().logger, loadStarterFeed: false });
    opened.push(db);
    expect(cveDataStatus(db.store, new Date(), 7 * DAY)).toMatchObject({ cves: 0, age_days: null, stale: true, warning: expect.stringMatching(/empty/) });
  });
});
