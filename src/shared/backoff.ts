/**
 * Retry waits with capped exponential backoff and "equal jitter": one rule for the agent's uplink
 * reconnects, its NVD requests and the control plane's webhook deliveries.
 */
export interface BackoffPolicy {
  /** The ceiling of the first wait. */
  initialMs: number;
  /** No wait is longer than this, however many attempts failed. */
  maxMs: number;
  factor: number;
}

/**
 * The wait after `failures` consecutive failures (1 for the first): the ceiling is
 * `initialMs * factor^(failures-1)` up to `maxMs`, and the wait is drawn from its upper half, so a
 * thousand clients cut off by the same outage do not all retry in the same second, yet none
 * retries at once in a tight loop. `random` is clamped to 0..1.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, failures - 1));
  const draw = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (draw * ceiling) / 2);
}
