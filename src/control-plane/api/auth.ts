/**
 * Bearer JWTs (jose): an HS256 secret or the identity provider's JWKS, optional issuer and
 * audience, and the claims the API relies on (`sub`, `org`, space-separated `scope`).
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../shared/clock.js';
import type { AuthSettings } from '../config/load.js';
import { ApiError } from '../errors.js';

export type Scope = 'cve:view' | 'cve:create' | 'cve:update' | 'cve:delete';

export interface Principal {
  sub: string;
  org: string;
  scopes: ReadonlySet<string>;
}

export type Authenticate = (authorization: string | undefined) => Promise<Principal>;

// The asymmetric algorithms an identity provider signs with; HS256 only with the shared secret.
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function claimsOf(payload: JWTPayload): Principal {
  const { sub, org, scope } = payload as JWTPayload & { org?: unknown; scope?: unknown };
  if (typeof sub !== 'string' || sub === '') throw new ApiError('token_invalid', 'The bearer token has no sub claim.');
  if (typeof org !== 'string' || org === '') throw new ApiError('token_invalid', 'The bearer token has no org claim.');
  if (scope !== undefined && typeof scope !== 'string') throw new ApiError('token_invalid', 'The scope claim must be a space-separated string.');
  return { sub, org, scopes: new Set((scope ?? '').split(' ').filter(Boolean)) };
}

export function createAuthenticator(settings: AuthSettings, clock: Clock): Authenticate {
  const key: Uint8Array | JWTVerifyGetKey =
    settings.kind === 'hs256' ? settings.secret : createRemoteJWKSet(new URL(settings.url), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  const algorithms = settings.kind === 'hs256' ? ['HS256'] : JWKS_ALGORITHMS;
  return async (authorization) => {
    const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new ApiError('authentication_required', authorization === undefined ? undefined : 'The Authorization header must be "Bearer <JWT>".');
    try {
      const { payload } = await jwtVerify(match[1] as string, key as JWTVerifyGetKey, {
        algorithms,
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: settings.clockToleranceSeconds,
        currentDate: clock.now(),
        requiredClaims: ['exp'],
      });
      return claimsOf(payload);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new ApiError('token_expired');
      if (error instanceof joseErrors.JWKSTimeout || (error instanceof TypeError && settings.kind === 'jwks')) throw new ApiError('auth_unavailable');
      if (error instanceof joseErrors.JOSEError) throw new ApiError('token_invalid', `The bearer token is not valid: ${error.message}.`);
      throw error;
    }
  };
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) throw new ApiError('scope_missing', `This request needs the ${scope} scope.`);
}
