import type { Migration } from '../../../shared/sqlite.js';

// Scans no schedule made: origin 'watch' (the router told of a change: a micro-scan of one host)
// or 're-match' (new CVE data judged against the services already stored, no packet sent).
// NULL: the kind says where it came from. trigger: the change that started it, in words.
// Added columns, not a rebuilt table: the scans table is the parent of every result row.
export const scanOriginMigration: Migration = {
  version: 7,
  name: 'scan-origin',
  sql: `
    ALTER TABLE scans ADD COLUMN origin TEXT CHECK (origin IN ('watch', 're-match'));
    ALTER TABLE scans ADD COLUMN trigger TEXT;
  `,
};
