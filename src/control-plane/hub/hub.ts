/**
 * The WebSocket hub agents dial into. It authenticates the upgrade with the site's token, keeps
 * one session per site, notices silent peers, and sends commands (stored first, so an offline
 * agent gets them when it comes back).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { closeCodes, downSchemas, splitFeedFile, type AgentFeed, type AgentStorage, type Command } from '../../protocol/index.js';
import type { Clock } from '../../shared/clock.js';
import type { CommandItem, ControlPlaneStore, PendingCommand, Site } from '../store/types.js';
import { refuseUpgrade } from '../upgrades.js';
import { Ingestor, type AppliedReport } from './ingestor.js';
import { ClusterPresence } from './presence.js';
import { AgentSession } from './session.js';
import { bearerToken, hashSiteToken } from './tokens.js';

export interface HubOptions {
  maxFrameBytes: number;
  helloTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** A peer silent this long is dropped; the protocol promises a dead peer is noticed within 30 s. */
  deadAfterMs: number;
  serverVersion: string;
  /** Reports waiting for a commit above which every connection stops being read (default 1,000), and below which reading resumes (250). */
  pauseAbove?: number;
  resumeBelow?: number;
}

export interface HubDeps {
  /** This process among the nodes sharing the database (default: a new random id). */
  nodeId?: string;
  store: ControlPlaneStore;
  clock: Clock;
  logger: Logger;
  options: HubOptions;
  onFinishedScans: (scanIds: string[]) => void;
  /** An agent told its feed version (stored with the batched bookkeeping): the feed pusher decides whether it needs a delta. */
  onFeed?: (siteId: string, feed: AgentFeed) => void;
  /** A site's agent came online (hello accepted) or went offline (its last connection closed). */
  onPresence?: (site: Site, online: boolean) => void;
  /** Reports applied by a committed ingest batch (the console's live feed derives its messages from them). */
  onApplied?: (applied: readonly AppliedReport[]) => void;
}

export type CommandBody<T extends Command['type']> = Omit<Extract<Command, { type: T }>, 'type' | 'seq' | 'issued_at'>;

export type OutgoingCommand = { [T in Command['type']]: { siteId: string; type: T; body: CommandBody<T>; expiresAt?: string | null } }[Command['type']];

// Past this many reports waiting for a commit, connections stop being read until the queue drains.
const PAUSE_ABOVE = 1_000;
const RESUME_BELOW = 250;
const RESUME_PER_TURN = 50;

export class Hub {
  readonly #deps: HubDeps;
  readonly #log: Logger;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Map<string, AgentSession>();
  readonly #all = new Set<AgentSession>();
  readonly #paused = new Set<AgentSession>();
  readonly ingestor: Ingestor;
  #heartbeat: NodeJS.Timeout | undefined;
  #seen: { id: string; at: string; agentVersion: string }[] = [];
  #commandAcks = new Map<string, number>();
  #feeds = new Map<string, { version: number; data_as_of: Record<string, string>; at: string }>();
  readonly #lastFeed = new Map<string, AgentFeed>();
  #bookkeeping: NodeJS.Timeout | undefined;
  #resuming = false;
  #throttled = 0;
  #stopSignals: (() => void)[] = [];
  /** Sites woken by stored commands, read together at the next turn; `#reading`: such a read is under way. */
  readonly #woken = new Set<string>();
  #reading = false;
  /** This process among the nodes sharing the database. */
  readonly nodeId: string;
  readonly presence: ClusterPresence;
  /** The upgrade dispatcher's handler for the agents' path (AGENT_PATH). */
  readonly upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => void this.#upgrade(request, socket, head);

