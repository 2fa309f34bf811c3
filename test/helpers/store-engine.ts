/**
 * The control plane's store on the engine the test project names: SQLite (project `sqlite`) or
 * PostgreSQL (project `postgres`, CP_TEST_STORE=postgres, one database per state directory on the
 * run's throwaway cluster). The control plane's tests run on both through this one door.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Logger } from 'pino';
import { inject } from 'vitest';
import { openPostgresStore } from '../../src/control-plane/store/postgres/index.js';
import { DATABASE_FILE, openSqliteStore } from '../../src/control-plane/store/sqlite/index.js';
import type { ControlPlaneStore } from '../../src/control-plane/store/types.js';
import { createDatabase } from './postgres.js';

export type Engine = 'sqlite' | 'postgres';
export const engine: Engine = process.env.CP_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

// A state directory keeps its database: a test that closes the store and opens it again (a
// restart, a second process) finds its rows. The cluster is thrown away after the run.
const databases = new Map<string, Promise<string>>();

/** The PostgreSQL URL of a state directory's database (made on first use). */
export function databaseUrlOf(stateDir: string): Promise<string> {
  let url = databases.get(stateDir);
  if (!url) {
    url = createDatabase(inject('postgresUrl'), 'cp');
    databases.set(stateDir, url);
  }
  return url;
}

export async function openEngineStore(stateDir: string, logger: Logger, options: { ingestThread?: boolean } = {}): Promise<ControlPlaneStore> {
  if (engine === 'sqlite') return openSqliteStore({ stateDir, logger, ingestThread: options.ingestThread });
  return openPostgresStore({ url: await databaseUrlOf(stateDir), logger, pool: { max: 8 } });
}

/** The `store:` line of a control plane config file for this state directory. */
export async function storeConfigLine(stateDir: string): Promise<string> {
  if (engine === 'sqlite') return `store: { sqlite: { path: ${JSON.stringify(path.join(stateDir, DATABASE_FILE))} } }`;
  return `store: { postgres: { url: ${JSON.stringify(await databaseUrlOf(stateDir))} } }`;
}

/**
 * Reads the database on a connection of its own, as an operator's sqlite3 or psql would.
 * `?` placeholders on both engines.
 */
export async function queryDatabase<T = Record<string, unknown>>(stateDir: string, sql: string, ...params: unknown[]): Promise<T[]> {
  if (engine === 'sqlite') {
    const db = new Database(path.join(stateDir, DATABASE_FILE), { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: await databaseUrlOf(stateDir) });
  await client.connect();
  try {
    let n = 0;
    const { rows } = await client.query(
      sql.replace(/\?/g, () => `$${++n}`),
      params,
    );
    // bigint counts arrive as numbers: the store's module sets pg's parser (store/postgres/db.ts).
    return rows as T[];
  } finally {
    await client.end();
  }
}

/** The first column of the first row. */
export async function queryValue(stateDir: string, sql: string, ...params: unknown[]): Promise<unknown> {
  const [row] = await queryDatabase(stateDir, sql, ...params);
  return row === undefined ? undefined : Object.values(row)[0];
}

/** Every table's rows (one connection for all of them). */
export async function tablesOf(stateDir: string): Promise<Record<string, Record<string, unknown>[]>> {
  const tables: Record<string, Record<string, unknown>[]> = {};
  if (engine === 'sqlite') {
    const db = new Database(path.join(stateDir, DATABASE_FILE), { readonly: true });
    try {
      const names = db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
      for (const name of names) tables[name] = db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
    return tables;
  }
  const client = new pg.Client({ connectionString: await databaseUrlOf(stateDir) });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    );
    for (const { name } of rows) tables[name] = (await client.query(`SELECT * FROM "${name}"`)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
  return tables;
}
