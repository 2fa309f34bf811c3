import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { FeedSource, SourceContext } from '../../cve/sources/source.js';
import type { WaitingClock } from '../../cve/rate-limiter.js';
import type { FeedStore, FeedVersion } from './feed-store.js';

export interface ScheduledSource {
  source: FeedSource;
  /** A node-cron expression: when this source runs. */
  schedule: string;
}

export interface FeedHubOptions {
  store: FeedStore;
  sources: readonly ScheduledSource[];
  logger: Logger;
  clock: WaitingClock;
  /** Called after a run made a new feed version: the hub pushes deltas to agents from here. */
  onVersion?: (version: FeedVersion) => void;
}

/**
 * Runs each source on its own schedule against feed.db, one run per source at a time; a failed
 * run is logged in one line and tried again at its next slot. A run that changed something
 * becomes a new feed version.
 */
export function createFeedHub({ store, sources, logger, clock, onVersion }: FeedHubOptions) {
  const running = new Map<string, Promise<FeedVersion | undefined>>();
  const tasks: ScheduledTask[] = [];
  // The NVD source hands its raw records to the store within each page's transaction (deltas carry them).
  const context: SourceContext = { logger, clock, keepRawRecords: (records) => store.keepRawRecords(records) };

  async function run(source: FeedSource): Promise<FeedVersion | undefined> {
    try {
      const result = await source.run(store.db, context);
      store.setDataAsOf(result.source, result.dataAsOf);
      const version = store.recordVersion(clock.now());
      if (version) {
        logger.info({ source: source.name, changed: result.changed, feed_version: version.version }, 'feed source run made a new feed version');
        onVersion?.(version);
      }
      return version;
    } catch (error) {
      logger.error({ source: source.name, reason: error instanceof Error ? error.message : String(error) }, 'feed source run failed; retried at its next slot');
      return undefined;
    }
  }

  function runSource(name: string): Promise<FeedVersion | undefined> {
    const scheduled = sources.find((entry) => entry.source.name === name);
    if (!scheduled) return Promise.resolve(undefined);
    const inFlight = running.get(name);
    if (inFlight) return inFlight;
    const started = run(scheduled.source).finally(() => running.delete(name));
    running.set(name, started);
    return started;
  }

  return {
    runSource,
    start(): void {
      for (const { source, schedule } of sources) tasks.push(cron.schedule(schedule, () => void runSource(source.name)));
    },
    async stop(): Promise<void> {
      for (const task of tasks.splice(0)) await task.stop();
      await Promise.all(running.values());
    },
  };
}
