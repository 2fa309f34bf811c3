import type { Migration } from '../../../shared/sqlite.js';

// Scan windows (src/shared/schedule/window.ts): a schedule's local hours, both set or both null
// (always open). A run paused because its window closed keeps status 'scanning' (the CHECK stays as
// it is, no table rebuild) with paused_until set to the opening it resumes at; the listings show it
// as 'paused'.
export const scanWindowsMigration: Migration = {
  version: 8,
  name: 'scan-windows',
  sql: `
    ALTER TABLE schedules ADD COLUMN window_start TEXT;
    ALTER TABLE schedules ADD COLUMN window_end TEXT CHECK ((window_start IS NULL) = (window_end IS NULL));
    ALTER TABLE scans ADD COLUMN paused_until TEXT;
  `,
};
