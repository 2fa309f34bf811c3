import { randomUUID } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Db } from '../../shared/sqlite.js';
import type { RunsRepository, RunStatus, ScheduleRun } from '../store/runs-repository.js';
import type { SchedulesRepository, StoredSchedule } from '../store/schedules-repository.js';
import { type Clock, utcIso } from '../../shared/clock.js';
import { nextScanAt, previousScanAt } from '../../shared/schedule/next-run.js';
import { storageStatusLine, type StorageGate } from '../storage-health.js';

/** What a fired schedule does. It must honour the signal: stop() aborts it. */
export type ScheduledJob = (context: { schedule: StoredSchedule; run: ScheduleRun; signal: AbortSignal; logger: Logger }) => Promise<void>;

export interface SchedulerDeps {
  db: Db;
  schedules: SchedulesRepository;
  runs: RunsRepository;
  clock: Clock;
  logger: Logger;
  job: ScheduledJob;
  /** Read at every tick so a SIGHUP can change it. */
  missedRunGraceMs: () => number;
  /** Seconds between ticks; slots are whole minutes, so a few seconds keeps a fire on time. */
  tickSeconds?: number;
  /**
   * Consulted before a slot fires: while storage is failing the slot is skipped (recorded with the
   * reason when the disk takes it, else once it recovers), and the next slot fires as usual.
   */
  storage?: StorageGate;
}

export type SkipReason = 'overlap' | 'missed' | 'storage';

export interface TickOutcome {
  fired: string[];
  skipped: { schedule_id: string; slot_at: string; reason: SkipReason }[];
}

/** A run's end the store could not take (a full disk): written at a later tick. */
interface UnwrittenFinish {
  runId: string;
  status: RunStatus;
  finishedAt: string;
  message: string | null;
}

