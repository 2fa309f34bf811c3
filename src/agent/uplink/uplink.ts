/**
 * The agent's uplink: the WebSocket client, the outbox pump and the command dispatcher put
 * together for one control plane. Started after the scheduler, stopped before it.
 */
import type { Logger } from 'pino';
import { agentFeedSchema, isCommand, PROTOCOL_VERSION } from '../../protocol/index.js';
import { OutboxRepository } from '../store/outbox-repository.js';
import type { Scans } from '../pipeline/index.js';
import type { Clock } from '../../shared/clock.js';
import type { ScheduleService } from '../schedule/schedule-service.js';
import type { Db } from '../../shared/sqlite.js';
import type { SchedulesRepository } from '../store/schedules-repository.js';
import { readAgentVersion } from './agent-version.js';
import type { BackoffPolicy } from '../../shared/backoff.js';
import { CommandDispatcher } from './command-dispatcher.js';
import { createCommandHandlers } from './command-handlers.js';
import { FeedTransfers } from './feed-transfers.js';
import { OutboxPump } from './outbox-pump.js';
import type { UplinkTimers } from './timers.js';
import { UplinkClient } from './uplink-client.js';
import { UplinkState } from './uplink-state.js';
import type { AgentFeed, AgentStorage } from '../../protocol/index.js';
import type { StorageGate, StorageState } from '../storage-health.js';

export interface UplinkDeps {
  settings: { url: string; token: string };
  db: Db;
  siteId: string;
  stateDir: string;
  clock: Clock;
  logger: Logger;
  scheduleService: ScheduleService;
  schedules: SchedulesRepository;
  scans: () => Scans;
  shutdown: AbortSignal;
  agentVersion?: string;
  timers?: UplinkTimers;
  random?: () => number;
  backoff?: BackoffPolicy;
  window?: number;
  pollMs?: number;
  /** The agent's storage health: told to the control plane (heartbeats), and consulted before commands apply. */
  storage?: StorageGate;
}

/** The protocol's view of the storage state. */
function storageOnWire(state: StorageState): AgentStorage {
  return { state: state.failing ? 'failing' : 'ok', reason: state.reason?.slice(0, 500) ?? null, since: state.since };
}

/** The feed field as the protocol bounds it: dates past its bounds are left out rather than making the hello malformed. */
export const withFeed = (feed: AgentFeed | undefined): { feed?: AgentFeed } => {
  if (feed === undefined) return {};
  return { feed: agentFeedSchema.safeParse(feed).success ? feed : { version: feed.version, data_as_of: {} } };
};

export interface Uplink {
  readonly connected: boolean;
  readonly client: UplinkClient;
  readonly pump: OutboxPump;
  readonly commands: CommandDispatcher;
  start(): void;
  stop(): Promise<void>;
}

export function createUplink(deps: UplinkDeps): Uplink {
  const state = new UplinkState(deps.db);
  const pump = new OutboxPump({
    db: deps.db,
    outbox: new OutboxRepository(deps.db),
    state,
    logger: deps.logger,
    timers: deps.timers,
    window: deps.window,
    pollMs: deps.pollMs,
    storage: deps.storage,
  });
  const feeds = new FeedTransfers({ stateDir: deps.stateDir, logger: deps.logger });
  // The feed version cve.db holds: read at each hello, kept current by the deltas applied, told in every heartbeat.
  let feed: AgentFeed | undefined;
  const readFeed = (): AgentFeed | undefined => {
    try {
      feed = feeds.heldFeed();
    } catch (error) {
      deps.logger.warn({ err: error }, 'cannot read the feed version of cve.db; the control plane is not told it');
    }
    return feed;
  };
  const handlers = createCommandHandlers({
    db: deps.db,
    siteId: deps.siteId,
    clock: deps.clock,
    logger: deps.logger,
    scheduleService: deps.scheduleService,
    schedules: deps.schedules,
    scans: deps.scans,
    feeds,
    onFeedApplied: (applied) => {
      feed = applied;
      client.heartbeatNow();
    },
    shutdown: deps.shutdown,
  });
  const commands = new CommandDispatcher({ db: deps.db, state, handlers, logger: deps.logger, shutdown: deps.shutdown, storage: deps.storage });
  const storage = deps.storage;
  const agentVersion = deps.agentVersion ?? readAgentVersion();
  const client = new UplinkClient({
    url: deps.settings.url,
    token: deps.settings.token,
    logger: deps.logger,
    timers: deps.timers,
    random: deps.random,
    backoff: deps.backoff,
    hello: () => ({
      protocol: PROTOCOL_VERSION,
      agent_version: agentVersion,
      site_id: deps.siteId,
      stream_id: state.streamId,
      last_acked_seq: state.lastAckedSeq,
      last_command_seq: state.lastCommandSeq,
      ...withFeed(readFeed()),
    }),
    onSession: (session) => {
      pump.attach(session);
      // A control plane that dialled in while storage was failing hears of it at once.
      if (storage?.failing === true) client.heartbeatNow();
    },
    onDisconnected: () => pump.detach(),
    // Storage is said with every heartbeat while failing; the feed version always.
    heartbeat: () => ({ ...(storage?.failing === true ? { storage: storageOnWire(storage.state) } : {}), ...withFeed(feed) }),
    onFrame: (frame, session) => {
      if (frame.type === 'ack') pump.acked(frame.seq);
      else if (isCommand(frame)) commands.receive(frame, session);
    },
  });
  // Each change (failing, and healthy again) goes out at once.
  const unwatch = storage?.onChange((changed) => client.heartbeatNow({ storage: storageOnWire(changed) }));
  return {
    get connected() {
      return client.connected;
    },
    client,
    pump,
    commands,
    start: () => client.start(),
    async stop() {
      unwatch?.();
      await client.stop();
      pump.close();
      // A command half-applied when the socket closed finishes first: the store closes after this.
      await commands.idle();
    },
  };
}
