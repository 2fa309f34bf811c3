import type { Migration } from '../../../shared/sqlite.js';

// The fix-first facts of each finding, written with it at match time:
// distro_*: the Debian/Ubuntu tracker's verdict (status fixed | vulnerable | not-affected | unknown;
//   fixed and not-affected are stored but not counted as vulnerabilities), null without a distro build;
// kev_*: CISA KEV entry (null: not in the catalog); epss_*: FIRST EPSS score (null: none loaded);
// exposure: what the router lets the WAN reach, read in the same run (unknown: no read, menus missing),
//   exposure_reasons the JSON list of {kind, detail}, exposure_unknown why it is unknown;
// why: JSON list of the phrases that place it in the fix-first order (the rank is the report's).
export const findingPriorityMigration: Migration = {
  version: 6,
  name: 'finding-priority',
  sql: `
    ALTER TABLE findings ADD COLUMN distro_status TEXT CHECK (distro_status IN ('fixed', 'vulnerable', 'not-affected', 'unknown'));
    ALTER TABLE findings ADD COLUMN distro_name TEXT;
    ALTER TABLE findings ADD COLUMN distro_release TEXT;
    ALTER TABLE findings ADD COLUMN distro_package TEXT;
    ALTER TABLE findings ADD COLUMN distro_installed_version TEXT;
    ALTER TABLE findings ADD COLUMN distro_fixed_version TEXT;
    ALTER TABLE findings ADD COLUMN distro_ref TEXT;
    ALTER TABLE findings ADD COLUMN distro_url TEXT;
    ALTER TABLE findings ADD COLUMN distro_reason TEXT;
    ALTER TABLE findings ADD COLUMN kev_date_added TEXT;
    ALTER TABLE findings ADD COLUMN kev_due_date TEXT;
    ALTER TABLE findings ADD COLUMN kev_ransomware INTEGER;
    ALTER TABLE findings ADD COLUMN epss_score REAL;
    ALTER TABLE findings ADD COLUMN epss_percentile REAL;
    ALTER TABLE findings ADD COLUMN epss_date TEXT;
    ALTER TABLE findings ADD COLUMN exposure TEXT NOT NULL DEFAULT 'unknown' CHECK (exposure IN ('yes', 'no', 'unknown'));
    ALTER TABLE findings ADD COLUMN exposure_reasons TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE findings ADD COLUMN exposure_unknown TEXT;
    ALTER TABLE findings ADD COLUMN why TEXT NOT NULL DEFAULT '[]';
  `,
};
