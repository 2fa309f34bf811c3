import type { ControlPlaneMigration } from './migration.js';

// The store refuses what the REST schema and the protocol refuse: the bounds of SCHEDULE_LIMITS
// (src/shared/schedule/rules.ts), written here as numbers because a released migration never
// changes; test/unit/control-plane/schedule-bounds.test.ts keeps the two in step. SQLite cannot
// add a CHECK to a table, so triggers check every insert and update.
const refused = `
      WHEN length(NEW.description) > 1000 OR length(NEW.timezone) > 64 OR length(NEW.notification_group) > 200
        OR NOT json_valid(NEW.sites) OR json_array_length(NEW.sites) NOT BETWEEN 1 AND 1000
      BEGIN SELECT RAISE(ABORT, 'schedule field past its bound (SCHEDULE_LIMITS)'); END`;

export const scheduleBoundsMigration: ControlPlaneMigration = {
  version: 4,
  name: 'control plane: schedules refuse fields past their bounds',
  sql: `
    CREATE TRIGGER schedules_bounds_insert BEFORE INSERT ON schedules ${refused};
    CREATE TRIGGER schedules_bounds_update BEFORE UPDATE ON schedules ${refused};
  `,
  postgres: `
    ALTER TABLE schedules ADD CONSTRAINT schedules_bounds CHECK (
      length(description) <= 1000 AND length(timezone) <= 64 AND length(notification_group) <= 200
      AND CASE WHEN jsonb_typeof(sites::jsonb) = 'array' THEN jsonb_array_length(sites::jsonb) BETWEEN 1 AND 1000 ELSE false END
    );
  `,
};
