import type { ControlPlaneMigration } from './migration.js';

// Alerts on change (store/change-watch.ts): what each site has seen, so a run's report is compared
// with it and only the differences alert.
// - site_devices: every device (its MAC, or its address where it has none) a site's runs reported.
// - finding_states: each device's CVE, open or closed; `opened` counts its openings (1: first seen,
//   more: it resurfaced). Moved only by conditional writes, so two nodes never both move it.
// - site_routers: the RouterOS version of the site's router its last inventory said, and the one before.
// - change_alerts: the changes, queued by the notifier as deliveries to the scan's notification
//   group (state pending -> queued); `data` is the JSON the webhook's data carries about it.
export const changeAlertsMigration: ControlPlaneMigration = {
  version: 13,
  name: 'control plane: alerts on change (new devices and findings, closed and resurfaced findings, router versions)',
  sql: `
    CREATE TABLE site_devices (
      org_id        TEXT NOT NULL,
      site_id       TEXT NOT NULL,
      device        TEXT NOT NULL,
      first_seen_at TEXT NOT NULL,
      scan_id       TEXT NOT NULL,
      PRIMARY KEY (org_id, site_id, device)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE finding_states (
      org_id     TEXT NOT NULL,
      site_id    TEXT NOT NULL,
      device     TEXT NOT NULL,
      cve_id     TEXT NOT NULL,
      state      TEXT NOT NULL CHECK (state IN ('open', 'closed')),
      opened     INTEGER NOT NULL,
      first_seen_at TEXT NOT NULL,
      opened_at  TEXT NOT NULL,
      closed_at  TEXT,
      scan_id    TEXT NOT NULL,
      PRIMARY KEY (org_id, site_id, device, cve_id)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE site_routers (
      site_id          TEXT PRIMARY KEY,
      org_id           TEXT NOT NULL,
      routeros_version TEXT NOT NULL,
      previous_version TEXT,
      updated_at       TEXT NOT NULL
    ) STRICT;

    CREATE TABLE change_alerts (
      id         TEXT PRIMARY KEY,
      org_id     TEXT NOT NULL,
      site_id    TEXT NOT NULL,
      scan_id    TEXT NOT NULL,
      event      TEXT NOT NULL CHECK (event IN ('device.new', 'finding.new', 'finding.closed', 'finding.resurfaced', 'router.version_changed')),
      data       TEXT NOT NULL,
      state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued')),
      created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX change_alerts_pending ON change_alerts (created_at) WHERE state = 'pending';
  `,
  postgres: `
    CREATE TABLE site_devices (
      org_id        TEXT NOT NULL,
      site_id       TEXT NOT NULL,
      device        TEXT NOT NULL,
      first_seen_at TEXT NOT NULL,
      scan_id       TEXT NOT NULL,
      PRIMARY KEY (org_id, site_id, device)
    );

    CREATE TABLE finding_states (
      org_id     TEXT NOT NULL,
      site_id    TEXT NOT NULL,
      device     TEXT NOT NULL,
      cve_id     TEXT NOT NULL,
      state      TEXT NOT NULL CHECK (state IN ('open', 'closed')),
      opened     INTEGER NOT NULL,
      first_seen_at TEXT NOT NULL,
      opened_at  TEXT NOT NULL,
      closed_at  TEXT,
      scan_id    TEXT NOT NULL,
      PRIMARY KEY (org_id, site_id, device, cve_id)
    );

    CREATE TABLE site_routers (
      site_id          TEXT PRIMARY KEY,
      org_id           TEXT NOT NULL,
      routeros_version TEXT NOT NULL,
      previous_version TEXT,
      updated_at       TEXT NOT NULL
    );

    CREATE TABLE change_alerts (
      id         TEXT PRIMARY KEY,
      org_id     TEXT NOT NULL,
      site_id    TEXT NOT NULL,
      scan_id    TEXT NOT NULL,
      event      TEXT NOT NULL CHECK (event IN ('device.new', 'finding.new', 'finding.closed', 'finding.resurfaced', 'router.version_changed')),
      data       TEXT NOT NULL,
      state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'queued')),
      created_at TEXT NOT NULL
    );
    CREATE INDEX change_alerts_pending ON change_alerts (created_at) WHERE state = 'pending';
  `,
};