  constructor(deps: HubDeps) {
    this.#deps = deps;
    this.nodeId = deps.nodeId ?? randomUUID();
    this.#log = deps.logger.child({ component: 'hub' });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: deps.options.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    this.ingestor = new Ingestor({ store: deps.store.ingest, logger: this.#log, onFinishedScans: deps.onFinishedScans, onApplied: deps.onApplied });
    this.ingestor.onDrain(() => this.#resumeSome());
    const interval = deps.options.heartbeatIntervalMs;
    this.presence = new ClusterPresence({
      signals: deps.store.signals,
      nodeId: this.nodeId,
      local: () => this.onlineSites(),
      refreshMs: interval,
      // Two refreshes may be lost before a live node's sites count as offline elsewhere.
      leaseMs: Math.max(interval * 3, deps.options.deadAfterMs),
      logger: this.#log,
    });
  }

  /** Connected agents that completed hello. */
  get connected(): number {
    return this.#sessions.size;
  }

  /** A connected site's storage as its agent last told (undefined when it is not connected or never said). */
  storageOf(siteId: string): AgentStorage | undefined {
    return this.#sessions.get(siteId)?.storage;
  }

  /** How often reading was paused because the ingest queue was too long. */
  get throttled(): number {
    return this.#throttled;
  }

  /** Sites whose agent is connected and greeted on this node. */
  onlineSites(): string[] {
    return [...this.#sessions.values()].filter((session) => session.ready).map((session) => session.site.id);
  }

  /** The site's agent is connected to this node, or (in a cluster) to another one as it last said. */
  isOnline(siteId: string): boolean {
    return this.#sessions.get(siteId)?.ready === true || this.presence.isOnline(siteId);
  }

  /**
   * Starts noticing silent peers and listening for commands stored by any node; upgrades arrive
   * through `upgrade` from the listener's dispatcher.
   */
  start(): void {
    this.#heartbeat = setInterval(() => this.#checkPeers(), this.#deps.options.heartbeatIntervalMs);
    this.#heartbeat.unref();
    const { signals } = this.#deps.store;
    this.#stopSignals = [
      signals.onCommands((siteIds) => this.#wake(siteIds)),
      // Wake-ups sent while this node could not hear them: every local agent gets a fresh read.
      signals.onReconnected(() => this.#wake([...this.#sessions.keys()])),
    ];
    this.presence.start();
  }

  /** Closes every session (1001) and waits until what they sent is committed. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    clearTimeout(this.#bookkeeping);
    for (const stop of this.#stopSignals.splice(0)) stop();
    await this.#flushBookkeeping();
    for (const session of this.#all) session.close(closeCodes.goingAway, 'control plane stopping');
    await this.presence.stop();
    await this.ingestor.drain();
  }

  /** One command; see commands(). */
  async command<T extends Command['type']>(siteId: string, type: T, body: CommandBody<T>, expiresAt: string | null = null): Promise<boolean> {
    const [sent] = await this.commands([{ siteId, type, body, expiresAt } as unknown as OutgoingCommand]);
    return sent === true;
  }

  /**
   * Stores the commands (one transaction for all of them); the store's wake-up sends each to its
   * agent on whichever node it is connected. Returns, per command, whether its agent is online.
   */
  async commands(items: OutgoingCommand[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    return this.deliver(items, await this.#deps.store.commands.enqueue(this.prepare(items)));
  }

  /**
   * The commands as store items, to be written in the transaction of the rows they go with. Every
   * frame is checked against its schema here, before anything is written, and again with its real
   * seq as it is stored: a bug must not reach an agent as a malformed frame, nor leave a half-done write.
   */
  prepare(items: readonly OutgoingCommand[]): CommandItem[] {
    const issuedAt = this.#deps.clock.now().toISOString();
    const frameOf = ({ type, body }: OutgoingCommand, seq: number) => {
      const frame = { ...body, type, seq, issued_at: issuedAt };
      downSchemas[type].parse(frame);
      return frame;
    };
    for (const item of items) frameOf(item, 1);
    return items.map((item) => ({
      siteId: item.siteId,
      build: (seq: number) => {
        const { type, seq: _s, ...rest } = frameOf(item, seq);
        return { type, body: rest, expires_at: item.expiresAt ?? null };
      },
    }));
  }

  /**
   * Per stored command (in the order of `items`), whether its agent is online. Sending is not done
   * here: the store's commit woke every node (ClusterSignals.onCommands), and the node the agent is
   * connected to sends what it has not sent yet, in seq order.
   */
  deliver(items: readonly Pick<OutgoingCommand, 'siteId'>[], stored: readonly PendingCommand[]): boolean[] {
    return stored.map((_pending, i) => this.isOnline((items[i] as OutgoingCommand).siteId));
  }

  /**
   * Commands were stored for these sites: the ones connected here get theirs. The woken sites of a
   * turn are read in one query, one read at a time (wake-ups during a read make the next one).
   */
  #wake(siteIds: readonly string[]): void {
    for (const siteId of siteIds) if (this.#sessions.get(siteId)?.ready) this.#woken.add(siteId);
    if (this.#woken.size === 0 || this.#reading) return;
    this.#reading = true;
    setImmediate(() => void this.#readWoken());
  }

  async #readWoken(): Promise<void> {
    while (this.#woken.size > 0) {
      const sessions = [...this.#woken].flatMap((siteId) => this.#sessions.get(siteId) ?? []);
      this.#woken.clear();
      try {
        const unsent = await this.#deps.store.commands.unsent(
          sessions.map((session) => ({ siteId: session.site.id, afterSeq: session.sentSeq })),
          this.#deps.clock.now().toISOString(),
        );
        for (const session of sessions) session.sendUnsent(unsent.get(session.site.id) ?? []);
      } catch (error) {
        this.#log.warn({ err: error, sites: sessions.length }, 'could not read unsent commands; the agents get them at the next wake-up or reconnect');
      }
    }
    this.#reading = false;
  }

  /**
   * Pushes a CVE feed file to sites in feed.file chunks (stored first like every command, so an
   * offline agent gets the whole file when it comes back). Resolves to the transfer id.
   */
  async pushFeedFile(siteIds: readonly string[], name: string, bytes: Buffer): Promise<string> {
    const chunks = splitFeedFile(name, bytes);
    await this.commands(siteIds.flatMap((siteId) => chunks.map((chunk) => ({ siteId, type: 'feed.file' as const, body: chunk }))));
    return (chunks[0] as { transfer_id: string }).transfer_id;
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (status: number, text: string) => refuseUpgrade(socket, status, text);
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) return refuse(401, 'Unauthorized');
    let site;
    try {
      site = await this.#deps.store.sites.byTokenHash(hashSiteToken(token));
    } catch (error) {
      this.#log.error({ err: error }, 'site look-up failed');
      return refuse(503, 'Service Unavailable');
    }
    if (!site) {
      this.#log.warn({ remote: request.socket.remoteAddress }, 'agent refused: unknown token');
      return refuse(401, 'Unauthorized');
    }
    const found = site;
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const session = new AgentSession(
        ws,
        found,
        {
          store: this.#deps.store,
          ingestor: this.ingestor,
          clock: this.#deps.clock,
          logger: this.#deps.logger,
          serverVersion: this.#deps.options.serverVersion,
          heartbeatIntervalMs: this.#deps.options.heartbeatIntervalMs,
          maxFrameBytes: this.#deps.options.maxFrameBytes,
          onReady: (ready) => this.#register(ready),
          onClosed: (closed) => this.#forget(closed),
          onReport: (reporting) => this.#throttle(reporting),
          onSeen: (entry) => this.#later(() => this.#seen.push(entry)),
          onCommandAck: (siteId, seq) => this.#later(() => this.#commandAcks.set(siteId, Math.max(seq, this.#commandAcks.get(siteId) ?? 0))),
          onFeed: (siteId, feed) => {
            // Stored only when it changed (heartbeats repeat it every interval).
            const stored = this.#lastFeed.get(siteId);
            if (stored?.version !== feed.version || JSON.stringify(stored.data_as_of) !== JSON.stringify(feed.data_as_of)) {
              this.#lastFeed.set(siteId, feed);
              this.#later(() => this.#feeds.set(siteId, { ...feed, at: this.#deps.clock.now().toISOString() }));
            }
            this.#deps.onFeed?.(siteId, feed);
          },
        },
        this.#deps.options.helloTimeoutMs,
      );
      this.#all.add(session);
    });
  }

  #register(session: AgentSession): void {
    const previous = this.#sessions.get(session.site.id);
    this.#sessions.set(session.site.id, session);
    if (!previous) {
      this.presence.changed(session.site.id, true);
      this.#deps.onPresence?.(session.site, true);
    }
    // The newer connection wins: the older one is usually a half-open TCP the agent gave up on.
    if (previous && previous !== session) previous.fail('replaced', 'a newer connection of this site took over', closeCodes.replaced);
  }

  #forget(session: AgentSession): void {
    this.#all.delete(session);
    this.#paused.delete(session);
    if (this.#sessions.get(session.site.id) !== session) return;
    this.#sessions.delete(session.site.id);
    this.presence.changed(session.site.id, false);
    this.#deps.onPresence?.(session.site, false);
  }

  /**
   * Hellos and command acks are written in batches: a reconnect storm or a command to every site
   * is thousands of them, and one transaction each would hold the event loop for seconds. A late
   * command ack costs at most a harmless replay of an applied command after a reconnect.
   */
  #later(record: () => void): void {
    record();
    this.#bookkeeping ??= setTimeout(() => void this.#flushBookkeeping(), 200);
  }

  async #flushBookkeeping(): Promise<void> {
    this.#bookkeeping = undefined;
    const seen = this.#seen.splice(0);
    const acks = [...this.#commandAcks].map(([siteId, seq]) => ({ siteId, seq }));
    this.#commandAcks.clear();
    const feeds = [...this.#feeds].map(([id, feed]) => ({ id, ...feed }));
    this.#feeds.clear();
    try {
      if (seen.length > 0) await this.#deps.store.sites.recordSeen(seen);
      if (feeds.length > 0) await this.#deps.store.sites.recordFeed(feeds);
      if (acks.length > 0) await this.#deps.store.commands.ack(acks);
    } catch (error) {
      this.#log.warn({ err: error }, 'could not record agent hellos, feed versions or command acks');
    }
  }

  /**
   * Resumes paused connections a few at a time: a resumed socket hands over everything it
   * buffered in one go, and thousands of them at once would hold the event loop for a second.
   */
  #resumeSome(): void {
    if (this.#resuming || this.ingestor.pending >= (this.#deps.options.resumeBelow ?? RESUME_BELOW)) return;
    let budget = RESUME_PER_TURN;
    for (const session of this.#paused) {
      if (budget-- === 0) break;
      this.#paused.delete(session);
      session.resume();
    }
    if (this.#paused.size === 0) return;
    this.#resuming = true;
    setImmediate(() => {
      this.#resuming = false;
      this.#resumeSome();
    });
  }

  /**
   * Over the limit, every connection stops being read, not only the one that reported: sockets
   * still due in this turn of the event loop would otherwise each hand over their whole buffer.
   */
  #throttle(session: AgentSession): void {
    if (this.ingestor.pending <= (this.#deps.options.pauseAbove ?? PAUSE_ABOVE) || this.#paused.has(session)) return;
    this.#throttled += 1;
    for (const each of this.#all) {
      if (this.#paused.has(each)) continue;
      this.#paused.add(each);
      each.pause();
    }
  }

  #checkPeers(): void {
    const now = Date.now();
    for (const session of this.#all) {
      if (session.silentForMs(now) > this.#deps.options.deadAfterMs) {
        this.#log.warn({ site_id: session.site.id, silent_ms: session.silentForMs(now) }, 'agent silent; dropping the connection');
        session.terminate();
      } else {
        session.ping();
      }
    }
  }
}
