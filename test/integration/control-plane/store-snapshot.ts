/**
 * Every table of the control plane's database as sorted JSON lines, read on a connection of its
 * own (it sees what is committed), to assert that a refused request wrote nothing. Either engine.
 */
import { tablesOf } from '../../helpers/store-engine.js';

/** Written by the webhook notifier on its own clock, never by a request. */
const IGNORED_TABLES = new Set(['deliveries']);
const IGNORED_COLUMNS = new Set(['scans.notify_state']);

export interface StoreSnapshots {
  take(): Promise<Record<string, string[]>>;
  close(): void;
}

export function storeSnapshots(stateDir: string): StoreSnapshots {
  return {
    async take() {
      const tables = await tablesOf(stateDir);
      return Object.fromEntries(
        Object.entries(tables)
          .filter(([table]) => !IGNORED_TABLES.has(table))
          .map(([table, rows]) => [
            table,
            rows.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).filter(([column]) => !IGNORED_COLUMNS.has(`${table}.${column}`))))).sort(),
          ]),
      );
    },
    close: () => undefined,
  };
}
