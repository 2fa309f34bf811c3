/**
 * `GET /console/live?since=<cursor>`: the browser's WebSocket. The upgrade is checked before it
 * happens (Origin, `since`, authentication, the `cve:view` scope) and refused with the seed's
 * error object; then the socket gets `hello`, the organization's messages after `since` (or
 * `resync`), and everything live. A browser that does not read is closed with 1013 rather than
 * buffered without end; it reconnects with its last cursor.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { requireScope, type Principal } from '../api/auth.js';
import { errorBody } from '../api/server.js';
import { ApiError } from '../errors.js';
import { refuseUpgrade } from '../upgrades.js';
import type { LiveBus, LiveMessage } from './live-bus.js';

export const LIVE_PATH = '/console/live';

/** The close code of a socket whose browser fell behind (RFC 6455 "try again later"). */
export const CLOSE_TOO_SLOW = 1013;

/** Authenticates the upgrade request (session cookie or bearer header) or throws an ApiError. */
export type AuthenticateUpgrade = (request: IncomingMessage) => Promise<Principal>;

export interface LiveSocketOptions {
  /** Bytes a socket may hold unsent before it is closed with 1013 (default 1 MiB: a full ring replay fits). */
  maxBufferedBytes?: number;
  /** Pings go out this often; a browser that did not answer the last one is dropped (default 30 s). */
  pingIntervalMs?: number;
}

export interface LiveSocketDeps {
  bus: LiveBus;
  authenticate: AuthenticateUpgrade;
  logger: Logger;
  /** The configured public URL: its origin is accepted besides the request's own host. */
  publicUrl: string | undefined;
  options?: LiveSocketOptions;
}

interface Client {
  ws: WebSocket;
  alive: boolean;
  unsubscribe(): void;
}

const DEFAULT_MAX_BUFFERED = 1024 * 1024;
const DEFAULT_PING_MS = 30_000;

export class LiveSocket {
  readonly #deps: LiveSocketDeps;
  readonly #log: Logger;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false, clientTracking: false });
  readonly #clients = new Set<Client>();
  // One JSON text per message however many sockets of the organization get it.
  readonly #frames = new WeakMap<LiveMessage, string>();
  #ping: NodeJS.Timeout | undefined;

  constructor(deps: LiveSocketDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'live' });
  }

  /** Open console sockets. */
  get connected(): number {
    return this.#clients.size;
  }

  /** The upgrade dispatcher's handler for LIVE_PATH. */
  readonly upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => void this.#upgrade(request, socket, head);

  start(): void {
    this.#ping = setInterval(() => this.#pingAll(), this.#deps.options?.pingIntervalMs ?? DEFAULT_PING_MS);
    this.#ping.unref();
  }

  stop(): void {
    clearInterval(this.#ping);
    for (const client of this.#clients) this.#drop(client, 1001, 'control plane stopping');
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const base = this.#deps.publicUrl ?? `http://${request.headers.host ?? 'localhost'}`;
    const refuse = (error: ApiError) => refuseUpgrade(socket, error.status, JSON.stringify(errorBody(error, base)), 'application/json; charset=utf-8');
    let principal: Principal;
    let since: number | undefined;
    try {
      this.#checkOrigin(request);
      since = sinceOf(request);
      principal = await this.#deps.authenticate(request);
      requireScope(principal, 'cve:view');
    } catch (error) {
      if (!(error instanceof ApiError)) this.#log.error({ err: error }, 'live socket upgrade failed');
      return refuse(error instanceof ApiError ? error : new ApiError('internal_error'));
    }
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#open(ws, principal, since));
  }

  /** Cross-site WebSocket hijacking: a browser sends the page's Origin, which must be this control plane. */
  #checkOrigin(request: IncomingMessage): void {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    let host: string | undefined;
    let parsed: string | undefined;
    try {
      const url = new URL(origin);
      host = url.host;
      parsed = url.origin;
    } catch {
      // "null" (a sandboxed frame, a file:) and garbage are refused below.
    }
    const own = host !== undefined && host === request.headers.host;
    const configured = this.#deps.publicUrl !== undefined && parsed === new URL(this.#deps.publicUrl).origin;
    if (!own && !configured) throw new ApiError('origin_refused');
  }

  #open(ws: WebSocket, principal: Principal, since: number | undefined): void {
    const client: Client = { ws, alive: true, unsubscribe: () => undefined };
    this.#clients.add(client);
    ws.on('pong', () => (client.alive = true));
    ws.on('error', (error) => this.#log.debug({ err: error }, 'live socket error'));
    // The browser has nothing to say; what it sends is ignored (maxPayload bounds it).
    ws.on('close', () => {
      client.unsubscribe();
      this.#clients.delete(client);
    });
    const subscription = this.#deps.bus.subscribe(principal.org, since, (message) => this.#send(client, message));
    client.unsubscribe = subscription.unsubscribe;
    this.#sendRaw(client, JSON.stringify({ type: 'hello', cursor: subscription.cursor, org_id: principal.org }));
    if (subscription.replay === 'resync') this.#sendRaw(client, JSON.stringify({ type: 'resync', cursor: subscription.cursor }));
    else for (const message of subscription.replay) this.#send(client, message);
  }

  #send(client: Client, message: LiveMessage): void {
    let frame = this.#frames.get(message);
    if (frame === undefined) {
      frame = JSON.stringify(message);
      this.#frames.set(message, frame);
    }
    this.#sendRaw(client, frame);
  }

  #sendRaw(client: Client, frame: string): void {
    const { ws } = client;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > (this.#deps.options?.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED)) {
      this.#log.info({ buffered: ws.bufferedAmount }, 'console socket too slow; closing it (the browser reconnects with its cursor)');
      this.#drop(client, CLOSE_TOO_SLOW, 'too slow: reconnect with since');
      return;
    }
    ws.send(frame);
  }

  #drop(client: Client, code: number, reason: string): void {
    // Nothing more is queued for it: its memory is what it already holds.
    client.unsubscribe();
    this.#clients.delete(client);
    client.ws.close(code, reason);
  }

  #pingAll(): void {
    for (const client of this.#clients) {
      if (!client.alive) {
        client.unsubscribe();
        this.#clients.delete(client);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }
}

/** `since`: absent, or a cursor (a non-negative integer). */
function sinceOf(request: IncomingMessage): number | undefined {
  const raw = new URL(request.url ?? '/', 'http://localhost').searchParams.get('since');
  if (raw === null || raw === '') return undefined;
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new ApiError('parameter_invalid', 'since: must be the cursor of a live message (a non-negative integer)', 400);
  return value;
}
