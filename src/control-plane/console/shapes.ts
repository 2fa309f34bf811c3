/** What the console's sign-in, operator and token endpoints answer: one zod shape each, for /openapi.json. */
import { z } from 'zod';
import { ROLES } from './operators.js';
import { MAX_PASSWORD_LENGTH } from './passwords.js';

const iso = z.string().meta({ format: 'date-time' });

export const sessionOperator = z.object({ id: z.uuid(), org_id: z.string(), email: z.string(), name: z.string(), role: z.enum(ROLES) });

export const consoleSession = z.object({
  operator: sessionOperator,
  csrf_token: z.string().meta({ description: 'Send it as X-CSRF-Token on every write that uses the session cookie.' }),
  expires_at: iso.meta({ description: 'When the session ends unless a request comes first (idle end, capped by the absolute end).' }),
});

export const listedOperator = z.object({ id: z.uuid(), email: z.string(), name: z.string(), role: z.enum(ROLES), created_at: iso });

export const listedToken = z.object({
  id: z.uuid().meta({ description: "The token's jti." }),
  name: z.string(),
  scopes: z.array(z.string()),
  created_by: z.string(),
  created_at: iso,
  expires_at: iso,
  revoked_at: iso.nullable(),
});

export const mintedToken = z.object({
  id: z.uuid(),
  name: z.string(),
  scopes: z.array(z.string()),
  expires_at: iso,
  token: z.string().meta({ description: 'The JWT, shown this once: it is not stored.' }),
});

// Bounds only: a wrong shape of email is just a failed sign-in, with the same message as any other.
export const loginSchema = z.strictObject({
  email: z.string({ error: 'expected an email address' }).max(254, { error: 'expected at most 254 characters' }),
  password: z.string({ error: 'expected a password' }).max(MAX_PASSWORD_LENGTH, { error: `expected at most ${MAX_PASSWORD_LENGTH} characters` }),
});
