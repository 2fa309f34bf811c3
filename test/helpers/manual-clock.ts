import type { RateClock } from '../../src/agent/scan/limits.js';
import type { Clock } from '../../src/shared/clock.js';

/**
 * Time that moves only when the test says: milliseconds and sleeps for the connect-rate limiter
 * and the router-load readings (RateClock), and dates for the run's stamps (Clock). A sleep ends
 * when `advance` passes its due time, or at once when its signal aborts.
 */
export class ManualClock implements RateClock, Clock {
  #ms = 0;
  readonly #sleepers: { due: number; wake: () => void }[] = [];

  constructor(private readonly startsAt = Date.parse('2026-12-06T03:00:00.000Z')) {}

  nowMs(): number {
    return this.#ms;
  }

  now(): Date {
    return new Date(this.startsAt + this.#ms);
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const sleeper = {
        due: this.#ms + ms,
        wake: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.#sleepers.indexOf(sleeper);
        if (at >= 0) this.#sleepers.splice(at, 1);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Sleeps pending right now. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  /** Moves time on and wakes every sleep that fell due, earliest first. */
  advance(ms: number): void {
    this.#ms += ms;
    const due = this.#sleepers.filter((sleeper) => sleeper.due <= this.#ms).sort((a, b) => a.due - b.due);
    for (const sleeper of due) this.#sleepers.splice(this.#sleepers.indexOf(sleeper), 1);
    for (const sleeper of due) sleeper.wake();
  }
}
