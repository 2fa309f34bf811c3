import type { ControlPlaneMigration } from './migration.js';

// Two connections write this file (the REST side and the ingest thread): every write transaction
// is BEGIN IMMEDIATE, so one that reads first waits for the other instead of failing.
// Times are UTC ISO 8601 strings with milliseconds (they sort as text in time order); lists and
// records that are only ever read whole are JSON text.
export const initialMigration: ControlPlaneMigration = {
  version: 1,
  name: 'control plane: sites, schedules, scans, results, commands, marks, deliveries',
  sql: `
    CREATE TABLE sites (
      id                TEXT PRIMARY KEY,
      org_id            TEXT NOT NULL,
      name              TEXT NOT NULL,
      token_hash        TEXT NOT NULL UNIQUE,
      token_rotated_at  TEXT NOT NULL,
      created_at        TEXT NOT NULL,
      last_seen_at      TEXT,
      agent_version     TEXT,
      last_command_seq  INTEGER NOT NULL DEFAULT 0,
      acked_command_seq INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX sites_by_org ON sites (org_id, created_at);

    CREATE TABLE schedules (
      id                   TEXT PRIMARY KEY,
      org_id               TEXT NOT NULL,
      description          TEXT NOT NULL,
      day_of_week          INTEGER NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
      time_of_day          TEXT NOT NULL,
      every_n_weeks        INTEGER NOT NULL CHECK (every_n_weeks BETWEEN 2 AND 52),
      timezone             TEXT NOT NULL,
      min_cvss             REAL NOT NULL,
      warning_threshold    REAL NOT NULL,
      ignore_offline_sites INTEGER NOT NULL,
      notification_group   TEXT NOT NULL,
      sites                TEXT NOT NULL,
      anchor_at            TEXT NOT NULL,
      next_scan_at         TEXT NOT NULL,
      last_run_at          TEXT,
      created_at           TEXT NOT NULL,
      updated_at           TEXT NOT NULL,
      CHECK (min_cvss < warning_threshold)
    ) STRICT;
    CREATE INDEX schedules_by_org ON schedules (org_id, created_at DESC);
    CREATE INDEX schedules_due ON schedules (next_scan_at);

    -- A scan outlives its schedule (past reports stay), so schedule_id is no foreign key.
    CREATE TABLE scans (
      id                   TEXT PRIMARY KEY,
      org_id               TEXT NOT NULL,
      schedule_id          TEXT,
      slot_at              TEXT,
      kind                 TEXT NOT NULL CHECK (kind IN ('scheduled', 'invoke', 'single_ip', 'multiple_ips', 'local')),
      label                TEXT NOT NULL,
      min_cvss             REAL NOT NULL,
      warning_threshold    REAL NOT NULL,
      ignore_offline_sites INTEGER NOT NULL,
      notification_group   TEXT,
      status               TEXT NOT NULL CHECK (status IN ('queued', 'scanning', 'completed', 'partial', 'failed')),
      stop_requested       INTEGER NOT NULL DEFAULT 0,
      error                TEXT,
      created_at           TEXT NOT NULL,
      started_at           TEXT,
      finished_at          TEXT,
      cve_count            INTEGER NOT NULL DEFAULT 0,
      score_sum            REAL NOT NULL DEFAULT 0,
      highest_score        REAL,
      warning_count        INTEGER NOT NULL DEFAULT 0,
      notify_state         TEXT NOT NULL DEFAULT 'none' CHECK (notify_state IN ('none', 'pending', 'queued')),
      -- One scan per slot of a schedule, whoever reports it first: the control plane's timer or a site's agent.
      UNIQUE (schedule_id, slot_at)
    ) STRICT;
    CREATE INDEX scans_by_org ON scans (org_id, created_at DESC);
    CREATE INDEX scans_by_schedule ON scans (schedule_id, created_at DESC);
    CREATE INDEX scans_to_notify ON scans (notify_state) WHERE notify_state = 'pending';

    CREATE TABLE sub_scans (
      id                TEXT PRIMARY KEY,
      scan_id           TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      site_id           TEXT NOT NULL,
      run_id            TEXT UNIQUE,
      subnets           TEXT NOT NULL,
      target_ips        TEXT,
      status            TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'scanning', 'stopping', 'completed', 'failed', 'stopped', 'skipped')),
      progress          REAL NOT NULL DEFAULT 0,
      hosts_done        INTEGER NOT NULL DEFAULT 0,
      hosts_total       INTEGER NOT NULL DEFAULT 0,
      error             TEXT,
      created_at        TEXT NOT NULL,
      started_at        TEXT,
      finished_at       TEXT,
      findings_expected INTEGER,
      findings_received INTEGER NOT NULL DEFAULT 0,
      UNIQUE (scan_id, site_id)
    ) STRICT;
    CREATE INDEX sub_scans_open ON sub_scans (status, created_at) WHERE status IN ('pending', 'queued', 'scanning', 'stopping');
    -- Covers the per-status counts a scan's status is derived from: no table look-up per site.
    CREATE INDEX sub_scans_status ON sub_scans (scan_id, status);

    CREATE TABLE scan_events (
      id      INTEGER PRIMARY KEY,
      scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      site_id TEXT,
      at      TEXT NOT NULL,
      level   TEXT NOT NULL,
      message TEXT NOT NULL
    ) STRICT;
    CREATE INDEX scan_events_by_scan ON scan_events (scan_id, id);

    CREATE TABLE hosts (
      id           TEXT PRIMARY KEY,
      scan_id      TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      sub_scan_id  TEXT NOT NULL,
      site_id      TEXT NOT NULL,
      ip           TEXT NOT NULL,
      mac          TEXT,
      hostname     TEXT,
      manufacturer TEXT,
      os           TEXT,
      sources      TEXT NOT NULL DEFAULT '[]',
      open_ports   TEXT NOT NULL DEFAULT '[]',
      port_count   INTEGER NOT NULL DEFAULT 0,
      cve_count    INTEGER NOT NULL DEFAULT 0,
      created_at   TEXT NOT NULL,
      UNIQUE (sub_scan_id, ip)
    ) STRICT;
    CREATE INDEX hosts_by_scan ON hosts (scan_id);
    CREATE INDEX hosts_by_mac ON hosts (mac) WHERE mac IS NOT NULL;

    CREATE TABLE cves (
      id              TEXT PRIMARY KEY,
      description     TEXT NOT NULL,
      published_at    TEXT,
      vector          TEXT,
      score           REAL NOT NULL,
      severity        TEXT NOT NULL,
      compliance_tags TEXT NOT NULL,
      refs            TEXT NOT NULL,
      fixed_versions  TEXT NOT NULL,
      advice          TEXT,
      updated_at      TEXT NOT NULL
    ) STRICT;

    CREATE TABLE findings (
      id          TEXT PRIMARY KEY,
      org_id      TEXT NOT NULL,
      scan_id     TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      sub_scan_id TEXT NOT NULL,
      site_id     TEXT NOT NULL,
      host_id     TEXT NOT NULL,
      mac         TEXT,
      ip          TEXT NOT NULL,
      cve_id      TEXT NOT NULL,
      score       REAL NOT NULL,
      port        INTEGER,
      protocol    TEXT,
      service     TEXT,
      cpe         TEXT NOT NULL,
      product     TEXT,
      version     TEXT,
      confidence  TEXT NOT NULL,
      evidence    TEXT NOT NULL,
      created_at  TEXT NOT NULL
    ) STRICT;
    -- Ids are UUIDv7 and both indexes grow at their end while a scan streams in; a device's
    -- findings are found through its hosts (hosts_by_mac), which are few.
    CREATE INDEX findings_by_scan ON findings (scan_id);
    CREATE INDEX findings_by_host ON findings (host_id);

    CREATE TABLE scan_cves (
      scan_id TEXT NOT NULL,
      cve_id  TEXT NOT NULL,
      count   INTEGER NOT NULL,
      PRIMARY KEY (scan_id, cve_id)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE scan_ports (
      scan_id TEXT NOT NULL,
      port    INTEGER NOT NULL,
      PRIMARY KEY (scan_id, port)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE inventories (
      id        INTEGER PRIMARY KEY,
      site_id   TEXT NOT NULL,
      run_id    TEXT,
      at        TEXT NOT NULL,
      body      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX inventories_by_site ON inventories (site_id, id DESC);

    -- The ingest high-water mark of each agent outbox: a report at or below it is a replay.
    CREATE TABLE streams (
      site_id    TEXT NOT NULL,
      stream_id  TEXT NOT NULL,
      last_seq   INTEGER NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (site_id, stream_id)
    ) STRICT, WITHOUT ROWID;

    -- Reports that were well-formed but could not be applied: kept, never lost, for an operator to look at.
    CREATE TABLE ingest_rejects (
      id        INTEGER PRIMARY KEY,
      site_id   TEXT NOT NULL,
      stream_id TEXT NOT NULL,
      seq       INTEGER NOT NULL,
      body      TEXT NOT NULL,
      reason    TEXT NOT NULL,
      at        TEXT NOT NULL
    ) STRICT;

    -- Commands not yet acknowledged by the site's agent, replayed in seq order after a reconnect.
    CREATE TABLE commands (
      site_id    TEXT NOT NULL,
      seq        INTEGER NOT NULL,
      type       TEXT NOT NULL,
      body       TEXT NOT NULL,
      expires_at TEXT,
      PRIMARY KEY (site_id, seq)
    ) STRICT, WITHOUT ROWID;

    -- Append-only: the latest unexpired mark per (org, mac, cve) is the one that applies.
    CREATE TABLE cve_marks (
      id              TEXT PRIMARY KEY,
      org_id          TEXT NOT NULL,
      mac             TEXT NOT NULL,
      cve_id          TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('accepted', 'mitigated')),
      justification   TEXT NOT NULL,
      scan_id         TEXT,
      product         TEXT,
      version         TEXT,
      expiration_date TEXT,
      created_by      TEXT NOT NULL,
      updated_by      TEXT NOT NULL,
      created_at      TEXT NOT NULL,
      updated_at      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX cve_marks_by_device ON cve_marks (org_id, mac, cve_id, created_at DESC);

    CREATE TABLE deliveries (
      id              TEXT PRIMARY KEY,
      scan_id         TEXT NOT NULL,
      group_name      TEXT NOT NULL,
      url             TEXT NOT NULL,
      event           TEXT NOT NULL,
      body            TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TEXT NOT NULL,
      last_status     INTEGER,
      last_error      TEXT,
      created_at      TEXT NOT NULL,
      delivered_at    TEXT
    ) STRICT;
    CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at) WHERE status = 'pending';
    CREATE INDEX deliveries_by_scan ON deliveries (scan_id);
  `,
  postgres: `
    CREATE TABLE sites (
      id                TEXT PRIMARY KEY,
      org_id            TEXT NOT NULL,
      name              TEXT NOT NULL,
      token_hash        TEXT NOT NULL UNIQUE,
      token_rotated_at  TEXT NOT NULL,
      created_at        TEXT NOT NULL,
      last_seen_at      TEXT,
      agent_version     TEXT,
      last_command_seq  BIGINT NOT NULL DEFAULT 0,
      acked_command_seq BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX sites_by_org ON sites (org_id, created_at);

    CREATE TABLE schedules (
      id                   TEXT PRIMARY KEY,
      org_id               TEXT NOT NULL,
      description          TEXT NOT NULL,
      day_of_week          INTEGER NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
      time_of_day          TEXT NOT NULL,
      every_n_weeks        INTEGER NOT NULL CHECK (every_n_weeks BETWEEN 2 AND 52),
      timezone             TEXT NOT NULL,
      min_cvss             DOUBLE PRECISION NOT NULL,
      warning_threshold    DOUBLE PRECISION NOT NULL,
      ignore_offline_sites BOOLEAN NOT NULL,
      notification_group   TEXT NOT NULL,
      sites                TEXT NOT NULL,
      anchor_at            TEXT NOT NULL,
      next_scan_at         TEXT NOT NULL,
      last_run_at          TEXT,
      created_at           TEXT NOT NULL,
      updated_at           TEXT NOT NULL,
      CHECK (min_cvss < warning_threshold)
    );
    CREATE INDEX schedules_by_org ON schedules (org_id, created_at DESC);
    CREATE INDEX schedules_due ON schedules (next_scan_at);

    CREATE TABLE scans (
      id                   TEXT PRIMARY KEY,
      org_id               TEXT NOT NULL,
      schedule_id          TEXT,
      slot_at              TEXT,
      kind                 TEXT NOT NULL CHECK (kind IN ('scheduled', 'invoke', 'single_ip', 'multiple_ips', 'local')),
      label                TEXT NOT NULL,
      min_cvss             DOUBLE PRECISION NOT NULL,
      warning_threshold    DOUBLE PRECISION NOT NULL,
      ignore_offline_sites BOOLEAN NOT NULL,
      notification_group   TEXT,
      status               TEXT NOT NULL CHECK (status IN ('queued', 'scanning', 'completed', 'partial', 'failed')),
      stop_requested       BOOLEAN NOT NULL DEFAULT false,
      error                TEXT,
      created_at           TEXT NOT NULL,
      started_at           TEXT,
      finished_at          TEXT,
      cve_count            INTEGER NOT NULL DEFAULT 0,
      score_sum            DOUBLE PRECISION NOT NULL DEFAULT 0,
      highest_score        DOUBLE PRECISION,
      warning_count        INTEGER NOT NULL DEFAULT 0,
      notify_state         TEXT NOT NULL DEFAULT 'none' CHECK (notify_state IN ('none', 'pending', 'queued')),
      UNIQUE (schedule_id, slot_at)
    );
    CREATE INDEX scans_by_org ON scans (org_id, created_at DESC);
    CREATE INDEX scans_by_schedule ON scans (schedule_id, created_at DESC);
    CREATE INDEX scans_to_notify ON scans (notify_state) WHERE notify_state = 'pending';

    CREATE TABLE sub_scans (
      id                TEXT PRIMARY KEY,
      scan_id           TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      site_id           TEXT NOT NULL,
      run_id            TEXT UNIQUE,
      subnets           TEXT NOT NULL,
      target_ips        TEXT,
      status            TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'scanning', 'stopping', 'completed', 'failed', 'stopped', 'skipped')),
      progress          DOUBLE PRECISION NOT NULL DEFAULT 0,
      hosts_done        INTEGER NOT NULL DEFAULT 0,
      hosts_total       INTEGER NOT NULL DEFAULT 0,
      error             TEXT,
      created_at        TEXT NOT NULL,
      started_at        TEXT,
      finished_at       TEXT,
      findings_expected INTEGER,
      findings_received INTEGER NOT NULL DEFAULT 0,
      UNIQUE (scan_id, site_id)
    );
    CREATE INDEX sub_scans_open ON sub_scans (status, created_at) WHERE status IN ('pending', 'queued', 'scanning', 'stopping');
    CREATE INDEX sub_scans_status ON sub_scans (scan_id, status);

    CREATE TABLE scan_events (
      id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      site_id TEXT,
      at      TEXT NOT NULL,
      level   TEXT NOT NULL,
      message TEXT NOT NULL
    );
    CREATE INDEX scan_events_by_scan ON scan_events (scan_id, id);

    CREATE TABLE hosts (
      id           TEXT PRIMARY KEY,
      scan_id      TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      sub_scan_id  TEXT NOT NULL,
      site_id      TEXT NOT NULL,
      ip           TEXT NOT NULL,
      mac          TEXT,
      hostname     TEXT,
      manufacturer TEXT,
      os           TEXT,
      sources      TEXT NOT NULL DEFAULT '[]',
      open_ports   TEXT NOT NULL DEFAULT '[]',
      port_count   INTEGER NOT NULL DEFAULT 0,
      cve_count    INTEGER NOT NULL DEFAULT 0,
      created_at   TEXT NOT NULL,
      UNIQUE (sub_scan_id, ip)
    );
    CREATE INDEX hosts_by_scan ON hosts (scan_id);
    CREATE INDEX hosts_by_mac ON hosts (mac) WHERE mac IS NOT NULL;

    CREATE TABLE cves (
      id              TEXT PRIMARY KEY,
      description     TEXT NOT NULL,
      published_at    TEXT,
      vector          TEXT,
      score           DOUBLE PRECISION NOT NULL,
      severity        TEXT NOT NULL,
      compliance_tags TEXT NOT NULL,
      refs            TEXT NOT NULL,
      fixed_versions  TEXT NOT NULL,
      advice          TEXT,
      updated_at      TEXT NOT NULL
    );

    CREATE TABLE findings (
      id          TEXT PRIMARY KEY,
      org_id      TEXT NOT NULL,
      scan_id     TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
      sub_scan_id TEXT NOT NULL,
      site_id     TEXT NOT NULL,
      host_id     TEXT NOT NULL,
      mac         TEXT,
      ip          TEXT NOT NULL,
      cve_id      TEXT NOT NULL,
      score       DOUBLE PRECISION NOT NULL,
      port        INTEGER,
      protocol    TEXT,
      service     TEXT,
      cpe         TEXT NOT NULL,
      product     TEXT,
      version     TEXT,
      confidence  TEXT NOT NULL,
      evidence    TEXT NOT NULL,
      created_at  TEXT NOT NULL
    );
    CREATE INDEX findings_by_scan ON findings (scan_id);
    CREATE INDEX findings_by_host ON findings (host_id);

    CREATE TABLE scan_cves (
      scan_id TEXT NOT NULL,
      cve_id  TEXT NOT NULL,
      count   INTEGER NOT NULL,
      PRIMARY KEY (scan_id, cve_id)
    );

    CREATE TABLE scan_ports (
      scan_id TEXT NOT NULL,
      port    INTEGER NOT NULL,
      PRIMARY KEY (scan_id, port)
    );

    CREATE TABLE inventories (
      id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      site_id   TEXT NOT NULL,
      run_id    TEXT,
      at        TEXT NOT NULL,
      body      TEXT NOT NULL
    );
    CREATE INDEX inventories_by_site ON inventories (site_id, id DESC);

    CREATE TABLE streams (
      site_id    TEXT NOT NULL,
      stream_id  TEXT NOT NULL,
      last_seq   BIGINT NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (site_id, stream_id)
    );

    CREATE TABLE ingest_rejects (
      id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      site_id   TEXT NOT NULL,
      stream_id TEXT NOT NULL,
      seq       BIGINT NOT NULL,
      body      TEXT NOT NULL,
      reason    TEXT NOT NULL,
      at        TEXT NOT NULL
    );

    CREATE TABLE commands (
      site_id    TEXT NOT NULL,
      seq        BIGINT NOT NULL,
      type       TEXT NOT NULL,
      body       TEXT NOT NULL,
      expires_at TEXT,
      PRIMARY KEY (site_id, seq)
    );

    CREATE TABLE cve_marks (
      id              TEXT PRIMARY KEY,
      org_id          TEXT NOT NULL,
      mac             TEXT NOT NULL,
      cve_id          TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('accepted', 'mitigated')),
      justification   TEXT NOT NULL,
      scan_id         TEXT,
      product         TEXT,
      version         TEXT,
      expiration_date TEXT,
      created_by      TEXT NOT NULL,
      updated_by      TEXT NOT NULL,
      created_at      TEXT NOT NULL,
      updated_at      TEXT NOT NULL
    );
    CREATE INDEX cve_marks_by_device ON cve_marks (org_id, mac, cve_id, created_at DESC);

    CREATE TABLE deliveries (
      id              TEXT PRIMARY KEY,
      scan_id         TEXT NOT NULL,
      group_name      TEXT NOT NULL,
      url             TEXT NOT NULL,
      event           TEXT NOT NULL,
      body            TEXT NOT NULL,
      status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TEXT NOT NULL,
      last_status     INTEGER,
      last_error      TEXT,
      created_at      TEXT NOT NULL,
      delivered_at    TEXT
    );
    CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at) WHERE status = 'pending';
    CREATE INDEX deliveries_by_scan ON deliveries (scan_id);
  `,
};
