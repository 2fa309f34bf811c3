/**
 * The one place the configured engine is chosen: `serve` and every CLI command open the store
 * through here, so each works the same on the embedded SQLite file and on a shared PostgreSQL.
 */
import type { Logger } from 'pino';
import type { StoreSettings } from '../config/load.js';
import { ControlPlaneError } from '../errors.js';
import { openSqliteStore } from './sqlite/index.js';
import type { ControlPlaneStore } from './types.js';

export interface OpenStoreOptions {
  /** Apply SQLite agent reports on a thread of their own (the default); false keeps them on the caller's thread. */
  ingestThread?: boolean;
}

export async function openStore(settings: StoreSettings, stateDir: string, logger: Logger, options: OpenStoreOptions = {}): Promise<ControlPlaneStore> {
  if (settings.engine === 'sqlite') return openSqliteStore({ stateDir, file: settings.path, logger, ...options });
  // Loaded only when configured: an SQLite installation never loads pg.
  const { openPostgresStore } = await import('./postgres/index.js');
  try {
    return await openPostgresStore({ url: settings.url, pool: settings.pool, logger });
  } catch (error) {
    throw unreachable(error, settings.url) ?? error;
  }
}

// Node's socket errors, and PostgreSQL's refusals of the connection itself (SQLSTATE class 08,
// wrong password 28P01, no such role 28000, no such database 3D000, starting up 57P03).
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '28P01',
  '28000',
  '3D000',
  '57P03',
]);

/**
 * A failure to reach the database at start, as CP_ERR_DB_UNREACHABLE (exit 69: systemd restarts
 * the node until it can). The message names host, port, database and role, never the password.
 * Undefined for any other error.
 */
export function unreachable(error: unknown, url: string): ControlPlaneError | undefined {
  if (error instanceof ControlPlaneError) return undefined;
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const refused = typeof code === 'string' && (CONNECT_CODES.has(code) || code.startsWith('08'));
  // pg's own connect timeout and a connection cut during the handshake carry no code.
  if (!refused && !/^Connection terminated|timeout expired/i.test(message)) return undefined;
  return new ControlPlaneError('CP_ERR_DB_UNREACHABLE', `cannot reach the PostgreSQL database ${where(url)}: ${message || String(code)}`, { cause: error });
}

function where(url: string): string {
  try {
    const parsed = new URL(url);
    const role = parsed.username === '' ? '' : ` as ${decodeURIComponent(parsed.username)}`;
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}/${decodeURIComponent(parsed.pathname.slice(1))}${role}`;
  } catch {
    return '(store.postgres.url)';
  }
}
