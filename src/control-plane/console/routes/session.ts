/**
 * Sign-in and sign-out: `POST /console/session` (throttled), `GET /console/session` (who am I and
 * my CSRF token), `DELETE /console/session` (sign out here), `DELETE /console/sessions` (everywhere).
 */
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../../api/auth.js';
import { addRoute, type ApiDeps, type Reply } from '../../api/context.js';
import { parseBody } from '../../api/validate.js';
import { ApiError } from '../../errors.js';
import type { OperatorRow } from '../../store/types.js';
import { publicOperator } from '../operators.js';
import { decoyHash, MAX_PASSWORD_LENGTH, verifyPassword } from '../passwords.js';
import { SESSION_COOKIE } from '../sessions.js';

// Bounds only: a wrong shape of email is just a failed sign-in, with the same message as any other.
const loginSchema = z.strictObject({
  email: z.string({ error: 'expected an email address' }).max(254, { error: 'expected at most 254 characters' }),
  password: z.string({ error: 'expected a password' }).max(MAX_PASSWORD_LENGTH, { error: `expected at most ${MAX_PASSWORD_LENGTH} characters` }),
});

function sessionOf(principal: Principal): NonNullable<Principal['session']> & { operator: NonNullable<Principal['operator']> } {
  if (principal.session === undefined || principal.operator === undefined)
    throw new ApiError('authentication_required', 'This endpoint needs a console session: sign in with POST /console/session.');
  return { ...principal.session, operator: principal.operator };
}

export function registerSessionRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;
  const { sessions, throttle } = deps.console;
  const clearCookie = (request: FastifyRequest) => fastifyCookie.serialize(SESSION_COOKIE, '', { ...sessions.cookieOptions(request, 0), expires: new Date(0) });

  app.route({
    method: 'POST',
    url: '/console/session',
    handler: async (request, reply) => {
      // Login CSRF: another site must not sign a browser in to an account of its choosing.
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== sessions.originOf(request)) throw new ApiError('csrf_failed', `Origin ${origin} is not this console's origin.`);
      const { email, password } = parseBody(loginSchema, request.body);
      const key = email.trim().toLowerCase();
      const retryAfter = await throttle.retryAfter(key, request.ip);
      if (retryAfter > 0) {
        reply.header('Retry-After', String(retryAfter));
        throw new ApiError('login_throttled', `Too many failed sign-ins; try again in ${retryAfter} seconds.`);
      }
      const operator: OperatorRow | undefined = await store.operators.byEmail(key);
      // The decoy keeps an unknown email as slow as a wrong password: timing does not tell which.
      const matches = await verifyPassword(password, operator?.password_hash ?? (await decoyHash()));
      if (operator === undefined || !matches) {
        await throttle.failed(key, request.ip);
        throw new ApiError('login_failed');
      }
      await throttle.succeeded(key);
      const started = await sessions.start(operator);
      request.log.info({ operator: operator.id, org: operator.org_id }, 'console sign-in');
      reply.header('Set-Cookie', fastifyCookie.serialize(SESSION_COOKIE, started.cookie, sessions.cookieOptions(request, sessions.maxAgeSeconds)));
      return reply.status(200).send({ operator: publicOperator(operator), csrf_token: started.session.csrf_token, expires_at: started.expiresAt });
    },
  });

  addRoute(app, deps, {
    method: 'GET',
    url: '/console/session',
    scope: 'cve:view',
    handler: async (_request, principal): Promise<Reply> => {
      const session = sessionOf(principal);
      return {
        status: 200,
        body: { operator: { ...session.operator, org_id: principal.org }, csrf_token: session.csrfToken, expires_at: session.expiresAt },
      };
    },
  });

  addRoute(app, deps, {
    method: 'DELETE',
    url: '/console/session',
    scope: 'cve:view',
    handler: async (request, principal) => {
      await sessions.end(sessionOf(principal).tokenHash);
      return { status: 204, headers: { 'set-cookie': clearCookie(request) } };
    },
  });

  addRoute(app, deps, {
    method: 'DELETE',
    url: '/console/sessions',
    scope: 'cve:view',
    handler: async (request, principal) => {
      const session = sessionOf(principal);
      await store.operators.endSessions(session.operator.id, clock.now().toISOString());
      request.log.info({ operator: session.operator.id }, 'console sign-out everywhere');
      return { status: 204, headers: { 'set-cookie': clearCookie(request) } };
    },
  });
}
