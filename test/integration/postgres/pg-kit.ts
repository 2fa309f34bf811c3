/**
 * A fresh database on the run's throwaway cluster (test/global-postgres.ts), migrated to the
 * control plane's schema, for tests of the PostgreSQL store's modules and of several nodes.
 */
import pino from 'pino';
import { afterEach, inject } from 'vitest';
import { openPgDb, type PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { migratePostgres } from '../../../src/control-plane/store/postgres/migrate.js';
import { controlPlaneMigrations } from '../../../src/control-plane/store/migrations/index.js';
import { createDatabase, dropDatabase } from '../../helpers/postgres.js';

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

/** A new database; closed and dropped after the test. */
export async function freshDatabase(): Promise<string> {
  const url = await createDatabase(inject('postgresUrl'));
  opened.push({ close: () => dropDatabase(url) });
  return url;
}

/** A PgDb on a new migrated database (a second `openPgDb(url)` is another node on the same data). */
export async function migratedDb(options: { migrate?: boolean } = {}): Promise<{ db: PgDb; url: string; open(): PgDb }> {
  const url = await freshDatabase();
  const logger = pino({ level: 'silent' });
  const open = () => {
    const db = openPgDb({ url, logger, max: 5 });
    opened.push(db);
    return db;
  };
  const db = open();
  if (options.migrate !== false) await migratePostgres(db, controlPlaneMigrations, logger);
  return { db, url, open };
}
