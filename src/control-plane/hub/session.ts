/**
 * One agent's connection: hello first, then reports into the ingestor, command acks into the
 * store, heartbeats answered. Every frame goes through the protocol's decoder; a bad one is
 * answered with an error frame and a close (1007 malformed, 1008 policy), never a throw.
 */
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import {
  closeCodes,
  decodeUpFrame,
  isReport,
  PROTOCOL_VERSION,
  type AgentFeed,
  type AgentStorage,
  type DownFrame,
  type Hello,
  type ProtocolErrorCode,
  type UpFrame,
} from '../../protocol/index.js';
import type { Clock } from '../../shared/clock.js';
import type { ControlPlaneStore, PendingCommand, Site } from '../store/types.js';
import type { IngestSource, Ingestor } from './ingestor.js';

export interface SessionDeps {
  store: ControlPlaneStore;
  ingestor: Ingestor;
  clock: Clock;
  logger: Logger;
  serverVersion: string;
  heartbeatIntervalMs: number;
  maxFrameBytes: number;
  /** The hello was accepted: the hub registers the session (closing an older one of the same site). */
  onReady: (session: AgentSession) => void;
  onClosed: (session: AgentSession) => void;
  /** The agent said hello: the hub records when, with which version (batched: a reconnect storm is thousands of hellos). */
  onSeen: (entry: { id: string; at: string; agentVersion: string }) => void;
  /** The agent applied commands up to seq (the hub stores acks in batches). */
  onCommandAck: (siteId: string, seq: number) => void;
  /** A report was queued for ingest (the hub pauses reading when the queue is long). */
  onReport: (session: AgentSession) => void;
  /** The agent told its feed version (hello, heartbeats): the hub records it and sends a catch-up delta if it is behind. */
  onFeed?: (siteId: string, feed: AgentFeed) => void;
}

export class AgentSession implements IngestSource {
  readonly site: Site;
  readonly #ws: WebSocket;
  readonly #deps: SessionDeps;
  readonly #log: Logger;
  #state: 'greeting' | 'ready' | 'closed' = 'greeting';
  #hello: Hello | undefined;
  #chain: Promise<void> = Promise.resolve();
  #lastHeardAt: number;
  #helloTimer: NodeJS.Timeout | undefined;
  #storage: AgentStorage | undefined;
  /** The highest command seq sent on this connection: nothing at or below it goes out again. */
  #sentSeq = 0;

