import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFeedStore } from '../../../src/control-plane/feeds/feed-store.js';
import { createFeedHub } from '../../../src/control-plane/feeds/feed-hub.js';
import { systemWaitingClock } from '../../../src/cve/rate-limiter.js';
import type { FeedSource } from '../../../src/cve/sources/source.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

/** A real KEV source reading the real catalog from a file: all rows in one transaction. */
function kevFileSource(file: string): FeedSource {
  return {
    name: 'kev',
    url: file,
    run(db) {
      const catalog = JSON.parse(readFileSync(file, 'utf8')) as {
        dateReleased: string;
        vulnerabilities: {
          cveID: string;
          dateAdded: string;
          dueDate: string;
          knownRansomwareCampaignUse: string;
          vendorProject: string;
          product: string;
          vulnerabilityName: string;
        }[];
      };
      const put = db.prepare('INSERT OR REPLACE INTO kev (cve_id, date_added, due_date, ransomware, vendor, product, name) VALUES (?, ?, ?, ?, ?, ?, ?)');
      let changed = 0;
      db.transaction(() => {
        for (const k of catalog.vulnerabilities) {
          const before = db.prepare('SELECT date_added FROM kev WHERE cve_id = ?').get(k.cveID);
          if (before) continue;
          put.run(k.cveID, k.dateAdded, k.dueDate, k.knownRansomwareCampaignUse === 'Known' ? 1 : 0, k.vendorProject, k.product, k.vulnerabilityName);
          changed += 1;
        }
      })();
      return Promise.resolve({ source: 'kev', changed, dataAsOf: catalog.dateReleased });
    },
  };
}

describe('feed hub', () => {
  it('makes a feed version from a run that changed something, none from a run that did not, and logs a failed run in one line', async () => {
    const dir = tempDir();
    const log = captureLogger();
    const store = openFeedStore({ file: path.join(dir, 'feed.db'), logger: log.logger });
    const made: number[] = [];
    const failing: FeedSource = { name: 'epss', url: 'file:///missing', run: () => Promise.reject(new Error('no such file')) };
    const hub = createFeedHub({
      store,
      sources: [
        { source: kevFileSource(path.resolve('../shared/data/kev/known_exploited_vulnerabilities.json')), schedule: '0 * * * *' },
        { source: failing, schedule: '0 * * * *' },
      ],
      logger: log.logger,
      clock: systemWaitingClock,
      onVersion: (version) => made.push(version.version),
    });
    const [first, same] = [hub.runSource('kev'), hub.runSource('kev')];
    expect(same).toBe(first);
    expect((await first)?.version).toBe(1);
    expect(await hub.runSource('kev')).toBeUndefined();
    expect(await hub.runSource('epss')).toBeUndefined();
    expect(made).toEqual([1]);
    expect(log.lines().filter((line) => line.msg === 'feed source run failed; retried at its next slot')).toEqual([
      expect.objectContaining({ source: 'epss', reason: 'no such file' }),
    ]);
    expect(store.dataAsOf()).toEqual({ kev: '2025-08-25T17:04:19.9796Z' });
    expect(store.buildDelta(0, new Date())!.lines.length).toBeGreaterThan(1000);
    await hub.stop();
    store.close();
  });
});
