import { CatalogError, type CatalogEntry } from '../shared/catalog-error.js';

/**
 * The control plane's two catalogs of typed errors, both documented in docs/api-errors.md (a test
 * keeps code and page in step):
 * - `apiErrors`: what the REST API answers, as the seed's `{type, code, message, doc_url}`.
 * - `controlPlaneErrors`: what stops the process or a CLI command, with an exit code.
 */

export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'conflict_error' | 'api_error';

interface ApiErrorEntry {
  /** The statuses this code may carry (parameter_invalid is 400 for a wrong type, 422 for a broken rule). */
  statuses: readonly number[];
  message: string;
  howToSolve: string;
}

export const apiErrors = {
  invalid_json: {
    statuses: [400],
    message: 'The request body is not valid JSON.',
    howToSolve: 'Send a JSON body with `Content-Type: application/json`; check quoting and trailing commas.',
  },
  parameter_missing: {
    statuses: [400],
    message: 'A required parameter is missing.',
    howToSolve: 'Add the parameter named in the message; the OpenAPI document at `/openapi.json` lists the required fields.',
  },
  parameter_invalid: {
    statuses: [400, 422],
    message: 'A parameter is invalid.',
    howToSolve:
      'Fix the parameter named in the message. 400 means the value has the wrong type or the field is unknown; 422 means it is well-formed but breaks a rule (a range, a pattern, `min_cvss < warning_threshold`).',
  },
  url_invalid: {
    statuses: [400],
    message: 'The request path is not valid percent-encoding.',
    howToSolve: 'Percent-encode path segments as UTF-8 (`%XX` with two hex digits each); ids are plain UUIDs and need no encoding.',
  },
  request_malformed: {
    statuses: [400],
    message: 'The HTTP request is malformed.',
    howToSolve: 'Send a well-formed HTTP/1.1 request; check the request line, header syntax and `Content-Length` or chunked encoding.',
  },
  request_timeout: {
    statuses: [408],
    message: 'The request was not received in time.',
    howToSolve: 'Send the whole request (headers and body) promptly; retry on a new connection.',
  },
  headers_too_large: {
    statuses: [431],
    message: 'The request headers are too large.',
    howToSolve: 'Keep all request headers together under 16 KiB; a bearer token should be a few KiB at most.',
  },
  method_not_allowed: {
    statuses: [405],
    message: 'The path exists but does not serve this method.',
    howToSolve: 'Use one of the methods the `Allow` header of the response lists; `/openapi.json` documents every operation.',
  },
  content_type_unsupported: { statuses: [415], message: 'The request body must be JSON.', howToSolve: 'Send the body with `Content-Type: application/json`.' },
  request_too_large: {
    statuses: [413],
    message: 'The request body is too large.',
    howToSolve: 'Keep request bodies under 1 MiB; split long lists of MAC addresses or IPs into several requests.',
  },
  authentication_required: {
    statuses: [401],
    message: 'No bearer token or console session was given.',
    howToSolve:
      'Send `Authorization: Bearer <JWT>` with a token issued for your organization, or sign in to the console (`POST /console/session`) and send its `cve_session` cookie.',
  },
  token_invalid: {
    statuses: [401],
    message: 'The bearer token is not valid.',
    howToSolve:
      'Check that the token is a JWT signed with the key the control plane trusts (HS256 secret or JWKS), with the configured issuer and audience, and that it carries `sub`, `org` and `scope` claims.',
  },
  token_expired: {
    statuses: [401],
    message: 'The bearer token has expired.',
    howToSolve: 'Get a new token from your identity provider; the `exp` claim has passed.',
  },
  scope_missing: {
    statuses: [403],
    message: 'The token does not carry the scope this request needs.',
    howToSolve:
      'Ask for a token with the scope named in the message (`cve:view`, `cve:create`, `cve:update`, `cve:delete` or `cp:admin`); a console operator needs a role that grants it (viewer: view; operator: create, update, delete; admin: also `cp:admin`).',
  },
  token_revoked: {
    statuses: [401],
    message: 'The API token has been revoked.',
    howToSolve: 'An admin revoked this token (`DELETE /console/tokens/{id}`); mint a new one in the console or with `cve-control-plane tokens mint`.',
  },
  csrf_failed: {
    statuses: [403],
    message: 'The request carries the console session cookie but not its CSRF token, or comes from another origin.',
    howToSolve:
      'Send the `csrf_token` that `POST /console/session` or `GET /console/session` returned in the `X-CSRF-Token` header of every write, from a page of this origin; scripts should use a bearer token instead.',
  },
  login_failed: {
    statuses: [401],
    message: 'The email or password is wrong.',
    howToSolve: 'Check both; an admin can set a new password with `cve-control-plane operators reset-password --email <email>`.',
  },
  login_throttled: {
    statuses: [429],
    message: 'Too many failed sign-ins; try again later.',
    howToSolve:
      'Wait the number of seconds in the `Retry-After` header: after 5 failures within 15 minutes for one email or from one address, sign-in is refused until the window passes, even with the right password.',
  },
  operator_not_found: {
    statuses: [404],
    message: 'No operator has that id in your organization.',
    howToSolve: 'List operators with `GET /console/operators` (or `cve-control-plane operators list`); ids are UUIDs.',
  },
  operator_exists: {
    statuses: [409],
    message: 'An operator with that email exists already.',
    howToSolve: 'Emails are unique across the control plane; use another, or remove the existing operator first.',
  },
  operator_self: {
    statuses: [409],
    message: 'An operator cannot remove itself.',
    howToSolve: 'Ask another admin of your organization to remove you, or use `cve-control-plane operators remove --email <email>` on the control plane host.',
  },
  token_not_found: {
    statuses: [404],
    message: 'No API token has that id in your organization.',
    howToSolve: "List tokens with `GET /console/tokens`; ids are the tokens' `jti` (UUIDs).",
  },
  token_minting_unavailable: {
    statuses: [409],
    message: 'This control plane verifies tokens with an identity provider (JWKS), so it cannot mint them.',
    howToSolve: 'Issue API tokens from your identity provider; the control plane mints tokens only with `auth.hs256_secret`.',
  },
  origin_refused: {
    statuses: [403],
    message: "The request's Origin is not this control plane's own.",
    howToSolve:
      "Open the console from the control plane's own address (or the `public_url` of its config); a page of another site may not open the console's live socket (cross-site WebSocket hijacking).",
  },
  route_not_found: { statuses: [404], message: 'No such endpoint.', howToSolve: 'Check the method and path against `/openapi.json`.' },
  schedule_not_found: {
    statuses: [404],
    message: 'No scan schedule has that id in your organization.',
    howToSolve: 'List your schedules with `GET /scans/cve/scheduled`; ids are UUIDs, and schedules of other organizations are not visible.',
  },
  scan_not_found: { statuses: [404], message: 'No scan has that id in your organization.', howToSolve: 'List scans with `GET /scans/cve`; ids are UUIDs.' },
  site_not_found: {
    statuses: [404],
    message: 'No site has that id in your organization.',
    howToSolve: 'Use the id of a site registered with `cve-control-plane sites add` for your organization (`cve-control-plane sites list`).',
  },
  device_not_found: {
    statuses: [404],
    message: 'No scan of your organization has seen a device with that MAC address.',
    howToSolve: 'Check the MAC (any of 4C:5E:0C:12:34:56, 4c-5e-0c-12-34-56, 4c5e.0c12.3456); list the devices your scans have seen with `GET /devices`.',
  },
  cve_not_found: {
    statuses: [404],
    message: 'No scan of your organization has reported that CVE.',
    howToSolve:
      'Mitigation advice is built from the CVE records your agents report with their findings; a CVE only other organizations found is not known to yours. Check the id, or wait for a scan that finds it.',
  },
  cve_record_not_found: {
    statuses: [404],
    message: "This control plane's feed hub holds no NVD record of that CVE.",
    howToSolve:
      'Full CVE records come from the feed hub (a `feeds:` section in the control plane config, docs/feeds.md). Check the id; a CVE published since the last NVD run appears after the next one.',
  },
  site_unknown: {
    statuses: [422],
    message: 'The schedule names a site that is not registered in your organization.',
    howToSolve: 'Register the site first (`cve-control-plane sites add --org <org> --name <name>`) and use the id it prints.',
  },
  notification_group_unknown: {
    statuses: [422],
    message: 'The notification group is not configured on the control plane.',
    howToSolve: 'Use a group listed under `notification_groups` in the control plane config, or add it there and restart.',
  },
  site_not_in_schedule: {
    statuses: [422],
    message: "The site is not one of the schedule's sites.",
    howToSolve: "Pick a site listed in the schedule's `sites`, or add the site to the schedule with `PUT /scans/cve/scheduled/{id}`.",
  },
  ip_outside_site_subnet: {
    statuses: [422],
    message: "The IP address lies outside the site's subnets in this schedule.",
    howToSolve: 'Give an address inside one of the subnets the schedule lists for that site; the scanner never touches addresses outside them.',
  },
  scan_already_running: {
    statuses: [409],
    message: 'A scan of this schedule is already running.',
    howToSolve: 'Wait for it to finish (`GET /scans/cve/{id}/status`) or stop it with `DELETE /scans/cve/scheduled/{id}/invoke`.',
  },
  scan_not_complete: {
    statuses: [409],
    message: 'The scan has not finished; its report is not ready.',
    howToSolve: 'Poll `GET /scans/cve/{scan_id}` every few seconds until `status` is `completed`, `partial` or `failed`, then fetch the report.',
  },
  auth_unavailable: {
    statuses: [503],
    message: 'The key set that verifies tokens cannot be fetched.',
    howToSolve: 'Check that `auth.jwks_url` in the control plane config is reachable from the control plane; retry the request.',
  },
  console_not_built: {
    statuses: [503],
    message: 'The web console is not built on this control plane.',
    howToSolve: 'Run `npm run build` in the project: it bundles the console into `dist/console/`. The REST API works without it.',
  },
  not_ready: {
    statuses: [503],
    message: 'This node cannot serve requests yet: its database does not answer or its migrations are not applied.',
    howToSolve:
      'A load balancer should send traffic to another node (`GET /readyz` is its health check). Check the database named under `store:` in the config is up and reachable; a node upgraded ahead of its database applies the migrations at start.',
  },
  rate_limited: {
    statuses: [429],
    message: 'Too many requests; slow down.',
    howToSolve:
      'Wait the number of seconds in the `Retry-After` header. Each node admits `rate_limit.per_token_per_minute` requests per token (or console session) and `rate_limit.per_address_per_minute` per client address; poll less often, or raise the limits in the control plane config.',
  },
  internal_error: {
    statuses: [500],
    message: 'The control plane failed to handle the request.',
    howToSolve: "Retry; if it persists, send the control plane's log lines with this request's `reqId` to its operators.",
  },
} as const satisfies Record<string, ApiErrorEntry>;

