import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { KernelError } from './errors.js';

export type Db = Database.Database;

/** A numbered step of a schema; each is applied in its own transaction and sets user_version. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** A step SQL alone cannot do (converting rows in code), run after `sql` in the same transaction. */
  run?: (db: Db) => void;
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

function corrupt(file: string, reason: string, cause?: unknown): KernelError {
  return new KernelError(
    'DB_CORRUPT',
    `database ${file} is corrupt (${reason}); edge-cve will not overwrite it: move it aside or restore a backup, then start again`,
    { cause },
  );
}

function migrate(db: Db, file: string, logger: Logger, migrations: readonly Migration[]): void {
  const latestSchemaVersion = migrations.at(-1)?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latestSchemaVersion) {
    throw new KernelError(
      'DB_TOO_NEW',
      `database ${file} has schema version ${current}, newer than this program's ${latestSchemaVersion}; upgrade it (the file was left untouched)`,
    );
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      migration.run?.(db);
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
   * large rebuildable file (cve.db, hundreds of MB for the whole NVD) it costs seconds at every
   * open; such a file passes false and relies on SQLite's own corruption errors.
   */
  integrityCheck?: boolean;
}

/**
 * Opens (creating if needed) one SQLite file the way every store of both daemons wants it: WAL,
 * foreign keys, FULL sync, a quick integrity check, and its numbered migrations applied.
 * A corrupt file or one from a newer program is refused (`KernelError`) and never written to.
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

/**
 * An exclusive lock for a daemon's lifetime: a second SQLite file held in an EXCLUSIVE
 * transaction. The kernel drops the fcntl lock when the process dies, so a crash never leaves a
 * stale lock behind. `holder` names the program in the message.
 */
export function acquireLockFile(file: string, holder: string): Db {
  const lock = new Database(file, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new KernelError('DB_LOCKED', `another ${holder} holds ${file}`, { cause: error });
    }
    throw error;
  }
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
