import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { VendorLookup } from './mac.js';
import { isRandomizedMac } from '../../shared/mac.js';

/**
 * Vendor names for MACs, looked up on disk in data/oui/oui.db (built from the oui-data package
 * by scripts/build-oui-table.mjs at `npm run build`): the IEEE registry is 53,000 blocks and
 * 30,000 names, which as a heap map cost the daemon some 15 MB that V8 never hands back.
 *
 * Why SQLite rather than a hand-made sorted binary file: the agent already carries SQLite
 * (better-sqlite3) for agent.db, its B-tree gives the indexed lookup a binary search would, and
 * the file is readable with the sqlite3 shell. A read-only connection with a small page cache
 * keeps the table's resident cost well under a megabyte whatever the size of the router.
 */
export const ouiTableFile = fileURLToPath(new URL('../../../data/oui/oui.db', import.meta.url));

export interface OuiTable extends VendorLookup {
  /** Blocks known, for a sanity check. */
  readonly size: number;
  /** Where the names come from, e.g. oui-data@2.1.9. */
  readonly source: string;
  close(): void;
}

export function openOuiTable(file = ouiTableFile): OuiTable {
  if (!existsSync(file)) throw new Error(`the vendor table ${file} is missing: run 'npm run build'`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  // 256 KiB of page cache: lookups of one site's MACs touch few pages, and RSS stays flat.
  db.pragma('cache_size = -256');
  // Holds its shared lock after the first read instead of taking and dropping it (several
  // syscalls) per lookup; nothing ever writes the file in place (the build renames a new one in).
  db.pragma('locking_mode = EXCLUSIVE');
  const meta = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?');
  // The longest block wins: an MA-S (9 digits) or MA-M (7) inside an MA-L (6) held by the IEEE itself.
  // coalesce() stops at the first block found, and nothing is sorted.
  const lookup = db
    .prepare<[string, string, string], string>(
      `SELECT name FROM vendors WHERE id = coalesce(
         (SELECT vendor FROM blocks WHERE prefix = ?), (SELECT vendor FROM blocks WHERE prefix = ?), (SELECT vendor FROM blocks WHERE prefix = ?))`,
    )
    .pluck();
  return {
    size: Number(meta.get('blocks')?.value ?? 0),
    source: meta.get('source')?.value ?? 'unknown',
    vendorOf(mac) {
      // A locally administered address was never assigned by the IEEE: any match would be a coincidence.
      if (isRandomizedMac(mac)) return undefined;
      const hex = mac.replace(/:/g, '').toUpperCase();
      return lookup.get(hex.slice(0, 9), hex.slice(0, 7), hex.slice(0, 6));
    },
    close: () => db.close(),
  };
}
