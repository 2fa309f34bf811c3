import type { ControlPlaneMigration } from './migration.js';

// An alert raised by a KEV catalog update between scans keeps the catalog entry it saw (JSON, the
// finding's `kev` shape): the finding it names was stored before the CVE was in KEV. Null for an
// alert a scan raised: its finding carries its own.
export const kevAlertsMigration: ControlPlaneMigration = {
  version: 9,
  name: 'control plane: KEV entry of a catalog-update alert',
  sql: `
    ALTER TABLE finding_alerts ADD COLUMN kev TEXT;
  `,
  postgres: `
    ALTER TABLE finding_alerts ADD COLUMN kev TEXT;
  `,
};
