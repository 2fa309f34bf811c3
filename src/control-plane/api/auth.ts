/**
 * Who is asking: a bearer JWT (jose: an HS256 secret or the identity provider's JWKS, optional
 * issuer and audience, and the claims the API relies on: `sub`, `org`, space-separated `scope`)
 * or, without one, the console's session cookie (console/sessions.ts). One function for every route.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../shared/clock.js';
import type { AuthSettings } from '../config/load.js';
import { ApiError } from '../errors.js';

export type Scope = 'cve:view' | 'cve:create' | 'cve:update' | 'cve:delete' | 'cp:admin';

export interface Principal {
  sub: string;
  org: string;
  scopes: ReadonlySet<string>;
  /** How it authenticated; absent on principals made before sessions existed. */
  kind?: 'token' | 'session';
  /** The JWT's jti, when it carries one (tokens minted by this control plane do). */
  tokenId?: string;
  /** The signed-in console operator (kind 'session'). */
  operator?: { id: string; email: string; name: string; role: 'viewer' | 'operator' | 'admin' };
  /** The console session itself (kind 'session'): what sign-out and the session endpoint need. */
  session?: { tokenHash: string; csrfToken: string; expiresAt: string };
}

/** What authentication reads of a request: a fastify request has it; wrap a raw upgrade request to match. */
export interface AuthRequest {
  method: string;
  headers: IncomingHttpHeaders;
  protocol: 'http' | 'https';
}

export type Authenticate = (request: AuthRequest) => Promise<Principal>;
/** Verifies an `Authorization` header's bearer JWT. */
export type VerifyBearer = (authorization: string | undefined) => Promise<Principal>;
/** The console session of a request's cookie; undefined when it has none or it is no longer valid. */
export type SessionAuthenticate = (request: AuthRequest) => Promise<Principal | undefined>;

// The asymmetric algorithms an identity provider signs with; HS256 only with the shared secret.
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function claimsOf(payload: JWTPayload): Principal {
  const { sub, org, scope } = payload as JWTPayload & { org?: unknown; scope?: unknown };
  if (typeof sub !== 'string' || sub === '') throw new ApiError('token_invalid', 'The bearer token has no sub claim.');
  if (typeof org !== 'string' || org === '') throw new ApiError('token_invalid', 'The bearer token has no org claim.');
  if (scope !== undefined && typeof scope !== 'string') throw new ApiError('token_invalid', 'The scope claim must be a space-separated string.');
  const jti = typeof payload.jti === 'string' && payload.jti !== '' ? { tokenId: payload.jti } : {};
  return { sub, org, scopes: new Set((scope ?? '').split(' ').filter(Boolean)), kind: 'token', ...jti };
}

export function createAuthenticator(settings: AuthSettings, clock: Clock): VerifyBearer {
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

/**
 * Bearer wins (a script's token is never overridden by a cookie its client happens to hold); else
 * the session cookie; else 401. A token minted here and since revoked (by jti) is refused.
 */
export function requestAuthenticator(deps: {
  bearer: VerifyBearer;
  session: SessionAuthenticate;
  isRevoked: (tokenId: string) => Promise<boolean>;
}): Authenticate {
  return async (request) => {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const principal = await deps.bearer(authorization);
      if (principal.tokenId !== undefined && (await deps.isRevoked(principal.tokenId))) throw new ApiError('token_revoked');
      return principal;
    }
    const principal = await deps.session(request);
    if (principal === undefined) throw new ApiError('authentication_required');
    return principal;
  };
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) throw new ApiError('scope_missing', `This request needs the ${scope} scope.`);
}
