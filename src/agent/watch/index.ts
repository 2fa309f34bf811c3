/**
 * The site watching itself: the router's device tables followed (routeros/watch), each change
 * judged by the trigger policy, and the micro-scans it asks for started as scans of origin
 * `watch` like any other (status, events, report, delta, exactly-once upstream).
 *
 *   const watch = createSiteWatch({ config, logger, clock, siteId, scans, scope, mayScanNow, pins });
 *   watch.start(); ... await watch.stop();
 */
import type { Logger } from 'pino';
import type { AgentConfig, RouterSettings } from '../config/load.js';
import type { Clock } from '../../shared/clock.js';
import { inScope, isCanonicalIPv4 } from '../../shared/ipv4.js';
import { createRouterFeed, type KnownHosts, type RouterFeed, type RouterPins } from '../routeros/index.js';
import { watchSpec, type Scans } from '../pipeline/index.js';
import { TriggerPolicy, type PolicyStats, type Timers, type WatchScanRequest } from './trigger-policy.js';
import { createWatcher, type Watcher } from './watcher.js';

export { TriggerPolicy, type PolicyStats, type Timers, type WatchScanRequest } from './trigger-policy.js';

export interface SiteWatchDeps {
  settings: AgentConfig['watch'];
  router: RouterSettings;
  logger: Logger;
  clock: Clock;
  siteId: string;
  scans: () => Scans;
  /** The site's subnets now: nothing outside them is ever scanned. */
  scope: () => readonly string[];
  /** Scan windows: whether a micro-scan of `ip` may start at `at`. */
  mayScanNow: (ip: string, at: Date) => boolean;
  pins?: RouterPins;
  /** The site's MACs as the last full read left them (agent.db), when there was one. */
  known?: KnownHosts;
  /** Tests: their own clock and timers for the policy, a feed of their own, or to see each micro-scan the moment it starts. */
  timers?: Timers;
  feed?: RouterFeed;
  onStarted?: (scanId: string, request: WatchScanRequest) => void;
}

export interface SiteWatch {
  start(): void;
  stop(): Promise<void>;
  readonly stats: Readonly<PolicyStats>;
  /** Hosts waiting for their micro-scan (the debounce, the rate cap or a closed window). */
  readonly waiting: number;
  readonly watcher: Watcher;
}

export function createSiteWatch(deps: SiteWatchDeps): SiteWatch {
  const { settings, logger } = deps;
  const log = logger.child({ component: 'watch' });
  const policy = new TriggerPolicy({
    clock: deps.clock,
    timers: deps.timers,
    logger: log,
    debounceMs: settings.debounce,
    maxPerMinute: settings.max_scans_per_minute,
    scope: deps.scope,
    mayScanNow: deps.mayScanNow,
    // The address the agent reaches the router at: judged when it lies in the site's scope.
    routerIp: () => (isCanonicalIPv4(deps.router.host) && inScope(deps.router.host, deps.scope()) ? deps.router.host : undefined),
    start: (request) => {
      const started = deps.scans().start(watchSpec(request, deps.siteId, { minCvss: settings.min_cvss, warningThreshold: settings.warning_threshold }));
      log.info({ scan_id: started.scan.id, ips: request.ips, with_router: request.withRouter, trigger: request.trigger }, 'watch: micro-scan started');
      deps.onStarted?.(started.scan.id, request);
      started.done.catch((error: unknown) => log.warn({ err: error, scan_id: started.scan.id }, 'watch: micro-scan did not finish'));
    },
  });
  const feed =
    deps.feed ?? createRouterFeed({ settings: deps.router, logger, pins: deps.pins, pollMs: settings.poll_interval, versionPollMs: settings.version_poll });
  const watcher = createWatcher({ feed, logger, known: deps.known, onChange: (change) => policy.offer(change) });
  return {
    start: () => watcher.start(),
    async stop() {
      policy.stop();
      await watcher.stop();
    },
    get stats() {
      return policy.stats;
    },
    get waiting() {
      return policy.waiting;
    },
    watcher,
  };
}
