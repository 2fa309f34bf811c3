import type { Logger } from 'pino';
import { abortReason, routerError, timeoutError, type RouterTarget } from './router-errors.js';

/**
 * What both router clients (API and SSH) keep per session: every step runs under the session's
 * deadline and the caller's signal; a timeout or an abort ends the session; the first failure is
 * the session's, and it rejects every step still pending. A failed or closed session is never reused.
 */
export class SessionSteps {
  #failure: unknown;
  #closed = false;
  readonly #pending = new Set<(error: unknown) => void>();

  constructor(private readonly options: { target: RouterTarget; timeoutMs: number; logger: Logger; name: string; release: () => void }) {}

  /**
   * Runs one step; `start` settles it, a timeout or an abort fails the whole session. A step
   * without a deadline (`deadline: false`, a `listen` that streams until cancelled) still ends
   * with the session.
   */
  track<T>(
    what: string,
    signal: AbortSignal,
    start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
    { deadline = true }: { deadline?: boolean } = {},
  ): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(routerError('AGENT_ERR_ROUTER_CLOSED', this.options.target, 'session closed by the agent'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = () => this.fail(abortReason(signal));
      const timer = deadline ? setTimeout(() => this.fail(timeoutError(this.options.target, this.options.timeoutMs, what)), this.options.timeoutMs) : undefined;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#pending.delete(rejectEntry);
        settle();
      };
      const rejectEntry = (error: unknown) => finish(() => reject(error));
      this.#pending.add(rejectEntry);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) {
        onAbort();
        return;
      }
      start(
        (value) => finish(() => resolve(value)),
        (error) => finish(() => reject(error)),
      );
    });
  }

  /** The session is dead: remember the first reason, reject everything pending, release the transport. Returns the session's reason. */
  fail(error: unknown): unknown {
    if (this.#failure === undefined && !this.#closed) {
      this.#failure = error;
      this.options.logger.debug({ err: error }, `${this.options.name} session failed`);
    }
    const reason = this.#failure ?? error;
    this.#rejectAll(reason);
    this.options.release();
    return reason;
  }

  /** Closed by the agent: pending steps are rejected with the session's failure, or "closed". Returns false when it was closed already. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#rejectAll(this.#failure ?? routerError('AGENT_ERR_ROUTER_CLOSED', this.options.target, 'session closed by the agent'));
    return true;
  }

  #rejectAll(reason: unknown): void {
    for (const reject of [...this.#pending]) reject(reason);
  }
}
