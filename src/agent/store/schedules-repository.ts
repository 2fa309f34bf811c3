import type { ScanScheduleWrite } from '../../shared/schedule/rules.js';
import type { Db } from '../../shared/sqlite.js';

export type ScheduleOrigin = 'config' | 'cli' | 'control_plane';

/** A schedule as the agent keeps it: the API's fields plus its timing state, times in UTC ISO. */
export interface StoredSchedule extends ScanScheduleWrite {
  id: string;
  origin: ScheduleOrigin;
  anchor_at: string;
  next_scan_at: string | null;
  last_run_at: string | null;
  last_slot_at: string | null;
  created_at: string;
  updated_at: string;
}

interface ScheduleRow extends Omit<StoredSchedule, 'sites' | 'ignore_offline_sites' | 'window'> {
  ignore_offline_sites: number;
  window_start: string | null;
  window_end: string | null;
}

export class SchedulesRepository {
  readonly #db: Db;
  readonly #selectAll;
  readonly #selectOne;
  readonly #selectSites;
  readonly #selectDue;

  constructor(db: Db) {
    this.#db = db;
    this.#selectAll = db.prepare<[], ScheduleRow>('SELECT * FROM schedules ORDER BY created_at DESC, id');
    this.#selectOne = db.prepare<[string], ScheduleRow>('SELECT * FROM schedules WHERE id = ?');
    this.#selectSites = db.prepare<[string], { site_id: string; subnet: string }>(
      'SELECT site_id, subnet FROM schedule_sites WHERE schedule_id = ? ORDER BY position',
    );
    this.#selectDue = db.prepare<[string], ScheduleRow>('SELECT * FROM schedules WHERE next_scan_at IS NOT NULL AND next_scan_at <= ? ORDER BY next_scan_at');
  }

  #hydrate(row: ScheduleRow): StoredSchedule {
    const sites = this.#selectSites.all(row.id).map((site) => ({ id: site.site_id, subnet: site.subnet }));
    const { window_start: start, window_end: end, ...rest } = row;
    return { ...rest, ignore_offline_sites: row.ignore_offline_sites === 1, sites, window: start !== null && end !== null ? { start, end } : null };
  }

  list(): StoredSchedule[] {
    return this.#selectAll.all().map((row) => this.#hydrate(row));
  }

  get(id: string): StoredSchedule | undefined {
    const row = this.#selectOne.get(id);
    return row ? this.#hydrate(row) : undefined;
  }

  /** Schedules whose next slot is at or before `nowIso` (UTC ISO strings compare in time order). */
  due(nowIso: string): StoredSchedule[] {
    return this.#selectDue.all(nowIso).map((row) => this.#hydrate(row));
  }

  upsert(schedule: StoredSchedule): void {
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO schedules (id, origin, description, day_of_week, time_of_day, every_n_weeks, timezone, min_cvss,
             warning_threshold, ignore_offline_sites, notification_group, anchor_at, next_scan_at, last_run_at, last_slot_at,
             created_at, updated_at, window_start, window_end)
           VALUES (@id, @origin, @description, @day_of_week, @time_of_day, @every_n_weeks, @timezone, @min_cvss,
             @warning_threshold, @ignore, @notification_group, @anchor_at, @next_scan_at, @last_run_at, @last_slot_at,
             @created_at, @updated_at, @window_start, @window_end)
           ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, description = excluded.description,
             day_of_week = excluded.day_of_week, time_of_day = excluded.time_of_day, every_n_weeks = excluded.every_n_weeks,
             timezone = excluded.timezone, min_cvss = excluded.min_cvss, warning_threshold = excluded.warning_threshold,
             ignore_offline_sites = excluded.ignore_offline_sites, notification_group = excluded.notification_group,
             anchor_at = excluded.anchor_at, next_scan_at = excluded.next_scan_at, last_run_at = excluded.last_run_at,
             last_slot_at = excluded.last_slot_at, updated_at = excluded.updated_at, window_start = excluded.window_start,
             window_end = excluded.window_end`,
        )
        .run({
          ...schedule,
          window: undefined,
          description: schedule.description ?? '',
          ignore: schedule.ignore_offline_sites ? 1 : 0,
          window_start: schedule.window?.start ?? null,
          window_end: schedule.window?.end ?? null,
        });
      this.#db.prepare('DELETE FROM schedule_sites WHERE schedule_id = ?').run(schedule.id);
      const insertSite = this.#db.prepare('INSERT INTO schedule_sites (schedule_id, position, site_id, subnet) VALUES (?, ?, ?, ?)');
      schedule.sites.forEach((site, position) => insertSite.run(schedule.id, position, site.id, site.subnet));
    })();
  }

  /** Moves a schedule on after a slot was handled (fired or skipped). */
  advance(id: string, fields: { next_scan_at: string | null; last_slot_at: string; last_run_at?: string }): void {
    this.#db
      .prepare('UPDATE schedules SET next_scan_at = ?, last_slot_at = ?, last_run_at = COALESCE(?, last_run_at) WHERE id = ?')
      .run(fields.next_scan_at, fields.last_slot_at, fields.last_run_at ?? null, id);
  }

  setNextScanAt(id: string, nextScanAt: string | null): void {
    this.#db.prepare('UPDATE schedules SET next_scan_at = ? WHERE id = ?').run(nextScanAt, id);
  }

  remove(id: string): boolean {
    return this.#db.prepare('DELETE FROM schedules WHERE id = ?').run(id).changes > 0;
  }
}
