// Builds data/oui/oui.db, the vendor table the agent names MACs from (src/agent/routeros/oui-table.ts
// says why SQLite), out of the oui-data package: the IEEE MA-L, MA-M and MA-S registries as JSON.
// Only the registrant's name is kept (the first line of each entry), one row per name.
// `npm run build` runs it (scripts/build-if-stale.mjs); by hand: node scripts/build-oui-table.mjs [root]
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ouiTablePath = (root) => path.join(root, 'data', 'oui', 'oui.db');

/** The registry file the table is made from: its mtime decides whether the table is stale. */
export const ouiSourcePath = (root) => createRequire(path.join(root, 'package.json')).resolve('oui-data');

export async function buildOuiTable(root) {
  const require = createRequire(path.join(root, 'package.json'));
  const Database = require('better-sqlite3');
  const source = ouiSourcePath(root);
  const version = JSON.parse(readFileSync(path.join(path.dirname(source), 'package.json'), 'utf8')).version;
  const registry = JSON.parse(readFileSync(source, 'utf8'));
  const blocks = Object.entries(registry)
    .map(([prefix, entry]) => [prefix.toUpperCase(), entry.split('\n')[0].trim()])
    .filter(([prefix, name]) => /^[0-9A-F]{6,9}$/.test(prefix) && name !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const names = [...new Set(blocks.map(([, name]) => name))].sort();
  const ids = new Map(names.map((name, index) => [name, index + 1]));

  const file = ouiTablePath(root);
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  const db = new Database(temporary);
  try {
    // A rollback journal, not WAL: the agent opens the file read-only under ProtectSystem=strict.
    db.pragma('journal_mode = DELETE');
    db.exec(`
      CREATE TABLE vendors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
      -- prefix: 6 (MA-L), 7 (MA-M) or 9 (MA-S) upper-case hex digits of the MAC.
      CREATE TABLE blocks (prefix TEXT PRIMARY KEY, vendor INTEGER NOT NULL REFERENCES vendors (id)) WITHOUT ROWID;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
    db.transaction(() => {
      const vendor = db.prepare('INSERT INTO vendors (id, name) VALUES (?, ?)');
      for (const [name, id] of ids) vendor.run(id, name);
      const block = db.prepare('INSERT INTO blocks (prefix, vendor) VALUES (?, ?)');
      for (const [prefix, name] of blocks) block.run(prefix, ids.get(name));
      const meta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      meta.run('source', `oui-data@${version}`);
      meta.run('blocks', String(blocks.length));
    })();
    db.exec('VACUUM');
  } finally {
    db.close();
  }
  renameSync(temporary, file);
  return { file, blocks: blocks.length, vendors: names.length, source: `oui-data@${version}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.dirname(path.dirname(fileURLToPath(import.meta.url))));
  const built = await buildOuiTable(root);
  console.error(`build: ${path.relative(root, built.file)}: ${built.blocks} blocks, ${built.vendors} vendors from ${built.source}`);
}
