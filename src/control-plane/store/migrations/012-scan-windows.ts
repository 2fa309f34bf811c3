import type { ControlPlaneMigration } from './migration.js';

// Scan windows (src/shared/schedule/window.ts): a schedule's local hours, both set or both null
// (always open). A site's run paused because its window closed keeps its sub-scan status (the
// CHECK stays, no table rebuild) with paused_until set to the opening the agent said it resumes
// at; the scan shows 'paused' while every open site of it is.
export const scanWindowsMigration: ControlPlaneMigration = {
  version: 12,
  name: 'control plane: scan windows',
  sql: `
    ALTER TABLE schedules ADD COLUMN window_start TEXT;
    ALTER TABLE schedules ADD COLUMN window_end TEXT CHECK ((window_start IS NULL) = (window_end IS NULL));
    ALTER TABLE sub_scans ADD COLUMN paused_until TEXT;
  `,
  postgres: `
    ALTER TABLE schedules ADD COLUMN window_start TEXT;
    ALTER TABLE schedules ADD COLUMN window_end TEXT;
    ALTER TABLE schedules ADD CONSTRAINT schedules_window_whole CHECK ((window_start IS NULL) = (window_end IS NULL));
    ALTER TABLE sub_scans ADD COLUMN paused_until TEXT;
  `,
};
