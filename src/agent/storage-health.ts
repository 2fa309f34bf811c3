/**
 * The one place that decides "storage is failing". Any write that fails with SQLITE_FULL,
 * SQLITE_IOERR*, ENOSPC or EIO sets it (`failed`); while it is set a small probe write runs on a
 * timer, and the first one that succeeds clears it. The scheduler, the scans and the uplink's
 * commands consult it before starting anything; listeners (the STATUS line, the uplink's status
 * to the control plane) hear each change. Logged once per episode, not once per failed write.
 */
import type { Logger } from 'pino';
import { type Clock, utcIso } from '../shared/clock.js';
import { isStorageFailure, oneLine } from '../shared/system-errors.js';

export interface StorageState {
  failing: boolean;
  /** What failed and how, while failing (e.g. "SQLITE_FULL: database or disk is full (outbox acknowledge)"). */
  reason: string | null;
  /** When the current state began. */
  since: string;
}

/** What the parts that write need of it. */
export interface StorageGate {
  readonly failing: boolean;
  readonly state: StorageState;
  /** True when `error` is a storage failure, which it records; false (nothing recorded) for any other error. */
  failed(error: unknown, what: string): boolean;
  /** Called on every change, failing or healthy again. */
  onChange(listener: (state: StorageState) => void): () => void;
  /** Resolves at once while healthy, else when storage recovers or `signal` aborts. */
  whenWritable(signal?: AbortSignal): Promise<void>;
}

/** Thrown instead of starting work while storage is failing. */
export class StorageUnavailable extends Error {
  readonly code = 'STORAGE_FAILING';
  constructor(state: StorageState) {
    super(`storage failing since ${state.since}: ${state.reason ?? 'unknown'}; not starting scans until space returns`);
    this.name = 'StorageUnavailable';
  }
}

/** The STATUS= line of a state. */
export function storageStatusLine(state: StorageState): string {
  const full = state.reason !== null && /FULL|ENOSPC/.test(state.reason);
  return `storage ${full ? 'full' : 'failing'}: not starting scans (${state.reason ?? 'unknown'}; since ${state.since})`;
}

export interface StorageHealthDeps {
  /** A small write to the store; it throws while the disk is full. */
  probe: () => void;
  clock: Clock;
  logger: Logger;
  /** How often the probe runs while failing. */
  probeMs?: number;
}

export class StorageHealth implements StorageGate {
  readonly #deps: StorageHealthDeps;
  readonly #log: Logger;
  readonly #listeners = new Set<(state: StorageState) => void>();
  #state: StorageState;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: StorageHealthDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'storage' });
    this.#state = { failing: false, reason: null, since: utcIso(deps.clock.now()) };
  }

  get failing(): boolean {
    return this.#state.failing;
  }

  get state(): StorageState {
    return { ...this.#state };
  }

  failed(error: unknown, what: string): boolean {
    if (!isStorageFailure(error)) return false;
    const code = (error as { code?: unknown }).code;
    const reason = `${typeof code === 'string' ? `${code}: ` : ''}${oneLine(error)} (${what})`;
    if (this.#state.failing) {
      this.#log.debug({ err: error, what }, 'write failed again while storage is failing');
      return true;
    }
    this.#change({ failing: true, reason, since: utcIso(this.#deps.clock.now()) });
    this.#log.error(
      { err: error, what, probe_ms: this.#probeMs },
      `${storageStatusLine(this.#state)}; the agent stays up and resumes by itself when a probe write succeeds`,
    );
    this.#arm();
    return true;
  }

  onChange(listener: (state: StorageState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  whenWritable(signal?: AbortSignal): Promise<void> {
    if (!this.#state.failing || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        unwatch();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const unwatch = this.onChange((state) => {
        if (!state.failing) done();
      });
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Runs the probe now; true if storage is (again) healthy. */
  probe(): boolean {
    if (!this.#state.failing) return true;
    try {
      this.#deps.probe();
    } catch (error) {
      if (!isStorageFailure(error)) this.#log.warn({ err: error }, 'storage probe failed with an unexpected error');
      return false;
    }
    const failedSince = this.#state.since;
    this.#change({ failing: false, reason: null, since: utcIso(this.#deps.clock.now()) });
    this.#log.info({ failing_since: failedSince }, 'storage writable again: scans start again');
    return true;
  }

  /** Stops probing (the agent is stopping). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  get #probeMs(): number {
    return this.#deps.probeMs ?? 2000;
  }

  #arm(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.probe()) this.#arm();
    }, this.#probeMs);
    this.#timer.unref();
  }

  #change(state: StorageState): void {
    this.#state = state;
    for (const listener of this.#listeners) {
      try {
        listener({ ...state });
      } catch (error) {
        this.#log.error({ err: error }, 'storage state listener failed');
      }
    }
  }
}
