import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../shared/clock.js';

/** Time and waiting, injected so tests drive backoff and rate limits without real waits. */
export interface WaitingClock extends Clock {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemWaitingClock: WaitingClock = {
  now: () => new Date(),
  sleep: (ms, signal) => delay(ms, undefined, signal === undefined ? undefined : { signal }),
};

export interface RateLimit {
  requests: number;
  windowMs: number;
}

/** NVD's public limits: 5 requests in a rolling 30 s without an API key, 50 with one. */
export const nvdRateLimit = (withKey: boolean): RateLimit => ({ requests: withKey ? 50 : 5, windowMs: 30_000 });

/** A sliding-window limiter: at most `requests` starts in any `windowMs`. */
export function createRateLimiter(limit: RateLimit, clock: WaitingClock) {
  const starts: number[] = [];
  return {
    async acquire(signal?: AbortSignal): Promise<void> {
      for (;;) {
        signal?.throwIfAborted();
        const now = clock.now().getTime();
        while (starts.length > 0 && (starts[0] as number) <= now - limit.windowMs) starts.shift();
        if (starts.length < limit.requests) {
          starts.push(now);
          return;
        }
        await clock.sleep((starts[0] as number) + limit.windowMs - now, signal);
      }
    },
  };
}
