/**
 * Admin (`cp:admin`): API tokens minted here. The JWT is in the 201 answer once and stored nowhere;
 * revoking stores the time, and the authenticator refuses the jti from then on.
 */
import type { FastifyInstance } from 'fastify';
import { addRoute, type ApiDeps } from '../../api/context.js';
import { isUuid, parseBody } from '../../api/validate.js';
import { ApiError } from '../../errors.js';
import type { ApiTokenRow } from '../../store/types.js';
import { newTokenSchema } from '../api-tokens.js';

const listed = (token: ApiTokenRow) => ({
  id: token.id,
  name: token.name,
  scopes: token.scopes,
  created_by: token.created_by,
  created_at: token.created_at,
  expires_at: token.expires_at,
  revoked_at: token.revoked_at,
});

export function registerTokenRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { store, clock } = deps;

  addRoute(app, deps, {
    method: 'GET',
    url: '/console/tokens',
    scope: 'cp:admin',
    handler: async (_request, principal) => ({ status: 200, body: (await store.apiTokens.list(principal.org)).map(listed) }),
  });

  addRoute(app, deps, {
    method: 'POST',
    url: '/console/tokens',
    scope: 'cp:admin',
    handler: async (request, principal) => {
      const input = parseBody(newTokenSchema, request.body);
      // No one mints more than they hold: a token with only cp:admin cannot make a cve:delete one.
      const beyond = input.scopes.find((scope) => !principal.scopes.has(scope));
      if (beyond !== undefined) throw new ApiError('scope_missing', `Minting a token with ${beyond} needs the ${beyond} scope.`);
      const minted = await deps.console.mintToken({
        org: principal.org,
        sub: `token:${input.name}`,
        name: input.name,
        scopes: input.scopes,
        ttlSeconds: input.expires_in_days * 86_400,
        createdBy: principal.sub,
        now: clock.now(),
      });
      if (minted === undefined) throw new ApiError('token_minting_unavailable');
      request.log.info({ token: minted.row.id, scopes: minted.row.scopes, by: principal.sub }, 'API token minted');
      const { id, name, scopes, expires_at } = minted.row;
      return { status: 201, body: { id, name, scopes, expires_at, token: minted.token } };
    },
  });

  addRoute(app, deps, {
    method: 'DELETE',
    url: '/console/tokens/:id',
    scope: 'cp:admin',
    handler: async (request, principal) => {
      const { id } = request.params as { id: string };
      if (!isUuid(id) || !(await store.apiTokens.revoke(principal.org, id.toLowerCase(), clock.now().toISOString()))) throw new ApiError('token_not_found');
      request.log.info({ token: id.toLowerCase(), by: principal.sub }, 'API token revoked');
      return { status: 204 };
    },
  });
}
