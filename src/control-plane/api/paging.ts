/**
 * Pages of a list: `?limit=` (1..MAX_LIMIT, default DEFAULT_LIMIT) and an opaque `?cursor=` that
 * names the last item of the previous page by its sort key, so a page is stable when items are
 * added in front of it. A bare-array list returns the next cursor in the `X-Next-Cursor` header
 * (and a `Link: <...>; rel="next"`); an object answer carries `next_cursor`. Null or absent: no more.
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export type SortKey = readonly (string | number)[];

export interface PageRequest {
  limit: number;
  after: SortKey | undefined;
}

export function pageRequest(request: FastifyRequest): PageRequest {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const { limit: rawLimit, cursor: rawCursor } = query;
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    if (typeof rawLimit !== 'string' || !/^-?\d+$/.test(rawLimit)) throw new ApiError('parameter_invalid', 'limit: must be an integer', 400);
    limit = Number(rawLimit);
    if (limit < 1 || limit > MAX_LIMIT) throw new ApiError('parameter_invalid', `limit: must be from 1 to ${MAX_LIMIT}`, 422);
  }
  let after: SortKey | undefined;
  if (rawCursor !== undefined) {
    const invalid = new ApiError('parameter_invalid', 'cursor: must be a cursor this API returned (X-Next-Cursor or next_cursor)', 400);
    if (typeof rawCursor !== 'string' || rawCursor === '' || rawCursor.length > 1024) throw invalid;
    try {
      const decoded: unknown = JSON.parse(Buffer.from(rawCursor, 'base64url').toString('utf8'));
      if (!Array.isArray(decoded) || decoded.length === 0 || !decoded.every((v) => typeof v === 'string' || typeof v === 'number')) throw invalid;
      after = decoded as SortKey;
    } catch {
      throw invalid;
    }
  }
  return { limit, after };
}

const encode = (key: SortKey) => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

/**
 * One page of `items`, which are sorted by `keyOf` with each key part ascending or descending as
 * `directions` says. Returns the page and the cursor of the next one (null on the last page).
 */
export function pageOf<T>(items: readonly T[], keyOf: (item: T) => SortKey, directions: readonly ('asc' | 'desc')[], page: PageRequest) {
  const after = page.after;
  const isAfter = (item: T) => {
    if (after === undefined) return true;
    const key = keyOf(item);
    for (let i = 0; i < directions.length; i++) {
      const a = key[i] as string | number;
      const b = after[i] as string | number;
      if (a === b) continue;
      if (typeof a !== typeof b) return false;
      return directions[i] === 'asc' ? a > b : a < b;
    }
    return false;
  };
  const start = after === undefined ? 0 : items.findIndex(isAfter);
  const rest = start < 0 ? [] : items.slice(start);
  const data = rest.slice(0, page.limit);
  const last = data.at(-1);
  const next = rest.length > page.limit && last !== undefined ? encode(keyOf(last)) : null;
  return { data, next };
}

/** For a bare-array list: the next cursor as `X-Next-Cursor` and a `Link` to the next page (none on the last page). */
export function nextHeaders(request: FastifyRequest, baseUrl: string, next: string | null, limit: number): Record<string, string> {
  if (next === null) return {};
  const url = new URL(request.url, baseUrl);
  url.searchParams.set('cursor', next);
  url.searchParams.set('limit', String(limit));
  return { 'X-Next-Cursor': next, Link: `<${url.pathname}${url.search}>; rel="next"` };
}
