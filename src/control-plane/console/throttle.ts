/**
 * Login throttling: after `limit` failures within `window` for one email or from one client
 * address, sign-in is refused (even with the right password) until the oldest of those failures
 * leaves the window. Failures live in the store, so a restart does not reset the count; the clock
 * is injected, so tests move time instead of sleeping.
 */
import type { Clock } from '../../shared/clock.js';
import type { LoginFailureStore } from '../store/types.js';

export interface LoginThrottle {
  /** Whole seconds until this email from this address may try again; 0 when it may now. */
  retryAfter(email: string, ip: string): Promise<number>;
  failed(email: string, ip: string): Promise<void>;
  /** A sign-in succeeded: the email's failures are forgotten (the address's are not, or one good account would reset them). */
  succeeded(email: string): Promise<void>;
}

export const LOGIN_LIMIT = 5;
export const LOGIN_WINDOW_MS = 15 * 60_000;

const keysOf = (email: string, ip: string) => [`email:${email.toLowerCase()}`, `ip:${ip}`];

export function storeThrottle(store: LoginFailureStore, clock: Clock, limit = LOGIN_LIMIT, windowMs = LOGIN_WINDOW_MS): LoginThrottle {
  return {
    async retryAfter(email, ip) {
      const now = clock.now().getTime();
      let until = 0;
      for (const key of keysOf(email, ip)) {
        const failures = await store.since(key, new Date(now - windowMs).toISOString());
        // Throttled until the limit-th newest failure is out of the window.
        const pivot = failures.length >= limit ? failures[failures.length - limit] : undefined;
        if (pivot !== undefined) until = Math.max(until, Date.parse(pivot) + windowMs);
      }
      return until > now ? Math.max(1, Math.ceil((until - now) / 1000)) : 0;
    },
    async failed(email, ip) {
      const now = clock.now().getTime();
      await store.record(keysOf(email, ip), new Date(now).toISOString(), new Date(now - windowMs).toISOString());
    },
    async succeeded(email) {
      await store.clear(`email:${email.toLowerCase()}`);
    },
  };
}
