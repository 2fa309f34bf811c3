import { renderOptionalInZone } from './zone-time.js';
import type { ScanScheduleWrite } from './rules.js';

/** What both sides store of a schedule: its rules, its timing in UTC, and when it was written. */
export interface StoredScheduleFields extends Omit<ScanScheduleWrite, 'ignore_offline_sites'> {
  id: string;
  ignore_offline_sites: boolean;
  next_scan_at: string | null;
  last_run_at: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * A schedule as people and the API see it: the seed's fields, with `next_scan_at` and
 * `last_run_at` in the schedule's zone. The agent's CLI and the control plane's API both print
 * this, so a schedule reads the same on the site and at the centre.
 */
export function scheduleView(schedule: StoredScheduleFields) {
  return {
    id: schedule.id,
    description: schedule.description,
    day_of_week: schedule.day_of_week,
    time_of_day: schedule.time_of_day,
    every_n_weeks: schedule.every_n_weeks,
    timezone: schedule.timezone,
    min_cvss: schedule.min_cvss,
    warning_threshold: schedule.warning_threshold,
    ignore_offline_sites: schedule.ignore_offline_sites,
    next_scan_at: renderOptionalInZone(schedule.next_scan_at, schedule.timezone),
    sites: schedule.sites,
    created_at: schedule.created_at,
    updated_at: schedule.updated_at,
    last_run_at: renderOptionalInZone(schedule.last_run_at, schedule.timezone),
    notification_group: schedule.notification_group,
    /** The scan window, null when always open (additive to the seed's shape). */
    window: schedule.window ?? null,
  };
}
