import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { CveError, type CveErrorCode } from './errors.js';
import type { ParseWorkerData, ParseWorkerMessage } from './parse-worker.js';
import type { PreparedRecord } from './prepare.js';

export interface PreparedBatch {
  source: string;
  records: PreparedRecord[];
  skipped: { cve: string; reason: string }[];
}

export interface ParseInWorkerOptions {
  paths: readonly string[];
  batchSize: number;
  signal?: AbortSignal | undefined;
  /** Old-generation heap of the worker in MB: bounds the import's memory. */
  heapMb?: number;
}

/**
 * The worker's entry. Built, it is parse-worker.js. Under vitest and tsx the sources are
 * TypeScript, so a small bootstrap registers tsx's loader in the worker before importing it.
 */
function startWorker(data: ParseWorkerData, resourceLimits: ResourceLimits): Worker {
  const options = { workerData: data, resourceLimits };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url), options);
  const entry = new URL('./parse-worker.ts', import.meta.url).href;
  // tsx's ESM API, found from here (its package exports name the CommonJS twin for require).
  const tsxApi = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * Prepared batches of the feed files, read and validated in a worker thread, in file order.
 * The worker stays at most two batches ahead; it is terminated when the loop ends, throws or
 * the signal aborts.
 */
export async function* parseInWorker(options: ParseInWorkerOptions): AsyncGenerator<PreparedBatch> {
  options.signal?.throwIfAborted();
  const heapMb = options.heapMb ?? 64;
  const worker = startWorker({ paths: [...options.paths], batchSize: options.batchSize }, { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 16 });
  const queue: (ParseWorkerMessage | { type: 'failed'; error: Error })[] = [];
  let wake: (() => void) | undefined;
  const push = (message: (typeof queue)[number]) => {
    queue.push(message);
    wake?.();
  };
  worker.on('message', (message: ParseWorkerMessage) => push(message));
  worker.on('error', (error: Error) => push({ type: 'failed', error }));
  worker.on('exit', (code) => push({ type: 'failed', error: new Error(`feed parser worker exited with code ${code}`) }));
  const onAbort = () => push({ type: 'failed', error: options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted') });
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let records: PreparedRecord[] = [];
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const message = queue.shift() as (typeof queue)[number];
      if (message.type === 'done') return;
      if (message.type === 'failed') {
        options.signal?.throwIfAborted();
        const code = (message.error as { code?: string }).code;
        if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
          throw new CveError('CVE_ERR_FEED_INVALID', `a feed file is too large to import within ${heapMb} MB (split it into pages of at most 2000 records)`, {
            cause: message.error,
          });
        }
        throw message.error;
      }
      if (message.type === 'error') {
        // The errno goes back on as the cause, so the CLI can tell a permission problem (src/shared/state-owner.ts).
        const options = message.system ? { cause: Object.assign(new Error(message.system.code), message.system) } : undefined;
        throw message.code === undefined ? new Error(message.message, options) : new CveError(message.code as CveErrorCode, message.message, options);
      }
      if (message.type === 'records') {
        records.push(...message.records);
        continue;
      }
      const batch: PreparedBatch = { source: message.source, records, skipped: message.skipped };
      records = [];
      yield batch;
      worker.postMessage('next');
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
