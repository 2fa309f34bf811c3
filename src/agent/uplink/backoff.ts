/** How long the uplink waits before dialing again after a failed or lost connection. */
export interface BackoffPolicy {
  /** The ceiling of the first wait. */
  initialMs: number;
  /** No wait is longer than this, however many attempts failed. */
  maxMs: number;
  factor: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, factor: 2 };

/**
 * The wait after `failures` consecutive failures: the ceiling doubles per failure up to the cap,
 * and the wait is drawn from its upper half ("equal jitter"), so a thousand sites cut off by the
 * same outage do not all dial back in the same second, yet none retries at once in a tight loop.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy = defaultBackoff, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, failures));
  const draw = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (draw * ceiling) / 2);
}
