/**
 * The timers the uplink arms (reconnect waits, heartbeats, the outbox poll), passed in so a test
 * can record the waits and fire them without sleeping.
 */
export interface UplinkTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Milliseconds, for "how long since the peer last spoke". */
  now(): number;
}

export const systemTimers: UplinkTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  now: () => performance.now(),
};
