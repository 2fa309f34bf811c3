/**
 * The WebSocket to the control plane: dials out, authenticates with the site's token, says
 * hello, keeps the connection alive with heartbeats both ways and dials again with capped,
 * jittered backoff whenever it is lost. Every frame read is checked against the protocol's
 * schemas; a bad one is answered with a protocol error and a close, never a throw.
 */
import type { Logger } from 'pino';
import WebSocket from 'ws';
import {
  AGENT_PATH,
  closeCodes,
  decodeDownFrame,
  heartbeat,
  MAX_FRAME_BYTES,
  type DownFrame,
  type Heartbeat,
  type Hello,
  type ProtocolError,
  type ProtocolErrorCode,
  type UpFrame,
  type Welcome,
} from '../../protocol/index.js';
import { backoffDelay, type BackoffPolicy } from '../../shared/backoff.js';
import { systemTimers, type UplinkTimers } from './timers.js';

/** How long the uplink waits before dialing again after a failed or lost connection. */
const defaultBackoff: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, factor: 2 };

/** The frames the client hands on: everything but the session's own housekeeping. */
/** After a refusal at hello the dials go on from this many failures' backoff (the cap, by default). */
const REFUSED_BACKOFF_FAILURES = 6;

export type SessionFrame = Exclude<DownFrame, { type: 'welcome' | 'heartbeat' }>;

/** One open, welcomed connection. */
export interface UplinkSession {
  readonly welcome: Welcome;
  /** False once this connection is gone (a later one is another session). */
  readonly open: boolean;
  send(frame: UpFrame): void;
  /** An up frame already encoded (an outbox row with its seq spliced in). */
  sendText(text: string): void;
}

export interface UplinkClientDeps {
  url: string;
  token: string;
  logger: Logger;
  /** Called at every dial: the seqs in it move between connections. */
  hello: () => Omit<Hello, 'type'>;
  onSession: (session: UplinkSession) => void;
  onFrame: (frame: SessionFrame, session: UplinkSession) => void;
  onDisconnected: () => void;
  /** What every heartbeat says of this agent beyond being alive (its storage while failing). */
  heartbeat?: () => Omit<Heartbeat, 'type' | 'at'>;
  timers?: UplinkTimers;
  random?: () => number;
  backoff?: BackoffPolicy;
  /** A server that accepts the socket but never welcomes is given up on after this. */
  helloTimeoutMs?: number;
  maxFrameBytes?: number;
}

/** The hub's address: the configured URL with the agents' path appended unless it already ends with it. */
export function agentEndpoint(configured: string): string {
  const url = new URL(configured.replace(/^http/, 'ws'));
  if (!url.pathname.endsWith(AGENT_PATH)) url.pathname = `${url.pathname.replace(/\/+$/, '')}${AGENT_PATH}`;
  return url.toString();
}

export class UplinkClient {
  readonly #deps: UplinkClientDeps;
  readonly #timers: UplinkTimers;
  readonly #log: Logger;
  readonly #endpoint: string;
  #ws: WebSocket | undefined;
  #session: (UplinkSession & { closed: boolean }) | undefined;
  #failures = 0;
  #running = false;
  #reconnectTimer: unknown;
  #helloTimer: unknown;
  #heartbeatTimer: unknown;
  #lastHeardAt = 0;
  #lastRefusal: string | undefined;
  /** The waits armed so far (the reconnect delays), newest last: what the backoff test reads. */
  readonly waits: number[] = [];

  constructor(deps: UplinkClientDeps) {
    this.#deps = deps;
    this.#timers = deps.timers ?? systemTimers;
    this.#log = deps.logger.child({ component: 'uplink' });
    this.#endpoint = agentEndpoint(deps.url);
  }

  get connected(): boolean {
    return this.#session !== undefined && !this.#session.closed;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#dial();
  }

  /** Closes the connection (1000) and dials no more; resolves once the socket is closed. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timers.clearTimeout(this.#reconnectTimer);
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      force.unref();
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(closeCodes.goingAway, 'agent stopping');
    });
  }

  /** Sends a heartbeat now, e.g. to tell the control plane of a change at once; false without a connection. */
  heartbeatNow(extra: Omit<Heartbeat, 'type' | 'at'> = {}): boolean {
    const ws = this.#ws;
    if (!this.connected || !ws) return false;
    this.#send(ws, { type: 'heartbeat', at: new Date().toISOString(), ...this.#deps.heartbeat?.(), ...extra });
    return true;
  }

