import { backoffDelay, type BackoffPolicy } from '../../shared/backoff.js';
import { CveError } from '../errors.js';
import { createRateLimiter, type RateLimit, type WaitingClock } from '../rate-limiter.js';

/** How one source fetches: its own rate limit, retries and per-request timeout. */
export interface FetchKitOptions {
  clock: WaitingClock;
  fetch?: typeof fetch;
  rateLimit?: RateLimit;
  attempts?: number;
  backoff?: BackoffPolicy;
  timeoutMs?: number;
  /** Statuses retried besides 429 and 503 (NVD answers a rate-limited request with 403). */
  retryStatuses?: readonly number[];
}

const defaultBackoff: BackoffPolicy = { initialMs: 2_000, maxMs: 60_000, factor: 2 };

/** Retry-After as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/**
 * A fetcher that returns a whole body or throws: the body is read to its end before the caller
 * sees a byte, so a connection dropped mid-body is a retried failure, never half a catalog.
 */
export function createFetchKit(options: FetchKitOptions) {
  const doFetch = options.fetch ?? fetch;
  const limiter = createRateLimiter(options.rateLimit ?? { requests: 10, windowMs: 1_000 }, options.clock);
  const attempts = options.attempts ?? 5;
  const retryStatuses = new Set([429, 503, ...(options.retryStatuses ?? [])]);
  return {
    async fetchBody(url: string, signal?: AbortSignal): Promise<Buffer> {
      let lastReason = '';
      for (let attempt = 1; attempt <= attempts; attempt++) {
        await limiter.acquire(signal);
        let waitMs: number | undefined;
        try {
          const timeout = AbortSignal.timeout(options.timeoutMs ?? 120_000);
          const response = await doFetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
          if (response.ok) return Buffer.from(await response.arrayBuffer());
          await response.body?.cancel();
          lastReason = `HTTP ${response.status}`;
          if (!retryStatuses.has(response.status) && response.status < 500) {
            throw new CveError('CVE_ERR_SOURCE_UNAVAILABLE', `${url} answered ${lastReason}`);
          }
          waitMs = retryAfterMs(response.headers.get('retry-after'), options.clock.now());
        } catch (error) {
          if (error instanceof CveError) throw error;
          signal?.throwIfAborted();
          lastReason = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
        }
        if (attempt < attempts) await options.clock.sleep(waitMs ?? backoffDelay(attempt, options.backoff ?? defaultBackoff), signal);
      }
      throw new CveError('CVE_ERR_SOURCE_UNAVAILABLE', `${url} did not answer after ${attempts} attempts (${lastReason})`);
    },
  };
}
