/**
 * Many rows in one statement: the rows travel as one JSON parameter and PostgreSQL types them
 * with the table's own row type (json_populate_recordset), so a batch of ten thousand findings is
 * one round trip and one plan, not ten thousand.
 */
import type { Queryable } from './db.js';

/** `SELECT <columns> FROM <rows as table's row type>` in the given order, for INSERT ... SELECT and UPDATE ... FROM. */
export function rowsOf(table: string, columns: readonly string[], param = '$1'): string {
  return `SELECT ${columns.join(', ')} FROM json_populate_recordset(null::${table}, ${param}::json) WITH ORDINALITY AS r ORDER BY r.ordinality`;
}

/**
 * INSERT of `rows` (objects keyed by column name; a missing key is NULL) into `table`, in the
 * rows' order (identity columns are numbered in it). `tail`: ON CONFLICT / RETURNING.
 */
export async function insertRows<R extends object = Record<string, unknown>>(
  client: Queryable,
  table: string,
  columns: readonly string[],
  rows: readonly object[],
  tail = '',
): Promise<R[]> {
  if (rows.length === 0) return [];
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) ${rowsOf(table, columns)} ${tail}`;
  return (await client.query<R>(sql, [JSON.stringify(rows)])).rows;
}

/** Compares as PostgreSQL's C collation does for the ASCII keys the store locks by: one order on every node, no deadlock. */
export const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
