import type { CommandItem, PendingCommand, ScheduleStore, StoredSchedule } from '../types.js';
import { fromJson, toJson } from '../json.js';
import { commandWriter } from './commands.js';
import type { PgDb } from './db.js';

interface ScheduleRow extends Omit<StoredSchedule, 'sites' | 'window'> {
  sites: string;
  window_start: string | null;
  window_end: string | null;
}

const hydrate = ({ window_start: start, window_end: end, ...row }: ScheduleRow): StoredSchedule => ({
  ...row,
  sites: fromJson(row.sites),
  window: start !== null && end !== null ? { start, end } : null,
});

const fieldList = [
  'id',
  'org_id',
  'description',
  'day_of_week',
  'time_of_day',
  'every_n_weeks',
  'timezone',
  'min_cvss',
  'warning_threshold',
  'ignore_offline_sites',
  'notification_group',
  'sites',
  'anchor_at',
  'next_scan_at',
  'last_run_at',
  'created_at',
  'updated_at',
  'window_start',
  'window_end',
] as const;
const fields = fieldList.join(', ');
const values = (schedule: StoredSchedule) =>
  fieldList.map((field) =>
    field === 'sites'
      ? toJson(schedule.sites)
      : field === 'window_start'
        ? (schedule.window?.start ?? null)
        : field === 'window_end'
          ? (schedule.window?.end ?? null)
          : schedule[field],
  );

export function pgSchedules(db: PgDb): ScheduleStore {
  const writeIf = (changed: (client: Parameters<Parameters<PgDb['tx']>[0]>[0]) => Promise<boolean>, commands: CommandItem[]) =>
    db.tx(async (client): Promise<PendingCommand[] | undefined> => ((await changed(client)) ? commandWriter(client, commands) : undefined));
  return {
    async list(orgId) {
      return (await db.query<ScheduleRow>(`SELECT ${fields} FROM schedules WHERE org_id = $1 ORDER BY created_at DESC, id`, [orgId])).map(hydrate);
    },
    async get(orgId, id) {
      const [row] = await db.query<ScheduleRow>(`SELECT ${fields} FROM schedules WHERE org_id = $1 AND id = $2`, [orgId, id]);
      return row && hydrate(row);
    },
    async insert(schedule, commands = []) {
      return db.tx(async (client) => {
        await client.query(`INSERT INTO schedules (${fields}) VALUES (${fieldList.map((_, i) => `$${i + 1}`).join(', ')})`, values(schedule));
        return commandWriter(client, commands);
      });
    },
    async replace(schedule, commands = []) {
      return writeIf(async (client) => {
        const { rowCount } = await client.query(
          `UPDATE schedules SET description = $3, day_of_week = $4, time_of_day = $5, every_n_weeks = $6, timezone = $7, min_cvss = $8,
             warning_threshold = $9, ignore_offline_sites = $10, notification_group = $11, sites = $12, anchor_at = $13, next_scan_at = $14,
             updated_at = $15, window_start = $16, window_end = $17
           WHERE id = $1 AND org_id = $2`,
          [
            schedule.id,
            schedule.org_id,
            schedule.description,
            schedule.day_of_week,
            schedule.time_of_day,
            schedule.every_n_weeks,
            schedule.timezone,
            schedule.min_cvss,
            schedule.warning_threshold,
            schedule.ignore_offline_sites,
            schedule.notification_group,
            toJson(schedule.sites),
            schedule.anchor_at,
            schedule.next_scan_at,
            schedule.updated_at,
            schedule.window?.start ?? null,
            schedule.window?.end ?? null,
          ],
        );
        return rowCount === 1;
      }, commands);
    },
    async delete(orgId, id, commands = []) {
      return writeIf(async (client) => (await client.query('DELETE FROM schedules WHERE org_id = $1 AND id = $2', [orgId, id])).rowCount === 1, commands);
    },
    async due(nowIso) {
      return (await db.query<ScheduleRow>(`SELECT ${fields} FROM schedules WHERE next_scan_at <= $1 ORDER BY next_scan_at, id`, [nowIso])).map(hydrate);
    },
    async setTiming(id, nextScanAt, lastRunAt) {
      await db.query('UPDATE schedules SET next_scan_at = $1, last_run_at = COALESCE($2, last_run_at) WHERE id = $3', [nextScanAt, lastRunAt, id]);
    },
  };
}
