import type { ControlPlaneMigration } from './migration.js';

// Alerts on change (store/change-watch.ts): what each site has seen, so a run's report is compared
// with it and only the differences alert.
// - site_devices: every device (its MAC, or its address where it has none) a site's runs reported.
// - finding_states: each device's CVE, open or closed; `opened` counts its openings (1: first seen,
//   more: it resurfaced). Moved only by conditional writes, so two nodes never both move it.
// - site_routers: the RouterOS version of the site's router its last inventory said, and the one before.
// - change_alerts: the changes, queued by the notifier as deliveries to the scan's notification
//   group, or for a run of no group to those of the schedules covering the site (state pending ->
//   queued); `data` is the JSON the webhook's data carries about it.
// An upgraded installation's state is filled from the runs it holds (the INSERTs at the end).
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

    -- An installation upgraded to this starts from what its runs reported so far, so its next run
    -- tells only what changed since (not every device and finding it already knew): each device
    -- seen, the CVEs of its latest completed or stopped run (patched ones left out), the router
    -- version of each site's latest inventory.
    INSERT INTO site_devices (org_id, site_id, device, first_seen_at, scan_id)
      SELECT c.org_id, h.site_id, COALESCE(h.mac, h.ip), MIN(h.created_at), MIN(h.scan_id)
      FROM hosts h JOIN scans c ON c.id = h.scan_id
      GROUP BY c.org_id, h.site_id, COALESCE(h.mac, h.ip);
    WITH latest AS (
      SELECT c.org_id, h.site_id, COALESCE(h.mac, h.ip) AS device, h.id AS host_id, h.scan_id,
             ROW_NUMBER() OVER (PARTITION BY c.org_id, h.site_id, COALESCE(h.mac, h.ip) ORDER BY u.finished_at DESC, u.id DESC, h.id) AS n
      FROM hosts h JOIN sub_scans u ON u.id = h.sub_scan_id JOIN scans c ON c.id = h.scan_id
      WHERE u.status IN ('completed', 'stopped'))
    INSERT INTO finding_states (org_id, site_id, device, cve_id, state, opened, first_seen_at, opened_at, closed_at, scan_id)
      SELECT l.org_id, l.site_id, l.device, f.cve_id, 'open', 1, MIN(f.created_at), MIN(f.created_at), NULL, MIN(l.scan_id)
      FROM latest l JOIN findings f ON f.host_id = l.host_id
      WHERE l.n = 1 AND (f.distro_status IS NULL OR f.distro_status NOT IN ('fixed', 'not-affected'))
      GROUP BY l.org_id, l.site_id, l.device, f.cve_id;
    INSERT INTO site_routers (site_id, org_id, routeros_version, previous_version, updated_at)
      SELECT i.site_id, t.org_id, json_extract(i.body, '$.router.routeros_version'), NULL, i.at
      FROM inventories i JOIN sites t ON t.id = i.site_id
      WHERE i.id = (SELECT MAX(j.id) FROM inventories j WHERE j.site_id = i.site_id) AND json_extract(i.body, '$.router.routeros_version') <> '';
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

    -- An installation upgraded to this starts from what its runs reported so far, so its next run
    -- tells only what changed since (not every device and finding it already knew): each device
    -- seen, the CVEs of its latest completed or stopped run (patched ones left out), the router
    -- version of each site's latest inventory.
    INSERT INTO site_devices (org_id, site_id, device, first_seen_at, scan_id)
      SELECT c.org_id, h.site_id, COALESCE(h.mac, h.ip), MIN(h.created_at), MIN(h.scan_id)
      FROM hosts h JOIN scans c ON c.id = h.scan_id
      GROUP BY c.org_id, h.site_id, COALESCE(h.mac, h.ip);
    WITH latest AS (
      SELECT c.org_id, h.site_id, COALESCE(h.mac, h.ip) AS device, h.id AS host_id, h.scan_id,
             ROW_NUMBER() OVER (PARTITION BY c.org_id, h.site_id, COALESCE(h.mac, h.ip) ORDER BY u.finished_at DESC, u.id DESC, h.id) AS n
      FROM hosts h JOIN sub_scans u ON u.id = h.sub_scan_id JOIN scans c ON c.id = h.scan_id
      WHERE u.status IN ('completed', 'stopped'))
    INSERT INTO finding_states (org_id, site_id, device, cve_id, state, opened, first_seen_at, opened_at, closed_at, scan_id)
      SELECT l.org_id, l.site_id, l.device, f.cve_id, 'open', 1, MIN(f.created_at), MIN(f.created_at), NULL, MIN(l.scan_id)
      FROM latest l JOIN findings f ON f.host_id = l.host_id
      WHERE l.n = 1 AND (f.distro_status IS NULL OR f.distro_status NOT IN ('fixed', 'not-affected'))
      GROUP BY l.org_id, l.site_id, l.device, f.cve_id;
    INSERT INTO site_routers (site_id, org_id, routeros_version, previous_version, updated_at)
      SELECT i.site_id, t.org_id, (i.body::jsonb #>> '{router,routeros_version}'), NULL, i.at
      FROM inventories i JOIN sites t ON t.id = i.site_id
      WHERE i.id = (SELECT MAX(j.id) FROM inventories j WHERE j.site_id = i.site_id) AND (i.body::jsonb #>> '{router,routeros_version}') <> '';
  `,
};
