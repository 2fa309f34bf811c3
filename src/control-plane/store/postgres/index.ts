/**
 * The control plane's store on PostgreSQL, for installations of several nodes (docs/deploy-cluster.md):
 * the same ControlPlaneStore as the embedded SQLite, the same numbered migrations, one pool.
 */
import type { Logger } from 'pino';
import { ControlPlaneError } from '../../errors.js';
import { controlPlaneMigrations } from '../migrations/index.js';
import type { ControlPlaneStore } from '../types.js';
import { pgApiTokens } from './api-tokens.js';
import { pgCommands } from './commands.js';
import { pgConsole } from './console.js';
import { openPgDb, type PgDb } from './db.js';
import { pgIngest } from './ingest.js';
import { pgLoginFailures } from './login-failures.js';
import { migratePostgres, schemaVersion } from './migrate.js';
import { pgNotifications } from './notifications.js';
import { pgOperators } from './operators.js';
import { pgScans } from './scans.js';
import { pgSchedules } from './schedules.js';
import { pgSessions } from './sessions.js';
import { pgSignals } from './signals.js';
import { pgSites } from './sites.js';
import { pgVulns } from './vulns.js';

export interface PostgresStoreOptions {
  url: string;
  pool?: { max?: number };
  logger: Logger;
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<ControlPlaneStore & { db: PgDb }> {
  const db = openPgDb({ url: options.url, max: options.pool?.max, logger: options.logger });
  try {
    await migratePostgres(db, controlPlaneMigrations, options.logger);
  } catch (error) {
    await db.close();
    if (error instanceof ControlPlaneError) throw error;
    throw new ControlPlaneError('CP_ERR_DB_UNREACHABLE', `cannot open the PostgreSQL database ${redact(options.url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const latest = controlPlaneMigrations.at(-1)?.version ?? 0;
  return {
    db,
    sites: pgSites(db),
    schedules: pgSchedules(db),
    scans: pgScans(db),
    ingest: pgIngest(db),
    commands: pgCommands(db),
    vulns: pgVulns(db),
    notifications: pgNotifications(db),
    operators: pgOperators(db),
    sessions: pgSessions(db),
    apiTokens: pgApiTokens(db),
    loginFailures: pgLoginFailures(db),
    console: pgConsole(db),
    // Command wake-ups are NOTIFYed by commandWriter inside each storing transaction.
    signals: pgSignals(db, options.logger),
    async ping() {
      const version = await schemaVersion(db);
      if (version < latest) throw new Error(`the database is at schema version ${version}, ${latest} expected`);
    },
    async close() {
      await db.close();
    },
  };
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
