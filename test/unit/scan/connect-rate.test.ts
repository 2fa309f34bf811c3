import { describe, expect, it } from 'vitest';
import { defaultPoliteSettings, nextRate } from '../../../src/agent/pipeline/runner/polite.js';
import { RateLimiter } from '../../../src/agent/scan/limits.js';
import { configSchema } from '../../../src/agent/config/schema.js';
import { ManualClock } from '../../helpers/manual-clock.js';

const drain = (rate: RateLimiter) => {
  let taken = 0;
  while (rate.tryTake()) taken += 1;
  return taken;
};

describe('the connect-rate limiter, adjustable while the scan runs', () => {
  it('gives a burst of one second, then the rate as the clock moves, and counts what it let through', () => {
    const clock = new ManualClock();
    const rate = new RateLimiter(100, clock);
    expect(drain(rate)).toBe(100);
    clock.advance(500);
    expect(drain(rate)).toBe(50);
    expect(rate.passed).toBe(150);
  });

  it('takes a new rate at once: a slower one caps what the bucket holds, a faster one fills at its pace', () => {
    const clock = new ManualClock();
    const rate = new RateLimiter(100, clock);
    clock.advance(1000);
    rate.setRate(10);
    expect(drain(rate)).toBe(10);
    clock.advance(1000);
    expect(drain(rate)).toBe(10);
    rate.setRate(400);
    clock.advance(500);
    expect(drain(rate)).toBe(200);
  });

  it('with no limit lets everything through and still counts it; a limit set then starts from an empty bucket', () => {
    const clock = new ManualClock();
    const rate = new RateLimiter(0, clock);
    for (let i = 0; i < 1000; i += 1) expect(rate.tryTake()).toBe(true);
    expect(rate.passed).toBe(1000);
    rate.setRate(20);
    expect(rate.tryTake()).toBe(false);
    clock.advance(100);
    expect(drain(rate)).toBe(2);
  });

  it('wakes a waiter when the clock gives it a token', async () => {
    const clock = new ManualClock();
    const rate = new RateLimiter(10, clock);
    drain(rate);
    let got = false;
    const taken = rate.take(new AbortController().signal).then(() => (got = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(rate.waiting).toBe(1);
    expect(got).toBe(false);
    clock.advance(100);
    await taken;
    expect(rate.waiting).toBe(0);
  });
});

describe('the next connect rate for a reading of the router load', () => {
  const settings = { ...defaultPoliteSettings, ceilingPercent: 70, minConnectsPerSecond: 10 };
  it.each([
    ['over the ceiling: half the rate in force', { current: 2000, configured: 2000, measured: 0, recoverTo: 2000 }, 85, 1000],
    ['over again: half again, never under the floor', { current: 15, configured: 2000, measured: 0, recoverTo: 2000 }, 99, 10],
    ['at the floor it stays', { current: 10, configured: 2000, measured: 0, recoverTo: 2000 }, 99, 10],
    ['under the ceiling while slowed: twice, up to the configured rate', { current: 1000, configured: 2000, measured: 0, recoverTo: 2000 }, 40, 2000],
    ['under the ceiling and not slowed: unchanged', { current: 2000, configured: 2000, measured: 0, recoverTo: 2000 }, 40, 2000],
    ['at the ceiling exactly: unchanged', { current: 500, configured: 2000, measured: 0, recoverTo: 2000 }, 70, 500],
    ['no limit set, over the ceiling: half the measured rate', { current: 0, configured: 0, measured: 3000, recoverTo: 0 }, 90, 1500],
    ['no limit set, nothing measured: the floor', { current: 0, configured: 0, measured: 0, recoverTo: 0 }, 90, 10],
    ['no limit set, recovering below the rate it had', { current: 750, configured: 0, measured: 0, recoverTo: 3000 }, 20, 1500],
    ['no limit set, recovered: the limit is lifted', { current: 1500, configured: 0, measured: 0, recoverTo: 3000 }, 20, 0],
  ])('%s', (_name, state, load, expected) => {
    expect(nextRate(state, load, settings)).toBe(expected);
  });
});

describe('config scan.router_load', () => {
  it('is on by default: 70 %, read every 5 s, at least 10 connects/s', () => {
    expect(configSchema.parse({}).scan.router_load).toEqual({ enabled: true, ceiling_percent: 70, check_every: 5000, min_connects_per_second: 10 });
  });

  it('takes a duration and refuses a ceiling over 100 %', () => {
    expect(configSchema.parse({ scan: { router_load: { check_every: '2s', ceiling_percent: 50 } } }).scan.router_load).toMatchObject({
      check_every: 2000,
      ceiling_percent: 50,
    });
    expect(configSchema.safeParse({ scan: { router_load: { ceiling_percent: 150 } } }).success).toBe(false);
    expect(configSchema.safeParse({ scan: { router_load: { check_every: '100ms' } } }).success).toBe(false);
  });
});
