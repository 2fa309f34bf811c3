/**
 * `cve-control-plane operators add|list|remove|reset-password` and `tokens mint`: console
 * operators and API tokens, straight on the database (the first admin has no one to add them).
 */
import { z } from 'zod';
import { tokenMinter } from '../control-plane/console/api-tokens.js';
import { ALL_SCOPES, emailField, operatorFields, operatorRow } from '../control-plane/console/operators.js';
import { hashPassword } from '../control-plane/console/passwords.js';
import type { AuthSettings } from '../control-plane/config/load.js';
import { ControlPlaneError, type ControlPlaneErrorCode } from '../control-plane/errors.js';
import { withStore, type SitesContext } from './control-plane-sites.js';
import { readPassword } from './read-password.js';
import { renderTable } from './table.js';

/** One zod field, its problems in the CLI's words (`--flag: what was expected`). */
function check<S extends z.ZodType>(code: ControlPlaneErrorCode, flag: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ControlPlaneError(code, `${flag}: ${result.error.issues[0]?.message ?? 'invalid'}`);
}

const orgField = z.string().trim().min(1, { error: 'expected the organization id your JWTs carry in their org claim' });

export async function addOperator(
  ctx: SitesContext,
  options: { org: string; email: string; name: string; role: string; passwordFile?: string },
): Promise<void> {
  const org = check('CP_ERR_OPERATOR_INVALID', '--org', orgField, options.org);
  const email = check('CP_ERR_OPERATOR_INVALID', '--email', emailField, options.email);
  const name = check('CP_ERR_OPERATOR_INVALID', '--name', operatorFields.name, options.name);
  const role = check('CP_ERR_OPERATOR_INVALID', '--role', operatorFields.role, options.role);
  const password = check('CP_ERR_OPERATOR_INVALID', 'password', operatorFields.password, await readPassword(options.passwordFile));
  const row = await operatorRow(org, { email, name, role, password }, new Date().toISOString());
  await withStore(ctx, async (store) => {
    if (!(await store.operators.create(row))) throw new ControlPlaneError('CP_ERR_OPERATOR_INVALID', `an operator with email ${email} exists already`);
  });
  if (ctx.json) ctx.out(`${JSON.stringify({ id: row.id, org_id: org, email, name, role })}\n`);
  else ctx.out(`operator ${email} (${role}) added to organization ${org}; sign in at the console with this email and password\n`);
}

export async function listOperators(ctx: SitesContext, options: { org?: string }): Promise<void> {
  const operators = await withStore(ctx, (store) => store.operators.list(options.org));
  const rows = operators.map(({ id, org_id, email, name, role, created_at }) => ({ id, org_id, email, name, role, created_at }));
  if (ctx.json) return ctx.out(`${JSON.stringify(rows)}\n`);
  ctx.out(
    renderTable(
      ['ID', 'ORG', 'EMAIL', 'NAME', 'ROLE', 'CREATED'],
      rows.map((o) => [o.id, o.org_id, o.email, o.name, o.role, o.created_at]),
    ),
  );
}

export async function removeOperator(ctx: SitesContext, options: { email: string }): Promise<void> {
  const email = check('CP_ERR_OPERATOR_INVALID', '--email', emailField, options.email);
  await withStore(ctx, async (store) => {
    const operator = await store.operators.byEmail(email);
    if (operator === undefined) throw new ControlPlaneError('CP_ERR_OPERATOR_NOT_FOUND', `no operator ${email}; cve-control-plane operators list shows them`);
    await store.operators.remove(operator.id);
  });
  ctx.out(ctx.json ? `${JSON.stringify({ email, removed: true })}\n` : `operator ${email} removed; their sessions have ended\n`);
}

export async function resetPassword(ctx: SitesContext, options: { email: string; passwordFile?: string }): Promise<void> {
  const email = check('CP_ERR_OPERATOR_INVALID', '--email', emailField, options.email);
  await withStore(ctx, async (store) => {
    const operator = await store.operators.byEmail(email);
    if (operator === undefined) throw new ControlPlaneError('CP_ERR_OPERATOR_NOT_FOUND', `no operator ${email}; cve-control-plane operators list shows them`);
    const password = check('CP_ERR_OPERATOR_INVALID', 'password', operatorFields.password, await readPassword(options.passwordFile, 'new password: '));
    await store.operators.setPassword(operator.id, await hashPassword(password), new Date().toISOString());
  });
  ctx.out(ctx.json ? `${JSON.stringify({ email, reset: true })}\n` : `password of ${email} changed; their sessions have ended\n`);
}

/** `--scopes`: space- or comma-separated, each one of ALL_SCOPES. */
export function parseScopes(text: string): string[] {
  const scopes = [...new Set(text.split(/[\s,]+/).filter(Boolean))];
  const unknown = scopes.find((scope) => !(ALL_SCOPES as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown !== undefined)
    throw new ControlPlaneError(
      'CP_ERR_TOKEN_INVALID',
      `--scopes: expected scopes among ${ALL_SCOPES.join(', ')} (space- or comma-separated)${unknown ? `, got ${unknown}` : ''}`,
    );
  return scopes;
}

export async function mintToken(
  ctx: SitesContext & { auth: AuthSettings },
  options: { org: string; sub: string; scopes: string; ttl: number; name?: string },
): Promise<void> {
  const org = check('CP_ERR_TOKEN_INVALID', '--org', orgField, options.org);
  const sub = check('CP_ERR_TOKEN_INVALID', '--sub', z.string().trim().min(1, { error: 'expected the subject the token acts as' }), options.sub);
  const scopes = parseScopes(options.scopes);
  if (ctx.auth.kind !== 'hs256')
    throw new ControlPlaneError('CP_ERR_TOKEN_MINTING_UNAVAILABLE', 'auth.jwks_url is set: issue tokens from your identity provider');
  const minted = await withStore(ctx, (store) =>
    tokenMinter(ctx.auth, store.apiTokens)({ org, sub, name: options.name ?? sub, scopes, ttlSeconds: options.ttl, createdBy: 'cli', now: new Date() }),
  );
  if (minted === undefined) throw new ControlPlaneError('CP_ERR_TOKEN_MINTING_UNAVAILABLE');
  if (ctx.json) ctx.out(`${JSON.stringify({ id: minted.row.id, scopes, expires_at: minted.row.expires_at, token: minted.token })}\n`);
  else ctx.out(`${minted.token}\n`);
}
