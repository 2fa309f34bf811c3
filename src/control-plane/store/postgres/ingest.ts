/**
 * Applies agent reports on PostgreSQL. A batch is one transaction, each report applied at most
 * once per (site, stream, seq): the streams' high-water marks are locked first (one upsert in key
 * order, so a second node ingesting the same stream waits, then sees the first's mark and only
 * acknowledges) and moved in the same transaction as the rows. The batch's rows are written in a
 * handful of statements (ingest-batch.ts). A report that cannot be applied is quarantined in
 * ingest_rejects while the others apply: most are recognised before anything is written; a batch
 * the database refuses (a constraint, a value out of range) is applied again, one savepoint per report.
 */
import type { IngestItem, IngestOutcome, IngestResult, IngestStore } from '../types.js';
import { toJson } from '../json.js';
import type { PgDb, Queryable } from './db.js';
import { byKey, insertRows, rowsOf } from './bulk.js';
import { IngestBatch } from './ingest-batch.js';
import { IngestRejection } from './ingest-runs.js';
import { lockScans } from './tallies.js';
import { recomputeScans } from './scan-state.js';

export { IngestRejection } from './ingest-runs.js';

/** Errors of the data, not of the database: the report is quarantined instead of failing its batch forever. */
const refusedByDatabase = (error: unknown): boolean => /^2[23]/.test(String((error as { code?: unknown }).code ?? ''));

interface Mark {
  site_id: string;
  stream_id: string;
  last_seq: number;
}

/** Locks the batch's streams (creating them at 0) in key order and answers their high-water marks. */
async function lockStreams(client: Queryable, items: readonly IngestItem[], at: string): Promise<Map<string, Mark>> {
  const keys = new Map<string, { site_id: string; stream_id: string }>();
  for (const item of items) keys.set(`${item.site.id} ${item.stream_id}`, { site_id: item.site.id, stream_id: item.stream_id });
  const sorted = [...keys.values()].sort((a, b) => byKey(a.site_id, b.site_id) || byKey(a.stream_id, b.stream_id));
  const rows = await insertRows<{ site_id: string; stream_id: string; last_seq: number }>(
    client,
    'streams',
    ['site_id', 'stream_id', 'last_seq', 'updated_at'],
    sorted.map((key) => ({ ...key, last_seq: 0, updated_at: at })),
    // A no-op update: it takes the row's lock and answers its latest committed mark.
    'ON CONFLICT (site_id, stream_id) DO UPDATE SET last_seq = streams.last_seq RETURNING site_id, stream_id, last_seq',
  );
  return new Map(rows.map((row) => [`${row.site_id} ${row.stream_id}`, row]));
}

async function pass(client: Queryable, items: readonly IngestItem[], isolated: boolean): Promise<IngestOutcome> {
  const now = items.at(-1)?.received_at ?? new Date().toISOString();
  const marks = await lockStreams(client, items, now);
  const results: IngestResult[] = [];
  const rejects: object[] = [];
  const fresh: IngestItem[] = [];
  const outcomes: (IngestResult | undefined)[] = [];
  for (const item of items) {
    const mark = marks.get(`${item.site.id} ${item.stream_id}`) as Mark;
    if (item.report.seq <= mark.last_seq) {
      outcomes.push({ outcome: 'duplicate' });
      continue;
    }
    mark.last_seq = item.report.seq;
    fresh.push(item);
    outcomes.push(undefined);
  }
  const reject = (item: IngestItem, error: Error): IngestResult => {
    rejects.push({
      site_id: item.site.id,
      stream_id: item.stream_id,
      seq: item.report.seq,
      body: toJson(item.report),
      reason: error.message,
      at: item.received_at,
    });
    return { outcome: 'rejected', reason: error.message };
  };
  const applied = (scan: string | undefined): IngestResult => (scan === undefined ? { outcome: 'applied' } : { outcome: 'applied', scan_id: scan });
  const touched = new Set<string>();
  let alerts = 0;
  const applyAll = async (): Promise<IngestResult[]> => {
    const batch = new IngestBatch(client);
    await batch.prefetch(fresh);
    const own: IngestResult[] = [];
    for (const item of fresh) {
      try {
        own.push(applied(await batch.apply(item)));
      } catch (error) {
        // Recognised before anything of the report was written: nothing to roll back.
        if (!(error instanceof IngestRejection)) throw error;
        own.push(reject(item, error));
      }
    }
    alerts += await batch.flush();
    for (const id of batch.touched) touched.add(id);
    return own;
  };
  const applyEach = async (): Promise<IngestResult[]> => {
    const own: IngestResult[] = [];
    for (const item of fresh) {
      await client.query('SAVEPOINT report');
      try {
        const batch = new IngestBatch(client);
        await batch.prefetch([item]);
        const scan = await batch.apply(item);
        const raised = await batch.flush();
        await client.query('RELEASE SAVEPOINT report');
        alerts += raised;
        for (const id of batch.touched) touched.add(id);
        own.push(applied(scan));
      } catch (error) {
        if (!(error instanceof IngestRejection) && !refusedByDatabase(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT report');
        own.push(reject(item, error as Error));
      }
    }
    return own;
  };
  const own = isolated ? await applyEach() : await applyAll();
  for (const outcome of outcomes) results.push(outcome ?? (own.shift() as IngestResult));
  await insertRows(client, 'ingest_rejects', ['site_id', 'stream_id', 'seq', 'body', 'reason', 'at'], rejects);
  const saved = [...marks.values()].sort((a, b) => byKey(a.site_id, b.site_id) || byKey(a.stream_id, b.stream_id));
  await client.query(
    `UPDATE streams s SET last_seq = r.last_seq, updated_at = r.updated_at FROM (${rowsOf('streams', ['site_id', 'stream_id', 'last_seq', 'updated_at'])}) r
     WHERE s.site_id = r.site_id AND s.stream_id = r.stream_id`,
    [JSON.stringify(saved.map((mark) => ({ ...mark, updated_at: now })))],
  );
  // Once per scan and batch, however many of its sites started or ended in it.
  await lockScans(client, touched);
  const finished = new Set(await recomputeScans(client, touched, now));
  return { results, finished_scans: [...touched].filter((id) => finished.has(id)), alerts: alerts > 0 };
}

export function pgIngest(db: PgDb): IngestStore {
  return {
    async streamSeq(siteId, streamId) {
      const rows = await db.query<{ last_seq: number }>('SELECT last_seq FROM streams WHERE site_id = $1 AND stream_id = $2', [siteId, streamId]);
      return rows[0]?.last_seq ?? 0;
    },
    async ingest(items) {
      if (items.length === 0) return { results: [], finished_scans: [], alerts: false };
      try {
        return await db.tx((client) => pass(client, items, false));
      } catch (error) {
        if (!refusedByDatabase(error)) throw error;
        return db.tx((client) => pass(client, items, true));
      }
    },
  };
}
