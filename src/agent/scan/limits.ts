/**
 * A counting semaphore whose waiters give up when the scan is aborted. Waiters on the scan's own
 * signal (given at construction) share one abort listener: an EventTarget checks every listener
 * for duplicates on add and remove, so a listener per waiter made each wait cost O(waiters).
 */
export class Semaphore {
  #free: number;
  readonly #waiting: { grant: () => void; fail: (reason: unknown) => void }[] = [];

  constructor(
    readonly capacity: number,
    private readonly scanSignal?: AbortSignal,
  ) {
    this.#free = capacity;
    scanSignal?.addEventListener(
      'abort',
      () => {
        for (const waiter of this.#waiting.splice(0)) waiter.fail(scanSignal.reason);
      },
      { once: true },
    );
  }

  /** Takes a slot at once if one is free (no promise: the port scan's hot path). */
  tryAcquire(): boolean {
    if (this.#free <= 0) return false;
    this.#free -= 1;
    return true;
  }

  /**
   * acquire() without a promise, for the port scan's hot path: `grant` runs once a slot is
   * taken (at once if one is free), `fail` if the scan's signal aborts first. Only for waiters
   * on the signal given at construction, the one whose abort fails every parked waiter.
   */
  wait(grant: () => void, fail: (reason: unknown) => void): void {
    if (this.scanSignal === undefined) throw new Error('Semaphore.wait needs the scan signal at construction');
    if (this.scanSignal.aborted) fail(this.scanSignal.reason);
    else if (this.tryAcquire()) grant();
    else this.#waiting.push({ grant, fail });
  }

  async acquire(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.tryAcquire()) return;
    const own = signal !== this.scanSignal;
    await new Promise<void>((resolve, reject) => {
      const fail = (reason: unknown) => reject(reason instanceof Error ? reason : new Error('aborted'));
      const waiter = {
        grant: () => {
          if (own) signal.removeEventListener('abort', onAbort);
          resolve();
        },
        fail,
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        fail(signal.reason);
      };
      if (own) signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next.grant();
    else this.#free += 1;
  }

  async run<T>(signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }
}

/** Time for the rate limiter: milliseconds, and a wait; tests drive both by hand. */
export interface RateClock {
  nowMs(): number;
  /** Resolves after `ms` (or at once when `signal` aborts: the limiter checks it). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realRateClock: RateClock = {
  nowMs: () => performance.now(),
  // No abort listener per waiter (a scan parks hundreds here): the limiter checks the signal on waking.
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Connection attempts per second, as a token bucket (burst of one second's worth). Zero means
 * no limit: on a LAN the concurrency caps are what protect the hosts. The rate may change while
 * the scan runs (the polite scanner slows it when the site router is busy); `passed` counts every
 * attempt let through, limited or not, so the actual connect rate can be measured.
 */
export class RateLimiter {
  #perSecond: number;
  #tokens: number;
  #last: number;
  #passed = 0;
  #waiting = 0;

  constructor(
    perSecond: number,
    private readonly clock: RateClock = realRateClock,
  ) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond;
    this.#last = clock.nowMs();
  }

  get perSecond(): number {
    return this.#perSecond;
  }

  get unlimited(): boolean {
    return this.#perSecond <= 0;
  }

  /** Attempts let through since the start. */
  get passed(): number {
    return this.#passed;
  }

  /** Attempts waiting for a token right now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** A new rate from now on (0 = no limit). The bucket never holds more than a second of the new rate. */
  setRate(perSecond: number): void {
    this.#refill();
    // From no limit to a limit: start with an empty bucket, so the slowdown is felt at once.
    this.#tokens = this.#perSecond <= 0 ? 0 : Math.min(this.#tokens, perSecond);
    this.#perSecond = perSecond;
  }

  /** Takes a token if one is there, without a promise (the port scan's hot path); always true without a limit. */
  tryTake(): boolean {
    if (this.#perSecond > 0) {
      this.#refill();
      if (this.#tokens < 1) return false;
      this.#tokens -= 1;
    }
    this.#passed += 1;
    return true;
  }

  async take(signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      if (this.tryTake()) return;
      this.#waiting += 1;
      try {
        await this.clock.sleep(Math.max(1, Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000)), signal);
      } finally {
        this.#waiting -= 1;
      }
    }
  }

  #refill(): void {
    const now = this.clock.nowMs();
    if (this.#perSecond > 0) this.#tokens = Math.min(this.#perSecond, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
  }
}

/** Runs `work` over `items` with at most `parallel` at once; stops taking items once aborted. */
export async function forEachLimited<T>(items: readonly T[], parallel: number, signal: AbortSignal, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal.throwIfAborted();
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}
