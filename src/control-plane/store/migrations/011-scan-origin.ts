import type { ControlPlaneMigration } from './migration.js';

// A local run no schedule made says why (the agent's scan.status `origin`): 'watch' (the router
// told of a change) or 're-match' (new CVE data judged against stored services, no packet sent),
// with its trigger in words. NULL for every other scan: the kind says where it came from.
export const scanOriginMigration: ControlPlaneMigration = {
  version: 11,
  name: 'control plane: origin and trigger of a local run',
  sql: `
    ALTER TABLE scans ADD COLUMN origin TEXT CHECK (origin IN ('watch', 're-match'));
    ALTER TABLE scans ADD COLUMN trigger TEXT;
  `,
  postgres: `
    ALTER TABLE scans ADD COLUMN origin TEXT CHECK (origin IN ('watch', 're-match'));
    ALTER TABLE scans ADD COLUMN trigger TEXT;
  `,
};
