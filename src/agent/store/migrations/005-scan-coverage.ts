import type { Migration } from '../../../shared/sqlite.js';

// What a report could not see, kept with the scan so a resumed scan's report is whole:
// with_router: a targeted scan that asked to judge the router and its neighbors too;
// run_notes: JSON the run writes as it goes (the CVE data it matched against, the router's read
// and which devices were judged); probe_cuts: JSON list of a host's probes cut by a deadline.
export const scanCoverageMigration: Migration = {
  version: 5,
  name: 'scan-coverage',
  sql: `
    ALTER TABLE scans ADD COLUMN with_router INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE scans ADD COLUMN run_notes TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE scan_hosts ADD COLUMN probe_cuts TEXT NOT NULL DEFAULT '[]';
  `,
};
