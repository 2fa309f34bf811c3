import type { Logger } from 'pino';
import { loadConfig, type AgentConfig } from './config/load.js';
import { reloadableKeys } from './config/schema.js';
import { AgentError } from './errors.js';
import { createSdNotifier, type SdNotifier } from '../shared/sd-notify.js';
import { type Clock, systemClock, utcIso } from '../shared/clock.js';
import { composeParts } from '../shared/lifecycle.js';
import type { CveDataStatus } from '../cve/freshness.js';
import { ScheduleService } from './schedule/schedule-service.js';
import { Scheduler, type ScheduledJob } from './schedule/scheduler.js';
import { hostInOpenWindows } from './schedule/watch-hours.js';
import { createRematchService, openScans, slotJob, type RematchService, type Scans, type ScansModule } from './pipeline/index.js';
import { openStore, type OpenedStore } from './store/database.js';
import { MetaRepository } from './store/meta-repository.js';
import { RunsRepository } from './store/runs-repository.js';
import { SchedulesRepository, type StoredSchedule } from './store/schedules-repository.js';
import { StorageHealth, storageStatusLine, type StorageGate } from './storage-health.js';
import type { Uplink, UplinkDeps } from './uplink/uplink.js';
import type { FeedUpdater } from './cve/feed-updater.js';
import type { SiteWatch, SiteWatchDeps } from './watch/index.js';
import { subnetsOfSite } from './pipeline/index.js';

export interface AgentDeps {
  config: AgentConfig;
  logger: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** What a fired schedule runs; the scan pipeline plugs in here. */
  job?: ScheduledJob;
  notifier?: SdNotifier;
  /** Overrides the scheduler's tick, e.g. 1 s in tests. */
  tickSeconds?: number;
  /** The CLI's --data-dir, which a reload must keep applying. */
  dataDir?: string;
  /** Overrides for the uplink (timers, window, backoff), e.g. in tests. */
  uplink?: Partial<Pick<UplinkDeps, 'timers' | 'random' | 'backoff' | 'window' | 'pollMs' | 'agentVersion'>>;
  /** Scan windows: whether a watch micro-scan of `ip` may start at `at` (default: always). */
  mayScanNow?: (ip: string, at: Date) => boolean;
  /** Overrides for the router watch, e.g. to see each micro-scan start in tests. */
  watch?: Partial<Pick<SiteWatchDeps, 'clock' | 'timers' | 'feed' | 'onStarted'>>;
}

export interface ReloadResult {
  applied: boolean;
  restartRequired: string[];
  errors: string[];
}

export interface Agent extends AsyncDisposable {
  readonly config: AgentConfig;
  readonly siteId: string | undefined;
  readonly scheduler: Scheduler | undefined;
  /** The connection to the control plane, when control_plane is configured. */
  readonly uplink: Uplink | undefined;
  /** The agent's own feed updates: only a standalone agent (no control_plane) with feed.self_update on has one. */
  readonly feeds: FeedUpdater | undefined;
  /** Whether the state directory's disk takes writes (failing: no scan starts until it does again). */
  readonly storage: StorageGate | undefined;
  /** The router watch, when `watch.enabled` (and a router) is configured. */
  readonly watch: SiteWatch | undefined;
  /** This site's scans, once started. */
  scans(): Scans;
  /** The schedules the agent holds (from the control plane and config.yaml); none before start. */
  schedules(): StoredSchedule[];
  start(signal?: AbortSignal): Promise<void>;
  /** Stops every part in reverse order, each even if another failed; resolves to the exit code. */
  stop(): Promise<number>;
  /** SIGHUP: re-reads the config file; an invalid file is refused and the running config stays. */
  reload(): ReloadResult;
}

/** The CVE data in a status line: "CVE data: 78 CVEs, 412 day(s) old (stale)". */
function cveDataLine(status: CveDataStatus): string {
  return `CVE data: ${status.cves} CVEs, ${status.age_days ?? '-'} day(s) old${status.stale ? ' (stale)' : ''}`;
}

