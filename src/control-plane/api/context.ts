import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../agent/schedule/clock.js';
import type { NotificationGroup } from '../config/load.js';
import type { Hub } from '../hub/hub.js';
import type { ScanService } from '../scans/scan-service.js';
import type { ControlPlaneStore } from '../store/types.js';
import { requireScope, type Authenticate, type Principal, type Scope } from './auth.js';

/** What every route module is handed. */
export interface ApiDeps {
  store: ControlPlaneStore;
  scans: ScanService;
  hub: Pick<Hub, 'isOnline' | 'command' | 'commands' | 'connected'>;
  authenticate: Authenticate;
  clock: Clock;
  logger: Logger;
  notificationGroups: Readonly<Record<string, NotificationGroup>>;
  /** The configured public URL, or undefined to use the request's own origin. */
  publicUrl: string | undefined;
  version: string;
}

export interface Reply {
  status: number;
  body?: unknown;
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

/** Registers a route that authenticates, checks its scope, then runs the handler. */
export function addRoute(app: FastifyInstance, deps: ApiDeps, spec: RouteSpec): void {
  app.route({
    method: spec.method,
    url: spec.url,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = await deps.authenticate(request.headers.authorization);
      requireScope(principal, spec.scope);
      const result = await spec.handler(request, principal);
      reply.status(result.status);
      return result.body === undefined ? reply.send() : reply.send(result.body);
    },
  });
}
