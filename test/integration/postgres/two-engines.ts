/**
 * The same rows in both engines: a migrated SQLite file and a migrated PostgreSQL database, seeded
 * with plain INSERTs of the same values, so a PostgreSQL module's answers can be compared with the
 * SQLite module's for the same calls.
 */
import path from 'node:path';
import pino from 'pino';
import { afterEach } from 'vitest';
import { closeSqlite, openSqlite, type Db } from '../../../src/shared/sqlite.js';
import { controlPlaneMigrations } from '../../../src/control-plane/store/migrations/index.js';
import type { PgDb } from '../../../src/control-plane/store/postgres/db.js';
import { tempDir } from '../../helpers/temp.js';
import { migratedDb } from './pg-kit.js';

const logger = pino({ level: 'silent' });
const sqlites: Db[] = [];
afterEach(() => {
  for (const db of sqlites.splice(0)) closeSqlite(db, logger);
});

export type Row = Record<string, string | number | boolean | null>;
export type Seed = Record<string, Row[]>;

export interface TwoEngines {
  sqlite: Db;
  pg: PgDb;
  /** Another node on the same PostgreSQL database. */
  node(): PgDb;
  /** Inserts the rows, table by table in the seed's order, into both engines. */
  seed(rows: Seed): Promise<void>;
}

export async function twoEngines(): Promise<TwoEngines> {
  const sqlite = openSqlite({ file: path.join(tempDir('edge-cve-two-'), 'control-plane.db'), logger, migrations: controlPlaneMigrations });
  sqlites.push(sqlite);
  const { db: pg, open } = await migratedDb();
  return {
    sqlite,
    pg,
    node: open,
    async seed(rows) {
      for (const [table, list] of Object.entries(rows)) {
        for (const row of list) {
          const columns = Object.keys(row);
          const values = Object.values(row);
          // SQLite keeps booleans as 0/1.
          sqlite
            .prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
            .run(...values.map((value) => (typeof value === 'boolean' ? Number(value) : value)));
          await pg.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, values);
        }
      }
    },
  };
}
