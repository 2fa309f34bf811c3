/**
 * The ingest thread: applies report batches on its own connection to the control plane's
 * database, so the commits (the heaviest work of a streaming hub) never hold the event loop that
 * serves the REST API and the WebSocket frames. WAL lets the main thread read meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { IngestItem } from '../types.js';
import { sqliteIngest } from './ingest.js';
import { sqliteScanState } from './scan-state.js';

const port = parentPort;
if (!port) throw new Error('ingest-worker runs as a worker thread');

const db = new Database((workerData as { file: string }).file, { timeout: 5000 });
db.pragma('journal_mode = WAL');
db.pragma('foreign_keys = ON');
db.pragma('synchronous = FULL');
const ingest = sqliteIngest(db, sqliteScanState(db));

port.on('message', (message: { id: number; items: IngestItem[] } | { close: true }) => {
  if ('close' in message) {
    db.close();
    port.close();
    return;
  }
  ingest.ingest(message.items).then(
    (outcome) => port.postMessage({ id: message.id, outcome }),
    (error: unknown) => port.postMessage({ id: message.id, error: { message: (error as Error).message, code: (error as { code?: string }).code } }),
  );
});
