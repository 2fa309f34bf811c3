import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import nodeRouteros from 'node-routeros';
import type { Logger } from 'pino';
import { AgentError } from '../../errors.js';
import { fromSocketError, routerError, timeoutError, type RouterTarget } from '../router-errors.js';
import { SessionSteps } from '../session-steps.js';
import { tlsFingerprint } from '../router-identity.js';
import type { Row } from '../tables.js';
import { legacyLoginResponse } from './legacy-login.js';

/** The parts of node-routeros the client uses; tests hand in an unpatched copy to prove the guard. */
export interface RouterOsLibrary {
  Connector: new (options: { host: string; port: number; timeout: number; tls?: ConnectionOptions }) => Connector;
  Channel: new (connector: never) => EventEmitter & {
    write(params: string[]): Promise<Record<string, unknown>[]>;
    /** returnPromise false: rows come as 'data' events only, and the library keeps none. */
    write(params: string[], isStream: false, returnPromise: false): undefined;
  };
  Receiver: { edgeCvePatch?: string };
  /** The library's stream of a `listen` (tagged, `/cancel` to stop); absent: the installed library's. */
  RStream?: new (channel: never, params: string[], callback: (error: Error | null, row?: Record<string, unknown>) => void) => LibraryStream;
}

type LibraryStream = EventEmitter & { start(): void; stop(): Promise<void> };

/** A `listen` going on: every change to the menu comes to `onRow` (a removed row as `.id` and `.dead: 'yes'`). */
export interface ApiListen {
  /** Settles when the listen ends: fulfilled after cancel(), rejected with the session's failure or the router's `!trap`. */
  readonly ended: Promise<void>;
  /** Sends `/cancel` for the listen's tag; the router answers `!trap` "interrupted" and `!done`. */
  cancel(signal: AbortSignal): Promise<void>;
}

type Connector = EventEmitter & { connect(): unknown; destroy(): void; socket?: unknown };

export const defaultLibrary = nodeRouteros as unknown as RouterOsLibrary;

/** The value patches/node-routeros+1.6.9.patch sets; without it the library crashes on RouterOS 7.18+. */
export const requiredPatch = 'framing-1';

export function assertPatched(library: RouterOsLibrary): void {
  if (library.Receiver.edgeCvePatch !== requiredPatch) {
    throw new AgentError(
      'AGENT_ERR_ROUTER_CLIENT_UNPATCHED',
      'node-routeros is installed without patches/node-routeros+1.6.9.patch (run npm ci with scripts enabled); refusing to use it',
    );
  }
}

export interface ApiClientOptions {
  target: RouterTarget;
  user: string;
  /** Always a string: '' is sent as an empty password, never as "undefined". */
  password: string;
  /** For api-ssl (undefined for plain api): the socket's options, and the judge of the router's certificate. */
  tls?: {
    options: ConnectionOptions;
    /**
     * Called once the handshake is done and before the login is written, with the SHA-256
     * fingerprint of the certificate the router presented (undefined: it presented none);
     * an error refuses the session with it.
     */
    verifyPeer(fingerprint: string | undefined): AgentError | undefined;
  };
  /** Applies to connect, login and each command. */
  timeoutMs: number;
  logger: Logger;
  library?: RouterOsLibrary;
}

/**
 * One API session over node-routeros's Connector and Channel. The library gives framing,
 * tags and replies; this adds what it lacks: a deadline on every step, rejection of every
 * pending command when the session fails, and typed errors. A failed session is never reused.
 */
export class RouterOsApiClient {
  readonly #options: ApiClientOptions;
  readonly #library: RouterOsLibrary;
  #connector: Connector | undefined;
  readonly #steps: SessionSteps;

  constructor(options: ApiClientOptions) {
    this.#options = options;
    this.#library = options.library ?? defaultLibrary;
    this.#steps = new SessionSteps({ ...options, name: 'router API', release: () => this.#connector?.destroy() });
  }

