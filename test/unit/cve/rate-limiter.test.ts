import { describe, expect, it } from 'vitest';
import { createRateLimiter, nvdRateLimit, type WaitingClock } from '../../../src/cve/rate-limiter.js';

/** A clock that records every wait and jumps ahead instead of sleeping. */
function fakeClock(start = 0) {
  let now = start;
  const waits: number[] = [];
  const clock: WaitingClock = {
    now: () => new Date(now),
    sleep: (ms, signal) => {
      signal?.throwIfAborted();
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
  return { clock, waits, advance: (ms: number) => (now += ms), at: () => now };
}

describe('the NVD rate limiter', () => {
  it("allows NVD's public rates: 5 per 30 s without a key, 50 with one", () => {
    expect(nvdRateLimit(false)).toEqual({ requests: 5, windowMs: 30_000 });
    expect(nvdRateLimit(true)).toEqual({ requests: 50, windowMs: 30_000 });
  });

  it('lets 5 requests through, then makes the 6th wait until the first leaves the rolling window', async () => {
    const { clock, waits, advance, at } = fakeClock();
    const limiter = createRateLimiter(nvdRateLimit(false), clock);
    const starts: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      await limiter.acquire();
      starts.push(at());
      advance(1000);
    }
    expect(waits).toEqual([]);
    await limiter.acquire();
    starts.push(at());
    expect(waits).toEqual([25_000]);
    expect(starts).toEqual([0, 1000, 2000, 3000, 4000, 30_000]);
    // In any 30 s window, never more than 5 starts.
    for (const start of starts) expect(starts.filter((other) => other >= start && other < start + 30_000).length).toBeLessThanOrEqual(5);
  });

  it('stops waiting when the signal aborts', async () => {
    const { clock } = fakeClock();
    const limiter = createRateLimiter({ requests: 1, windowMs: 1000 }, clock);
    await limiter.acquire();
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(limiter.acquire(controller.signal)).rejects.toThrow('stopped');
  });
});
