import type { MenuName, RouterTables } from './tables.js';

export interface ReadResult {
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
  read(signal: AbortSignal): Promise<ReadResult>;
}
