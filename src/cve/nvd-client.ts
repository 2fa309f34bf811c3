import type { Logger } from 'pino';
import { CveError } from './errors.js';
import { nvdPageSchema, type NvdPage } from './nvd-schema.js';
import { createRateLimiter, nvdRateLimit, type RateLimit, type WaitingClock } from './rate-limiter.js';
import { backoffDelay } from '../shared/backoff.js';

export const nvdCveApiUrl = 'https://services.nvd.nist.gov/rest/json/cves/2.0';

export interface PageRequest {
  startIndex: number;
  resultsPerPage: number;
  lastModStartDate?: Date | undefined;
  lastModEndDate?: Date | undefined;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface NvdClientOptions {
  logger: Logger;
  clock: WaitingClock;
  /** The CVE API endpoint; a local recorded server in tests. */
  baseUrl?: string;
  apiKey?: string | undefined;
  fetch?: typeof fetch;
  rateLimit?: RateLimit;
  retry?: RetryPolicy;
  /** Per request, headers and body together; a 2,000-record page is ~20 MB. */
  timeoutMs?: number;
  random?: () => number;
}

/** NVD answers 403 and 429 when a client goes over its rate limit, 5xx when it is busy. */
const retryableStatus = (status: number) => status === 403 || status === 429 || status >= 500;

/** NVD times: ISO 8601 with milliseconds and an explicit offset. */
export function nvdTimeParam(date: Date): string {
  return date.toISOString().replace('Z', '+00:00');
}

class RetryableFailure extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

function retryAfter(header: string | null, now: Date): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

export type NvdClient = ReturnType<typeof createNvdClient>;

/**
 * The NVD CVE API 2.0 client: paging requests under the public rate limit, exponential
 * backoff with jitter on 403/429/5xx and broken connections (honouring Retry-After), every
 * wait cancelled by the signal.
 */
export function createNvdClient(options: NvdClientOptions) {
  const { logger, clock } = options;
  const baseUrl = options.baseUrl ?? nvdCveApiUrl;
  const doFetch = options.fetch ?? fetch;
  const limiter = createRateLimiter(options.rateLimit ?? nvdRateLimit(options.apiKey !== undefined), clock);
  const retry = options.retry ?? { attempts: 8, baseDelayMs: 6_000, maxDelayMs: 120_000 };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const random = options.random ?? Math.random;

  function urlFor(request: PageRequest): string {
    const url = new URL(baseUrl);
    url.searchParams.set('resultsPerPage', String(request.resultsPerPage));
    url.searchParams.set('startIndex', String(request.startIndex));
    if (request.lastModStartDate && request.lastModEndDate) {
      url.searchParams.set('lastModStartDate', nvdTimeParam(request.lastModStartDate));
      url.searchParams.set('lastModEndDate', nvdTimeParam(request.lastModEndDate));
    }
    return url.toString();
  }

  async function attempt(url: string, signal: AbortSignal | undefined): Promise<NvdPage> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let body: string;
    let status: number;
    try {
      const response = await doFetch(url, { headers: options.apiKey ? { apiKey: options.apiKey } : {}, signal: combined });
      status = response.status;
      if (status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        if (retryableStatus(status)) throw new RetryableFailure(`HTTP ${status}`, retryAfter(response.headers.get('retry-after'), clock.now()));
        throw new CveError(
          'CVE_ERR_NVD_REFUSED',
          `NVD API answered HTTP ${status} for ${url.replace(/apiKey=[^&]*/, 'apiKey=…')}${status === 404 && options.apiKey ? ' (NVD answers 404 to an invalid API key)' : ''}`,
        );
      }
      body = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof CveError || error instanceof RetryableFailure) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new RetryableFailure(
        timeout.aborted ? `no answer within ${timeoutMs} ms` : `connection failed (${cause?.code ?? cause?.message ?? (error as Error).message})`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new RetryableFailure(`HTTP 200 with a body that is not JSON (${body.length} bytes)`);
    }
    const page = nvdPageSchema.safeParse(json);
    if (!page.success) {
      throw new CveError(
        'CVE_ERR_NVD_PROTOCOL',
        `NVD API page is not a CVE API 2.0 page: ${page.error.issues
          .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
          .slice(0, 3)
          .join('; ')}`,
      );
    }
    return page.data;
  }

  /** One page, retried until it arrives, the attempts run out, or the signal aborts. */
  async function fetchPage(request: PageRequest, signal?: AbortSignal): Promise<NvdPage> {
    const url = urlFor(request);
    let last = '';
    for (let attemptNo = 1; attemptNo <= retry.attempts; attemptNo += 1) {
      await limiter.acquire(signal);
      try {
        return await attempt(url, signal);
      } catch (error) {
        if (!(error instanceof RetryableFailure)) throw error;
        last = error.message;
        if (attemptNo === retry.attempts) break;
        // Jitter keeps several sites behind one NAT from retrying in step; Retry-After wins when longer.
        const backoff = backoffDelay(attemptNo, { initialMs: retry.baseDelayMs, maxMs: retry.maxDelayMs, factor: 2 }, random);
        const wait = Math.min(retry.maxDelayMs, Math.max(error.retryAfterMs ?? 0, backoff));
        logger.warn(
          { startIndex: request.startIndex, attempt: attemptNo, reason: error.message, waitMs: Math.round(wait) },
          'NVD API request failed; retrying',
        );
        await clock.sleep(wait, signal);
      }
    }
    throw new CveError('CVE_ERR_NVD_UNAVAILABLE', `NVD API did not answer startIndex ${request.startIndex} after ${retry.attempts} attempts (last: ${last})`);
  }

  return { fetchPage, urlFor };
}
