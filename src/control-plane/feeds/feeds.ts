/**
 * The control plane's feed hub put together: feed.db in the state directory, the configured
 * sources on their schedules, and the pusher that sends each new version to the agents.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { systemWaitingClock } from '../../cve/rate-limiter.js';
import { createSources } from '../../cve/sources/config.js';
import type { Clock } from '../../shared/clock.js';
import type { FeedHubSettings } from '../config/load.js';
import { createFeedHub } from './feed-hub.js';
import { FeedPusher, type FeedPushTarget } from './feed-push.js';
import { openFeedStore, type FeedStore } from './feed-store.js';

export interface Feeds {
  store: FeedStore;
  hub: ReturnType<typeof createFeedHub>;
  pusher: FeedPusher;
  stop(): Promise<void>;
}

export interface FeedsDeps {
  settings: FeedHubSettings;
  stateDir: string;
  hub: FeedPushTarget;
  clock: Clock;
  logger: Logger;
  /** Called with the KEV entries a new feed version added or changed: findings entering KEV alert at once. */
  onKevEntries?: (entries: ReturnType<FeedStore['kevIn']>) => void;
}

export function startFeeds(deps: FeedsDeps): Feeds {
  const logger = deps.logger.child({ component: 'feed-hub' });
  const store = openFeedStore({ file: path.join(deps.stateDir, 'feed.db'), logger });
  const pusher = new FeedPusher({ store, hub: deps.hub, clock: deps.clock, logger, maxDeltaLines: deps.settings.max_delta_lines });
  const schedules = deps.settings.sources;
  const sources = createSources(schedules, deps.settings.nvd_api_key === '' ? undefined : deps.settings.nvd_api_key).map((source) => ({
    source,
    schedule: schedules[source.name as keyof typeof schedules].schedule,
  }));
  const hub = createFeedHub({
    store,
    sources,
    logger,
    // The control plane's clock for dates; real waits for rate limits and Retry-After.
    clock: { now: () => deps.clock.now(), sleep: systemWaitingClock.sleep },
    onVersion: (version) => {
      void pusher.newVersion();
      const kev = store.kevIn(version.version);
      if (kev.size > 0) deps.onKevEntries?.(kev);
    },
  });
  hub.start();
  logger.info({ sources: sources.map(({ source, schedule }) => `${source.name} (${schedule})`), newest_version: store.newestVersion() }, 'feed hub started');
  return {
    store,
    hub,
    pusher,
    async stop() {
      try {
        await hub.stop();
      } finally {
        store.close();
      }
    },
  };
}
