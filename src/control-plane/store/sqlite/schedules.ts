import type { Db } from '../../../shared/sqlite.js';
import type { CommandItem, ScheduleStore, StoredSchedule } from '../types.js';
import { commandWriter } from './commands.js';
import { fromJson, toJson } from '../json.js';
import type { SqliteSignals } from './signals.js';

interface ScheduleRow extends Omit<StoredSchedule, 'sites' | 'ignore_offline_sites' | 'window'> {
  sites: string;
  ignore_offline_sites: number;
  window_start: string | null;
  window_end: string | null;
}

const hydrate = ({ window_start: start, window_end: end, ...row }: ScheduleRow): StoredSchedule => ({
  ...row,
  ignore_offline_sites: row.ignore_offline_sites === 1,
  sites: fromJson(row.sites),
  window: start !== null && end !== null ? { start, end } : null,
});
const dehydrate = ({ window, ...schedule }: StoredSchedule) => ({
  ...schedule,
  ignore_offline_sites: schedule.ignore_offline_sites ? 1 : 0,
  sites: toJson(schedule.sites),
  window_start: window?.start ?? null,
  window_end: window?.end ?? null,
});

const fields =
  'id, org_id, description, day_of_week, time_of_day, every_n_weeks, timezone, min_cvss, warning_threshold, ignore_offline_sites, notification_group, sites, anchor_at, next_scan_at, last_run_at, created_at, updated_at, window_start, window_end';

export function sqliteSchedules(db: Db, signals: SqliteSignals): ScheduleStore {
  const list = db.prepare<[string], ScheduleRow>(`SELECT ${fields} FROM schedules WHERE org_id = ? ORDER BY created_at DESC, id`);
  const one = db.prepare<[string, string], ScheduleRow>(`SELECT ${fields} FROM schedules WHERE org_id = ? AND id = ?`);
  const insert = db.prepare(
    `INSERT INTO schedules (${fields}) VALUES (${fields
      .split(', ')
      .map((f) => `@${f}`)
      .join(', ')})`,
  );
  const replace = db.prepare(
    `UPDATE schedules SET description = @description, day_of_week = @day_of_week, time_of_day = @time_of_day, every_n_weeks = @every_n_weeks,
       timezone = @timezone, min_cvss = @min_cvss, warning_threshold = @warning_threshold, ignore_offline_sites = @ignore_offline_sites,
       notification_group = @notification_group, sites = @sites, anchor_at = @anchor_at, next_scan_at = @next_scan_at, updated_at = @updated_at,
       window_start = @window_start, window_end = @window_end
     WHERE id = @id AND org_id = @org_id`,
  );
  const remove = db.prepare('DELETE FROM schedules WHERE org_id = ? AND id = ?');
  const due = db.prepare<[string], ScheduleRow>(`SELECT ${fields} FROM schedules WHERE next_scan_at <= ? ORDER BY next_scan_at, id`);
  const timing = db.prepare('UPDATE schedules SET next_scan_at = ?, last_run_at = COALESCE(?, last_run_at) WHERE id = ?');
  const writeCommands = commandWriter(db, signals);
  const insertTx = db.transaction((schedule: StoredSchedule, commands: CommandItem[]) => {
    insert.run(dehydrate(schedule));
    return writeCommands(commands);
  });
  const replaceTx = db.transaction((schedule: StoredSchedule, commands: CommandItem[]) =>
    replace.run(dehydrate(schedule)).changes === 1 ? writeCommands(commands) : undefined,
  );
  const deleteTx = db.transaction((orgId: string, id: string, commands: CommandItem[]) =>
    remove.run(orgId, id).changes === 1 ? writeCommands(commands) : undefined,
  );
  return {
    async list(orgId) {
      return list.all(orgId).map(hydrate);
    },
    async get(orgId, id) {
      const row = one.get(orgId, id);
      return row && hydrate(row);
    },
    async insert(schedule, commands = []) {
      return signals.committed(() => insertTx.immediate(schedule, commands));
    },
    async replace(schedule, commands = []) {
      return signals.committed(() => replaceTx.immediate(schedule, commands));
    },
    async delete(orgId, id, commands = []) {
      return signals.committed(() => deleteTx.immediate(orgId, id, commands));
    },
    async due(nowIso) {
      return due.all(nowIso).map(hydrate);
    },
    async setTiming(id, nextScanAt, lastRunAt) {
      timing.run(nextScanAt, lastRunAt, id);
    },
  };
}