export function createAgent(deps: AgentDeps): Agent {
  const clock = deps.clock ?? systemClock;
  const log = deps.logger.child({ component: 'agent' });
  const notifier = deps.notifier ?? createSdNotifier({ env: deps.env ?? process.env, logger: deps.logger });
  let config = deps.config;
  let store: OpenedStore | undefined;
  let scheduler: Scheduler | undefined;
  let scheduleService: ScheduleService | undefined;
  let siteId: string | undefined;
  let stopping: Promise<number> | undefined;
  let scans: ScansModule | undefined;
  let uplink: Uplink | undefined;
  let schedulesRepo: SchedulesRepository | undefined;
  let storage: StorageHealth | undefined;
  // Uplink restarts (SIGHUP with a new control_plane) run one after another.
  let uplinkChange: Promise<void> = Promise.resolve();
  let feeds: FeedUpdater | undefined;
  let watch: SiteWatch | undefined;
  let feedsChange: Promise<void> = Promise.resolve();
  let rematch: RematchService | undefined;
  // Aborted when the agent stops: running scans pause and resume at the next start.
  const lifetime = new AbortController();

  const startedScans = (): Scans => {
    if (!scans) throw new Error('the agent is not started');
    return scans;
  };

  const tickSeconds = deps.tickSeconds ?? 5;

  /** Dials the control plane of the current config, if any; loaded only when one is configured. */
  async function startUplink(): Promise<void> {
    const settings = config.control_plane;
    if (!settings || !store || !scheduleService || !schedulesRepo || siteId === undefined) return;
    const { createUplink } = await import('./uplink/uplink.js');
    uplink = createUplink({
      settings,
      db: store.db,
      siteId,
      stateDir: config.state_dir,
      clock,
      logger: deps.logger,
      scheduleService,
      schedules: schedulesRepo,
      scans: startedScans,
      shutdown: lifetime.signal,
      storage,
      ...deps.uplink,
    });
    uplink.start();
  }

  /**
   * A standalone agent updates its own cve.db from the sources; one with a control plane never
   * fetches on its own (the control plane pushes feed deltas over the uplink).
   */
  async function startFeeds(): Promise<void> {
    if (config.control_plane !== undefined) {
      log.info('feed self-update off: this agent has a control plane, which sends its feed updates');
      return;
    }
    if (!config.feed.self_update) {
      log.info('feed self-update off (feed.self_update: true turns it on): update cve.db with `cve-agent feed update` or `feed import`');
      return;
    }
    const { createFeedUpdater } = await import('./cve/feed-updater.js');
    feeds = createFeedUpdater({
      stateDir: config.state_dir,
      sources: config.feed.sources,
      logger: deps.logger,
      clock,
      timezone: config.scheduler.timezone,
      catchUpAfterMs: config.feed.catch_up_after,
      staleAfterMs: config.feed.stale_after,
      // The status line follows the data: after an update it says the new age.
      onData: (status) => {
        cveData = status;
        if (ready) notifier.status(normalStatus());
      },
    });
    feeds.start();
  }

  /** This site's scope: its subnets in every schedule it holds, and `subnets` of the config. */
  function siteScope(): string[] {
    const fromSchedules = (schedulesRepo?.list() ?? []).flatMap((schedule) => subnetsOfSite(schedule, siteId as string));
    return [...new Set([...config.subnets, ...fromSchedules])];
  }

  /** Follows the router's tables and starts micro-scans of what changed; only with watch.enabled and a router. */
  async function startWatch(): Promise<void> {
    const router = config.router;
    if (!config.watch.enabled || router === undefined || !store) return;
    const [{ createSiteWatch }, { InventoryRepository, RouterPinRepository }] = await Promise.all([import('./watch/index.js'), import('./routeros/index.js')]);
    // What the last full read knew: a device that came while the agent was down is news at start too (none before the first read).
    const history = new InventoryRepository(store.db);
    watch = createSiteWatch({
      settings: config.watch,
      router,
      logger: deps.logger,
      clock,
      siteId: siteId as string,
      scans: startedScans,
      scope: siteScope,
      mayScanNow: deps.mayScanNow ?? ((ip, at) => hostInOpenWindows(schedulesRepo?.list() ?? [], siteId as string, ip, at)),
      pins: new RouterPinRepository(store.db),
      known: history.count() > 0 ? history : undefined,
      ...deps.watch,
    });
    watch.start();
  }

  function restartFeeds(): void {
    feedsChange = feedsChange
      .then(async () => {
        const old = feeds;
        feeds = undefined;
        await old?.stop();
        if (!lifetime.signal.aborted) await startFeeds();
      })
      .catch((error: unknown) => log.error({ err: error }, 'feed self-update restart failed'));
  }

  function restartUplink(): void {
    uplinkChange = uplinkChange
      .then(async () => {
        const old = uplink;
        uplink = undefined;
        await old?.stop();
        if (!lifetime.signal.aborted) await startUplink();
      })
      .catch((error: unknown) => log.error({ err: error }, 'uplink restart failed'));
  }

  // The composition root: the parts in start order; stop visits the started ones in reverse.
  const parts = composeParts(
    [
      { name: 'sd-notify', start: () => undefined, stop: () => notifier.close() },
      {
        name: 'store',
        start: () => {
          store = openStore({ stateDir: config.state_dir, logger: deps.logger, exclusive: true });
          siteId = new MetaRepository(store.db).siteId(config.site_id);
          schedulesRepo = new SchedulesRepository(store.db);
          scheduleService = new ScheduleService({ schedules: schedulesRepo, clock, logger: deps.logger });
          synced = scheduleService.syncFromConfig(config.schedules);
        },
        stop: () => store?.close(),
      },
      {
        name: 'storage health',
        // A full disk degrades the agent, never kills it: every write from a timer reports here, and a probe write clears it.
        start: () => {
          const meta = new MetaRepository((store as OpenedStore).db);
          storage = new StorageHealth({ probe: () => meta.set('storage_probe_at', utcIso(clock.now())), clock, logger: deps.logger });
          storage.onChange((state) => notifier.status(state.failing ? storageStatusLine(state) : `storage writable again; ${normalStatus()}`));
        },
        stop: () => storage?.stop(),
      },
      {
        name: 'cve data',
        // The CVE database exists from the first start (with the starter feed), and its age is said at once.
        start: async () => {
          const [{ openCveDatabase }, { cveDataStatus }] = await Promise.all([import('./cve/cve-database.js'), import('../cve/freshness.js')]);
          const cveDb = openCveDatabase({ stateDir: config.state_dir, logger: deps.logger, loadStarterFeed: true });
          try {
            cveData = cveDataStatus(cveDb.store, clock.now(), config.feed.stale_after);
          } finally {
            cveDb.close();
          }
          if (cveData.warning) log.warn({ cve_data: cveData }, cveData.warning);
        },
        stop: () => undefined,
      },
      {
        name: 'feeds',
        start: () => startFeeds(),
        stop: async () => {
          await feedsChange;
          await feeds?.stop();
        },
      },
      {
        name: 'scans',
        // Scans cut short by the last stop (or a crash) resume first, before any new slot fires.
        start: () => {
          scans = openScans({
            config: () => config,
            db: (store as OpenedStore).db,
            logger: deps.logger,
            clock,
            siteId: siteId as string,
            shutdown: lifetime.signal,
            storage,
          });
          if (deps.job === undefined) scans.resumeUnfinished();
        },
        stop: () => scans?.close(),
      },
      {
        name: 're-match',
        // New CVE data (a delta, a feed source, `feed import` by hand) re-judges the stored services, without a packet.
        start: async () => {
          const { systemTimers } = await import('./uplink/timers.js');
          rematch = createRematchService({
            db: (store as OpenedStore).db,
            stateDir: config.state_dir,
            siteId: siteId as string,
            scans: startedScans,
            logger: deps.logger,
            timers: systemTimers,
          });
          rematch.start();
        },
        stop: () => rematch?.stop(),
      },
      {
        name: 'scheduler',
        start: () => {
          const db = (store as OpenedStore).db;
          scheduler = new Scheduler({
            db,
            schedules: schedulesRepo as SchedulesRepository,
            runs: new RunsRepository(db),
            clock,
            logger: deps.logger,
            job: deps.job ?? slotJob(startedScans, siteId as string),
            missedRunGraceMs: () => config.scheduler.missed_run_grace,
            tickSeconds,
            storage,
          });
          scheduler.start();
        },
        stop: () => scheduler?.stop(),
      },
      {
        name: 'watch',
        start: () => startWatch(),
        stop: () => watch?.stop(),
      },
      {
        name: 'uplink',
        start: () => startUplink(),
        stop: async () => {
          await uplinkChange;
          await uplink?.stop();
        },
      },
    ],
    deps.logger.child({ component: 'agent' }),
  );
  let synced: ReturnType<ScheduleService['syncFromConfig']> | undefined;
  let ready = false;
  let cveData: CveDataStatus | undefined;

  /** The STATUS= line of an agent at work: its schedules and its CVE data. */
  function normalStatus(): string {
    return `${schedulesRepo?.list().length ?? 0} schedule(s) armed${cveData ? `; ${cveDataLine(cveData)}` : ''}`;
  }

  async function start(signal?: AbortSignal): Promise<void> {
    const started = performance.now();
    await parts.start(signal);
    const armed = (schedulesRepo as SchedulesRepository).list().length;
    // The watchdog is fed only while the scheduler keeps ticking: a wedged event loop or a dead cron stops the pings.
    const current = scheduler as Scheduler;
    notifier.startWatchdog(() => {
      const last = current.lastTickAt;
      return last !== undefined && Date.now() - last.getTime() < (tickSeconds * 3 + 5) * 1000;
    });
    notifier.ready(normalStatus());
    ready = true;
    log.info(
      {
        site_id: siteId,
        state_dir: config.state_dir,
        schedules: armed,
        config_schedules: synced,
        cve_data: cveData,
        startup_ms: Math.round(performance.now() - started),
      },
      'agent ready',
    );
  }

  async function doStop(): Promise<number> {
    notifier.stopping();
    lifetime.abort(new Error('agent stopping'));
    if (!ready) {
      // A start that failed (or was cut short): undo what started, and leave the verdict to the caller.
      await parts.stop();
      log.info('agent did not start; the parts that had started are stopped');
      return 0;
    }
    log.info('agent stopping');
    const exitCode = await parts.stop();
    log.info({ exit_code: exitCode }, 'agent stopped');
    return exitCode;
  }

  function reload(): ReloadResult {
    if (config.source === undefined) return { applied: false, restartRequired: [], errors: ['no config file to reload (embedded defaults)'] };
    let next: AgentConfig;
    try {
      const loaded = loadConfig(config.source, { dataDir: deps.dataDir, env: deps.env });
      for (const warning of loaded.warnings) log.warn({ file: config.source }, warning);
      next = loaded.config;
    } catch (error) {
      const lines = error instanceof AgentError ? [...error.details] : [String(error)];
      log.error({ file: config.source, errors: lines }, `config reload refused, the running config stays: ${(error as Error).message}`);
      return { applied: false, restartRequired: [], errors: lines };
    }
    const restartRequired = (Object.keys(next) as (keyof AgentConfig)[]).filter(
      (key) => key !== 'source' && !reloadableKeys.has(key as never) && JSON.stringify(next[key]) !== JSON.stringify(config[key]),
    );
    // Keys that need a restart keep their running values, so the agent stays consistent.
    const previous = config;
    const merged = { ...next };
    for (const key of restartRequired) (merged as Record<string, unknown>)[key] = config[key];
    config = Object.freeze(merged) as AgentConfig;
    const synced = scheduleService?.syncFromConfig(config.schedules);
    if (JSON.stringify(previous.control_plane) !== JSON.stringify(config.control_plane) && store !== undefined) restartUplink();
    const standaloneChanged = (previous.control_plane === undefined) !== (config.control_plane === undefined);
    if (store !== undefined && (standaloneChanged || JSON.stringify(previous.feed) !== JSON.stringify(config.feed))) restartFeeds();
    if (['router', 'scan', 'subnets'].some((key) => JSON.stringify(previous[key as keyof AgentConfig]) !== JSON.stringify(config[key as keyof AgentConfig])))
      scans?.refreshEngine();
    if (restartRequired.length > 0) log.warn({ keys: restartRequired }, 'config changes that need a restart were not applied');
    log.info({ schedules: synced }, 'config reloaded');
    notifier.status(`config reloaded; ${scheduler ? 'scheduler armed' : ''}`.trim());
    return { applied: true, restartRequired, errors: [] };
  }

  const agent: Agent = {
    get config() {
      return config;
    },
    get siteId() {
      return siteId;
    },
    get scheduler() {
      return scheduler;
    },
    get uplink() {
      return uplink;
    },
    get feeds() {
      return feeds;
    },
    get storage() {
      return storage;
    },
    get watch() {
      return watch;
    },
    scans: startedScans,
    schedules: () => schedulesRepo?.list() ?? [],
    start,
    stop() {
      stopping ??= doStop();
      return stopping;
    },
    reload,
    async [Symbol.asyncDispose]() {
      await agent.stop();
    },
  };
  return agent;
}
