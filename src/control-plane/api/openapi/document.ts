/**
 * GET /openapi.json: the seed document (its four endpoints exactly as written) plus every other
 * endpoint of the API README, with schemas generated from the zod shapes the server uses. The
 * seed is only ever added to, never changed, except that ScanSchedule.last_run_at is nullable
 * (the README: "null before the first run").
 */
import { z } from 'zod';
import { apiErrors } from '../../errors.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../paging.js';
import * as shapes from '../shapes.js';
import seed from './seed-openapi.json' with { type: 'json' };
import { consoleAuthOperations, consoleAuthSchemas, signInOperation } from './console-auth-operations.js';
import { consoleOperations, consoleSchemas } from './console-operations.js';

type Json = Record<string, unknown>;
type Responses = Record<string, string | null>;

export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  scope: string;
  params?: Json[];
  body?: string;
  responses: Responses;
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const uuidParam = (name: string, what: string): Json => ({ name, in: 'path', required: true, description: what, schema: { type: 'string', format: 'uuid' } });
const scheduleParam = uuidParam('scanScheduleId', 'The unique identifier of the scan schedule.');
const scanParam = uuidParam('scan_id', 'The unique identifier of the scan.');

/** Every list takes these; a bare-array answer returns the next cursor in X-Next-Cursor and Link, an object answer in next_cursor. */
const pageParams: Json[] = [
  {
    name: 'limit',
    in: 'query',
    required: false,
    description: `How many items a page holds (default ${DEFAULT_LIMIT}).`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  },
  {
    name: 'cursor',
    in: 'query',
    required: false,
    description: 'Where the page starts: the next cursor of the previous page, as returned; absent for the first page.',
    schema: { type: 'string' },
  },
];
const nextPageHeaders: Json = {
  'X-Next-Cursor': { description: 'The cursor of the next page; absent on the last page.', schema: { type: 'string' } },
  Link: { description: 'The next page as `<path?cursor=...&limit=...>; rel="next"`; absent on the last page.', schema: { type: 'string' } },
};

/** A schedule's scan window (src/shared/schedule/window.ts), added to the seed's two schedule schemas. */
export const scanWindowProperty: Json = {
  type: 'object',
  nullable: true,
  description:
    "The local hours (in the schedule's timezone) during which its scans may run. `end` before `start` spans midnight; `start` equal to `end` is refused. " +
    'A scheduled scan still running when the window closes pauses once its hosts in flight finish (status `paused`) and resumes at the next opening; ' +
    'a slot that comes while it is closed starts paused. Absent or null: always open. On PUT, absent keeps the current window and null clears it.',
  required: ['start', 'end'],
  additionalProperties: false,
  properties: {
    start: { type: 'string', pattern: '^([0-1]?[0-9]|2[0-3]):[0-5][0-9]$', description: 'Local time it opens, HH:mm.', example: '22:00' },
    end: { type: 'string', pattern: '^([0-1]?[0-9]|2[0-3]):[0-5][0-9]$', description: 'Local time it closes, HH:mm.', example: '06:00' },
  },
};

/** The generated component schemas, by name. */
const generated: Record<string, z.ZodType> = {
  InvokeResponse: shapes.invokeResponse,
  MultipleIpsRequest: shapes.multipleIpsRequest,
  MultipleIpsResponse: shapes.multipleIpsResponse,
  ScheduleStatus: shapes.scheduleStatus,
  ScanSummary: shapes.scanSummary,
  ScanDetail: shapes.scanDetail,
  ScanReport: shapes.scanReport,
  CveInstance: shapes.cveInstance,
  MacCvesRequest: shapes.macCvesRequest,
  MacCvesResponse: shapes.macCvesResponse,
  Mitigation: shapes.mitigation,
  CveStatus: shapes.cveStatus,
  CveStatusList: shapes.cveStatusList,
  CveStatusRequest: shapes.cveStatusRequest,
  CveStatusCreated: shapes.cveStatusCreated,
  Health: shapes.health,
  Readiness: shapes.readiness,
  Site: shapes.site,
  HubCve: shapes.hubCve,
  ...consoleSchemas,
};

