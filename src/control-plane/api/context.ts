import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import type { NotificationGroup } from '../config/load.js';
import type { Hub } from '../hub/hub.js';
import type { HubCve } from '../feeds/feed-store.js';
import type { ScanService } from '../scans/scan-service.js';
import type { MintToken } from '../console/api-tokens.js';
import type { ConsoleSessions } from '../console/sessions.js';
import type { LoginThrottle } from '../console/throttle.js';
import type { ControlPlaneStore } from '../store/types.js';
import { requireScope, type Authenticate, type Principal, type Scope } from './auth.js';

/** What every route module is handed. */
export interface ApiDeps {
  store: ControlPlaneStore;
  scans: ScanService;
  hub: Pick<Hub, 'isOnline' | 'command' | 'commands' | 'prepare' | 'deliver' | 'connected' | 'storageOf'>;
  /** Bearer JWT, else the console session cookie (with CSRF on writes), else 401. */
  authenticate: Authenticate;
  /** The console's sign-in: sessions, login throttling, token minting. */
  console: { sessions: ConsoleSessions; throttle: LoginThrottle; mintToken: MintToken };
  clock: Clock;
  logger: Logger;
  notificationGroups: Readonly<Record<string, NotificationGroup>>;
  /** The configured public URL, or undefined to use the request's own origin. */
  publicUrl: string | undefined;
  version: string;
  /** The feed hub's newest version; undefined when this control plane runs no hub. */
  newestFeedVersion?: () => number | undefined;
  /** What the feed hub holds on a CVE; undefined when it holds no record or no hub runs. */
  feedCve?: (cveId: string) => HubCve | undefined;
  /** Proxies (addresses or CIDRs) whose X-Forwarded-* headers are believed; none by default. */
  trustProxy?: readonly string[];
  /** The built web console (index.html + assets/); default `<package root>/dist/console`. */
  consoleDir?: string;
  /** Requests per minute this node admits per client address and per token or session; none when absent. */
  rateLimit?: { per_address_per_minute: number; per_token_per_minute: number };
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (request: FastifyRequest, principal: Principal) => Promise<Reply>;

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  scope: Scope;
  handler: Handler;
}

export function baseUrlOf(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** Who a request authenticated as, once its route's onRequest hook ran; undefined on open routes. */
export function principalOf(request: FastifyRequest): Principal | undefined {
  return principals.get(request);
}

/**
 * Registers a route that authenticates and checks its scope before anything else, the body
 * included: a caller without a valid token learns nothing but 401, and costs no JSON parsing.
 */
export function addRoute(app: FastifyInstance, deps: ApiDeps, spec: RouteSpec): void {
  app.route({
    method: spec.method,
    url: spec.url,
    onRequest: async (request: FastifyRequest) => {
      const principal = await deps.authenticate(request);
      requireScope(principal, spec.scope);
      principals.set(request, principal);
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = principals.get(request) as Principal;
      const result = await spec.handler(request, principal);
      reply.status(result.status);
      if (result.headers) reply.headers(result.headers);
      return result.body === undefined ? reply.send() : reply.send(result.body);
    },
  });
}
