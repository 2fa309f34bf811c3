import type { ControlPlaneMigration } from './migration.js';

// The router inventory an agent reports after each read is tied to the sub-scan of its run, so a
// scan's report shows each site's router as that run saw it.
export const inventorySubScanMigration: ControlPlaneMigration = {
  version: 3,
  name: 'control plane: router inventories by sub-scan',
  sql: `
    ALTER TABLE inventories ADD COLUMN sub_scan_id TEXT;
    CREATE INDEX inventories_by_sub_scan ON inventories (sub_scan_id, id DESC);
  `,
  postgres: `
    ALTER TABLE inventories ADD COLUMN sub_scan_id TEXT;
    CREATE INDEX inventories_by_sub_scan ON inventories (sub_scan_id, id DESC);
  `,
};
