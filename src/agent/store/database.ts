import { mkdirSync, openSync, readSync, closeSync, existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import { migrations as agentMigrations, type Migration } from './migrations/index.js';

export type Db = Database.Database;

export interface OpenedStore {
  db: Db;
  file: string;
  close(): void;
}

export interface OpenStoreOptions {
  stateDir: string;
  logger: Logger;
  /**
   * The daemon holds an exclusive lock for its lifetime so that a second agent on the same
   * state directory refuses to start. CLI commands that read or edit next to a running
   * daemon pass false (WAL lets them share the file safely).
   */
  exclusive: boolean;
}

const sqliteHeader = Buffer.from('SQLite format 3\0', 'latin1');

function hasForeignHeader(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(sqliteHeader.length);
    const read = readSync(fd, head, 0, head.length, 0);
    return read > 0 && !head.subarray(0, read).equals(sqliteHeader.subarray(0, read));
  } finally {
    closeSync(fd);
  }
}

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

function corrupt(file: string, reason: string, cause?: unknown): AgentError {
  return new AgentError(
    'AGENT_ERR_DB_CORRUPT',
    `database ${file} is corrupt (${reason}); the agent will not overwrite it: move it aside or restore a backup, then start again`,
    { cause },
  );
}

/**
 * The lock is a second SQLite file held in an EXCLUSIVE transaction: the kernel drops the
 * fcntl lock when the process dies, so a crash never leaves a stale lock behind.
 */
function acquireLock(stateDir: string): Db {
  const lock = new Database(path.join(stateDir, 'agent.lock'), { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new AgentError('AGENT_ERR_DB_LOCKED', `another cve-agent is running on ${stateDir}; stop it or give this one its own --data-dir`, { cause: error });
    }
    throw error;
  }
}

function migrate(db: Db, file: string, logger: Logger, migrations: readonly Migration[]): void {
  const latestSchemaVersion = migrations.at(-1)?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latestSchemaVersion) {
    throw new AgentError(
      'AGENT_ERR_DB_TOO_NEW',
      `database ${file} has schema version ${current}, newer than this agent's ${latestSchemaVersion}; upgrade cve-agent (the file was left untouched)`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
    logger.info({ version: migration.version, migration: migration.name }, 'applied database migration');
  }
}

export interface OpenSqliteOptions {
  file: string;
  logger: Logger;
  migrations: readonly Migration[];
  /**
   * Run `PRAGMA quick_check(1)` at open (default true). quick_check reads every page, so on a
   * large rebuildable file (cve.db, about 1.6 GB for the whole NVD) it costs seconds at every
   * open; such a file passes false and relies on SQLite's own corruption errors.
   */
  integrityCheck?: boolean;
}

/**
 * Opens (creating if needed) one SQLite file the way every store of the agent wants it: WAL,
 * foreign keys, FULL sync, a quick integrity check, and its numbered migrations applied.
 * A corrupt file or one from a newer agent is refused and never written to.
 */
export function openSqlite({ file, logger, migrations, integrityCheck = true }: OpenSqliteOptions): Db {
  if (hasForeignHeader(file)) throw corrupt(file, 'not an SQLite file');
  const db = new Database(file, { timeout: 5000 });
  try {
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, expected wal`);
      db.pragma('foreign_keys = ON');
      // FULL, not NORMAL: site routers and their closets lose power. In WAL mode NORMAL survives
      // a crash of the process but may drop the last commits on a power cut, and those commits
      // are scan results not yet delivered. Commits are per host, so the fsync costs little.
      db.pragma('synchronous = FULL');
      if (integrityCheck) {
        const check = db.pragma('quick_check(1)', { simple: true });
        if (check !== 'ok') throw corrupt(file, String(check));
      }
    } catch (error) {
      if (isCorruption(error)) throw corrupt(file, (error as Error).message, error);
      throw error;
    }
    migrate(db, file, logger, migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens the agent's own database, agent.db in the state directory, with the daemon's lock if asked. */
export function openStore(options: OpenStoreOptions): OpenedStore {
  const { stateDir, logger } = options;
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  const file = path.join(stateDir, 'agent.db');
  const lock = options.exclusive ? acquireLock(stateDir) : undefined;
  let opened: Db;
  try {
    opened = openSqlite({ file, logger, migrations: agentMigrations });
  } catch (error) {
    lock?.close();
    throw error;
  }
  return {
    db: opened,
    file,
    close() {
      closeSqlite(opened, logger);
      lock?.close();
    },
  };
}

/** Folds the WAL back so the file is whole for backups (harmless if another reader holds it), then closes. */
export function closeSqlite(db: Db, logger: Logger): void {
  if (!db.open) return;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (error) {
    logger.warn({ err: error }, 'WAL checkpoint at close failed');
  }
  db.close();
}
