import { parentPort, workerData } from 'node:worker_threads';
import { CveError } from './errors.js';
import { readFeedChunks, resolveItem } from './feed-files.js';
import { prepareRecord, type PreparedRecord } from './prepare.js';

/**
 * The import's reading half, in a worker thread: read, gunzip, JSON.parse, validate and
 * serialise feed files while the main thread writes the previous batch to SQLite. Its heap
 * is bounded by the resource limits it was started with, which keeps a 300,000-record import
 * within a small-box memory budget.
 */

export interface ParseWorkerData {
  paths: string[];
  batchSize: number;
}

export type ParseWorkerMessage =
  /** Part of the next batch. */
  | { type: 'records'; records: PreparedRecord[] }
  /** The end of a batch: its source and the records that were skipped. */
  | { type: 'batch'; source: string; skipped: { cve: string; reason: string }[] }
  | { type: 'done' }
  | { type: 'error'; code: string | undefined; message: string; system?: SystemCause };

/** The errno behind an unreadable file (its code and path), which a message cannot carry as an Error cause. */
export interface SystemCause {
  code: string;
  path?: string;
}

function systemCause(error: unknown): SystemCause | undefined {
  const cause = (error as { cause?: { code?: unknown; path?: unknown } }).cause;
  if (typeof cause?.code !== 'string') return undefined;
  return typeof cause.path === 'string' ? { code: cause.code, path: cause.path } : { code: cause.code };
}

const messageBytes = 64 * 1024;

const port = parentPort;
if (port) {
  const { paths, batchSize } = workerData as ParseWorkerData;
  // Two batches may be ahead of the writer: one being written, one ready.
  let credits = 2;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    credits += 1;
    wake?.();
  });
  const send = (message: ParseWorkerMessage) => port.postMessage(message);
  try {
    for (const chunk of readFeedChunks(paths, batchSize)) {
      const records: PreparedRecord[] = [];
      const skipped: { cve: string; reason: string }[] = [];
      for (const item of chunk.items) {
        const resolved = resolveItem(item);
        const prepared = resolved.ok ? prepareRecord(resolved.record) : resolved;
        if (prepared.ok) records.push(prepared.record);
        else skipped.push({ cve: prepared.cve, reason: prepared.reason });
      }
      while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
      credits -= 1;
      // V8 deserialises a message over 100 KB straight into the old generation, where the
      // writer's garbage would pile up until a full GC; messages under that size die young.
      let part: PreparedRecord[] = [];
      let size = 0;
      for (const record of records) {
        part.push(record);
        size += record.values.reduce<number>(
          (sum, value) => sum + (typeof value === 'string' ? value.length : value instanceof Uint8Array ? value.byteLength : 8),
          0,
        );
        if (size > messageBytes) {
          send({ type: 'records', records: part });
          part = [];
          size = 0;
        }
      }
      if (part.length > 0) send({ type: 'records', records: part });
      send({ type: 'batch', source: chunk.source, skipped });
    }
    send({ type: 'done' });
  } catch (error) {
    const system = systemCause(error);
    send({ type: 'error', code: error instanceof CveError ? error.code : undefined, message: (error as Error).message, ...(system ? { system } : {}) });
  }
}
