import { menus, type MenuName, type Row, type RouterTables } from './tables.js';

/** Where a reader hands each row the moment it is parsed off the wire. */
export type RowSink = (menu: MenuName, row: Row) => void;

export interface ReadResult {
  /** The rows of every menu; empty when the read was given a sink, which took them one by one. */
  tables: RouterTables;
  /** Menus that were skipped or rows that were dropped, said in words for the logs and the CLI. */
  warnings: string[];
  /** Optional menus the router refused (absent or no permission): their tables are empty but unknown. */
  missingMenus?: MenuName[];
  /** When the read finished, UTC ISO 8601; ages reported by the router count back from here. */
  readAt: string;
}

/** One way of reading the router's tables (API, API-SSL or SSH); each read opens and closes its own session. */
export interface TableReader {
  readonly transport: 'api' | 'api-ssl' | 'ssh';
  /** With a sink, rows go to it as they arrive and are not kept; without one they are collected into `tables`. */
  read(signal: AbortSignal, sink?: RowSink): Promise<ReadResult>;
}

/** Empty tables, and the sink that fills them when the caller gave none. */
export function tablesAndSink(sink: RowSink | undefined): { tables: RouterTables; put: RowSink } {
  const tables = Object.fromEntries(Object.keys(menus).map((name) => [name, []])) as unknown as RouterTables;
  return { tables, put: sink ?? ((menu, row) => tables[menu].push(row)) };
}