const operations: Operation[] = [
  {
    method: 'get',
    path: '/scans/cve/scheduled',
    operationId: 'listScanSchedules',
    summary: 'List Scan Schedules',
    tag: 'Scan Schedules',
    scope: 'cve:view',
    params: pageParams,
    responses: { 200: 'ScanSchedule[]', 400: null, 422: null },
  },
  {
    method: 'get',
    path: '/scans/cve/scheduled/{scanScheduleId}',
    operationId: 'getScanSchedule',
    summary: 'Get a Scan Schedule',
    tag: 'Scan Schedules',
    scope: 'cve:view',
    params: [scheduleParam],
    responses: { 200: 'ScanSchedule', 404: null },
  },
  {
    method: 'put',
    path: '/scans/cve/scheduled/{scanScheduleId}',
    operationId: 'updateScanSchedule',
    summary: 'Replace a Scan Schedule',
    tag: 'Scan Schedules',
    scope: 'cve:update',
    params: [scheduleParam],
    body: 'ScanScheduleWrite',
    responses: { 200: 'ScanSchedule', 400: null, 404: null, 422: null },
  },
  {
    method: 'delete',
    path: '/scans/cve/scheduled/{scanScheduleId}',
    operationId: 'deleteScanSchedule',
    summary: 'Delete a Scan Schedule',
    tag: 'Scan Schedules',
    scope: 'cve:delete',
    params: [scheduleParam],
    responses: { 204: null, 404: null },
  },
  {
    method: 'post',
    path: '/scans/cve/scheduled/{scanScheduleId}/invoke',
    operationId: 'invokeScanSchedule',
    summary: 'Run a Schedule Now',
    tag: 'Scan Execution',
    scope: 'cve:create',
    params: [scheduleParam],
    responses: { 202: 'InvokeResponse', 404: null, 409: null },
  },
  {
    method: 'delete',
    path: '/scans/cve/scheduled/{scanScheduleId}/invoke',
    operationId: 'stopScan',
    summary: 'Stop a Scan',
    tag: 'Scan Execution',
    scope: 'cve:update',
    params: [scheduleParam],
    responses: { 202: null, 404: null },
  },
  {
    method: 'post',
    path: '/scans/cve/scheduled',
    operationId: 'createScanSchedule',
    summary: 'Create Scan Schedule',
    tag: 'Scan Schedules',
    scope: 'cve:create',
    body: 'ScanScheduleWrite',
    responses: { 201: 'ScanSchedule', 400: null, 422: null },
  },
  {
    method: 'post',
    path: '/scans/cve/scheduled/single-ip',
    operationId: 'startSingleIpScan',
    summary: 'Start On-Demand Single-IP Scan',
    tag: 'Scan Execution',
    scope: 'cve:create',
    responses: { 202: 'OnDemandScanResponse', 400: null, 404: null, 422: null },
  },
  {
    method: 'post',
    path: '/scans/cve/scan/multiple-ips',
    operationId: 'startMultipleIpScan',
    summary: 'Start On-Demand Multiple-IP Scan',
    tag: 'Scan Execution',
    scope: 'cve:create',
    body: 'MultipleIpsRequest',
    responses: { 202: 'MultipleIpsResponse', 400: null, 404: null, 422: null },
  },
  {
    method: 'get',
    path: '/scans/cve',
    operationId: 'listScans',
    summary: 'List Scan Reports',
    tag: 'Scan Results',
    scope: 'cve:view',
    params: [
      { name: 'scan_schedule_id', in: 'query', required: false, description: 'Only the scans of this schedule.', schema: { type: 'string', format: 'uuid' } },
      {
        name: 'scan_id',
        in: 'query',
        required: false,
        description: "Only the scan with this label (the summary's scan_id, e.g. ABC-DEF-GHJ; any case, dashes optional) or this scan UUID.",
        schema: { type: 'string' },
      },
      {
        name: 'origin',
        in: 'query',
        required: false,
        description: 'Only the scans of this origin: a schedule, on-demand, an agent-local scan, the router watch, or a re-match of new CVE data.',
        schema: { type: 'string', enum: [...shapes.SCAN_ORIGINS] },
      },
      ...pageParams,
    ],
    responses: { 200: 'ScanSummary[]', 400: null, 422: null },
  },
  {
    method: 'get',
    path: '/scans/cve/{scan_id}',
    operationId: 'getScan',
    summary: 'Get a Scan',
    tag: 'Scan Results',
    scope: 'cve:view',
    params: [scanParam],
    responses: { 200: 'ScanDetail', 404: null },
  },
  {
    method: 'get',
    path: '/scans/cve/{scanScheduleId}/status',
    operationId: 'getScanStatus',
    summary: 'Get Latest Scan Status',
    tag: 'Scan Results',
    scope: 'cve:view',
    params: [scheduleParam],
    responses: { 200: 'ScheduleStatus', 404: null },
  },
  {
    method: 'get',
    path: '/scans/cve/{scan_id}/report.json',
    operationId: 'getScanReport',
    summary: 'Get a Scan Report',
    tag: 'Scan Results',
    scope: 'cve:view',
    params: [scanParam],
    responses: { 200: 'ScanReport', 404: null, 409: null },
  },
  {
    method: 'post',
    path: '/scans/cve/mac-address/cves',
    operationId: 'getCvesByMac',
    summary: 'Get CVEs by MAC Address',
    tag: 'Vulnerability Intelligence',
    scope: 'cve:view',
    body: 'MacCvesRequest',
    params: pageParams,
    responses: { 200: 'MacCvesResponse', 400: null, 422: null },
  },
  {
    method: 'get',
    path: '/scans/cve/mitigation/{cve_id}',
    operationId: 'getMitigation',
    summary: 'Get Mitigation Steps',
    tag: 'Vulnerability Intelligence',
    scope: 'cve:view',
    params: [{ name: 'cve_id', in: 'path', required: true, description: 'A CVE id such as CVE-2018-14847.', schema: { type: 'string' } }],
    responses: { 200: 'Mitigation', 404: null, 422: null },
  },
  {
    method: 'get',
    path: '/scans/cve/mac-address/cve/status',
    operationId: 'listCveStatuses',
    summary: 'List CVE Status Marks',
    tag: 'Vulnerability Management',
    scope: 'cve:view',
    params: ['mac_address', 'cve_id', 'status']
      .map((name): Json => ({
        name,
        in: 'query',
        required: false,
        schema: name === 'status' ? { type: 'string', enum: ['accepted', 'mitigated'] } : { type: 'string' },
      }))
      .concat(pageParams),
    responses: { 200: 'CveStatusList', 400: null, 422: null },
  },
  {
    method: 'post',
    path: '/scans/cve/mac-address/cve/status',
    operationId: 'markCveStatus',
    summary: 'Mark a CVE on a Device',
    tag: 'Vulnerability Management',
    scope: 'cve:update',
    body: 'CveStatusRequest',
    responses: { 201: 'CveStatusCreated', 400: null, 422: null },
  },
  {
    method: 'get',
    path: '/cves/{cve_id}',
    operationId: 'getCve',
    summary: "Get a CVE's Full NVD Record, KEV Entry and EPSS Score from the Feed Hub",
    tag: 'Vulnerability Intelligence',
    scope: 'cve:view',
    params: [{ name: 'cve_id', in: 'path', required: true, description: 'A CVE id such as CVE-2018-14847.', schema: { type: 'string' } }],
    responses: { 200: 'HubCve', 404: null, 422: null },
  },
  {
    method: 'get',
    path: '/sites',
    operationId: 'listSites',
    summary: "List Sites, with each Agent's CVE Feed Version and Age",
    tag: 'Sites',
    scope: 'cve:view',
    params: pageParams,
    responses: { 200: 'Site[]', 400: null, 422: null },
  },
  {
    method: 'get',
    path: '/sites/{site_id}',
    operationId: 'getSite',
    summary: "Get a Site, with its Agent's CVE Feed Version and Age, its Router, Neighbors, Subnets and Last Scan",
    tag: 'Sites',
    scope: 'cve:view',
    params: [uuidParam('site_id', 'The unique identifier of the site.')],
    responses: { 200: 'SiteDetail', 404: null },
  },
];

