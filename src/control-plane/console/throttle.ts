/**
 * Login throttling: after `limit` failures within `window` for one email or from one client
 * address, sign-in is refused (even with the right password) until the oldest of those failures
 * leaves the window. Each attempt counts as a failure from the moment it starts (atomically with
 * the check) and is taken back when the password was right, so parallel guesses get no more tries
 * than serial ones. Failures live in the store, so a restart does not reset the count; the clock
 * is injected, so tests move time instead of sleeping.
 */
import type { Clock } from '../../shared/clock.js';
import type { LoginFailureStore } from '../store/types.js';

export type LoginAttempt = { retryAfter: number } | { ids: number[] };

export interface LoginThrottle {
  /** Starts a sign-in: the whole seconds to wait (nothing counted), or the attempt, counted as a failure until `succeeded`. */
  begin(email: string, ip: string): Promise<LoginAttempt>;
  /** The password was right: the attempt and the email's failures are forgotten (not the address's, or one good account would reset them). */
  succeeded(email: string, attempt: { ids: number[] }): Promise<void>;
}

export const LOGIN_LIMIT = 5;
export const LOGIN_WINDOW_MS = 15 * 60_000;

const emailKey = (email: string) => `email:${email.toLowerCase()}`;

export function storeThrottle(store: LoginFailureStore, clock: Clock, limit = LOGIN_LIMIT, windowMs = LOGIN_WINDOW_MS): LoginThrottle {
  return {
    async begin(email, ip) {
      const now = clock.now().getTime();
      const result = await store.attempt([emailKey(email), `ip:${ip}`], new Date(now).toISOString(), new Date(now - windowMs).toISOString(), limit);
      if ('ids' in result) return result;
      // Throttled until, for every key over the limit, the limit-th newest failure is out of the window.
      const until = Math.max(...result.throttled.map((times) => Date.parse(times[times.length - limit] ?? '') + windowMs));
      return { retryAfter: Math.max(1, Math.ceil((until - now) / 1000)) };
    },
    async succeeded(email, attempt) {
      await store.succeeded(attempt.ids, emailKey(email));
    },
  };
}
