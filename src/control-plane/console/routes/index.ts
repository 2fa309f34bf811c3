/** The console's own API under /console/ (sign-in, operators, API tokens). */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../../api/context.js';
import { registerSessionRoutes } from './session.js';

export function registerConsoleRoutes(app: FastifyInstance, deps: ApiDeps): void {
  registerSessionRoutes(app, deps);
}
