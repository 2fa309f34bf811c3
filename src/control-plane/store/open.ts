/**
 * The one place the configured engine is chosen: `serve` and every CLI command open the store
 * through here, so each works the same on the embedded SQLite file and on a shared PostgreSQL.
 */
import type { Logger } from 'pino';
import type { StoreSettings } from '../config/load.js';
import { openSqliteStore } from './sqlite/index.js';
import type { ControlPlaneStore } from './types.js';

export interface OpenStoreOptions {
  /** Apply SQLite agent reports on a thread of their own (the default); CLI commands that ingest nothing pass false. */
  ingestThread?: boolean;
}

export async function openStore(settings: StoreSettings, stateDir: string, logger: Logger, options: OpenStoreOptions = {}): Promise<ControlPlaneStore> {
  if (settings.engine === 'postgres') {
    // Loaded only when configured: an SQLite installation never loads pg.
    const { openPostgresStore } = await import('./postgres/index.js');
    return openPostgresStore({ url: settings.url, pool: settings.pool, logger });
  }
  return openSqliteStore({ stateDir, file: settings.path, logger, ...options });
}
