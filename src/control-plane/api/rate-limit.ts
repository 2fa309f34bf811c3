/**
 * Request rate limits (@fastify/rate-limit's counters, in this node's memory): per client address
 * before anything else runs, and per token once the request has authenticated. Each node counts
 * its own, so behind a balancer a client gets up to nodes × the limits (docs/deploy-cluster.md).
 * Not counted: /healthz and /readyz (the balancer's checks), and the WebSocket upgrades of the
 * agents and the console's live feed, which never reach fastify's routes.
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Principal } from './auth.js';
import { principalOf } from './context.js';

export interface RateLimitSettings {
  per_address_per_minute: number;
  per_token_per_minute: number;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

const WINDOW_MS = 60_000;
const EXEMPT = new Set(['/healthz', '/readyz']);
// Distinct clients (addresses, tokens) remembered per window; past it the least recent is forgotten.
const CACHE = 20_000;

/**
 * A token is its organization and subject (every token of one caller shares a budget); a console
 * session is its own. Keys come from verified credentials only, so nobody spends another's budget.
 */
function tokenKey(principal: Principal): string {
  return principal.kind === 'session' && principal.session !== undefined
    ? `session ${principal.session.tokenHash}`
    : `token ${JSON.stringify([principal.org, principal.sub])}`;
}

async function admit(limiter: Limiter, request: FastifyRequest, reply: FastifyReply, what: string): Promise<void> {
  const result = await limiter(request);
  if (result.isAllowed || !result.isExceeded) return;
  const seconds = Math.max(1, result.ttlInSeconds);
  reply.header('Retry-After', String(seconds));
  throw new ApiError('rate_limited', `Too many requests ${what}: at most ${result.max} a minute on this node; retry in ${seconds} seconds.`);
}

export function registerRateLimits(app: FastifyInstance, settings: RateLimitSettings): void {
  const keys = new WeakMap<FastifyRequest, string>();
  let byAddress: Limiter | undefined;
  let byToken: Limiter | undefined;
  // global: false, so the plugin hooks no route by itself; the two limiters below are applied by hand.
  void app.register(fastifyRateLimit, { global: false, cache: CACHE });
  app.after(() => {
    // The default key is request.ip, which honours listen.trust_proxy (X-Forwarded-For), IPv6 by /64.
    byAddress = app.createRateLimit({ max: settings.per_address_per_minute, timeWindow: WINDOW_MS });
    byToken = app.createRateLimit({ max: settings.per_token_per_minute, timeWindow: WINDOW_MS, keyGenerator: (request) => keys.get(request) ?? '' });
  });
  const exempt = (request: FastifyRequest) => EXEMPT.has(request.routeOptions.url ?? '');

  // Before the route's own onRequest (authentication): a flood costs no signature check.
  app.addHook('onRequest', async (request, reply) => {
    if (byAddress && !exempt(request)) await admit(byAddress, request, reply, 'from this address');
  });
  // After authentication, before the body is read: a refused request changes nothing.
  app.addHook('preParsing', async (request, reply) => {
    const principal = principalOf(request);
    if (!byToken || principal === undefined) return;
    keys.set(request, tokenKey(principal));
    await admit(byToken, request, reply, principal.kind === 'session' ? 'in this console session' : 'with this token');
  });
}
