import type { ControlPlaneMigration } from './migration.js';

// What each site's run could not see (the coverage statement its scan.finished carries, as JSON;
// src/shared/report/coverage.ts). Null for a run that sent none (an agent before it, a site skipped).
export const subScanCoverageMigration: ControlPlaneMigration = {
  version: 6,
  name: 'control plane: coverage statement by sub-scan',
  sql: `
    ALTER TABLE sub_scans ADD COLUMN coverage TEXT;
  `,
  postgres: `
    ALTER TABLE sub_scans ADD COLUMN coverage TEXT;
  `,
};
