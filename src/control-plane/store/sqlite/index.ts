import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { KernelError } from '../../../shared/errors.js';
import { closeSqlite, openSqlite } from '../../../shared/sqlite.js';
import { ControlPlaneError } from '../../errors.js';
import type { ControlPlaneStore } from '../types.js';
import { sqliteApiTokens } from './api-tokens.js';
import { sqliteCommands } from './commands.js';
import { sqliteConsole } from './console.js';
import { sqliteIngest } from './ingest.js';
import { controlPlaneMigrations } from '../migrations/index.js';
import { sqliteNotifications } from './notifications.js';
import { sqliteLoginFailures } from './login-failures.js';
import { sqliteOperators } from './operators.js';
import { sqliteScanState } from './scan-state.js';
import { sqliteScans } from './scans.js';
import { sqliteSchedules } from './schedules.js';
import { sqliteSessions } from './sessions.js';
import { sqliteSignals } from './signals.js';
import { sqliteSites } from './sites.js';
import { sqliteVulns } from './vulns.js';
import { workerIngest } from './worker-ingest.js';

export const DATABASE_FILE = 'control-plane.db';
const LATEST_VERSION = controlPlaneMigrations.at(-1)?.version ?? 0;

/**
 * The embedded store: one SQLite file in the state directory, opened with the same pragmas,
 * integrity check and migration discipline as the agent's database.
 */
export interface SqliteStoreOptions {
  stateDir: string;
  /** The database file; default control-plane.db in stateDir (`store.sqlite.path`). */
  file?: string;
  logger: Logger;
  /** Apply agent reports on a thread of their own (the default); false keeps them on the caller's thread. */
  ingestThread?: boolean;
}

export function openSqliteStore(options: SqliteStoreOptions): ControlPlaneStore & { file: string } {
  const file = options.file ?? path.join(options.stateDir, DATABASE_FILE);
  mkdirSync(options.stateDir, { recursive: true, mode: 0o750 });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
  let db;
  try {
    db = openSqlite({ file, logger: options.logger, migrations: controlPlaneMigrations });
  } catch (error) {
    if (error instanceof KernelError && error.code === 'DB_CORRUPT') {
      throw new ControlPlaneError(
        'CP_ERR_DB_CORRUPT',
        `database ${file} is corrupt; the control plane will not overwrite it: move it aside or restore a backup`,
        { cause: error },
      );
    }
    if (error instanceof KernelError && error.code === 'DB_TOO_NEW') {
      throw new ControlPlaneError('CP_ERR_DB_TOO_NEW', `database ${file} was migrated by a newer cve-control-plane; upgrade (the file was left untouched)`, {
        cause: error,
      });
    }
    throw error;
  }
  const state = sqliteScanState(db);
  const opened = db;
  const local = sqliteIngest(db, state);
  const ingest = options.ingestThread === false ? undefined : workerIngest(file, local.streamSeq, options.logger);
  const signals = sqliteSignals((error) => options.logger.error({ err: error }, 'a cluster signal handler failed'));
  return {
    file,
    sites: sqliteSites(db),
    schedules: sqliteSchedules(db, signals),
    scans: sqliteScans(db, state, signals),
    ingest: ingest ?? local,
    commands: sqliteCommands(db, signals),
    vulns: sqliteVulns(db, signals),
    notifications: sqliteNotifications(db),
    operators: sqliteOperators(db),
    sessions: sqliteSessions(db),
    apiTokens: sqliteApiTokens(db),
    loginFailures: sqliteLoginFailures(db),
    console: sqliteConsole(db),
    signals,
    async ping() {
      // Throws once the file is closed; a schema behind this build (a restored old backup) is not ready.
      opened.prepare('SELECT 1').get();
      const version = opened.pragma('user_version', { simple: true }) as number;
      if (version < LATEST_VERSION) throw new Error(`the database schema is at version ${version}; this control plane needs ${LATEST_VERSION}`);
    },
    async close() {
      await ingest?.close();
      closeSqlite(opened, options.logger);
    },
  };
}
