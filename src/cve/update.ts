import type { Logger } from 'pino';
import { z } from 'zod';
import { CveError } from './errors.js';
import type { CveStore } from './cve-store.js';
import { addCounts, emptyCounts, importBatch, type ImportCounts } from './import.js';
import type { NvdClient } from './nvd-client.js';
import type { WaitingClock } from './rate-limiter.js';

/**
 * `cve-agent feed update`: pull what changed at NVD since the data-as-of time, page by page.
 * The cursor (window and startIndex) commits in the same transaction as the page it follows,
 * so a kill at any point resumes at the first page not yet stored, never before or after it.
 */

const dayMs = 24 * 3600 * 1000;
/** NVD refuses lastModified windows longer than 120 days. */
export const maxWindowDays = 120;

const cursorSchema = z.discriminatedUnion('mode', [
  // No data_as_of yet: page through every record, then catch up from when that began.
  z.object({ mode: z.literal('full'), startedAt: z.iso.datetime(), startIndex: z.int().min(0) }),
  z.object({ mode: z.literal('window'), windowStart: z.iso.datetime(), windowEnd: z.iso.datetime(), target: z.iso.datetime(), startIndex: z.int().min(0) }),
]);
export type UpdateCursor = z.infer<typeof cursorSchema>;

export const metaKeys = { cursor: 'update_cursor', dataAsOf: 'data_as_of', lastUpdate: 'last_update' } as const;

export function readCursor(store: CveStore): UpdateCursor | undefined {
  const text = store.getMeta(metaKeys.cursor);
  if (text === undefined) return undefined;
  const parsed = cursorSchema.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : undefined;
}

function windowFrom(start: Date, target: Date): UpdateCursor {
  const end = new Date(Math.min(start.getTime() + maxWindowDays * dayMs, target.getTime()));
  return { mode: 'window', windowStart: start.toISOString(), windowEnd: end.toISOString(), target: target.toISOString(), startIndex: 0 };
}

/** After the last page of a pass: the next window, or undefined when the data is current. */
function nextCursor(cursor: UpdateCursor, now: Date): UpdateCursor | undefined {
  if (cursor.mode === 'full') return windowFrom(new Date(cursor.startedAt), now);
  if (cursor.windowEnd < cursor.target) return windowFrom(new Date(cursor.windowEnd), new Date(cursor.target));
  return undefined;
}

export interface UpdateOptions {
  store: CveStore;
  client: NvdClient;
  clock: WaitingClock;
  logger: Logger;
  signal?: AbortSignal | undefined;
  resultsPerPage?: number;
  onPage?: (progress: { cursor: UpdateCursor; totalResults: number; counts: ImportCounts }) => void;
  /** Runs inside each page's transaction with its raw records: the feed hub keeps them for deltas, committed with the page. */
  withinPage?: (raws: readonly unknown[]) => void;
}

export interface UpdateResult {
  counts: ImportCounts;
  pages: number;
  /** Where the run started: a stored cursor means it resumed an interrupted update. */
  resumedFrom: UpdateCursor | undefined;
  dataAsOf: string;
}

export async function updateFeed(options: UpdateOptions): Promise<UpdateResult> {
  const { store, client, clock, logger, signal } = options;
  const resultsPerPage = options.resultsPerPage ?? 2000;
  const resumedFrom = readCursor(store);
  let cursor: UpdateCursor;
  if (resumedFrom) {
    cursor = resumedFrom;
    logger.info({ cursor }, 'resuming interrupted NVD update');
  } else {
    const dataAsOf = store.getMeta(metaKeys.dataAsOf);
    const now = clock.now();
    cursor = dataAsOf === undefined ? { mode: 'full', startedAt: now.toISOString(), startIndex: 0 } : windowFrom(new Date(dataAsOf), now);
    store.setMeta(metaKeys.cursor, JSON.stringify(cursor));
  }
  const counts = emptyCounts();
  let pages = 0;
  for (;;) {
    signal?.throwIfAborted();
    const page = await client.fetchPage(
      cursor.mode === 'window'
        ? { startIndex: cursor.startIndex, resultsPerPage, lastModStartDate: new Date(cursor.windowStart), lastModEndDate: new Date(cursor.windowEnd) }
        : { startIndex: cursor.startIndex, resultsPerPage },
      signal,
    );
    if (page.startIndex !== cursor.startIndex) {
      throw new CveError('CVE_ERR_NVD_PROTOCOL', `asked for startIndex ${cursor.startIndex}, the page says ${page.startIndex}`);
    }
    const reached = cursor.startIndex + page.vulnerabilities.length;
    if (page.vulnerabilities.length === 0 && reached < page.totalResults) {
      throw new CveError('CVE_ERR_NVD_PROTOCOL', `empty page at startIndex ${cursor.startIndex} of ${page.totalResults}: the update cannot advance`);
    }
    const passDone = reached >= page.totalResults;
    const following = passDone ? nextCursor(cursor, clock.now()) : { ...cursor, startIndex: reached };
    const finished = cursor;
    const raws = page.vulnerabilities.map((item) => item.cve);
    const batch = importBatch(store, raws, {
      source: `NVD startIndex ${cursor.startIndex}`,
      logger,
      withinTransaction: () => {
        options.withinPage?.(raws);
        if (passDone && finished.mode === 'window') store.setMeta(metaKeys.dataAsOf, finished.windowEnd);
        if (following) store.setMeta(metaKeys.cursor, JSON.stringify(following));
        else store.deleteMeta(metaKeys.cursor);
      },
    });
    addCounts(counts, batch);
    pages += 1;
    options.onPage?.({ cursor, totalResults: page.totalResults, counts: batch });
    logger.info(
      { mode: cursor.mode, startIndex: cursor.startIndex, records: page.vulnerabilities.length, totalResults: page.totalResults, ...batch },
      'stored NVD page',
    );
    if (!following) break;
    cursor = following;
  }
  const dataAsOf = store.getMeta(metaKeys.dataAsOf) ?? '';
  store.setMeta(metaKeys.lastUpdate, JSON.stringify({ at: clock.now().toISOString(), pages, ...counts }));
  logger.info({ pages, dataAsOf, ...counts }, 'NVD update finished');
  return { counts, pages, resumedFrom, dataAsOf };
}