  /** Opens the TCP (or TLS) session and logs in; rejects with a typed error or the abort reason. */
  async connect(signal: AbortSignal): Promise<void> {
    assertPatched(this.#library);
    signal.throwIfAborted();
    const { target, timeoutMs } = this.#options;
    const tls = this.#options.tls;
    const connector = new this.#library.Connector({ host: target.host, port: target.port, timeout: Math.ceil(timeoutMs / 1000), tls: tls?.options });
    this.#connector = connector;
    connector.on('error', (error: unknown) => this.#steps.fail(fromSocketError(error, target, timeoutMs)));
    connector.on('timeout', () => this.#steps.fail(timeoutError(target, timeoutMs, 'no data from the router')));
    connector.on('fatal', (error: Error) =>
      this.#steps.fail(
        routerError('AGENT_ERR_ROUTER_CLOSED', target, error.message.replace(/^The router ended the session: /, 'the router ended the session: '), error),
      ),
    );
    connector.on('close', () => this.#steps.fail(routerError('AGENT_ERR_ROUTER_CLOSED', target, 'connection closed by the router')));
    await this.#steps.track('connect', signal, (resolve, reject) => {
      connector.once('connected', () => {
        // Under TLS 'connected' is the socket's secureConnect: nothing has been written yet.
        // (Node's checkServerIdentity would not do: it is skipped when CA verification is off.)
        const refused = tls === undefined ? undefined : this.#judgePeer(connector, tls.verifyPeer);
        if (refused === undefined) resolve(undefined);
        else reject(this.#steps.fail(refused));
      });
      connector.connect();
    });
    await this.#login(signal);
    this.#options.logger.debug({ host: target.host, port: target.port, transport: target.transport }, 'router API session open');
  }

  /**
   * `<menu>/print`, optionally limited to some properties; `!empty` and no rows both give none.
   * With `onRow`, each row goes to it as its sentence arrives and none is kept (the result is
   * empty); without, the rows are the result.
   */
  async print(menu: string, signal: AbortSignal, proplist?: readonly string[], onRow?: (row: Row) => void): Promise<Row[]> {
    const words = [`${menu}/print`];
    if (proplist !== undefined) words.push(`=.proplist=${proplist.join(',')}`);
    const rows: Row[] = [];
    // The library's parser gives every value as the string after the second '='.
    await this.#command(words, signal, menu, (onRow ?? ((row: Row) => rows.push(row))) as (row: Record<string, unknown>) => void);
    return rows;
  }

  /**
   * `<menu>/listen`: a tagged command the router never finishes on its own; it sends a `!re` per
   * change (`=.dead=yes` for a removal) until `/cancel`. Streamed by node-routeros's RStream. The
   * socket's idle timeout is lifted for it (a quiet network sends nothing for hours); a dead
   * session is found by the next command's deadline instead.
   */
  listen(menu: string, signal: AbortSignal, onRow: (row: Row) => void, proplist?: readonly string[]): ApiListen {
    const connector = this.#connector;
    if (connector === undefined) throw new Error('connect() first');
    (connector.socket as Socket | undefined)?.setTimeout(0);
    const words = [`${menu}/listen`];
    if (proplist !== undefined) words.push(`=.proplist=${proplist.join(',')}`);
    const { target } = this.#options;
    const Stream = this.#library.RStream ?? (defaultLibrary.RStream as NonNullable<RouterOsLibrary['RStream']>);
    let stream: LibraryStream | undefined;
    let cancelled = false;
    this.#options.logger.trace({ command: words[0] }, 'router API listen');
    const ended = this.#steps.track<void>(
      `listen ${menu}`,
      signal,
      (resolve, reject) => {
        stream = new Stream(new this.#library.Channel(connector as never) as never, words, (error, row) => {
          // A trap other than "interrupted" ends the listen (a menu the router lacks, no permission).
          if (error !== null) reject(routerError('AGENT_ERR_ROUTER_TRAP', target, `!trap: ${error.message} (${menu}/listen)`, error));
          else if (row !== undefined) onRow(row as Row);
        });
        // 'done' comes when the cancelled command's !done arrives (after its !trap "interrupted").
        stream.once('done', () => (cancelled ? resolve() : reject(routerError('AGENT_ERR_ROUTER_CLOSED', target, `${menu}/listen ended by the router`))));
        stream.start();
      },
      { deadline: false },
    );
    return {
      ended,
      cancel: async (cancelSignal) => {
        cancelled = true;
        const current = stream;
        if (current === undefined) return;
        await this.#steps.track<void>(`cancel ${menu}/listen`, cancelSignal, (resolve, reject) => {
          current.stop().then(resolve, (error: unknown) => reject(routerError('AGENT_ERR_ROUTER_PROTOCOL', target, `/cancel failed: ${String(error)}`, error)));
        });
        // The listen's own !trap "interrupted" and !done; a router that never sends them does not hold the caller.
        await Promise.race([
          ended,
          new Promise<never>((_resolve, reject) => {
            cancelSignal.throwIfAborted();
            cancelSignal.addEventListener('abort', () => reject(cancelSignal.reason as Error), { once: true });
          }),
        ]);
      },
    };
  }

  /** Ends the session; pending commands reject with AGENT_ERR_ROUTER_CLOSED. Safe to call twice. */
  close(): void {
    if (this.#steps.close()) this.#connector?.destroy();
  }

  #judgePeer(connector: Connector, verifyPeer: (fingerprint: string | undefined) => AgentError | undefined): unknown {
    try {
      const certificate = (connector.socket as TLSSocket).getPeerCertificate();
      // An anonymous-DH session has no certificate: Node gives an empty object.
      return verifyPeer(certificate.raw === undefined ? undefined : tlsFingerprint(certificate.raw));
    } catch (error) {
      return error;
    }
  }

  async #login(signal: AbortSignal): Promise<void> {
    const { user, password, target } = this.#options;
    const loginFailed = (error: unknown) => {
      if (error instanceof AgentError && error.code === 'AGENT_ERR_ROUTER_TRAP') {
        return routerError('AGENT_ERR_ROUTER_AUTH', target, `login failed (${error.details[0]?.replace(/^!trap: /, '') ?? 'refused'})`, error);
      }
      return error;
    };
    let reply: Record<string, unknown>[];
    try {
      reply = await this.#command(['/login', `=name=${user}`, `=password=${password}`], signal, 'login');
    } catch (error) {
      throw loginFailed(error);
    }
    const challenge = reply[0]?.ret;
    if (challenge === undefined) return;
    // RouterOS before 6.43 ignores =password= and answers with an MD5 challenge.
    if (typeof challenge !== 'string' || !/^[0-9a-f]{32}$/i.test(challenge)) {
      throw this.#steps.fail(routerError('AGENT_ERR_ROUTER_PROTOCOL', target, `login challenge is not 32 hex digits: ${String(challenge).slice(0, 40)}`));
    }
    try {
      await this.#command(['/login', `=name=${user}`, `=response=${legacyLoginResponse(password, challenge)}`], signal, 'login');
    } catch (error) {
      throw loginFailed(error);
    }
  }

  async #command(words: string[], signal: AbortSignal, what: string, onRow?: (row: Record<string, unknown>) => void): Promise<Record<string, unknown>[]> {
    const connector = this.#connector;
    if (connector === undefined) throw new Error('connect() first');
    // Only the command word: attributes carry the password on /login.
    this.#options.logger.trace({ command: words[0] }, 'router API command');
    return this.#steps.track(what, signal, (resolve, reject) => {
      const channel = new this.#library.Channel(connector as never);
      let trap: Record<string, unknown> | undefined;
      channel.once('trap', (data: Record<string, unknown>) => {
        trap = data;
      });
      const failed = (error: unknown) => {
        const { target } = this.#options;
        if (trap !== undefined) {
          const category = trap.category === undefined ? '' : ` (category ${String(trap.category)})`;
          reject(routerError('AGENT_ERR_ROUTER_TRAP', target, `!trap: ${String(trap.message ?? '')}${category}`, error));
        } else {
          // The patched library rejects an unknown reply word instead of throwing.
          reject(this.#steps.fail(routerError('AGENT_ERR_ROUTER_PROTOCOL', target, (error as Error).message, error)));
        }
      };
      if (onRow === undefined) {
        channel.write([...words]).then(resolve, failed);
        return;
      }
      // Streamed: the library's promise form would keep every row until !done; this hands each one on.
      channel.on('data', onRow);
      channel.once('done', () => resolve([]));
      channel.once('trap', (data: Record<string, unknown>) => failed(new Error(String(data.message ?? 'trap'))));
      channel.once('unknown', (reply: unknown) => failed(new Error(`unknown reply: ${String(reply)}`)));
      channel.write([...words], false, false);
    });
  }
}
