/**
 * The control plane's composition root: the REST API and the agents' hub on one listener, the
 * slot timer, the notifier. Constructing does nothing; start() starts the parts in order and
 * stop() stops them in reverse, each in its own try, every one visited.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { composeParts } from '../shared/lifecycle.js';
import { AGENT_PATH, heartbeat, PROTOCOL_VERSION, type Finding } from '../protocol/index.js';
import { createAuthenticator, requestAuthenticator } from './api/auth.js';
import { buildApi } from './api/server.js';
import type { ControlPlaneConfig } from './config/load.js';
import { tokenMinter } from './console/api-tokens.js';
import { LiveBus } from './console/live-bus.js';
import { LivePublisher } from './console/live-publisher.js';
import { LIVE_PATH, LiveSocket, type LiveSocketOptions } from './console/live-socket.js';
import { ConsoleSessions } from './console/sessions.js';
import { storeThrottle } from './console/throttle.js';
import { ControlPlaneError } from './errors.js';
import { Hub } from './hub/hub.js';
import { startFeeds, type Feeds } from './feeds/feeds.js';
import { clusterWake } from './notify/cluster-wake.js';
import { WebhookNotifier } from './notify/webhook-notifier.js';
import { ScanService } from './scans/scan-service.js';
import { SlotTimer } from './scans/slot-timer.js';
import type { ControlPlaneStore } from './store/types.js';
import { dispatchUpgrades } from './upgrades.js';

export interface ControlPlaneDeps {
  config: ControlPlaneConfig;
  store: ControlPlaneStore;
  clock: Clock;
  logger: Logger;
  version?: string;
  /** Tests shorten the slot timer's tick. */
  slotTickMs?: number;
  /** Tests lower the hub's backpressure limits to reach them with a few agents. */
  hubLimits?: { pauseAbove: number; resumeBelow: number };
  /** The built web console; default `<package root>/dist/console`. */
  consoleDir?: string;
  /** Tests lower the console socket's limits (buffered bytes, ping interval) and the replay ring. */
  live?: LiveSocketOptions & { ringCapacity?: number };
}

export interface ControlPlane {
  start(signal?: AbortSignal): Promise<void>;
  /** Resolves to 0, or 1 if a part failed to stop. */
  stop(): Promise<number>;
  /** Where it listens (after start): http://host:port, and the agents' ws://host:port/agent/v1 beside it. */
  url(): string;
  readonly hub: Hub;
  readonly api: FastifyInstance;
  readonly notifier: WebhookNotifier;
  readonly slots: SlotTimer;
  readonly scans: ScanService;
  /** The feed hub with its store and pusher, after start; undefined when the config has no `feeds` section. */
  readonly feeds: Feeds | undefined;
  /** The console's live feed: the bus its publishers write to, the sockets that read it. */
  readonly live: { bus: LiveBus; publisher: LivePublisher; socket: LiveSocket };
  [Symbol.asyncDispose](): Promise<void>;
}

