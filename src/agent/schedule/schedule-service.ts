import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AgentError } from '../errors.js';
import type { LocalSchedule } from '../config/local-schedules.js';
import type { ScheduleOrigin, SchedulesRepository, StoredSchedule } from '../store/schedules-repository.js';
import { type Clock, utcIso } from '../../shared/clock.js';
import { nextScanAt, type Recurrence } from '../../shared/schedule/next-run.js';
import { validateScheduleWrite, type ScanScheduleWrite } from '../../shared/schedule/rules.js';

const recurrenceOf = (s: Recurrence): Recurrence => ({
  day_of_week: s.day_of_week,
  time_of_day: s.time_of_day,
  every_n_weeks: s.every_n_weeks,
  timezone: s.timezone,
});

const sameRecurrence = (a: Recurrence, b: Recurrence) =>
  a.day_of_week === b.day_of_week && a.time_of_day === b.time_of_day && a.every_n_weeks === b.every_n_weeks && a.timezone === b.timezone;

/** The next slot of a stored schedule at or after `from`, as the UTC ISO string the store keeps. */
export function computeNextScanAt(schedule: Recurrence & { anchor_at: string }, from: Date): string {
  return utcIso(nextScanAt(recurrenceOf(schedule), new Date(schedule.anchor_at), from));
}

/**
 * Creates, replaces and removes schedules. A change of day, time, period or zone recomputes
 * next_scan_at; any other edit (thresholds, sites) keeps the slot already armed.
 */
export class ScheduleService {
  readonly #repo: SchedulesRepository;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(deps: { schedules: SchedulesRepository; clock: Clock; logger: Logger }) {
    this.#repo = deps.schedules;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** Validates with the API's rules; throws AGENT_ERR_SCHEDULE_INVALID listing every broken rule. */
  save(input: unknown, options: { id?: string; origin: ScheduleOrigin }): StoredSchedule {
    const result = validateScheduleWrite(input);
    if (!result.ok) {
      const lines = result.errors.map((error) => `${error.field}: ${error.message}`);
      throw new AgentError('AGENT_ERR_SCHEDULE_INVALID', `invalid schedule:\n  ${lines.join('\n  ')}`, { details: lines });
    }
    return this.#store(result.value, options.id ?? randomUUID(), options.origin);
  }

  #store(write: ScanScheduleWrite, id: string, origin: ScheduleOrigin): StoredSchedule {
    const now = this.#clock.now();
    const nowIso = utcIso(now);
    const existing = this.#repo.get(id);
    const keepTiming = existing !== undefined && sameRecurrence(existing, write);
    const anchorAt = existing?.anchor_at ?? nowIso;
    const schedule: StoredSchedule = {
      ...write,
      window: write.window ?? null,
      id,
      origin,
      anchor_at: anchorAt,
      next_scan_at: keepTiming ? existing.next_scan_at : computeNextScanAt({ ...write, anchor_at: anchorAt }, now),
      last_run_at: existing?.last_run_at ?? null,
      last_slot_at: existing?.last_slot_at ?? null,
      created_at: existing?.created_at ?? nowIso,
      updated_at: nowIso,
    };
    this.#repo.upsert(schedule);
    return schedule;
  }

  remove(id: string): void {
    if (!this.#repo.remove(id)) throw new AgentError('AGENT_ERR_SCHEDULE_NOT_FOUND', `no schedule has the id ${id}`);
  }

  /**
   * Makes the config file's schedules the stored 'config' ones: new ones are armed, changed
   * ones updated, removed ones deleted. Unchanged ones keep next_scan_at, so a restart or a
   * reload never moves a slot.
   */
  syncFromConfig(schedules: readonly LocalSchedule[]): { added: number; updated: number; removed: number } {
    const counts = { added: 0, updated: 0, removed: 0 };
    const wanted = new Set(schedules.map((s) => s.id));
    for (const { id, ...write } of schedules) {
      const existing = this.#repo.get(id);
      if (existing && existing.origin !== 'config') {
        this.#logger.warn({ schedule_id: id, origin: existing.origin }, 'config schedule id is already used by another schedule; config copy ignored');
        continue;
      }
      if (existing && JSON.stringify(pickWrite(existing)) === JSON.stringify(pickWrite(write))) continue;
      this.#store(write, id, 'config');
      counts[existing ? 'updated' : 'added'] += 1;
    }
    for (const stored of this.#repo.list()) {
      if (stored.origin === 'config' && !wanted.has(stored.id)) {
        this.#repo.remove(stored.id);
        counts.removed += 1;
      }
    }
    return counts;
  }
}

function pickWrite(s: ScanScheduleWrite): ScanScheduleWrite {
  return {
    description: s.description,
    day_of_week: s.day_of_week,
    time_of_day: s.time_of_day,
    every_n_weeks: s.every_n_weeks,
    timezone: s.timezone,
    min_cvss: s.min_cvss,
    warning_threshold: s.warning_threshold,
    ignore_offline_sites: s.ignore_offline_sites,
    notification_group: s.notification_group,
    sites: s.sites.map((site) => ({ id: site.id, subnet: site.subnet })),
    window: s.window ?? null,
  };
}
