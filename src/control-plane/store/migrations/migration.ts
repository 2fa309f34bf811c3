import type { Migration } from '../../../shared/sqlite.js';

/**
 * One numbered step of the control plane's schema, in both engines' dialects: `sql` (and `run`)
 * for SQLite, `postgres` for PostgreSQL. The same tables, columns and names in both; PostgreSQL
 * keeps timestamps as the same ISO 8601 text (its database uses the C collation, so they sort
 * byte-wise as in SQLite), and has real booleans and identity columns.
 */
export interface ControlPlaneMigration extends Migration {
  postgres: string;
}
