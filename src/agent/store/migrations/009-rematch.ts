import type { Migration } from '../../../shared/sqlite.js';

// Re-matching stored services without packets (pipeline/runner/rematch.ts):
// scan_hosts.rematch_of: the host row a re-match run re-judged (null for a probed host): the base of
//   that device's delta in the re-match report;
// scan_hosts.min_cvss, warning_threshold: the thresholds the host was judged by when they are not the
//   run's (a re-match keeps those of the scan that last saw each device); null: the run's;
// scan_services.channel: the RouterOS release channel as seen, so a re-match judges a router the
//   way the scan that read it did (null for rows written before, read as "derive it from the version").
export const rematchMigration: Migration = {
  version: 9,
  name: 'rematch',
  sql: `
    ALTER TABLE scan_hosts ADD COLUMN rematch_of TEXT;
    ALTER TABLE scan_hosts ADD COLUMN min_cvss REAL;
    ALTER TABLE scan_hosts ADD COLUMN warning_threshold REAL;
    ALTER TABLE scan_services ADD COLUMN channel TEXT;
  `,
};