interface RunningJob {
  run: ScheduleRun;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Fires due schedules. The database is the source of truth: each tick asks it which
 * schedules are due, so schedules added by the CLI or the control plane arm themselves,
 * and the UNIQUE (schedule, slot) row makes a second fire of one slot impossible.
 */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #log: Logger;
  readonly #running = new Map<string, RunningJob>();
  #task: ScheduledTask | undefined;
  #lastTickAt: Date | undefined;
  /** Slots skipped while storage failed and not yet recorded, by schedule id. */
  readonly #storageSkips = new Map<string, { slotAt: string; message: string }>();
  readonly #unwrittenFinishes: UnwrittenFinish[] = [];

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'scheduler' });
  }

  get lastTickAt(): Date | undefined {
    return this.#lastTickAt;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  isRunning(scheduleId: string): boolean {
    return this.#running.has(scheduleId);
  }

  /** Closes runs a killed process left open, arms schedules without a slot, then handles what came due while it was down. */
  start(): TickOutcome {
    const { runs, schedules, clock } = this.#deps;
    const interrupted = runs.interruptRunning(utcIso(clock.now()));
    if (interrupted > 0) this.#log.warn({ interrupted }, 'runs cut off by the previous stop were marked interrupted');
    const outcome = this.tick();
    const seconds = this.#deps.tickSeconds ?? 5;
    this.#task = cron.schedule(`*/${seconds} * * * * *`, () => {
      try {
        this.tick();
      } catch (error) {
        this.#log.error({ err: error }, 'scheduler tick failed');
      }
    });
    this.#log.info({ schedules: schedules.list().length, tick_seconds: seconds }, 'scheduler armed');
    return outcome;
  }

  tick(): TickOutcome {
    const { schedules, clock } = this.#deps;
    const now = clock.now();
    this.#lastTickAt = now;
    const outcome: TickOutcome = { fired: [], skipped: [] };
    this.#writeUnwrittenFinishes();
    for (const schedule of schedules.due(utcIso(now))) {
      try {
        this.#handleDue(schedule, now, outcome);
      } catch (error) {
        // A write that failed on a full disk: the next tick sees storage failing and skips the slot.
        if (this.#deps.storage?.failed(error, `schedule ${schedule.id}`) !== true) throw error;
      }
    }
    return outcome;
  }

  #writeUnwrittenFinishes(): void {
    while (this.#unwrittenFinishes.length > 0 && this.#deps.storage?.failing !== true) {
      const next = this.#unwrittenFinishes[0] as UnwrittenFinish;
      try {
        this.#deps.runs.finish(next.runId, next.status, next.finishedAt, next.message);
      } catch (error) {
        if (this.#deps.storage?.failed(error, 'schedule run finish') !== true) this.#log.error({ err: error, run_id: next.runId }, 'run end not recorded');
        else return;
      }
      this.#unwrittenFinishes.shift();
    }
  }

  #handleDue(schedule: StoredSchedule, now: Date, outcome: TickOutcome): void {
    const { schedules, runs, db } = this.#deps;
    const anchor = new Date(schedule.anchor_at);
    const slot = previousScanAt(schedule, anchor, now);
    if (slot === null) {
      schedules.setNextScanAt(schedule.id, utcIso(nextScanAt(schedule, anchor, now)));
      return;
    }
    const slotAt = utcIso(slot);
    const nextAt = utcIso(nextScanAt(schedule, anchor, new Date(slot.toMillis() + 1)));
    const log = this.#log.child({ schedule_id: schedule.id, slot_at: slotAt });
    if (schedule.next_scan_at !== null && schedule.next_scan_at < slotAt) {
      log.warn({ missed_from: schedule.next_scan_at }, 'earlier slots passed while the agent was down; only the latest is considered');
    }
    const lateMs = now.getTime() - slot.toMillis();
    const skip = (reason: SkipReason, status: RunStatus, message: string) => {
      db.transaction(() => {
        runs.insert({
          id: randomUUID(),
          schedule_id: schedule.id,
          slot_at: slotAt,
          trigger: 'on_time',
          status,
          started_at: null,
          finished_at: utcIso(now),
          message,
        });
        schedules.advance(schedule.id, { next_scan_at: nextAt, last_slot_at: slotAt });
      })();
      outcome.skipped.push({ schedule_id: schedule.id, slot_at: slotAt, reason });
      log.warn({ next_scan_at: nextAt }, message);
    };

    const storage = this.#deps.storage;
    const held = this.#storageSkips.get(schedule.id);
    if (storage?.failing === true || held?.slotAt === slotAt) {
      const message = held?.slotAt === slotAt ? held.message : `${storageStatusLine((storage as StorageGate).state)}; slot skipped`;
      try {
        skip('storage', 'skipped_missed', message);
        this.#storageSkips.delete(schedule.id);
      } catch (error) {
        if (storage?.failed(error, 'schedule skip') !== true) throw error;
        // Said once per slot; recorded at the first tick after the disk has room again.
        if (held?.slotAt !== slotAt) log.warn({ next_scan_at: nextAt }, message);
        this.#storageSkips.set(schedule.id, { slotAt, message });
        outcome.skipped.push({ schedule_id: schedule.id, slot_at: slotAt, reason: 'storage' });
      }
      return;
    }
    if (lateMs > this.#deps.missedRunGraceMs()) {
      skip('missed', 'skipped_missed', `slot missed by ${Math.round(lateMs / 60000)} min, more than the grace; skipped`);
      return;
    }
    if (this.#running.has(schedule.id)) {
      skip('overlap', 'skipped_overlap', 'the previous run of this schedule is still going; slot skipped');
      return;
    }
    const run: ScheduleRun = {
      id: randomUUID(),
      schedule_id: schedule.id,
      slot_at: slotAt,
      trigger: lateMs > 60_000 ? 'late' : 'on_time',
      status: 'running',
      started_at: utcIso(now),
      finished_at: null,
      message: null,
    };
    const inserted = db.transaction(() => {
      if (!runs.insert(run)) return false;
      schedules.advance(schedule.id, { next_scan_at: nextAt, last_slot_at: slotAt, last_run_at: run.started_at ?? undefined });
      return true;
    })();
    if (!inserted) {
      // Another process (or an earlier life of this one) already took this slot.
      schedules.advance(schedule.id, { next_scan_at: nextAt, last_slot_at: slotAt });
      return;
    }
    outcome.fired.push(schedule.id);
    log.info({ run_id: run.id, trigger: run.trigger, next_scan_at: nextAt }, 'schedule fired');
    this.#launch({ ...schedule, last_run_at: run.started_at, next_scan_at: nextAt, last_slot_at: slotAt }, run);
  }

  #launch(schedule: StoredSchedule, run: ScheduleRun): void {
    const controller = new AbortController();
    const log = this.#log.child({ schedule_id: schedule.id, run_id: run.id });
    // Runs in the job's promise chain, so it never throws: an end a full disk refuses is written at a later tick.
    const finish = (status: RunStatus, message: string | null) => {
      const finishedAt = utcIso(this.#deps.clock.now());
      try {
        this.#deps.runs.finish(run.id, status, finishedAt, message);
      } catch (error) {
        if (this.#deps.storage?.failed(error, 'schedule run finish') !== true) log.error({ err: error, status }, 'run end not recorded');
        else this.#unwrittenFinishes.push({ runId: run.id, status, finishedAt, message });
      }
      log.info({ status }, 'run finished');
    };
    const done = Promise.resolve()
      .then(() => this.#deps.job({ schedule, run, signal: controller.signal, logger: log }))
      .then(
        () => finish(controller.signal.aborted ? 'aborted' : 'completed', null),
        (error: unknown) => {
          if (controller.signal.aborted) finish('aborted', 'stopped by the agent shutting down');
          else {
            log.error({ err: error }, 'run failed');
            finish('failed', error instanceof Error ? error.message : String(error));
          }
        },
      )
      .finally(() => this.#running.delete(schedule.id));
    this.#running.set(schedule.id, { run, controller, done });
  }

  /** Waits for the running jobs, e.g. in tests. */
  async idle(): Promise<void> {
    await Promise.all([...this.#running.values()].map((job) => job.done));
  }

  /** Stops ticking and aborts running jobs; resolves when they have ended or the deadline passed. */
  async stop(deadlineMs = 8000): Promise<void> {
    await this.#task?.destroy();
    this.#task = undefined;
    for (const job of this.#running.values()) job.controller.abort(new Error('agent stopping'));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
      timer.unref();
    });
    await Promise.race([this.idle(), deadline]);
    clearTimeout(timer);
    if (this.#running.size > 0) this.#log.error({ still_running: this.#running.size }, 'jobs did not stop before the deadline');
  }
}
