import type { Migration } from '../../../shared/sqlite.js';

// Times are UTC ISO 8601 strings; the schedule's zone is applied when rendering.
export const schedulesMigration: Migration = {
  version: 1,
  name: 'schedules',
  sql: `
    CREATE TABLE agent_meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;

    CREATE TABLE schedules (
      id                   TEXT PRIMARY KEY,
      origin               TEXT NOT NULL CHECK (origin IN ('config', 'cli', 'control_plane')),
      description          TEXT NOT NULL DEFAULT '',
      day_of_week          INTEGER NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
      time_of_day          TEXT NOT NULL,
      every_n_weeks        INTEGER NOT NULL CHECK (every_n_weeks BETWEEN 2 AND 52),
      timezone             TEXT NOT NULL,
      min_cvss             REAL NOT NULL,
      warning_threshold    REAL NOT NULL,
      ignore_offline_sites INTEGER NOT NULL DEFAULT 0,
      notification_group   TEXT NOT NULL,
      anchor_at            TEXT NOT NULL,
      next_scan_at         TEXT,
      last_run_at          TEXT,
      last_slot_at         TEXT,
      created_at           TEXT NOT NULL,
      updated_at           TEXT NOT NULL,
      CHECK (min_cvss < warning_threshold)
    ) STRICT;
    CREATE INDEX schedules_next_scan_at ON schedules (next_scan_at);

    CREATE TABLE schedule_sites (
      schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
      position    INTEGER NOT NULL,
      site_id     TEXT NOT NULL,
      subnet      TEXT NOT NULL,
      PRIMARY KEY (schedule_id, position)
    ) STRICT;

    -- One row per slot a schedule reached: fired, skipped for overlap, or missed beyond the grace.
    -- UNIQUE (schedule_id, slot_at) is what makes a double fire of one slot impossible, even across restarts.
    CREATE TABLE schedule_runs (
      id          TEXT PRIMARY KEY,
      schedule_id TEXT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
      slot_at     TEXT NOT NULL,
      trigger     TEXT NOT NULL CHECK (trigger IN ('on_time', 'late', 'manual')),
      status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'aborted', 'interrupted', 'skipped_overlap', 'skipped_missed')),
      started_at  TEXT,
      finished_at TEXT,
      message     TEXT,
      UNIQUE (schedule_id, slot_at)
    ) STRICT;
    CREATE INDEX schedule_runs_by_schedule ON schedule_runs (schedule_id, slot_at DESC);
  `,
};
