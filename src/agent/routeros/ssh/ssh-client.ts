import ssh2 from 'ssh2';
import type { Logger } from 'pino';
import type { AgentError } from '../../errors.js';
import { fromSocketError, routerError, timeoutError, type RouterTarget } from '../router-errors.js';
import { SessionSteps } from '../session-steps.js';
import { sshFingerprint } from '../router-identity.js';

export interface SshClientOptions {
  target: RouterTarget;
  user: string;
  password: string;
  timeoutMs: number;
  logger: Logger;
  /**
   * Judges the host key's fingerprint (OpenSSH form) during key exchange, before any user name
   * or password is sent: an error refuses the session with it.
   */
  verifyHostKey: (fingerprint: string) => AgentError | undefined;
  /** Largest output one command may produce; more is a protocol error, not a memory problem. */
  maxOutputBytes?: number;
}

/**
 * RouterOS 6.x offers only diffie-hellman-group14-sha1 and ssh-dss, which ssh2 no longer
 * proposes by default. Appended, they are tried last, so a modern router still gets modern
 * algorithms.
 */
export const routerOsAlgorithms = {
  kex: { append: ['diffie-hellman-group14-sha1'], prepend: [], remove: [] },
  serverHostKey: { append: ['ssh-dss'], prepend: [], remove: [] },
} as unknown as ssh2.Algorithms;

/** `+ct`: no colours, no terminal detection; RouterOS reads options after a `+` in the user name. */
export const consoleUser = (user: string): string => `${user}+ct`;

/** One SSH session to the router; each `exec` is one CLI command on its own channel. */
export class RouterOsSshClient {
  readonly #options: SshClientOptions;
  readonly #client = new ssh2.Client();
  /** Why the host key was refused; ssh2 reports only "Host denied". */
  #identityFailure: unknown;
  readonly #steps: SessionSteps;

  constructor(options: SshClientOptions) {
    this.#options = options;
    this.#steps = new SessionSteps({ ...options, name: 'router SSH', release: () => this.#client.destroy() });
  }

  async connect(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { target, timeoutMs } = this.#options;
    this.#client.on('error', (error: Error & { level?: string }) => this.#steps.fail(this.#mapError(error)));
    this.#client.on('close', () => this.#steps.fail(routerError('AGENT_ERR_ROUTER_CLOSED', target, 'connection closed by the router')));
    await this.#steps.track('connect', signal, (resolve) => {
      this.#client.once('ready', () => resolve(undefined));
      this.#client.connect({
        host: target.host,
        port: target.port,
        username: consoleUser(this.#options.user),
        password: this.#options.password,
        tryKeyboard: false,
        readyTimeout: timeoutMs,
        algorithms: routerOsAlgorithms,
        // Called with the host key blob during key exchange; authentication only starts after it says yes.
        hostVerifier: (key: Buffer) => {
          try {
            this.#identityFailure = this.#options.verifyHostKey(sshFingerprint(key));
          } catch (error) {
            this.#identityFailure = error;
          }
          return this.#identityFailure === undefined;
        },
      });
    });
  }

  /** Runs one command; resolves with everything it printed (stdout then stderr). */
  exec(command: string, signal: AbortSignal): Promise<string> {
    const limit = this.#options.maxOutputBytes ?? 64 * 1024 * 1024;
    return this.#steps.track(command, signal, (resolve, reject) => {
      this.#client.exec(command, (error, stream) => {
        if (error) {
          reject(this.#steps.fail(this.#mapError(error)));
          return;
        }
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let size = 0;
        const take = (into: Buffer[]) => (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            reject(this.#steps.fail(routerError('AGENT_ERR_ROUTER_PROTOCOL', this.#options.target, `${command}: output over ${limit} bytes`)));
            return;
          }
          into.push(chunk);
        };
        stream.on('data', take(out));
        stream.stderr.on('data', take(err));
        stream.on('close', () => resolve(Buffer.concat([...out, ...err]).toString('utf8')));
      });
    });
  }

  close(): void {
    if (!this.#steps.close()) return;
    this.#client.end();
    this.#client.destroy();
  }

  #mapError(error: Error & { level?: string }): unknown {
    const { target, timeoutMs } = this.#options;
    if (this.#identityFailure !== undefined) return this.#identityFailure;
    if (error.level === 'client-authentication') return routerError('AGENT_ERR_ROUTER_AUTH', target, 'login failed (password refused)', error);
    if (error.level === 'client-timeout') return timeoutError(target, timeoutMs, 'SSH handshake');
    if (error.level === 'handshake' || error.level === 'protocol') return routerError('AGENT_ERR_ROUTER_PROTOCOL', target, `SSH ${error.message}`, error);
    return fromSocketError(error, target, timeoutMs);
  }
}

/**
 * The host key fingerprint the router presents, and nothing more: the key exchange is cut
 * short by refusing the key, so no user name or password is sent.
 */
export async function probeSshHostKey(target: RouterTarget, timeoutMs: number, logger: Logger, signal: AbortSignal): Promise<string> {
  let seen: string | undefined;
  const client = new RouterOsSshClient({
    target,
    user: '',
    password: '',
    timeoutMs,
    logger,
    verifyHostKey: (fingerprint) => {
      seen = fingerprint;
      return routerError('AGENT_ERR_ROUTER_IDENTITY', target, `presented SSH host key ${fingerprint} (probe only)`);
    },
  });
  try {
    await client.connect(signal);
  } catch (error) {
    if (seen !== undefined) return seen;
    throw error;
  } finally {
    client.close();
  }
  throw routerError('AGENT_ERR_ROUTER_PROTOCOL', target, 'the SSH session opened without showing a host key');
}