export type ApiErrorCode = keyof typeof apiErrors;

export function typeOfStatus(status: number): ApiErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 409) return 'conflict_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** An error the REST layer turns into the seed's error object with this status. */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  /** For a 405: the methods the path serves, for the `Allow` header. */
  readonly allow: string | undefined;

  constructor(code: ApiErrorCode, message?: string, status?: number, allow?: string) {
    const entry: ApiErrorEntry = apiErrors[code];
    const chosen = status ?? entry.statuses[0] ?? 500;
    if (!entry.statuses.includes(chosen)) throw new RangeError(`${code} is never ${chosen}`);
    super(message ?? entry.message);
    this.name = 'ApiError';
    this.code = code;
    this.status = chosen;
    this.allow = allow;
  }

  get type(): ApiErrorType {
    return typeOfStatus(this.status);
  }
}

export const controlPlaneErrors = {
  CP_ERR_CONFIG_INVALID: { exitCode: 78, message: 'the configuration is invalid' },
  CP_ERR_CONFIG_UNREADABLE: { exitCode: 78, message: 'the configuration file cannot be read' },
  CP_ERR_CONFIG_EXISTS: { exitCode: 73, message: 'a configuration file exists already' },
  CP_ERR_DB_CORRUPT: { exitCode: 76, message: 'the database file is corrupt' },
  CP_ERR_DB_TOO_NEW: { exitCode: 76, message: 'the database was written by a newer control plane' },
  CP_ERR_DB_UNREACHABLE: { exitCode: 69, message: 'the PostgreSQL database cannot be reached' },
  CP_ERR_STATE_OWNER: { exitCode: 77, message: "root cannot act as the state directory's owner" },
  CP_ERR_DB_COLLATION: { exitCode: 78, message: 'the PostgreSQL database does not use the C collation' },
  CP_ERR_LISTEN_FAILED: { exitCode: 69, message: 'the control plane cannot listen on its address' },
  CP_ERR_SITE_INVALID: { exitCode: 65, message: 'the site arguments are invalid' },
  CP_ERR_SITE_NOT_FOUND: { exitCode: 66, message: 'no site has that id' },
  CP_ERR_OPERATOR_INVALID: { exitCode: 65, message: 'the operator arguments are invalid' },
  CP_ERR_OPERATOR_NOT_FOUND: { exitCode: 66, message: 'no operator has that email' },
  CP_ERR_TOKEN_INVALID: { exitCode: 65, message: 'the token arguments are invalid' },
  CP_ERR_TOKEN_MINTING_UNAVAILABLE: { exitCode: 78, message: 'the control plane verifies tokens with JWKS and cannot mint them' },
} as const satisfies Record<string, CatalogEntry>;

export type ControlPlaneErrorCode = keyof typeof controlPlaneErrors;

export class ControlPlaneError extends CatalogError<ControlPlaneErrorCode> {
  constructor(code: ControlPlaneErrorCode, message?: string, options?: { cause?: unknown }) {
    super(controlPlaneErrors, code, message, options);
    this.name = 'ControlPlaneError';
  }
}
