/**
 * Applies the control plane's numbered migrations to PostgreSQL. Several nodes may start at once
 * (a rolling upgrade): an advisory lock makes one of them migrate while the others wait, then find
 * nothing left to do. A database migrated by a newer control plane is refused, never touched.
 */
import type { Logger } from 'pino';
import { ControlPlaneError } from '../../errors.js';
import type { ControlPlaneMigration } from '../migrations/migration.js';
import type { PgDb } from './db.js';

/** Any constant both engines' nodes agree on: the key of the migration lock. */
const MIGRATION_LOCK = 0x6564_6763; // "edgc"

/** Collations under which text compares byte-wise, as SQLite does (ISO 8601 timestamps sort in time order). */
const BYTEWISE = new Set(['C', 'POSIX', 'C.UTF-8', 'C.utf8', 'ucs_basic']);

export async function migratePostgres(db: PgDb, migrations: readonly ControlPlaneMigration[], logger: Logger): Promise<void> {
  const [database] = await db.query<{ datname: string; datcollate: string }>('SELECT datname, datcollate FROM pg_database WHERE datname = current_database()');
  if (database && !BYTEWISE.has(database.datcollate)) {
    throw new ControlPlaneError(
      'CP_ERR_DB_COLLATION',
      `database ${database.datname} uses the collation ${database.datcollate}; create it with LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0 (docs/deploy-cluster.md)`,
    );
  }
  const latest = migrations.at(-1)?.version ?? 0;
  await db.tx(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    const current = rows[0]?.version ?? 0;
    if (current > latest) {
      throw new ControlPlaneError(
        'CP_ERR_DB_TOO_NEW',
        `the database is at schema version ${current}, this cve-control-plane knows ${latest}: upgrade it (nothing was changed)`,
      );
    }
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await client.query(migration.postgres);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        new Date().toISOString(),
      ]);
      logger.info({ version: migration.version, migration: migration.name }, 'applied database migration');
    }
  });
}

/** The schema version the database is at (0 before any migration). */
export async function schemaVersion(db: PgDb): Promise<number> {
  const [row] = await db.query<{ version: number | null }>(
    "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE (SELECT max(version) FROM schema_migrations) END AS version",
  );
  return row?.version ?? 0;
}
