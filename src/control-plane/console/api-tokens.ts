/**
 * API tokens minted by this control plane: HS256 JWTs signed with `auth`'s secret, carrying the
 * issuer and audience the verifier expects, and a `jti` that is the id of their row, so an admin
 * can list and revoke them. The JWT itself is shown once and never stored.
 */
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { Scope } from '../api/auth.js';
import type { AuthSettings } from '../config/load.js';
import type { ApiTokenRow, ApiTokenStore } from '../store/types.js';
import { ALL_SCOPES } from './operators.js';

export const MAX_TOKEN_DAYS = 365;

export const scopesField = z
  .array(z.enum(ALL_SCOPES as [Scope, ...Scope[]], { error: `expected scopes among ${ALL_SCOPES.join(', ')}` }), { error: 'expected a list of scopes' })
  .min(1, { error: 'expected at least one scope' })
  .max(ALL_SCOPES.length, { error: `expected at most ${ALL_SCOPES.length} scopes` })
  .transform((scopes) => [...new Set(scopes)]);

export const newTokenSchema = z.strictObject({
  name: z.string({ error: 'expected a name' }).trim().min(1, { error: 'expected a name' }).max(200, { error: 'expected at most 200 characters' }),
  scopes: scopesField,
  expires_in_days: z.number({ error: 'expected a whole number of days' }).int({ error: 'expected a whole number of days' }).min(1).max(MAX_TOKEN_DAYS),
});

export interface MintRequest {
  org: string;
  sub: string;
  name: string;
  scopes: string[];
  /** Seconds until it expires (the console counts in days, the CLI in minutes, hours or days). */
  ttlSeconds: number;
  createdBy: string;
  now: Date;
}

/** Mints a token and stores its row; undefined when `auth` verifies with a JWKS (nothing to sign with). */
export type MintToken = (request: MintRequest) => Promise<{ row: ApiTokenRow; token: string } | undefined>;

export function tokenMinter(settings: AuthSettings, store: ApiTokenStore): MintToken {
  return async (request) => {
    if (settings.kind !== 'hs256') return undefined;
    const id = crypto.randomUUID();
    const expires = new Date(request.now.getTime() + request.ttlSeconds * 1000);
    let jwt = new SignJWT({ org: request.org, scope: request.scopes.join(' ') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(request.sub)
      .setJti(id)
      .setIssuedAt(Math.floor(request.now.getTime() / 1000))
      .setExpirationTime(Math.floor(expires.getTime() / 1000));
    if (settings.issuer !== undefined) jwt = jwt.setIssuer(settings.issuer);
    if (settings.audience !== undefined) jwt = jwt.setAudience(settings.audience);
    const token = await jwt.sign(settings.secret);
    const row: ApiTokenRow = {
      id,
      org_id: request.org,
      name: request.name,
      scopes: request.scopes,
      created_by: request.createdBy,
      created_at: request.now.toISOString(),
      expires_at: expires.toISOString(),
      revoked_at: null,
    };
    await store.create(row);
    return { row, token };
  };
}
