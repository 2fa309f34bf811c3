import { describe, expect, it, onTestFinished } from 'vitest';
import { parseLocalSchedules } from '../../../src/agent/config/local-schedules.js';
import { ScheduleService } from '../../../src/agent/schedule/schedule-service.js';
import { openStore } from '../../../src/agent/store/database.js';
import { SchedulesRepository } from '../../../src/agent/store/schedules-repository.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

const siteId = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
const id = '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a';
const entry = (extra: Record<string, unknown> = {}) => ({
  id,
  day_of_week: 0,
  time_of_day: '23:00',
  every_n_weeks: 2,
  min_cvss: 4,
  warning_threshold: 7,
  ...extra,
});
const site = { subnets: ['192.168.88.0/24'], siteId, defaultTimezone: 'Europe/Berlin' };

describe('a local schedule with a scan window', () => {
  it('reads the window from config.yaml, and names a broken one by its config path', () => {
    expect(parseLocalSchedules([entry({ window: { start: '22:00', end: '5:00' } })], site)).toMatchObject({
      errors: [],
      schedules: [{ id, window: { start: '22:00', end: '05:00' } }],
    });
    expect(parseLocalSchedules([entry({ window: { start: '22:00', end: '22:00' } })], site).errors).toEqual([
      'schedules.0.window.end: must not end when it starts: a window needs some hours',
    ]);
    expect(parseLocalSchedules([entry({ window: { start: '25:00', end: '06:00' } })], site).errors).toEqual([
      'schedules.0.window.start: must be a 24-hour time HH:mm, such as 02:00, got "25:00"',
    ]);
  });

  it('is stored by the agent (migration 8), changed and cleared by a config reload', () => {
    const { logger } = captureLogger('warn');
    const store = openStore({ stateDir: tempDir(), logger, exclusive: false });
    onTestFinished(() => store.close());
    const schedules = new SchedulesRepository(store.db);
    const service = new ScheduleService({ schedules, clock: { now: () => new Date('2026-03-01T12:00:00Z') }, logger });
    const sync = (extra: Record<string, unknown>) => service.syncFromConfig(parseLocalSchedules([entry(extra)], site).schedules);

    expect(sync({ window: { start: '22:00', end: '06:00' } })).toEqual({ added: 1, updated: 0, removed: 0 });
    expect(schedules.get(id)?.window).toEqual({ start: '22:00', end: '06:00' });
    expect(sync({ window: { start: '22:00', end: '06:00' } })).toEqual({ added: 0, updated: 0, removed: 0 });
    expect(sync({ window: { start: '21:00', end: '06:00' } })).toEqual({ added: 0, updated: 1, removed: 0 });
    expect(schedules.get(id)?.window).toEqual({ start: '21:00', end: '06:00' });
    expect(sync({})).toEqual({ added: 0, updated: 1, removed: 0 });
    expect(schedules.get(id)?.window).toBeNull();
    // Half a window cannot be stored.
    expect(() => store.db.prepare("UPDATE schedules SET window_start = '22:00' WHERE id = ?").run(id)).toThrow(/CHECK/);
  });
});
