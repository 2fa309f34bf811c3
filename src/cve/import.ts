import type { Logger } from 'pino';
import type { CveStore } from './cve-store.js';
import { parseFeedBytes, resolveItem } from './feed-files.js';
import { parseInWorker } from './parse-in-worker.js';
import { prepareRecord, type PreparedRecord } from './prepare.js';

export interface ImportCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Records older than the copy already held (or than its rejection): ignored. */
  older: number;
  /** Rejected CVEs removed from the database. */
  removed: number;
  /** Malformed records, each logged with its CVE id and the reason. */
  skipped: number;
}

export const emptyCounts = (): ImportCounts => ({ inserted: 0, updated: 0, unchanged: 0, older: 0, removed: 0, skipped: 0 });

export function addCounts(into: ImportCounts, more: ImportCounts): ImportCounts {
  for (const key of Object.keys(into) as (keyof ImportCounts)[]) into[key] += more[key];
  return into;
}

export interface BatchOptions {
  source: string;
  logger: Logger;
  /** Runs inside the batch's transaction after its records: the update client moves its cursor here, so data and cursor commit together. */
  withinTransaction?: () => void;
}

/**
 * Imports one batch of raw NVD records in one transaction. Each record is validated on its
 * own: a malformed one is skipped with a log line naming the CVE, and the rest go in.
 * This is the single entry point for records, whatever brought them (files, the NVD API,
 * later the control plane).
 */
export function importBatch(store: CveStore, raws: readonly unknown[], options: BatchOptions): ImportCounts {
  const records: PreparedRecord[] = [];
  const skipped: { cve: string; reason: string }[] = [];
  for (const raw of raws) {
    const prepared = prepareRecord(raw);
    if (prepared.ok) records.push(prepared.record);
    else skipped.push({ cve: prepared.cve, reason: prepared.reason });
  }
  return writePrepared(store, records, skipped, options);
}

/** The writing half: one transaction for the batch; malformed records are logged by id. */
export function writePrepared(
  store: CveStore,
  records: readonly PreparedRecord[],
  skipped: readonly { cve: string; reason: string }[],
  options: BatchOptions,
): ImportCounts {
  const counts = emptyCounts();
  for (const { cve, reason } of skipped) {
    counts.skipped += 1;
    options.logger.warn({ cve, source: options.source, reason }, 'skipped malformed CVE record');
  }
  store.db.transaction(() => {
    let newest = store.getMeta('newest_record_modified') ?? '';
    for (const outcome of store.applyBatch(records)) counts[outcome] += 1;
    for (const { values } of records) if (values[2] > newest) newest = values[2];
    if (newest !== '') store.setMeta('newest_record_modified', newest);
    options.withinTransaction?.();
  })();
  return counts;
}

export interface ImportFilesOptions {
  store: CveStore;
  logger: Logger;
  paths: readonly string[];
  signal?: AbortSignal | undefined;
  /**
   * Records per transaction. 500 by default: a quarter of an NVD page per commit costs little
   * in commits and halves what sits in memory on both sides of the worker, compared to 2,000.
   */
  batchSize?: number;
  onBatch?: (progress: { source: string; counts: ImportCounts }) => void;
}

export interface ImportResult {
  counts: ImportCounts;
  files: readonly string[];
  /** Records read, malformed ones included. */
  records: number;
}

function recordImport(store: CveStore, source: string, counts: ImportCounts, at: Date): void {
  store.setMeta('last_import', JSON.stringify({ source, at: at.toISOString(), ...counts }));
}

/** `cve-agent feed import`: files, gzip files and directories of either, batch by batch. */
export async function importFeedFiles(options: ImportFilesOptions): Promise<ImportResult> {
  const { store, logger, paths, signal } = options;
  const counts = emptyCounts();
  const sources = new Set<string>();
  let records = 0;
  // Reading and validating run in a worker thread while this thread writes: the two halves
  // cost about the same, and the worker's bounded heap keeps the import's memory small.
  for await (const batch of parseInWorker({ paths, batchSize: options.batchSize ?? 500, signal })) {
    sources.add(batch.source.replace(/#\d+$/, ''));
    records += batch.records.length + batch.skipped.length;
    const written = writePrepared(store, batch.records, batch.skipped, { source: batch.source, logger });
    addCounts(counts, written);
    options.onBatch?.({ source: batch.source, counts: written });
    logger.debug({ source: batch.source, ...written }, 'imported feed batch');
    signal?.throwIfAborted();
  }
  recordImport(store, paths.join(', '), counts, new Date());
  logger.info({ paths, records, ...counts }, 'imported CVE feed');
  return { counts, files: [...sources], records };
}

/** One feed file's bytes (JSON or gzip), as the control plane will push them over the uplink. */
export function importFeedBytes(store: CveStore, bytes: Buffer, options: { source: string; logger: Logger; batchSize?: number }): ImportCounts {
  const chunk = parseFeedBytes(bytes, options.source);
  const counts = emptyCounts();
  const size = options.batchSize ?? 2000;
  for (let start = 0; start < chunk.items.length; start += size) {
    const records: PreparedRecord[] = [];
    const skipped: { cve: string; reason: string }[] = [];
    for (const item of chunk.items.slice(start, start + size)) {
      const resolved = resolveItem(item);
      const prepared = resolved.ok ? prepareRecord(resolved.record) : resolved;
      if (prepared.ok) records.push(prepared.record);
      else skipped.push({ cve: prepared.cve, reason: prepared.reason });
    }
    addCounts(counts, writePrepared(store, records, skipped, options));
  }
  recordImport(store, options.source, counts, new Date());
  return counts;
}
