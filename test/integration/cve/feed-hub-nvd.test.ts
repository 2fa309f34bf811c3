import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFeedStore } from '../../../src/control-plane/feeds/feed-store.js';
import { createFeedHub } from '../../../src/control-plane/feeds/feed-hub.js';
import { decodeDelta, encodeDelta } from '../../../src/cve/delta.js';
import type { WaitingClock } from '../../../src/cve/rate-limiter.js';
import { createNvdSource } from '../../../src/cve/sources/nvd.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';
import { allRealRecords } from '../../unit/cve/fixtures.js';
import { startNvdServer } from './nvd-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Sleeps advance the clock at once: the NVD rate limits cost no real time. */
function steppingClock(start: string): WaitingClock {
  let now = Date.parse(start);
  return {
    now: () => new Date(now),
    sleep: async (ms) => {
      now += ms;
    },
  };
}

describe('the feed hub with the NVD source', () => {
  it('keeps every paged NVD record raw in feed.db, so the snapshot delta carries them all', async () => {
    const records = allRealRecords() as { id: string }[];
    const server = await startNvdServer({ records: records as Record<string, unknown>[], host: '127.0.68.1' });
    cleanups.push(() => server.close());
    const log = captureLogger();
    const store = openFeedStore({ file: path.join(tempDir(), 'feed.db'), logger: log.logger });
    cleanups.push(() => void store.close());
    const hub = createFeedHub({
      store,
      sources: [{ source: createNvdSource(server.url, undefined, 10), schedule: '0 0 1 1 *' }],
      logger: log.logger,
      clock: steppingClock('2026-12-01T00:00:00Z'),
    });
    expect((await hub.runSource('nvd'))?.version).toBe(1);
    const snapshot = decodeDelta(encodeDelta(store.buildDelta(0, new Date())!));
    const carried = snapshot.lines.flatMap((line) => (line.t === 'nvd' ? [String(line.record.id)] : []));
    expect(carried.sort()).toEqual(records.map((record) => record.id).sort());
    expect(snapshot.header.data_as_of.nvd).toBeDefined();
  });
});
