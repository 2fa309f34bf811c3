/** The console's own API under /console/ (sign-in, operators, API tokens). */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../../api/context.js';
import { registerOperatorRoutes } from './operators.js';
import { registerSessionRoutes } from './session.js';
import { registerTokenRoutes } from './tokens.js';

export function registerConsoleRoutes(app: FastifyInstance, deps: ApiDeps): void {
  registerSessionRoutes(app, deps);
  registerOperatorRoutes(app, deps);
  registerTokenRoutes(app, deps);
}
