/**
 * The WebSocket hub agents dial into. It authenticates the upgrade with the site's token, keeps
 * one session per site, notices silent peers, and sends commands (stored first, so an offline
 * agent gets them when it comes back).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { AGENT_PATH, closeCodes, downSchemas, type Command } from '../../protocol/index.js';
import type { Clock } from '../../agent/schedule/clock.js';
import type { ControlPlaneStore } from '../store/types.js';
import { Ingestor } from './ingestor.js';
import { AgentSession } from './session.js';
import { bearerToken, hashSiteToken } from './tokens.js';

export interface HubOptions {
  maxFrameBytes: number;
  helloTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** A peer silent this long is dropped; the protocol promises a dead peer is noticed within 30 s. */
  deadAfterMs: number;
  serverVersion: string;
}

export interface HubDeps {
  store: ControlPlaneStore;
  clock: Clock;
  logger: Logger;
  options: HubOptions;
  onFinishedScans: (scanIds: string[]) => void;
}

export type CommandBody<T extends Command['type']> = Omit<Extract<Command, { type: T }>, 'type' | 'seq' | 'issued_at'>;

// Past this many reports waiting for a commit, connections stop being read until the queue drains.
const PAUSE_ABOVE = 20_000;
const RESUME_BELOW = 5_000;

export class Hub {
  readonly #deps: HubDeps;
  readonly #log: Logger;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Map<string, AgentSession>();
  readonly #all = new Set<AgentSession>();
  readonly #paused = new Set<AgentSession>();
  readonly ingestor: Ingestor;
  #heartbeat: NodeJS.Timeout | undefined;
  #server: Server | undefined;
  readonly #onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(request, socket, head);

  constructor(deps: HubDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'hub' });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: deps.options.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    this.ingestor = new Ingestor({ store: deps.store.ingest, logger: this.#log, onFinishedScans: deps.onFinishedScans });
    this.ingestor.onDrain(() => {
      if (this.ingestor.pending >= RESUME_BELOW) return;
      for (const session of this.#paused) session.resume();
      this.#paused.clear();
    });
  }

  /** Connected agents that completed hello. */
  get connected(): number {
    return this.#sessions.size;
  }

  isOnline(siteId: string): boolean {
    return this.#sessions.get(siteId)?.ready === true;
  }

  start(server: Server): void {
    this.#server = server;
    server.on('upgrade', this.#onUpgrade);
    this.#heartbeat = setInterval(() => this.#checkPeers(), this.#deps.options.heartbeatIntervalMs);
    this.#heartbeat.unref();
  }

  /** Closes every session (1001) and waits until what they sent is committed. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#server?.off('upgrade', this.#onUpgrade);
    for (const session of this.#all) session.close(closeCodes.goingAway, 'control plane stopping');
    await this.ingestor.drain();
  }

  /**
   * Stores the command for the site and sends it now if its agent is connected. Returns whether
   * it went out at once. The frame is checked against its schema first: a bug here must not
   * reach an agent as a malformed frame.
   */
  async command<T extends Command['type']>(siteId: string, type: T, body: CommandBody<T>, expiresAt: string | null = null): Promise<boolean> {
    const issuedAt = this.#deps.clock.now().toISOString();
    const pending = await this.#deps.store.commands.enqueue(siteId, (seq) => {
      const frame = { ...body, type, seq, issued_at: issuedAt };
      downSchemas[type].parse(frame);
      const { type: _t, seq: _s, ...rest } = frame;
      return { type, body: rest, expires_at: expiresAt };
    });
    const session = this.#sessions.get(siteId);
    if (!session?.ready) return false;
    session.sendCommand(pending);
    return true;
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    };
    socket.on('error', () => socket.destroy());
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== AGENT_PATH) return refuse(404, 'Not Found');
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
        },
        this.#deps.options.helloTimeoutMs,
      );
      this.#all.add(session);
    });
  }

  #register(session: AgentSession): void {
    const previous = this.#sessions.get(session.site.id);
    this.#sessions.set(session.site.id, session);
    // The newer connection wins: the older one is usually a half-open TCP the agent gave up on.
    if (previous && previous !== session) previous.fail('replaced', 'a newer connection of this site took over', closeCodes.replaced);
  }

  #forget(session: AgentSession): void {
    this.#all.delete(session);
    this.#paused.delete(session);
    if (this.#sessions.get(session.site.id) === session) this.#sessions.delete(session.site.id);
  }

  #throttle(session: AgentSession): void {
    if (this.ingestor.pending > PAUSE_ABOVE && !this.#paused.has(session)) {
      this.#paused.add(session);
      session.pause();
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
