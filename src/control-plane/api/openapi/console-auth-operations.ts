/** The console's sign-in, operator and API-token operations (console/routes/*.ts), added to /openapi.json by document.ts. */
import type { z } from 'zod';
import { newTokenSchema } from '../../console/api-tokens.js';
import { newOperatorSchema } from '../../console/operators.js';
import { consoleSession, listedOperator, listedToken, loginSchema, mintedToken } from '../../console/shapes.js';
import type { Operation } from './document.js';

type Json = Record<string, unknown>;

export const consoleAuthSchemas: Record<string, z.ZodType> = {
  LoginRequest: loginSchema,
  ConsoleSession: consoleSession,
  Operator: listedOperator,
  NewOperatorRequest: newOperatorSchema,
  ApiToken: listedToken,
  NewApiTokenRequest: newTokenSchema,
  MintedApiToken: mintedToken,
};

const idParam = (what: string): Json => ({ name: 'id', in: 'path', required: true, description: what, schema: { type: 'string', format: 'uuid' } });
const session = { tag: 'Console sign-in', scope: 'cve:view' } as const;
const admin = { tag: 'Console admin', scope: 'cp:admin' } as const;

export const consoleAuthOperations: Operation[] = [
  {
    ...session,
    method: 'get',
    path: '/console/session',
    operationId: 'getConsoleSession',
    summary: 'The Signed-In Operator and the Session’s CSRF Token',
    responses: { 200: 'ConsoleSession' },
  },
  { ...session, method: 'delete', path: '/console/session', operationId: 'signOut', summary: 'Sign Out of This Session', responses: { 204: null } },
  {
    ...session,
    method: 'delete',
    path: '/console/sessions',
    operationId: 'signOutEverywhere',
    summary: 'Sign Out Everywhere: End Every Session of the Operator',
    responses: { 204: null },
  },
  {
    ...admin,
    method: 'get',
    path: '/console/operators',
    operationId: 'listOperators',
    summary: 'List the Organization’s Operators',
    responses: { 200: 'Operator[]' },
  },
  {
    ...admin,
    method: 'post',
    path: '/console/operators',
    operationId: 'addOperator',
    summary: 'Add an Operator',
    body: 'NewOperatorRequest',
    responses: { 201: 'Operator', 409: null, 422: null },
  },
  {
    ...admin,
    method: 'delete',
    path: '/console/operators/{id}',
    operationId: 'removeOperator',
    summary: 'Remove an Operator (Not Yourself); Their Sessions End',
    params: [idParam('The operator.')],
    responses: { 204: null, 404: null, 409: null },
  },
  {
    ...admin,
    method: 'get',
    path: '/console/tokens',
    operationId: 'listApiTokens',
    summary: 'List the API Tokens Minted Here',
    responses: { 200: 'ApiToken[]' },
  },
  {
    ...admin,
    method: 'post',
    path: '/console/tokens',
    operationId: 'mintApiToken',
    summary: 'Mint an API Token (the JWT Is Shown Once)',
    body: 'NewApiTokenRequest',
    responses: { 201: 'MintedApiToken', 409: null, 422: null },
  },
  {
    ...admin,
    method: 'delete',
    path: '/console/tokens/{id}',
    operationId: 'revokeApiToken',
    summary: 'Revoke an API Token',
    params: [idParam("The token's id (its jti).")],
    responses: { 204: null, 404: null },
  },
];

/** Sign-in takes no credentials but the body's: written out, with its 429 and Retry-After. */
export function signInOperation(responseOf: (code: string, content: string | null) => Json): Json {
  const error = { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } };
  return {
    tags: ['Console sign-in'],
    summary: 'Sign In: Start a Session (Cookie cve_session)',
    description: 'Sets the `cve_session` cookie (HttpOnly, SameSite=Strict). One 401 `login_failed` for a wrong email or password.',
    operationId: 'signIn',
    security: [],
    requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/LoginRequest' } } } },
    responses: {
      200: responseOf('200', 'ConsoleSession'),
      400: responseOf('400', null),
      401: responseOf('401', null),
      403: responseOf('403', null),
      413: responseOf('413', null),
      415: responseOf('415', null),
      429: {
        description:
          'Too Many Requests - `login_throttled`: 5 failed sign-ins within 15 minutes for the email or from the address; or `rate_limited`: too many requests from the address.',
        headers: { 'Retry-After': { description: 'Seconds until sign-in may be tried again.', schema: { type: 'integer' } } },
        content: error,
      },
      500: responseOf('500', null),
    },
  };
}
