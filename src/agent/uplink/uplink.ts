/**
 * The agent's uplink: the WebSocket client, the outbox pump and the command dispatcher put
 * together for one control plane. Started after the scheduler, stopped before it.
 */
import type { Logger } from 'pino';
import { isCommand, PROTOCOL_VERSION } from '../../protocol/index.js';
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
}

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
  });
  const handlers = createCommandHandlers({
    db: deps.db,
    siteId: deps.siteId,
    clock: deps.clock,
    logger: deps.logger,
    scheduleService: deps.scheduleService,
    schedules: deps.schedules,
    scans: deps.scans,
    feeds: new FeedTransfers({ stateDir: deps.stateDir, logger: deps.logger }),
    shutdown: deps.shutdown,
  });
  const commands = new CommandDispatcher({ db: deps.db, state, handlers, logger: deps.logger, shutdown: deps.shutdown });
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
    }),
    onSession: (session) => pump.attach(session),
    onDisconnected: () => pump.detach(),
    onFrame: (frame, session) => {
      if (frame.type === 'ack') pump.acked(frame.seq);
      else if (isCommand(frame)) commands.receive(frame, session);
    },
  });
  return {
    get connected() {
      return client.connected;
    },
    client,
    pump,
    commands,
    start: () => client.start(),
    async stop() {
      await client.stop();
      pump.detach();
      // A command half-applied when the socket closed finishes first: the store closes after this.
      await commands.idle();
    },
  };
}