  #dial(): void {
    if (!this.#running) return;
    const ws = new WebSocket(this.#endpoint, {
      headers: { authorization: `Bearer ${this.#deps.token}` },
      maxPayload: this.#deps.maxFrameBytes ?? MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: this.#deps.helloTimeoutMs ?? 10_000,
    });
    this.#ws = ws;
    this.#lastHeardAt = this.#timers.now();
    ws.on('unexpected-response', (_request, response) => {
      // 401/403: the token is wrong or rotated; a SIGHUP with the new token reconnects at once.
      this.#log.error({ status: response.statusCode }, `the control plane refused the connection (HTTP ${response.statusCode}); check control_plane.token`);
      ws.terminate();
    });
    ws.on('open', () => {
      this.#send(ws, { type: 'hello', ...this.#deps.hello() });
      this.#helloTimer = this.#timers.setTimeout(() => {
        this.#log.warn('no welcome from the control plane in time; dialing again');
        ws.terminate();
      }, this.#deps.helloTimeoutMs ?? 10_000);
    });
    ws.on('ping', () => (this.#lastHeardAt = this.#timers.now()));
    ws.on('pong', () => (this.#lastHeardAt = this.#timers.now()));
    ws.on('message', (data, isBinary) => this.#onMessage(ws, data as Buffer, isBinary));
    ws.on('error', (error) => this.#log.warn({ err: error }, `uplink connection error: ${error.message}`));
    ws.on('close', (code, reason) => this.#onClose(ws, code, reason.toString()));
  }

  #send(ws: WebSocket, frame: UpFrame | Hello): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  #refuse(ws: WebSocket, code: ProtocolErrorCode, message: string, closeCode: number, seq: number | null): void {
    this.#log.warn({ code, close: closeCode, seq }, `closing the uplink over a bad frame from the control plane: ${message}`);
    this.#send(ws, { type: 'error', code, message: message.slice(0, 1000), seq, fatal: true });
    ws.close(closeCode, code);
  }

  #onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.#ws) return;
    this.#lastHeardAt = this.#timers.now();
    if (isBinary) return this.#refuse(ws, 'malformed_frame', 'binary frames are not part of the protocol', closeCodes.malformed, null);
    const decoded = decodeDownFrame(data.toString('utf8'));
    if (!decoded.ok) return this.#refuse(ws, decoded.code, decoded.message, decoded.closeCode, decoded.seq);
    const frame = decoded.frame;
    const session = this.#session;
    if (frame.type === 'welcome') {
      if (session) return this.#refuse(ws, 'rejected', 'a second welcome on one connection', closeCodes.policy, null);
      return this.#welcomed(ws, frame);
    }
    if (!session && frame.type === 'error') return this.#refused(frame);
    if (!session) return this.#refuse(ws, 'rejected', `${frame.type} before welcome`, closeCodes.policy, 'seq' in frame ? frame.seq : null);
    if (frame.type === 'heartbeat') return;
    if (frame.type === 'error') {
      this.#log.warn({ code: frame.code, seq: frame.seq, fatal: frame.fatal }, `the control plane reported a protocol error: ${frame.message}`);
      return;
    }
    try {
      this.#deps.onFrame(frame, session);
    } catch (error) {
      // A bug in a consumer must not take the connection loop down with it.
      this.#log.error({ err: error, type: frame.type }, 'uplink frame handling failed');
    }
  }

  /**
   * The control plane refused this agent at hello and says why (a site id that does not match the
   * token, a protocol it does not speak). Logged once per reason, naming what to check; the dials
   * go on at the longest backoff, since only a config change or an upgrade can fix it.
   */
  #refused(frame: ProtocolError): void {
    const advice: Partial<Record<ProtocolErrorCode, string>> = {
      site_mismatch: 'site_id in the agent config must be the id the token was issued for (cve-control-plane sites list)',
      protocol_version_unsupported: 'upgrade the agent or the control plane so both speak the same protocol',
    };
    const line = `the control plane refused this agent (${frame.code}): ${frame.message}${advice[frame.code] ? `; ${advice[frame.code]}` : ''}`;
    if (this.#lastRefusal !== line) this.#log.error({ code: frame.code }, line);
    this.#lastRefusal = line;
    this.#failures = Math.max(this.#failures, REFUSED_BACKOFF_FAILURES);
  }

  #welcomed(ws: WebSocket, welcome: Welcome): void {
    this.#lastRefusal = undefined;
    this.#timers.clearTimeout(this.#helloTimer);
    this.#failures = 0;
    const session = {
      welcome,
      closed: false,
      get open() {
        return !this.closed;
      },
      send: (frame: UpFrame) => {
        if (!session.closed) this.#send(ws, frame);
      },
      sendText: (text: string) => {
        if (!session.closed && ws.readyState === WebSocket.OPEN) ws.send(text);
      },
    };
    this.#session = session;
    // The control plane pings on its own; this side sends heartbeat frames at the interval it
    // asked for and gives up on a peer silent for two of them, so a dead one is noticed within three.
    const interval = welcome.heartbeat_interval_ms;
    this.#heartbeatTimer = this.#timers.setInterval(() => {
      const silentMs = this.#timers.now() - this.#lastHeardAt;
      if (silentMs > interval * heartbeat.deadAfterIntervals) {
        this.#log.warn({ silent_ms: Math.round(silentMs) }, 'the control plane went silent; dropping the connection');
        ws.terminate();
        return;
      }
      this.#send(ws, { type: 'heartbeat', at: new Date().toISOString(), ...this.#deps.heartbeat?.() });
    }, interval);
    this.#log.info({ server_version: welcome.server_version, resume_after_seq: welcome.resume_after_seq }, 'uplink connected');
    this.#deps.onSession(session);
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.#ws) return;
    this.#timers.clearTimeout(this.#helloTimer);
    this.#timers.clearInterval(this.#heartbeatTimer);
    this.#ws = undefined;
    const session = this.#session;
    this.#session = undefined;
    if (session) {
      session.closed = true;
      this.#log.info({ code, reason }, 'uplink disconnected');
      this.#deps.onDisconnected();
    }
    if (!this.#running) return;
    this.#failures += 1;
    const wait = backoffDelay(this.#failures, this.#deps.backoff ?? defaultBackoff, this.#deps.random);
    this.waits.push(wait);
    if (this.waits.length > 64) this.waits.shift();
    this.#log.debug({ wait_ms: wait, failures: this.#failures }, 'dialing the control plane again after a wait');
    this.#reconnectTimer = this.#timers.setTimeout(() => this.#dial(), wait);
  }
}
