import type { ControlPlaneMigration } from './migration.js';

// The CVE feed version each site's agent last reported (hello, heartbeats) with each source's date
// for it (JSON), and when it said so. Null until an agent that reports it connects.
export const siteFeedMigration: ControlPlaneMigration = {
  version: 8,
  name: 'control plane: feed version by site',
  sql: `
    ALTER TABLE sites ADD COLUMN feed_version INTEGER;
    ALTER TABLE sites ADD COLUMN feed_data_as_of TEXT;
    ALTER TABLE sites ADD COLUMN feed_reported_at TEXT;
  `,
  postgres: `
    ALTER TABLE sites ADD COLUMN feed_version INTEGER;
    ALTER TABLE sites ADD COLUMN feed_data_as_of TEXT;
    ALTER TABLE sites ADD COLUMN feed_reported_at TEXT;
  `,
};
