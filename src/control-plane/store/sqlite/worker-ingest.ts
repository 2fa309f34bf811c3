/** The main thread's side of the ingest thread: the same IngestStore, one message per batch. */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { IngestOutcome, IngestStore } from '../types.js';

interface Pending {
  resolve: (outcome: IngestOutcome) => void;
  reject: (error: Error) => void;
}

// Built, the worker is a .js file beside this one. From the TypeScript sources (tests, tsx) it
// is a .ts file, loaded through a small bootstrap that registers tsx in the thread first.
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./ingest-worker.js', import.meta.url);
  const tsxApi = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs'));
  const entry = new URL('./ingest-worker.ts', import.meta.url);
  const bootstrap = `import { register } from ${JSON.stringify(tsxApi.href)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

export function workerIngest(file: string, streamSeq: IngestStore['streamSeq'], logger: Logger): IngestStore & { close(): Promise<void> } {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let worker: Worker | undefined;
  let closing = false;

  const start = (): Worker => {
    const started = new Worker(workerEntry(), { workerData: { file } });
    started.on('message', (message: { id: number; outcome?: IngestOutcome; error?: { message: string; code?: string } }) => {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiting?.reject(Object.assign(new Error(message.error.message), { code: message.error.code }));
      else waiting?.resolve(message.outcome as IngestOutcome);
    });
    // A dead thread fails what it held (the agents replay those reports) and the next batch starts a new one.
    started.on('error', (error) => logger.error({ err: error }, 'ingest thread failed'));
    started.on('exit', (code) => {
      if (worker === started) worker = undefined;
      for (const [id, waiting] of pending) {
        pending.delete(id);
        waiting.reject(new Error(`the ingest thread exited (${code})`));
      }
    });
    return started;
  };

  return {
    streamSeq,
    ingest(items) {
      if (closing) return Promise.reject(new Error('the store is closing'));
      worker ??= start();
      const id = nextId++;
      const sent = worker;
      return new Promise<IngestOutcome>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        sent.postMessage({ id, items });
      });
    },
    async close() {
      closing = true;
      const running = worker;
      if (!running) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.postMessage({ close: true });
      });
    },
  };
}