const errorResponses: Record<string, string> = {
  400: 'BadRequestError',
  401: 'UnauthorizedError',
  403: 'ForbiddenError',
  404: 'NotFoundError',
  409: 'ConflictError',
  413: 'PayloadTooLargeError',
  415: 'UnsupportedMediaTypeError',
  422: 'ValidationError',
  429: 'TooManyRequestsError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};
const extraResponses: Record<string, string> = {
  ConflictError: 'Conflict - the request clashes with the current state (a scan already running, a report not ready).',
  PayloadTooLargeError: 'Payload Too Large - the body exceeds 1 MiB.',
  UnsupportedMediaTypeError: 'Unsupported Media Type - the body must be JSON.',
  TooManyRequestsError:
    'Too Many Requests - `rate_limited`: this node admits `rate_limit.per_address_per_minute` requests per client address and `rate_limit.per_token_per_minute` per token or console session.',
  ServiceUnavailableError:
    'Service Unavailable - the key set that verifies tokens cannot be fetched, or this node is not ready (its database does not answer).',
};

function responseOf(code: string, content: string | null): Json {
  const errorName = errorResponses[code];
  if (content === null && errorName !== undefined) return { $ref: `#/components/responses/${errorName}` };
  if (content === null) return { description: code === '204' ? 'Done; no body.' : 'Accepted; no body.' };
  // A media type instead of a schema name: a download (report.csv, report.pdf).
  if (content.includes('/')) return { description: 'Success: the file.', content: { [content]: { schema: { type: 'string', format: 'binary' } } } };
  if (content.endsWith('[]')) {
    const schema = { type: 'array', items: schemaRef(content.slice(0, -2)) };
    return { description: 'Success: one page, newest first.', headers: nextPageHeaders, content: { 'application/json': { schema } } };
  }
  return { description: 'Success.', content: { 'application/json': { schema: schemaRef(content) } } };
}

function operationOf(op: Operation): Json {
  // Every authenticated operation may also answer these.
  const responses: Json = {};
  for (const [code, content] of Object.entries({ ...op.responses, 401: null, 403: null, 429: null, 500: null, 503: null }))
    responses[code] = responseOf(code, content);
  if (op.body) for (const code of ['400', '413', '415']) responses[code] ??= responseOf(code, null);
  return {
    tags: [op.tag],
    summary: op.summary,
    description: `Needs the \`${op.scope}\` scope.`,
    operationId: op.operationId,
    'x-required-scope': op.scope,
    ...(op.params ? { parameters: op.params } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaRef(op.body) } } } } : {}),
    responses,
  };
}

