/**
 * Site tokens: 256 random bits, shown once, stored only as a SHA-256 hash. A slow password hash
 * buys nothing for a secret this long and would cost every reconnect of thousands of agents.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'ecp_';

export const generateSiteToken = (): string => `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

export const hashSiteToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** The token of an `Authorization: Bearer ...` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value === undefined ? null : /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/.exec(value.trim());
  return match?.[1];
}
