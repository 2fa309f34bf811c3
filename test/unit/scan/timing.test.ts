import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { progressPercent } from '../../../src/agent/scan/events.js';
import { RateLimiter, Semaphore } from '../../../src/agent/scan/limits.js';
import { RttEstimator } from '../../../src/agent/scan/rtt.js';

const limits = { initialTimeoutMs: 1000, minTimeoutMs: 100, maxTimeoutMs: 3000 };

describe('RttEstimator', () => {
  it('starts at the initial timeout and adapts to the round trips seen, within the clamps', () => {
    const rtt = new RttEstimator(limits);
    expect(rtt.timeoutMs()).toBe(1000);
    for (let i = 0; i < 20; i += 1) rtt.observe(1);
    expect(rtt.timeoutMs()).toBe(100);
    const slow = new RttEstimator(limits);
    for (let i = 0; i < 20; i += 1) slow.observe(400);
    expect(slow.timeoutMs()).toBeGreaterThanOrEqual(400);
    expect(slow.timeoutMs()).toBeLessThan(1000);
    const awful = new RttEstimator(limits);
    awful.observe(10_000);
    expect(awful.timeoutMs()).toBe(3000);
  });

  it('lets a host without samples borrow the scan-wide estimate, and feeds it', () => {
    const scan = new RttEstimator(limits);
    const first = new RttEstimator(limits, scan);
    for (let i = 0; i < 10; i += 1) first.observe(200);
    const second = new RttEstimator(limits, scan);
    expect(second.timeoutMs()).toBe(scan.timeoutMs());
    expect(scan.timeoutMs()).toBeLessThan(1000);
  });

  it('grows the timeout when the round trips vary', () => {
    const steady = new RttEstimator(limits);
    const jumpy = new RttEstimator(limits);
    for (let i = 0; i < 20; i += 1) {
      steady.observe(150);
      jumpy.observe(i % 2 === 0 ? 50 : 250);
    }
    expect(jumpy.timeoutMs()).toBeGreaterThan(steady.timeoutMs());
  });
});

describe('Semaphore', () => {
  it('never lets more than its capacity run', async () => {
    const semaphore = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const signal = new AbortController().signal;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        semaphore.run(signal, async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(3);
  });

  it('rejects waiters when the signal aborts and keeps its count right', async () => {
    const semaphore = new Semaphore(1);
    const controller = new AbortController();
    await semaphore.acquire(controller.signal);
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    semaphore.release();
    await semaphore.acquire(new AbortController().signal);
  });

  it("parks waiters on the scan's own signal under one abort listener, and rejects them all on abort", async () => {
    const controller = new AbortController();
    const semaphore = new Semaphore(1, controller.signal);
    await semaphore.acquire(controller.signal);
    const waiting = Array.from({ length: 50 }, () => semaphore.acquire(controller.signal));
    // A listener per waiter made every wait scan all the others (EventTarget's duplicate check).
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    semaphore.release();
    await waiting[0];
    controller.abort(new Error('stop'));
    const outcomes = await Promise.allSettled(waiting.slice(1));
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
  });
  it('wait(): grants at once when a slot is free, parks otherwise (no promise), fails the parked on abort', () => {
    const controller = new AbortController();
    const semaphore = new Semaphore(1, controller.signal);
    const log: string[] = [];
    semaphore.wait(
      () => log.push('first granted'),
      () => log.push('first failed'),
    );
    semaphore.wait(
      () => log.push('second granted'),
      () => log.push('second failed'),
    );
    semaphore.wait(
      () => log.push('third granted'),
      (reason) => log.push(`third failed: ${(reason as Error).message}`),
    );
    expect(log).toEqual(['first granted']);
    semaphore.release();
    expect(log).toEqual(['first granted', 'second granted']);
    controller.abort(new Error('stop'));
    expect(log).toEqual(['first granted', 'second granted', 'third failed: stop']);
    expect(() =>
      new Semaphore(1).wait(
        () => undefined,
        () => undefined,
      ),
    ).toThrow('scan signal');
  });
});

describe('RateLimiter', () => {
  it('holds back attempts beyond the rate', async () => {
    const limiter = new RateLimiter(20);
    const signal = new AbortController().signal;
    const started = performance.now();
    for (let i = 0; i < 25; i += 1) await limiter.take(signal);
    // 20 in the first burst, the other 5 need a quarter of a second between them.
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
  });
});

describe('progressPercent', () => {
  it('maps each phase onto its share of the scan', () => {
    expect(progressPercent({ type: 'progress', phase: 'discovery', done: 0, total: 10 })).toBe(0);
    expect(progressPercent({ type: 'progress', phase: 'discovery', done: 10, total: 10 })).toBe(10);
    expect(progressPercent({ type: 'progress', phase: 'ports', done: 50, total: 100 })).toBe(45);
    expect(progressPercent({ type: 'progress', phase: 'services', done: 0, total: 0 })).toBe(100);
  });
});
