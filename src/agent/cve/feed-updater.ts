import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { cveDataStatus, readSourceRun, recordSourceRun, type CveDataStatus } from '../../cve/freshness.js';
import { systemWaitingClock, type WaitingClock } from '../../cve/rate-limiter.js';
import { createSources, type SourcesSettings } from '../../cve/sources/config.js';
import type { FeedSource } from '../../cve/sources/source.js';
import { openCveDatabase } from './cve-database.js';

export interface FeedUpdaterDeps {
  stateDir: string;
  sources: SourcesSettings;
  logger: Logger;
  clock: Clock;
  /** How long after start the sources due at start run (ms). */
  catchUpAfterMs?: number;
  /** The zone the cron schedules are read in (the agent's scheduler.timezone). */
  timezone?: string;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  /** The CVE data's age limit, and who hears the data's new state after each successful run (the daemon's status line). */
  staleAfterMs?: number;
  onData?: (status: CveDataStatus) => void;
}

export interface FeedUpdater {
  start(): void;
  /** Stops the schedules and waits for (aborts) the run in progress. */
  stop(): Promise<void>;
  /** Runs one source now (after any run in progress); resolves when it is done, failed runs included. */
  runSource(name: string): Promise<void>;
}

/**
 * A standalone agent's own feed updates: each enabled source on its cron schedule against the
 * site's cve.db, one run at a time (a site box has little to spare), one log line per run. At
 * start, a source that never succeeded, or whose last success is older than its schedule's
 * interval (slots missed while the agent was down), runs once, `catchUpAfterMs` after start.
 */
export function createFeedUpdater(deps: FeedUpdaterDeps): FeedUpdater {
  const log = deps.logger.child({ component: 'feeds' });
  const clock: WaitingClock = { now: () => deps.clock.now(), sleep: systemWaitingClock.sleep };
  const stopped = new AbortController();
  const tasks: ScheduledTask[] = [];
  const scheduled: { source: FeedSource; schedule: string }[] = createSources(deps.sources).map((source) => ({
    source,
    schedule: deps.sources[source.name as keyof SourcesSettings].schedule,
  }));
  // Runs are chained: a scheduled fire while another source runs waits its turn.
  let chain: Promise<void> = Promise.resolve();
  let catchUp: NodeJS.Timeout | undefined;

  async function run(source: FeedSource, schedule: string): Promise<void> {
    if (stopped.signal.aborted) return;
    const started = performance.now();
    const cveDb = openCveDatabase({ stateDir: deps.stateDir, logger: deps.logger });
    try {
      const result = await source.run(cveDb.db, { logger: log, clock, signal: stopped.signal, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
      recordSourceRun(cveDb.store, source.name, deps.clock.now(), { ok: true, dataAsOf: result.dataAsOf, changed: result.changed });
      deps.onData?.(cveDataStatus(cveDb.store, deps.clock.now(), deps.staleAfterMs ?? 7 * 86_400_000));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      log.info(
        { source: source.name, changed: result.changed, data_as_of: result.dataAsOf, seconds: Number(seconds) },
        `feed source ${source.name} updated: ${result.changed} row(s) changed, data as of ${result.dataAsOf} (${seconds} s)`,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (stopped.signal.aborted) {
        log.info(
          { source: source.name },
          `feed source ${source.name} run cut short by the agent stopping; it runs again at its next slot (NVD resumes at the page it stopped at)`,
        );
        return;
      }
      recordSourceRun(cveDb.store, source.name, deps.clock.now(), { ok: false, error: reason });
      log.error(
        { source: source.name, reason },
        `feed source ${source.name} failed, the data it had stays in use; retried at its next slot (${schedule}): ${reason}`,
      );
    } finally {
      cveDb.close();
    }
  }

  function enqueue(source: FeedSource, schedule: string): Promise<void> {
    // A run never rejects the chain: a cve.db that cannot be opened is logged like any failed run.
    chain = chain
      .then(() => run(source, schedule))
      .catch((error: unknown) => log.error({ source: source.name, err: error }, `feed source ${source.name} could not run: ${(error as Error).message}`));
    return chain;
  }

  /** Due at start: never succeeded, or the last success is older than the gap between two slots. */
  function dueAtStart(source: FeedSource, task: ScheduledTask): boolean {
    const cveDb = openCveDatabase({ stateDir: deps.stateDir, logger: deps.logger });
    try {
      const lastOk = readSourceRun(cveDb.store, source.name)?.last_ok_at;
      if (lastOk === null || lastOk === undefined) return true;
      const [a, b] = task.getNextRuns(2);
      const interval = a && b ? b.getTime() - a.getTime() : 86_400_000;
      return deps.clock.now().getTime() - Date.parse(lastOk) > interval;
    } finally {
      cveDb.close();
    }
  }

  return {
    start() {
      const due: typeof scheduled = [];
      for (const entry of scheduled) {
        const { source, schedule } = entry;
        const task = cron.schedule(schedule, () => void enqueue(source, schedule), {
          name: `feed-${source.name}`,
          ...(deps.timezone ? { timezone: deps.timezone } : {}),
        });
        tasks.push(task);
        if (dueAtStart(source, task)) due.push(entry);
      }
      if (due.length > 0) {
        catchUp = setTimeout(() => {
          for (const { source, schedule } of due) void enqueue(source, schedule);
        }, deps.catchUpAfterMs ?? 0);
        catchUp.unref();
      }
      log.info(
        { sources: scheduled.map(({ source, schedule }) => ({ source: source.name, url: source.url, schedule })) },
        `feed self-update on: ${scheduled.map(({ source, schedule }) => `${source.name} (${schedule})`).join(', ') || 'no source enabled'}${
          due.length > 0 ? `; due now: ${due.map(({ source }) => source.name).join(', ')} in ${Math.round((deps.catchUpAfterMs ?? 0) / 1000)} s` : ''
        }`,
      );
    },
    async stop() {
      stopped.abort(new Error('agent stopping'));
      clearTimeout(catchUp);
      for (const task of tasks.splice(0)) await task.stop();
      await chain;
    },
    runSource(name) {
      const found = scheduled.find(({ source }) => source.name === name);
      return found ? enqueue(found.source, found.schedule) : Promise.resolve();
    },
  };
}
