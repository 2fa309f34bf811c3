import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createNvdClient } from '../../../src/cve/nvd-client.js';
import type { WaitingClock } from '../../../src/cve/rate-limiter.js';
import { metaKeys, readCursor, updateFeed } from '../../../src/cve/update.js';
import { allRealRecords, knowledgeBase, realRecord, type TestKnowledgeBase } from '../../unit/cve/fixtures.js';
import { startNvdServer, type NvdServer } from './nvd-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(records = allRealRecords(), apiKey?: string): Promise<NvdServer> {
  const started = await startNvdServer({ records, ...(apiKey === undefined ? {} : { apiKey }) });
  cleanups.push(() => started.close());
  return started;
}

function kb(records: readonly unknown[] = []): TestKnowledgeBase {
  const opened = knowledgeBase(records);
  cleanups.push(() => opened.dispose());
  return opened;
}

/** "Now" is fixed (windows are computed from it); waits are real but short. */
function clockAt(iso: string): WaitingClock {
  return { now: () => new Date(iso), sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : undefined) };
}

function client(target: NvdServer, base: TestKnowledgeBase, clock: WaitingClock, extra: { apiKey?: string; attempts?: number } = {}) {
  return createNvdClient({
    logger: base.log.logger,
    clock,
    baseUrl: target.url,
    apiKey: extra.apiKey,
    // Backoff and rate limit scaled down so faults cost milliseconds; their rules are tested in unit tests.
    retry: { attempts: extra.attempts ?? 4, baseDelayMs: 5, maxDelayMs: 20 },
    rateLimit: { requests: 1000, windowMs: 1000 },
  });
}

