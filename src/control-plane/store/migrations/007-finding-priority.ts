import type { ControlPlaneMigration } from './migration.js';

// The fix-first facts an agent sends with each finding (protocol/messages/reports.ts), as JSON:
// distro (the tracker's verdict; distro_status 'fixed' or 'not-affected' is patched: stored,
// never counted), kev, epss, exposure ({state, reasons}) and why (the phrases of its place in
// the fix-first order). Null for a finding an agent before them sent.
// finding_watch: the last KEV/exposure state of each device's CVE, so an alert fires once per
// change into KEV or into exposure; finding_alerts: those changes, queued by the notifier as
// webhook deliveries to the scan's notification group (state pending -> queued).
export const findingPriorityMigration: ControlPlaneMigration = {
  version: 7,
  name: 'control plane: fix-first facts of findings, KEV and exposure alerts',
  sql: `
    ALTER TABLE findings ADD COLUMN distro TEXT;
    ALTER TABLE findings ADD COLUMN distro_status TEXT;
    ALTER TABLE findings ADD COLUMN kev TEXT;
    ALTER TABLE findings ADD COLUMN epss TEXT;
    ALTER TABLE findings ADD COLUMN exposure TEXT;
    ALTER TABLE findings ADD COLUMN why TEXT;

    CREATE TABLE finding_watch (
      org_id     TEXT NOT NULL,
      device     TEXT NOT NULL,
      cve_id     TEXT NOT NULL,
      kev        INTEGER NOT NULL,
      exposed    INTEGER NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (org_id, device, cve_id)
    ) STRICT;

    CREATE TABLE finding_alerts (
      id         TEXT PRIMARY KEY,
      org_id     TEXT NOT NULL,
      scan_id    TEXT NOT NULL,
      finding_id TEXT NOT NULL,
      kind       TEXT NOT NULL CHECK (kind IN ('kev', 'exposed')),
      state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued')),
      created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX finding_alerts_pending ON finding_alerts (created_at) WHERE state = 'pending';
  `,
  postgres: `
    ALTER TABLE findings ADD COLUMN distro TEXT;
    ALTER TABLE findings ADD COLUMN distro_status TEXT;
    ALTER TABLE findings ADD COLUMN kev TEXT;
    ALTER TABLE findings ADD COLUMN epss TEXT;
    ALTER TABLE findings ADD COLUMN exposure TEXT;
    ALTER TABLE findings ADD COLUMN why TEXT;

    CREATE TABLE finding_watch (
      org_id     TEXT NOT NULL,
      device     TEXT NOT NULL,
      cve_id     TEXT NOT NULL,
      kev        BOOLEAN NOT NULL,
      exposed    BOOLEAN NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (org_id, device, cve_id)
    );

    CREATE TABLE finding_alerts (
      id         TEXT PRIMARY KEY,
      org_id     TEXT NOT NULL,
      scan_id    TEXT NOT NULL,
      finding_id TEXT NOT NULL,
      kind       TEXT NOT NULL CHECK (kind IN ('kev', 'exposed')),
      state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued')),
      created_at TEXT NOT NULL
    );
    CREATE INDEX finding_alerts_pending ON finding_alerts (created_at) WHERE state = 'pending';
  `,
};
