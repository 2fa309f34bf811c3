import { DateTime } from 'luxon';
import type { AgentConfig } from '../agent/config/load.js';
import { AgentError } from '../agent/errors.js';
import { systemClock, utcIso } from '../shared/clock.js';
import { upcomingScans } from '../shared/schedule/next-run.js';
import { ScheduleService } from '../agent/schedule/schedule-service.js';
import { renderInZone } from '../shared/schedule/zone-time.js';
import { scheduleView } from '../shared/schedule/view.js';
import { openStore } from '../agent/store/database.js';
import { MetaRepository } from '../agent/store/meta-repository.js';
import { SchedulesRepository, type StoredSchedule } from '../agent/store/schedules-repository.js';
import { renderTable } from './table.js';
import { createCliLogger } from './cli-logger.js';

interface OutputOptions {
  json?: boolean;
}

/** CLI commands share the file with a running daemon (WAL), so they never take its lock. */
function withStore<T>(config: AgentConfig, use: (store: { schedules: SchedulesRepository; service: ScheduleService; siteId: string }) => T): T {
  const logger = createCliLogger('cve-agent');
  const opened = openStore({ stateDir: config.state_dir, logger, exclusive: false });
  try {
    const schedules = new SchedulesRepository(opened.db);
    const siteId = new MetaRepository(opened.db).siteId(config.site_id);
    const service = new ScheduleService({ schedules, clock: systemClock, logger });
    // The file is the truth for its schedules, daemon running or not; unchanged ones keep their slot.
    service.syncFromConfig(config.schedules);
    return use({ schedules, service, siteId });
  } finally {
    opened.close();
  }
}

/** The API's view of a schedule (times in its zone), with where it came from. */
function present(schedule: StoredSchedule) {
  return { ...scheduleView(schedule), origin: schedule.origin };
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function listSchedules(config: AgentConfig, options: OutputOptions): void {
  const list = withStore(config, ({ schedules }) => schedules.list().map(present));
  if (options.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return;
  }
  if (list.length === 0) {
    process.stdout.write('no schedules\n');
    return;
  }
  process.stdout.write(
    renderTable(
      ['ID', 'ORIGIN', 'WHEN', 'ZONE', 'CVSS', 'SITES', 'NEXT SCAN', 'LAST RUN'],
      list.map((s) => [
        s.id,
        s.origin,
        `${days[s.day_of_week]} ${s.time_of_day} every ${s.every_n_weeks} wk${s.window ? `, scans ${s.window.start}-${s.window.end}` : ''}`,
        s.timezone,
        `>=${s.min_cvss} warn>=${s.warning_threshold}`,
        String(s.sites.length),
        s.next_scan_at ?? '-',
        s.last_run_at ?? 'never',
      ]),
    ),
  );
}

export function addSchedule(config: AgentConfig, options: OutputOptions, flags: Record<string, string | boolean | string[] | undefined>): void {
  const created = withStore(config, ({ service, siteId }) => {
    const siteFlags = (flags.site as string[] | undefined) ?? [];
    const sites =
      siteFlags.length > 0
        ? siteFlags.map((pair) => {
            const [id, subnet] = pair.split('=');
            return { id, subnet };
          })
        : config.subnets.map((subnet) => ({ id: siteId, subnet }));
    const write = {
      description: flags.description,
      day_of_week: Number(flags.day),
      time_of_day: flags.time,
      every_n_weeks: Number(flags.every),
      timezone: flags.timezone ?? config.scheduler.timezone,
      min_cvss: Number(flags.minCvss),
      warning_threshold: Number(flags.warning),
      ignore_offline_sites: flags.ignoreOfflineSites === true,
      notification_group: flags.group,
      sites,
    };
    return present(service.save(write, { id: flags.id as string | undefined, origin: 'cli' }));
  });
  if (options.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
  else process.stdout.write(`added schedule ${created.id}; next scan ${created.next_scan_at}\n`);
}

export function removeSchedule(config: AgentConfig, options: OutputOptions, id: string): void {
  withStore(config, ({ schedules, service }) => {
    const existing = schedules.get(id);
    if (existing?.origin === 'config') {
      throw new AgentError('AGENT_ERR_SCHEDULE_READ_ONLY', `schedule ${id} comes from ${config.source ?? 'the config file'}; remove it there and reload`);
    }
    service.remove(id);
  });
  if (options.json) process.stdout.write(`${JSON.stringify({ removed: id })}\n`);
  else process.stdout.write(`removed schedule ${id}\n`);
}

export function nextRuns(config: AgentConfig, options: OutputOptions, count: number): void {
  const now = new Date();
  const rows = withStore(config, ({ schedules }) =>
    schedules.list().map((s) => ({
      id: s.id,
      timezone: s.timezone,
      runs: upcomingScans(s, new Date(s.anchor_at), now, count).map((slot) => ({ local: renderInZone(slot, s.timezone), utc: utcIso(slot) })),
    })),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const table = rows.flatMap((row) =>
    row.runs.map((run) => [row.id, row.timezone, DateTime.fromISO(run.local ?? '', { setZone: true }).toFormat('ccc yyyy-LL-dd HH:mm ZZ'), run.utc]),
  );
  process.stdout.write(table.length === 0 ? 'no schedules\n' : renderTable(['SCHEDULE', 'ZONE', 'LOCAL', 'UTC'], table));
}
