import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CveStore, RecordOutcome } from './cve-store.js';
import { parseFeedBytes, readFeedChunks } from './feed-files.js';
import { nvdCveSchema } from './nvd-schema.js';
import { toCveRecord, type CveRecord } from './record.js';

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

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`)
    .join('; ');
}

function idOf(raw: unknown): string {
  const id = raw !== null && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : '(no id)';
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
  const counts = emptyCounts();
  const records: CveRecord[] = [];
  for (const raw of raws) {
    const parsed = nvdCveSchema.safeParse(raw);
    if (!parsed.success) {
      counts.skipped += 1;
      options.logger.warn({ cve: idOf(raw), source: options.source, reason: describeIssues(parsed.error) }, 'skipped malformed CVE record');
      continue;
    }
    records.push(toCveRecord(parsed.data));
  }
  store.db.transaction(() => {
    let newest = store.getMeta('newest_record_modified') ?? '';
    for (const record of records) {
      const outcome: RecordOutcome = store.apply(record);
      counts[outcome] += 1;
      if (record.lastModified > newest) newest = record.lastModified;
    }
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
  /** Records per transaction; an NVD page (2,000) by default. */
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
  for (const chunk of readFeedChunks(paths, options.batchSize ?? 2000, signal)) {
    sources.add(chunk.source.replace(/#\d+$/, ''));
    records += chunk.records.length;
    const batch = importBatch(store, chunk.records, { source: chunk.source, logger });
    addCounts(counts, batch);
    options.onBatch?.({ source: chunk.source, counts: batch });
    logger.debug({ source: chunk.source, ...batch }, 'imported feed batch');
    // Between transactions: let timers, signals and sockets of a running daemon through.
    await yieldToEventLoop();
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
  for (let start = 0; start < chunk.records.length; start += size) {
    addCounts(counts, importBatch(store, chunk.records.slice(start, start + size), options));
  }
  recordImport(store, options.source, counts, new Date());
  return counts;
}