describe('cve-agent feed update against a recorded NVD', () => {
  it('pulls every record page by page through 429, 403, 503, a dropped connection and a garbage body', async () => {
    const nvd = await server();
    nvd.faults.push(undefined, '429', '503', 'drop', undefined, '403', 'garbage');
    const base = kb();
    const clock = clockAt('2026-12-01T00:00:00.000Z');
    const result = await updateFeed({ store: base.store, client: client(nvd, base, clock), clock, logger: base.log.logger, resultsPerPage: 20 });
    expect(result.counts).toMatchObject({ inserted: 78, skipped: 0 });
    expect(base.store.counts()).toMatchObject({ cves: 78 });
    // Every failed request was asked again at the same startIndex; the pages were 0, 20, 40, 60.
    const served = nvd.requests.filter((request) => request.status === 200).map((request) => request.startIndex);
    expect(served).toEqual([0, 20, 40, 60, 0]);
    expect(nvd.requests.filter((request) => request.status === 'fault').map((request) => [request.fault, request.startIndex])).toEqual([
      ['429', 20],
      ['503', 20],
      ['drop', 20],
      ['403', 40],
      ['garbage', 40],
    ]);
    expect(nvd.requests.every((request) => request.resultsPerPage === 20)).toBe(true);
    // The full pass is followed by a catch-up window from when it began; then the data is as of then.
    const last = nvd.requests.at(-1);
    expect(last).toMatchObject({ lastModStartDate: '2026-12-01T00:00:00.000+00:00', lastModEndDate: '2026-12-01T00:00:00.000+00:00' });
    expect(base.store.getMeta(metaKeys.dataAsOf)).toBe('2026-12-01T00:00:00.000Z');
    expect(readCursor(base.store)).toBeUndefined();
    expect(
      base.log
        .lines()
        .filter((line) => line.msg === 'NVD API request failed; retrying')
        .map((line) => line.reason),
    ).toEqual(['HTTP 429', 'HTTP 503', expect.stringMatching(/^connection failed/), 'HTTP 403', 'HTTP 200 with a body that is not JSON (24 bytes)']);
  });

  it('catches up from data-as-of in windows of at most 120 days, applying changes and rejections', async () => {
    const records = allRealRecords();
    const base = kb(records);
    base.store.setMeta(metaKeys.dataAsOf, '2025-06-01T00:00:00.000Z');
    // What NVD changed since: a re-analysed record and a rejection.
    const modified = realRecord('CVE-2021-41773');
    modified.lastModified = '2026-07-01T10:00:00.000';
    modified.vulnStatus = 'Reanalyzed';
    const rejected = realRecord('CVE-2021-42013');
    rejected.lastModified = '2026-08-01T10:00:00.000';
    rejected.vulnStatus = 'Rejected';
    rejected.configurations = [];
    const nvd = await server(
      records.map((record) => (record.id === modified.id ? modified : record.id === rejected.id ? rejected : record)),
      'key-123',
    );
    const clock = clockAt('2026-12-01T00:00:00.000Z');
    const result = await updateFeed({
      store: base.store,
      client: client(nvd, base, clock, { apiKey: 'key-123' }),
      clock,
      logger: base.log.logger,
      resultsPerPage: 50,
    });

    const windows = nvd.requests.map((request) => [request.lastModStartDate, request.lastModEndDate]);
    expect(windows[0]?.[0]).toBe('2025-06-01T00:00:00.000+00:00');
    expect(windows.at(-1)?.[1]).toBe('2026-12-01T00:00:00.000+00:00');
    for (const [start, end] of windows) expect(Date.parse(end ?? '') - Date.parse(start ?? '')).toBeLessThanOrEqual(120 * 86400000);
    // Contiguous: each window starts where the previous one ended.
    const distinct = [...new Map(windows.map((window) => [window.join(' '), window])).values()];
    distinct.slice(1).forEach((window, index) => expect(window[0]).toBe(distinct[index]?.[1]));
    expect(distinct.length).toBe(5);
    expect(nvd.requests.every((request) => request.apiKey === 'key-123')).toBe(true);

    expect(result.counts.updated).toBeGreaterThanOrEqual(1);
    expect(result.counts.removed).toBe(1);
    expect(base.store.get('CVE-2021-41773')?.vulnStatus).toBe('Reanalyzed');
    expect(base.store.get('CVE-2021-42013')).toBeUndefined();
    expect(base.store.getMeta(metaKeys.dataAsOf)).toBe('2026-12-01T00:00:00.000Z');
  });

  it('keeps its place when NVD stays down, and resumes there on the next run', async () => {
    const nvd = await server();
    const base = kb();
    const clock = clockAt('2026-12-01T00:00:00.000Z');
    nvd.faults.push(undefined, '503', '503', '503');
    await expect(
      updateFeed({ store: base.store, client: client(nvd, base, clock, { attempts: 3 }), clock, logger: base.log.logger, resultsPerPage: 30 }),
    ).rejects.toMatchObject({
      code: 'CVE_ERR_NVD_UNAVAILABLE',
      message: expect.stringContaining('startIndex 30 after 3 attempts (last: HTTP 503)'),
    });
    expect(base.store.counts().cves).toBe(30);
    expect(readCursor(base.store)).toMatchObject({ mode: 'full', startIndex: 30 });
    const before = nvd.requests.length;
    const resumed = await updateFeed({ store: base.store, client: client(nvd, base, clock), clock, logger: base.log.logger, resultsPerPage: 30 });
    expect(resumed.resumedFrom).toMatchObject({ startIndex: 30 });
    expect(nvd.requests.slice(before).map((request) => request.startIndex)).toEqual([30, 60, 0]);
    expect(base.store.counts().cves).toBe(78);
  });

  it('stops at once on a refused key or a page that is not a page, with typed errors', async () => {
    const nvd = await server(allRealRecords(), 'right-key');
    const base = kb();
    const clock = clockAt('2026-12-01T00:00:00.000Z');
    await expect(
      updateFeed({ store: base.store, client: client(nvd, base, clock, { apiKey: 'wrong-key' }), clock, logger: base.log.logger }),
    ).rejects.toMatchObject({
      code: 'CVE_ERR_NVD_REFUSED',
      message: expect.stringContaining('NVD answers 404 to an invalid API key'),
    });
    nvd.faults.push('not-a-page');
    await expect(updateFeed({ store: base.store, client: client(nvd, base, clock), clock, logger: base.log.logger })).rejects.toMatchObject({
      code: 'CVE_ERR_NVD_PROTOCOL',
    });
    expect(nvd.requests).toHaveLength(2);
    expect(base.store.counts().cves).toBe(0);
  });

  it('stops within the backoff when the signal aborts', async () => {
    const nvd = await server();
    nvd.faults.push('hang');
    const base = kb();
    const clock = clockAt('2026-12-01T00:00:00.000Z');
    const controller = new AbortController();
    nvd.onRequest = () => setTimeout(() => controller.abort(new Error('shutting down')), 20);
    // A hung request is not waited out: the client's own timeout is two minutes, the test's thirty seconds.
    await expect(
      updateFeed({ store: base.store, client: client(nvd, base, clock), clock, logger: base.log.logger, signal: controller.signal }),
    ).rejects.toThrow('shutting down');
    expect(readCursor(base.store)).toMatchObject({ mode: 'full', startIndex: 0 });
  });
});
