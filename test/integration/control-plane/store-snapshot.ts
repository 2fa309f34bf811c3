/**
 * Every table of the control plane's SQLite file as sorted JSON lines, read on a connection of
 * its own (WAL: it sees what is committed), to assert that a refused request wrote nothing.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../../src/control-plane/store/sqlite/index.js';

/** Written by the webhook notifier on its own clock, never by a request. */
const IGNORED_TABLES = new Set(['deliveries']);
const IGNORED_COLUMNS = new Set(['scans.notify_state']);

export interface StoreSnapshots {
  take(): Record<string, string[]>;
  close(): void;
}

export function storeSnapshots(stateDir: string): StoreSnapshots {
  const db = new Database(path.join(stateDir, DATABASE_FILE), { readonly: true });
  return {
    take() {
      const tables = db
        .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .pluck()
        .all()
        .filter((name) => !IGNORED_TABLES.has(name));
      return Object.fromEntries(
        tables.map((table) => {
          const rows = db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[];
          const lines = rows.map((row) =>
            JSON.stringify(Object.fromEntries(Object.entries(row).filter(([column]) => !IGNORED_COLUMNS.has(`${table}.${column}`)))),
          );
          return [table, lines.sort()];
        }),
      );
    },
    close: () => db.close(),
  };
}
