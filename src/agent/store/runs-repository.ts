import type { Db } from '../../shared/sqlite.js';

export type RunTrigger = 'on_time' | 'late' | 'manual';
export type RunStatus = 'running' | 'completed' | 'failed' | 'aborted' | 'interrupted' | 'skipped_overlap' | 'skipped_missed';

export interface ScheduleRun {
  id: string;
  schedule_id: string;
  slot_at: string;
  trigger: RunTrigger;
  status: RunStatus;
  started_at: string | null;
  finished_at: string | null;
  message: string | null;
}

export class RunsRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Returns false when the slot already has a row: the database, not memory, forbids a second fire. */
  insert(run: ScheduleRun): boolean {
    const result = this.#db
      .prepare(
        `INSERT INTO schedule_runs (id, schedule_id, slot_at, trigger, status, started_at, finished_at, message)
         VALUES (@id, @schedule_id, @slot_at, @trigger, @status, @started_at, @finished_at, @message)
         ON CONFLICT (schedule_id, slot_at) DO NOTHING`,
      )
      .run(run);
    return result.changes === 1;
  }

  finish(id: string, status: RunStatus, finishedAt: string, message: string | null): void {
    this.#db.prepare('UPDATE schedule_runs SET status = ?, finished_at = ?, message = ? WHERE id = ?').run(status, finishedAt, message, id);
  }

  /** At start: runs a previous process left 'running' were cut off by a crash or kill. */
  interruptRunning(now: string): number {
    return this.#db
      .prepare(
        "UPDATE schedule_runs SET status = 'interrupted', finished_at = ?, message = 'the agent stopped while this run was going' WHERE status = 'running'",
      )
      .run(now).changes;
  }

  list(scheduleId: string, limit = 20): ScheduleRun[] {
    return this.#db
      .prepare<[string, number], ScheduleRun>('SELECT * FROM schedule_runs WHERE schedule_id = ? ORDER BY slot_at DESC LIMIT ?')
      .all(scheduleId, limit);
  }
}
