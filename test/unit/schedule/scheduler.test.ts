import { afterEach, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { ScheduleService } from '../../../src/agent/schedule/schedule-service.js';
import { Scheduler, type ScheduledJob } from '../../../src/agent/schedule/scheduler.js';
import { openStore, type OpenedStore } from '../../../src/agent/store/database.js';
import { RunsRepository } from '../../../src/agent/store/runs-repository.js';
import { SchedulesRepository } from '../../../src/agent/store/schedules-repository.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

const siteId = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
const hour = 3600_000;

/** A clock the test moves by hand. */
class FakeClock {
  constructor(public current: Date) {}
  now = () => new Date(this.current.getTime());
  set(iso: string) {
    this.current = new Date(iso);
  }
}

const write = (overrides: Record<string, unknown> = {}) => ({
  description: 'test',
  day_of_week: 0,
  time_of_day: '02:00',
  every_n_weeks: 2,
  timezone: 'Europe/London',
  min_cvss: 4,
  warning_threshold: 7,
  notification_group: 'ops',
  sites: [{ id: siteId, subnet: '127.0.10.0/24' }],
  ...overrides,
});

const opened: OpenedStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

function setup(options: { dir?: string; clock: FakeClock; job?: ScheduledJob; graceMs?: number }) {
  const dir = options.dir ?? tempDir();
  const captured = captureLogger();
  const store = openStore({ stateDir: dir, logger: captured.logger, exclusive: false });
  opened.push(store);
  const schedules = new SchedulesRepository(store.db);
  const runs = new RunsRepository(store.db);
  const fired: string[] = [];
  const job: ScheduledJob =
    options.job ??
    (async ({ run }) => {
      fired.push(run.slot_at);
    });
  const scheduler = new Scheduler({
    db: store.db,
    schedules,
    runs,
    clock: options.clock,
    logger: captured.logger,
    job,
    missedRunGraceMs: () => options.graceMs ?? 6 * hour,
  });
  const service = new ScheduleService({ schedules, clock: options.clock, logger: captured.logger });
  return { dir, store, schedules, runs, scheduler, service, fired, captured };
}

describe('the scheduler', () => {
  // Wednesday 2027-01-06 in London; the anchor week starts Sunday 2027-01-03, so the
  // first Sunday 02:00 slot is two weeks later: 2027-01-17T02:00Z (GMT).
  const created = '2027-01-06T12:00:00.000Z';

  it('fires a due schedule once, on its slot, and never twice for one slot', async () => {
    const clock = new FakeClock(new Date(created));
    const { scheduler, service, schedules, runs, fired } = setup({ clock });
    const schedule = service.save(write(), { origin: 'cli' });
    expect(schedule.next_scan_at).toBe('2027-01-17T02:00:00.000Z');

    clock.set('2027-01-17T01:59:55.000Z');
    expect(scheduler.tick().fired).toEqual([]);
    clock.set('2027-01-17T02:00:00.000Z');
    expect(scheduler.tick().fired).toEqual([schedule.id]);
    clock.set('2027-01-17T02:00:05.000Z');
    expect(scheduler.tick().fired).toEqual([]);
    await scheduler.idle();
    expect(fired).toEqual(['2027-01-17T02:00:00.000Z']);
    const stored = schedules.get(schedule.id);
    expect(stored?.next_scan_at).toBe('2027-01-31T02:00:00.000Z');
    expect(stored?.last_run_at).toBe('2027-01-17T02:00:00.000Z');
    expect(runs.list(schedule.id).map((run) => [run.slot_at, run.status, run.trigger])).toEqual([['2027-01-17T02:00:00.000Z', 'completed', 'on_time']]);
  });

  it('does not fire a slot again after a restart, even if next_scan_at was not moved on', () => {
    const clock = new FakeClock(new Date(created));
    const first = setup({ clock });
    const schedule = first.service.save(write(), { origin: 'cli' });
    clock.set('2027-01-17T02:00:01.000Z');
    expect(first.scheduler.tick().fired).toEqual([schedule.id]);
    // A crash between the run row and anything else: put next_scan_at back to the fired slot.
    first.schedules.setNextScanAt(schedule.id, '2027-01-17T02:00:00.000Z');
    const second = setup({ dir: first.dir, clock });
    expect(second.scheduler.tick().fired).toEqual([]);
    expect(second.runs.list(schedule.id)).toHaveLength(1);
    expect(second.schedules.get(schedule.id)?.next_scan_at).toBe('2027-01-31T02:00:00.000Z');
  });

  it('skips and logs a slot while the previous run of the same schedule is still going', async () => {
    const clock = new FakeClock(new Date(created));
    let release: () => void = () => undefined;
    const job: ScheduledJob = () => new Promise<void>((resolve) => (release = resolve));
    const { scheduler, service, runs, captured } = setup({ clock, job });
    const schedule = service.save(write(), { origin: 'cli' });
    clock.set('2027-01-17T02:00:00.000Z');
    expect(scheduler.tick().fired).toEqual([schedule.id]);
    clock.set('2027-01-31T02:00:00.000Z');
    expect(scheduler.tick()).toEqual({ fired: [], skipped: [{ schedule_id: schedule.id, slot_at: '2027-01-31T02:00:00.000Z', reason: 'overlap' }] });
    expect(captured.messages()).toContain('the previous run of this schedule is still going; slot skipped');
    await new Promise((resolve) => setImmediate(resolve)); // the job starts on a later turn of the loop
    release();
    await scheduler.idle();
    expect(runs.list(schedule.id).map((run) => run.status)).toEqual(['skipped_overlap', 'completed']);
  });

  it('starts a run missed by less than the grace at once after downtime', () => {
    const clock = new FakeClock(new Date(created));
    const { scheduler, service, runs } = setup({ clock });
    const schedule = service.save(write(), { origin: 'cli' });
    clock.set('2027-01-17T05:30:00.000Z');
    expect(scheduler.start().fired).toEqual([schedule.id]);
    expect(runs.list(schedule.id)[0]).toMatchObject({ slot_at: '2027-01-17T02:00:00.000Z', trigger: 'late', started_at: '2027-01-17T05:30:00.000Z' });
    void scheduler.stop();
  });

  it('skips and logs a run missed by more than the grace, then arms the next slot', () => {
    const clock = new FakeClock(new Date(created));
    const { scheduler, service, runs, schedules, captured } = setup({ clock, graceMs: 6 * hour });
    const schedule = service.save(write(), { origin: 'cli' });
    clock.set('2027-01-17T08:00:01.000Z');
    expect(scheduler.tick()).toEqual({ fired: [], skipped: [{ schedule_id: schedule.id, slot_at: '2027-01-17T02:00:00.000Z', reason: 'missed' }] });
    expect(runs.list(schedule.id)[0]?.status).toBe('skipped_missed');
    expect(schedules.get(schedule.id)?.next_scan_at).toBe('2027-01-31T02:00:00.000Z');
    expect(captured.messages().some((m) => m.startsWith('slot missed by 360 min'))).toBe(true);
  });

  it('after weeks of downtime considers only the latest slot', () => {
    const clock = new FakeClock(new Date(created));
    const { scheduler, service, runs, captured } = setup({ clock });
    const schedule = service.save(write(), { origin: 'cli' });
    // Down from before the first slot until one hour after the third.
    clock.set('2027-02-14T03:00:00.000Z');
    expect(scheduler.tick().fired).toEqual([schedule.id]);
    expect(runs.list(schedule.id).map((run) => run.slot_at)).toEqual(['2027-02-14T02:00:00.000Z']);
    expect(captured.messages()).toContain('earlier slots passed while the agent was down; only the latest is considered');
  });

  it('keeps next_scan_at across a restart and a config re-sync, and recomputes it when the time changes', () => {
    const clock = new FakeClock(new Date(created));
    const first = setup({ clock });
    const id = '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b';
    first.service.syncFromConfig([{ ...write(), id, ignore_offline_sites: false }]);
    const armed = first.schedules.get(id)?.next_scan_at;
    expect(armed).toBe('2027-01-17T02:00:00.000Z');
    first.store.close();

    clock.set('2027-01-10T09:00:00.000Z');
    const second = setup({ dir: first.dir, clock });
    expect(second.service.syncFromConfig([{ ...write(), id, ignore_offline_sites: false }])).toEqual({ added: 0, updated: 0, removed: 0 });
    expect(second.schedules.get(id)?.next_scan_at).toBe(armed);
    second.service.syncFromConfig([{ ...write({ time_of_day: '03:15' }), id, ignore_offline_sites: false }]);
    expect(second.schedules.get(id)?.next_scan_at).toBe('2027-01-17T03:15:00.000Z');
    expect(second.service.syncFromConfig([])).toEqual({ added: 0, updated: 0, removed: 1 });
    expect(second.schedules.get(id)).toBeUndefined();
  });

  it('aborts a running job through its signal on stop, and marks runs a kill left open as interrupted', async () => {
    const clock = new FakeClock(new Date(created));
    let sawAbort = false;
    const job: ScheduledJob = ({ signal }) =>
      new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          sawAbort = true;
          reject(signal.reason as Error);
        });
      });
    const first = setup({ clock, job });
    const schedule = first.service.save(write(), { origin: 'cli' });
    clock.set('2027-01-17T02:00:00.000Z');
    first.scheduler.tick();
    await first.scheduler.stop(2000);
    expect(sawAbort).toBe(true);
    expect(first.runs.list(schedule.id)[0]?.status).toBe('aborted');

    // A run left 'running' by a killed process.
    first.store.db.prepare("UPDATE schedule_runs SET status = 'running', finished_at = NULL").run();
    const second = setup({ dir: first.dir, clock });
    second.scheduler.start();
    await second.scheduler.stop();
    expect(second.runs.list(schedule.id)[0]?.status).toBe('interrupted');
  });

  it('renders the slot in the schedule zone across a DST change (London BST)', () => {
    const clock = new FakeClock(new Date('2027-03-20T12:00:00.000Z'));
    const { service } = setup({ clock });
    const schedule = service.save(write({ time_of_day: '01:30' }), { origin: 'cli' });
    // 2027-03-28 01:30 does not exist in London (clocks go 01:00 -> 02:00 BST): runs at 02:00 BST = 01:00Z.
    expect(schedule.next_scan_at).toBe('2027-03-28T01:00:00.000Z');
    expect(DateTime.fromISO(schedule.next_scan_at ?? '', { zone: 'Europe/London' }).toISO()).toBe('2027-03-28T02:00:00.000+01:00');
  });
});
