import type { Migration } from '../../../shared/sqlite.js';

/**
 * Scans and what they find. A scan here is one site's run (the control plane merges the sites'
 * runs into its scan). Every row a scan writes goes in with its outbox row in one transaction.
 * schedule_id is not a foreign key: reports outlive the schedule that made them.
 */
export const scansMigration: Migration = {
  version: 2,
  name: 'scans',
  sql: `
    CREATE TABLE scans (
      id                   TEXT PRIMARY KEY,
      label                TEXT NOT NULL,
      kind                 TEXT NOT NULL CHECK (kind IN ('schedule', 'invoke', 'single_ip', 'multiple_ips')),
      schedule_id          TEXT,
      slot_at              TEXT,
      cp_scan_id           TEXT,
      cp_sub_scan_id       TEXT,
      site_id              TEXT NOT NULL,
      subnets              TEXT NOT NULL,
      target_ips           TEXT,
      min_cvss             REAL NOT NULL,
      warning_threshold    REAL NOT NULL,
      ignore_offline_sites INTEGER NOT NULL,
      status               TEXT NOT NULL CHECK (status IN ('queued', 'scanning', 'completed', 'partial', 'failed')),
      progress             INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
      stage                TEXT NOT NULL DEFAULT 'queued',
      hosts_total          INTEGER,
      hosts_done           INTEGER NOT NULL DEFAULT 0,
      router_state         TEXT,
      stop_requested_at    TEXT,
      error                TEXT,
      created_at           TEXT NOT NULL,
      started_at           TEXT,
      finished_at          TEXT,
      checkpoint_at        TEXT
    ) STRICT;
    CREATE INDEX scans_by_schedule ON scans (schedule_id, created_at DESC);
    CREATE INDEX scans_by_status ON scans (status);

    CREATE TABLE scan_events (
      id      INTEGER PRIMARY KEY,
      scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      time    TEXT NOT NULL,
      level   TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
      message TEXT NOT NULL
    ) STRICT;
    CREATE INDEX scan_events_by_scan ON scan_events (scan_id, id);

    -- state 'pending' = found alive, not yet probed; 'done' = probed, its results stored.
    -- Resuming after a kill probes only the pending ones.
    CREATE TABLE scan_hosts (
      id             TEXT PRIMARY KEY,
      scan_id        TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      ip             TEXT NOT NULL,
      mac            TEXT,
      hostname       TEXT,
      manufacturer   TEXT,
      randomized_mac INTEGER NOT NULL DEFAULT 0,
      role           TEXT NOT NULL DEFAULT 'host' CHECK (role IN ('host', 'router', 'neighbor')),
      sources        TEXT NOT NULL DEFAULT '[]',
      found_by       TEXT NOT NULL,
      state          TEXT NOT NULL CHECK (state IN ('pending', 'done')),
      done_at        TEXT,
      UNIQUE (scan_id, ip)
    ) STRICT;
    CREATE INDEX scan_hosts_by_mac ON scan_hosts (mac);

    CREATE TABLE scan_services (
      id         TEXT PRIMARY KEY,
      host_id    TEXT NOT NULL REFERENCES scan_hosts (id) ON DELETE CASCADE,
      port       INTEGER,
      protocol   TEXT,
      service    TEXT NOT NULL,
      product    TEXT,
      vendor     TEXT,
      version    TEXT,
      version_update TEXT,
      distro     TEXT,
      cpe        TEXT,
      confidence INTEGER NOT NULL,
      evidence   TEXT NOT NULL,
      UNIQUE (host_id, port, protocol)
    ) STRICT;

    CREATE TABLE findings (
      id                  TEXT PRIMARY KEY,
      scan_id             TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      host_id             TEXT NOT NULL REFERENCES scan_hosts (id) ON DELETE CASCADE,
      service_id          TEXT REFERENCES scan_services (id) ON DELETE CASCADE,
      cve_id              TEXT NOT NULL,
      score               REAL NOT NULL,
      severity            TEXT NOT NULL,
      vector              TEXT,
      cvss_version        TEXT,
      cpe                 TEXT NOT NULL,
      product             TEXT,
      version_used        TEXT NOT NULL,
      port                INTEGER,
      protocol            TEXT,
      confidence          REAL NOT NULL,
      confidence_level    TEXT NOT NULL,
      evidence            TEXT NOT NULL,
      fixed_in            TEXT,
      possibly_backported INTEGER NOT NULL,
      assumptions         TEXT NOT NULL DEFAULT '[]',
      warning             INTEGER NOT NULL,
      advice              TEXT,
      description         TEXT NOT NULL,
      published_at        TEXT,
      created_at          TEXT NOT NULL
    ) STRICT;
    -- A finding is recorded once per host, CVE and place, however often a resumed scan retries.
    CREATE UNIQUE INDEX findings_once ON findings (host_id, cve_id, cpe, ifnull(port, -1));
    CREATE INDEX findings_by_scan ON findings (scan_id);

    -- What the uplink sends, in seq order; a row leaves only when the control plane acknowledged it.
    CREATE TABLE outbox (
      seq        INTEGER PRIMARY KEY AUTOINCREMENT,
      type       TEXT NOT NULL,
      payload    TEXT NOT NULL,
      created_at TEXT NOT NULL
    ) STRICT;

    -- Append-only: the latest unexpired row per (device, CVE) is the status shown.
    CREATE TABLE vuln_marks (
      id            TEXT PRIMARY KEY,
      mac           TEXT,
      ip            TEXT,
      cve_id        TEXT NOT NULL,
      status        TEXT NOT NULL CHECK (status IN ('accepted', 'mitigated', 'open')),
      justification TEXT NOT NULL,
      author        TEXT NOT NULL,
      expires_at    TEXT,
      cpe           TEXT,
      scan_id       TEXT,
      origin        TEXT NOT NULL CHECK (origin IN ('cli', 'control_plane')),
      created_at    TEXT NOT NULL,
      CHECK (mac IS NOT NULL OR ip IS NOT NULL)
    ) STRICT;
    CREATE INDEX vuln_marks_by_device ON vuln_marks (cve_id, mac, ip, created_at DESC);
  `,
};
