/** Operators: roles and the API scopes they grant, and the one validation of an operator's fields. */
import { z } from 'zod';
import type { OperatorRole, OperatorRow } from '../store/types.js';
import type { Scope } from '../api/auth.js';
import { hashPassword, passwordProblem } from './passwords.js';

export const ROLES = ['viewer', 'operator', 'admin'] as const satisfies readonly OperatorRole[];

const VIEW: Scope[] = ['cve:view'];
const WRITE: Scope[] = [...VIEW, 'cve:create', 'cve:update', 'cve:delete'];

/** viewer reads; operator runs schedules, scans and marks; admin also manages sites, tokens and operators. */
export const roleScopes: Readonly<Record<OperatorRole, readonly Scope[]>> = {
  viewer: VIEW,
  operator: WRITE,
  admin: [...WRITE, 'cp:admin'],
};

export const ALL_SCOPES: readonly Scope[] = roleScopes.admin;

export const emailField = z
  .string({ error: 'expected an email address' })
  .trim()
  .max(254, { error: 'expected at most 254 characters' })
  .pipe(z.email({ error: 'expected an email address' }))
  .transform((email) => email.toLowerCase());

export const operatorFields = {
  email: emailField,
  name: z.string({ error: 'expected a name' }).trim().min(1, { error: 'expected a name' }).max(200, { error: 'expected at most 200 characters' }),
  role: z.enum(ROLES, { error: 'expected viewer, operator or admin' }),
  password: z.string({ error: 'expected a password' }).superRefine((value, ctx) => {
    const problem = passwordProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
};

export const newOperatorSchema = z.strictObject(operatorFields);
export type NewOperator = z.output<typeof newOperatorSchema>;

/** The row of a new operator (its password hashed); the caller stores it. */
export async function operatorRow(orgId: string, input: NewOperator, at: string): Promise<OperatorRow> {
  return {
    id: crypto.randomUUID(),
    org_id: orgId,
    email: input.email,
    name: input.name,
    role: input.role,
    password_hash: await hashPassword(input.password),
    created_at: at,
    updated_at: at,
    sessions_valid_after: at,
  };
}

/** What the API shows of an operator: never its hash. */
export const publicOperator = (operator: OperatorRow) => ({
  id: operator.id,
  org_id: operator.org_id,
  email: operator.email,
  name: operator.name,
  role: operator.role,
});