/**
 * Adds our operation to the paths without touching what the seed wrote: a seed operation only
 * gains the keys and response codes it lacks; its own responses and schemas stay exactly as written.
 */
function addOperation(paths: Json, path: string, method: string, operation: Json): void {
  const item = (paths[path] ??= {}) as Json;
  const existing = item[method] as Json | undefined;
  if (existing === undefined) {
    item[method] = operation;
    return;
  }
  for (const [key, value] of Object.entries(operation)) {
    if (key === 'responses') {
      const responses = (existing.responses ??= {}) as Json;
      for (const [code, response] of Object.entries(value as Json)) responses[code] ??= response;
    } else {
      existing[key] ??= value;
    }
  }
}

export function buildOpenApiDocument(serverUrl: string | undefined): Json {
  const doc = structuredClone(seed) as unknown as Json & { paths: Json; components: { schemas: Json; responses: Json } };
  if (serverUrl !== undefined) doc.servers = [{ url: serverUrl, description: 'This control plane' }];
  (((doc.components.schemas.ScanSchedule as Json).properties as Json).last_run_at as Json).nullable = true;
  // Additive: the seed's schedule without `window` stays valid and means always open.
  ((doc.components.schemas.ScanScheduleWrite as Json).properties as Json).window = scanWindowProperty;
  ((doc.components.schemas.ScanSchedule as Json).properties as Json).window = scanWindowProperty;
  for (const [name, schema] of Object.entries({ ...generated, ...consoleAuthSchemas })) {
    const { $schema: _, ...json } = z.toJSONSchema(schema, { target: 'openapi-3.0', io: name.endsWith('Request') ? 'input' : 'output' }) as Json;
    doc.components.schemas[name] = json;
  }
  for (const [name, description] of Object.entries(extraResponses)) {
    doc.components.responses[name] ??= { description, content: { 'application/json': { schema: schemaRef('ErrorResponse') } } };
  }
  (doc.components.responses.TooManyRequestsError as Json).headers = {
    'Retry-After': { description: 'Seconds until this address or token may send again.', schema: { type: 'integer' } },
  };
  (doc.components.schemas.ErrorResponse as Json).required = ['type', 'code', 'message', 'doc_url'];
  (((doc.components.schemas.ErrorResponse as Json).properties as Json).code as Json).enum = Object.keys(apiErrors);
  for (const op of [...operations, ...consoleOperations, ...consoleAuthOperations]) addOperation(doc.paths, op.path, op.method, operationOf(op));
  addOperation(doc.paths, '/console/session', 'post', signInOperation(responseOf));
  Object.assign(doc.paths, {
    '/openapi.json': {
      get: {
        summary: 'This document',
        operationId: 'getOpenApi',
        security: [],
        tags: ['Meta'],
        responses: {
          200: { description: 'The OpenAPI document.', content: { 'application/json': { schema: { type: 'object' } } } },
          429: responseOf('429', null),
        },
      },
    },
    '/healthz': {
      get: {
        summary: 'Liveness: the process serves HTTP',
        description: 'Always 200 while the process answers; not rate limited. A load balancer should route by `/readyz` instead.',
        operationId: 'getHealth',
        security: [],
        tags: ['Meta'],
        responses: { 200: responseOf('200', 'Health') },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: the store answers and its migrations are applied',
        description:
          "A load balancer's health check: 200 when this node's database answers (within 2 s) with every migration applied, else 503 `not_ready`. Not authenticated, not rate limited.",
        operationId: 'getReadiness',
        security: [],
        tags: ['Meta'],
        responses: { 200: responseOf('200', 'Readiness'), 503: responseOf('503', null) },
      },
    },
    '/docs/errors/{code}': {
      get: {
        summary: 'What an error code means and how to solve it',
        operationId: 'getErrorDoc',
        security: [],
        tags: ['Meta'],
        parameters: [{ name: 'code', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } },
          404: responseOf('404', null),
          429: responseOf('429', null),
        },
      },
    },
  });
  return doc;
}