  constructor(ws: WebSocket, site: Site, deps: SessionDeps, helloTimeoutMs: number) {
    this.#ws = ws;
    this.site = site;
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'hub', site_id: site.id });
    this.#lastHeardAt = Date.now();
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('pong', () => (this.#lastHeardAt = Date.now()));
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString()));
    // ws emits 'error' when it refuses a frame itself (1009 too large, 1007 bad UTF-8, 1002 bad
    // framing), right after queueing that close frame: the session ends here, as with fail(), not
    // when the TCP close comes back, which may be after the agent has already seen the close.
    ws.on('error', (error) => {
      this.#log.warn({ err: error }, 'agent connection error; closing it');
      this.#markClosed();
    });
    this.#helloTimer = setTimeout(() => this.fail('hello_required', 'no hello within the time allowed', closeCodes.policy), helloTimeoutMs);
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  /** The agent's storage as its last heartbeat told (undefined: it never said, so it is healthy). */
  get storage(): AgentStorage | undefined {
    return this.#storage;
  }

  /** Milliseconds since the peer last sent anything (a frame or a pong). */
  silentForMs(now: number): number {
    return now - this.#lastHeardAt;
  }

  ping(): void {
    if (this.#state !== 'closed') this.#ws.ping();
  }

  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }

  send(frame: DownFrame): void {
    if (this.#state === 'closed' || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(JSON.stringify(frame));
  }

  /** The highest command seq sent on this connection. */
  get sentSeq(): number {
    return this.#sentSeq;
  }

  /**
   * Sends, in seq order, what this connection has not sent yet of `commands`. Every read of the
   * store holds a site's commands from some seq up to the newest committed when it ran (commands
   * commit in seq order), so reads resolving in any order leave no gap, and nothing goes out twice.
   */
  sendUnsent(commands: readonly PendingCommand[]): void {
    if (this.#state !== 'ready') return;
    for (const command of commands) {
      if (command.seq <= this.#sentSeq) continue;
      this.send({ ...command.body, type: command.type, seq: command.seq } as DownFrame);
      this.#sentSeq = command.seq;
    }
  }

  /** Sends a fatal protocol error and closes with `closeCode`. */
  fail(code: ProtocolErrorCode, message: string, closeCode: number, seq: number | null = null): void {
    if (this.#state === 'closed') return;
    this.#log.warn({ code, close: closeCode, seq }, `closing agent connection: ${message}`);
    this.send({ type: 'error', code, message, seq, fatal: true });
    this.#ws.close(closeCode, code);
    this.#markClosed();
  }

  /** Drops the TCP connection without a close handshake (a silent peer would never answer one). */
  terminate(): void {
    this.#ws.terminate();
    this.#markClosed();
  }

  close(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#ws.close(code, reason);
    this.#markClosed();
  }

  acknowledge(seq: number): void {
    this.send({ type: 'ack', seq });
  }

  rejected(seq: number, reason: string): void {
    this.send({ type: 'error', code: 'rejected', message: reason.slice(0, 1000), seq, fatal: false });
  }

  failed(): void {
    this.close(closeCodes.internal, 'ingest failed');
  }

  #markClosed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#helloTimer);
    this.#deps.onClosed(this);
  }

  #onClose(code: number, reason: string): void {
    this.#log.info({ code, reason }, 'agent disconnected');
    this.#markClosed();
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#lastHeardAt = Date.now();
    if (this.#state === 'closed') return;
    if (isBinary) {
      this.fail('malformed_frame', 'binary frames are not part of the protocol', closeCodes.malformed);
      return;
    }
    const decoded = decodeUpFrame(data.toString('utf8'));
    if (!decoded.ok) {
      this.fail(decoded.code, decoded.message, decoded.closeCode, decoded.seq);
      return;
    }
    // Frames are handled strictly in order; only hello awaits the store, and reports behind it wait for the welcome.
    this.#chain = this.#chain
      .then(() => this.#handle(decoded.frame))
      .catch((error: unknown) => {
        this.#log.error({ err: error }, 'agent frame handling failed');
        this.fail('internal', 'the control plane failed to handle a frame', closeCodes.internal);
      });
  }

  async #handle(frame: UpFrame): Promise<void> {
    if (this.#state === 'closed') return;
    if (frame.type === 'hello') {
      if (this.#hello !== undefined) return this.fail('hello_repeated', 'hello was already received on this connection', closeCodes.policy);
      return this.#greet(frame);
    }
    if (this.#state !== 'ready') return this.fail('hello_required', `${frame.type} before hello`, closeCodes.policy, 'seq' in frame ? frame.seq : null);
    if (isReport(frame)) {
      this.#deps.ingestor.push(this, {
        site: this.site,
        stream_id: (this.#hello as Hello).stream_id,
        report: frame,
        received_at: this.#deps.clock.now().toISOString(),
      });
      this.#deps.onReport(this);
      return;
    }
    switch (frame.type) {
      case 'ack':
        this.#deps.onCommandAck(this.site.id, frame.seq);
        return;
      case 'heartbeat':
        if (frame.storage !== undefined && frame.storage.state !== this.#storage?.state) {
          if (frame.storage.state === 'failing')
            this.#log.warn({ reason: frame.storage.reason, since: frame.storage.since }, 'agent storage failing: it starts no scans until it recovers');
          else if (this.#storage !== undefined) this.#log.info({ since: frame.storage.since }, 'agent storage recovered');
        }
        if (frame.storage !== undefined) this.#storage = frame.storage;
        this.send({ type: 'heartbeat', at: this.#deps.clock.now().toISOString() });
        if (frame.feed !== undefined) this.#deps.onFeed?.(this.site.id, frame.feed);
        return;
      case 'error':
        this.#log.warn({ code: frame.code, seq: frame.seq, fatal: frame.fatal }, `agent reported a protocol error: ${frame.message}`);
        return;
    }
  }

  async #greet(hello: Hello): Promise<void> {
    if (hello.protocol !== PROTOCOL_VERSION) {
      return this.fail('protocol_version_unsupported', `this control plane speaks protocol ${PROTOCOL_VERSION}, not ${hello.protocol}`, closeCodes.policy);
    }
    if (hello.site_id !== this.site.id)
      return this.fail('site_mismatch', `the hello names site ${hello.site_id}, but the token was issued for site ${this.site.id}`, closeCodes.policy);
    clearTimeout(this.#helloTimer);
    this.#hello = hello;
    const now = this.#deps.clock.now().toISOString();
    const resumeAfter = await this.#deps.store.ingest.streamSeq(this.site.id, hello.stream_id);
    if (this.#state === 'closed') return;
    if (hello.last_acked_seq > resumeAfter) {
      this.#log.warn(
        { agent_last_acked: hello.last_acked_seq, stored: resumeAfter },
        'the agent saw acks beyond what this database holds (restored from a backup?); it will resend from the stored seq',
      );
    }
    this.send({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      server_version: this.#deps.serverVersion,
      site_id: this.site.id,
      resume_after_seq: resumeAfter,
      heartbeat_interval_ms: this.#deps.heartbeatIntervalMs,
      max_frame_bytes: this.#deps.maxFrameBytes,
    });
    // Registered before the stored commands are read, so a wake-up for a command stored meanwhile
    // makes the hub read it too: none is missed, and they go out in seq order.
    this.#state = 'ready';
    this.#sentSeq = hello.last_command_seq;
    this.#deps.onReady(this);
    this.#deps.onSeen({ id: this.site.id, at: now, agentVersion: hello.agent_version });
    this.sendUnsent(await this.#deps.store.commands.pending(this.site.id, hello.last_command_seq, now));
    this.#log.info(
      { agent_version: hello.agent_version, resume_after_seq: resumeAfter, replayed_commands: this.#sentSeq - hello.last_command_seq },
      'agent connected',
    );
    // After the replay, so a delta still in flight (its chunks replayed above) is not sent twice.
    if (hello.feed !== undefined) this.#deps.onFeed?.(this.site.id, hello.feed);
  }
}
