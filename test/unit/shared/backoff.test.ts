import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/shared/backoff.js';

const policy = { initialMs: 100, maxMs: 1000, factor: 2 };

describe('backoffDelay: one retry rule (uplink reconnects, NVD requests, webhook deliveries)', () => {
  it.each<[number, number, number]>([
    // failures, random draw, wait: the ceiling doubles from initialMs per failure, up to maxMs; the wait is its upper half.
    [1, 0, 50],
    [1, 1, 100],
    [2, 0.5, 150],
    [3, 1, 400],
    [4, 0, 400],
    [5, 1, 1000],
    [50, 1, 1000],
    [50, 0, 500],
    // Draws outside 0..1 are clamped (before: only the agent's copy clamped, the webhook notifier's did not).
    [1, 2, 100],
    [1, -1, 50],
    // Below one failure the first ceiling holds.
    [0, 1, 100],
  ])('after %i failure(s), draw %d -> %i ms', (failures, draw, wait) => {
    expect(backoffDelay(failures, policy, () => draw)).toBe(wait);
  });

  it('a webhook policy in seconds: 2 s doubling to a 600 s cap', () => {
    const seconds = { initialMs: 2000, maxMs: 600_000, factor: 2 };
    expect([1, 2, 3, 10, 11].map((attempt) => backoffDelay(attempt, seconds, () => 1))).toEqual([2000, 4000, 8000, 600_000, 600_000]);
  });
});