export function createControlPlane(deps: ControlPlaneDeps): ControlPlane {
  const { config, store, clock } = deps;
  const logger = deps.logger.child({ service: 'cve-control-plane' });
  const version = deps.version ?? '0.1.0';
  let listening: AddressInfo | undefined;
  const url = () => {
    if (!listening) throw new Error('the control plane is not listening');
    const host = listening.family === 'IPv6' ? `[${listening.address}]` : listening.address;
    return `http://${host}:${listening.port}`;
  };
  const baseUrl = () => config.public_url ?? url();

  const notifier = new WebhookNotifier({
    store: store.notifications,
    groups: config.notification_groups,
    settings: config.notifications,
    clock,
    logger,
    baseUrl,
  });
  // This process among the nodes sharing the database (one on SQLite).
  const nodeId = randomUUID();
  const cluster = { signals: store.signals, nodeId };
  const notifierWake = clusterWake({ ...cluster, wake: () => notifier.wake(), logger });
  const liveBus = new LiveBus({ capacity: deps.live?.ringCapacity });
  const livePublisher = new LivePublisher({ bus: liveBus, store, clock, logger, cluster });
  const intervalMs = config.hub.heartbeat_interval_seconds * 1000;
  const hub = new Hub({
    nodeId,
    store,
    clock,
    logger,
    options: {
      maxFrameBytes: config.hub.max_frame_bytes,
      helloTimeoutMs: config.hub.hello_timeout_seconds * 1000,
      heartbeatIntervalMs: intervalMs,
      deadAfterMs: intervalMs * heartbeat.deadAfterIntervals,
      serverVersion: `${version} (protocol ${PROTOCOL_VERSION})`,
      ...deps.hubLimits,
    },
    onFinishedScans: () => notifierWake.wake(),
    onFeed: (siteId, feed) => void feeds?.pusher.agentReported(siteId, feed),
    onPresence: (site, online) => livePublisher.presence(site, online),
    onApplied: (applied) => livePublisher.applied(applied),
  });
  let feeds: Feeds | undefined;
  // A KEV catalog update between scans: open findings entering KEV alert now, not at their next scan.
  const onKevEntries = (entries: ReadonlyMap<string, NonNullable<Finding['kev']>>): void => {
    store.notifications.kevCatalogUpdated(entries, clock.now().toISOString()).then(
      (raised) => {
        logger.info({ kev_entries: entries.size, alerts: raised }, 'KEV catalog update checked against open findings');
        if (raised > 0) notifierWake.wake();
      },
      (error: unknown) =>
        logger.error({ reason: error instanceof Error ? error.message : String(error) }, 'KEV catalog update alerts failed; the next scan raises them'),
    );
  };
  const scans = new ScanService({
    store,
    hub,
    clock,
    logger,
    commandTtlMinutes: config.scans.command_ttl_minutes,
    timeoutMinutes: config.scans.timeout_minutes,
    onFinished: () => notifierWake.wake(),
    onChanged: (change) => livePublisher.scanChanged(change),
  });
  const slots = new SlotTimer({
    schedules: store.schedules,
    scans,
    clock,
    logger,
    missedSlotGraceMs: config.scans.timeout_minutes * 60_000,
    tickMs: deps.slotTickMs,
  });
  const sessions = new ConsoleSessions({ store, clock, settings: config.console, publicUrl: config.public_url });
  const authenticate = requestAuthenticator({
    bearer: createAuthenticator(config.auth, clock),
    session: sessions.authenticate,
    isRevoked: async (tokenId) => (await store.apiTokens.get(tokenId))?.revoked_at != null,
  });
  const api = buildApi({
    store,
    scans,
    hub,
    authenticate,
    console: { sessions, throttle: storeThrottle(store.loginFailures, clock), mintToken: tokenMinter(config.auth, store.apiTokens) },
    clock,
    logger,
    notificationGroups: config.notification_groups,
    publicUrl: config.public_url,
    version,
    newestFeedVersion: () => feeds?.store.newestVersion(),
    feedCve: (cveId) => feeds?.store.cve(cveId),
    consoleDir: deps.consoleDir,
    trustProxy: config.listen.trust_proxy,
    rateLimit: config.rate_limit,
  });

  const liveSocket = new LiveSocket({
    bus: liveBus,
    // The same authentication as the API: a bearer header, else the session cookie (an upgrade is a GET: no CSRF token).
    authenticate: async (request) =>
      authenticate({ method: request.method ?? 'GET', headers: request.headers, protocol: 'encrypted' in request.socket ? 'https' : 'http' }),
    logger,
    publicUrl: config.public_url,
    options: deps.live,
  });
  let detachUpgrades: (() => void) | undefined;

  let started = false;
  // The ordered parts: stop visits them in reverse (slots, listener, feeds, notifier), each in its own try.
  const parts = composeParts(
    [
      {
        name: 'notifier',
        start: () => {
          notifierWake.start();
          notifier.start();
        },
        stop: async () => {
          notifierWake.stop();
          await notifier.stop();
        },
      },
      {
        // Before the listener: an agent's hello may ask for a delta at once.
        name: 'feed hub',
        start: () => {
          if (config.feeds) feeds = startFeeds({ settings: config.feeds, stateDir: config.state_dir, hub, clock, logger, onKevEntries });
        },
        stop: async () => {
          await feeds?.stop();
          feeds = undefined;
        },
      },
      {
        name: 'listener',
        start: async (signal) => {
          // One dispatcher by path: the agents' hub and the console's live socket share the port.
          detachUpgrades = dispatchUpgrades(api.server, { [AGENT_PATH]: hub.upgrade, [LIVE_PATH]: liveSocket.upgrade });
          hub.start();
          livePublisher.start();
          liveSocket.start();
          try {
            await api.listen({ host: config.listen.host, port: config.listen.port, signal });
          } catch (error) {
            throw new ControlPlaneError('CP_ERR_LISTEN_FAILED', `cannot listen on ${config.listen.host}:${config.listen.port}: ${(error as Error).message}`, {
              cause: error,
            });
          }
          listening = api.server.address() as AddressInfo;
          started = true;
        },
        stop: async () => {
          detachUpgrades?.();
          liveSocket.stop();
          await hub.stop();
          // The last batches' messages are read from the store (and relayed): before it closes.
          await livePublisher.stop();
          await api.close();
        },
      },
      {
        name: 'slot timer',
        start: async () => {
          slots.start();
          await slots.tick();
        },
        stop: () => slots.stop(),
      },
    ],
    logger,
  );
  const stop = async (): Promise<number> => {
    const code = await parts.stop();
    if (started) logger.info({ code }, 'control plane stopped');
    started = false;
    return code;
  };

  return {
    hub,
    api,
    notifier,
    slots,
    scans,
    get feeds() {
      return feeds;
    },
    live: { bus: liveBus, publisher: livePublisher, socket: liveSocket },
    url,
    stop,
    async start(signal) {
      await parts.start(signal);
      logger.info({ url: url(), agents: `${url().replace(/^http/, 'ws')}/agent/v1` }, 'control plane ready');
    },
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}
