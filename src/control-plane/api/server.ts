/**
 * The fastify application of the public API: every error leaves as the seed's
 * `{type, code, message, doc_url}` with doc_url at this server's own /docs/errors/<code>.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { registerConsoleRoutes } from '../console/routes/index.js';
import { registerConsoleStatic } from '../console/static.js';
import { ApiError, apiErrors, type ApiErrorCode } from '../errors.js';
import { baseUrlOf, type ApiDeps } from './context.js';
import { buildOpenApiDocument } from './openapi/document.js';
import { registerRateLimits } from './rate-limit.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerOverviewRoutes } from './routes/overview.js';
import { registerReportRoutes } from './routes/reports.js';
import { registerScanCommandRoutes } from './routes/scan-commands.js';
import { registerScanRoutes } from './routes/scans.js';
import { registerScheduleRoutes } from './routes/schedules.js';
import { registerSiteRoutes } from './routes/sites.js';
import { registerVulnerabilityRoutes } from './routes/vulnerabilities.js';

export const BODY_LIMIT = 1024 * 1024;
/**
 * Path parameters up to this long reach the routes, so an over-long id is the resource's own 404
 * (the README: a path id that is not a UUID is 404). Node refuses a request line past 16 KiB (431) first.
 */
export const MAX_PARAM_LENGTH = 16 * 1024;
/** A refused body no longer than this is read and dropped so the keep-alive connection stays; past it, the connection closes. */
const DRAIN_LIMIT = 4 * BODY_LIMIT;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Fastify's own request errors, by its code, as ours. */
const fastifyCodes: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'parameter_missing',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'content_type_unsupported',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_json',
};

/** A database that hangs is as unready as one that refuses: the balancer's check gets its 503 well within its own timeout. */
const READY_TIMEOUT_MS = 2000;

async function pingWithin(store: ApiDeps['store'], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the store did not answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([store.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function errorBody(error: ApiError, baseUrl: string) {
  return { type: error.type, code: error.code, message: error.message, doc_url: `${baseUrl}/docs/errors/${error.code}` };
}

/** RFC 6750: a 401 names the scheme, and says why a token that was sent is refused. */
function challengeOf(error: ApiError): string {
  return error.code === 'authentication_required' ? 'Bearer' : `Bearer error="invalid_token", error_description="${error.message.replace(/["\\]/g, "'")}"`;
}

/**
 * Errors node's HTTP parser raises before fastify sees a request (headers too large, a malformed
 * request line): written straight to the socket, as the seed's error object, and the connection
 * closed, since what follows on it cannot be trusted.
 */
function clientErrorHandler(publicUrl: string | undefined) {
  return (error: Error & { code?: string }, socket: Socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const apiError =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? new ApiError('headers_too_large')
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new ApiError('request_timeout')
          : new ApiError('request_malformed');
    const base = publicUrl ?? `http://${socket.localAddress?.includes(':') ? `[${socket.localAddress}]` : socket.localAddress}:${socket.localPort}`;
    const body = JSON.stringify(errorBody(apiError, base));
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/** A known path with a method it does not serve is 405 with `Allow`, not 404: the caller has the right path. */
function registerMethodNotAllowed(app: FastifyInstance, known: Map<string, Set<string>>): void {
  for (const [url, methods] of [...known]) {
    if (methods.has('GET')) methods.add('HEAD');
    const missing = METHODS.filter((method) => !methods.has(method));
    if (missing.length === 0) continue;
    const allow = METHODS.filter((method) => methods.has(method)).join(', ');
    app.route({
      method: missing,
      url,
      handler: async (request) => {
        throw new ApiError('method_not_allowed', `${request.method} is not allowed on ${url.replace(/:(\w+)/g, '{$1}')}; use ${allow}.`, undefined, allow);
      },
    });
  }
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([key, item]) => key.includes('\u0000') || hasNul(item));
  return false;
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // request.ip (login throttling), request.protocol (Secure cookies) and request.host (the Origin check) from the proxy's headers.
    trustProxy: deps.trustProxy !== undefined && deps.trustProxy.length > 0 ? [...deps.trustProxy] : false,
    return503OnClosing: true,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    clientErrorHandler: clientErrorHandler(deps.publicUrl),
    // A path fastify cannot decode (bad percent-encoding) is malformed: 400 with our error object.
    frameworkErrors: (error, request, reply) => {
      const apiError =
        error.code === 'FST_ERR_BAD_URL'
          ? new ApiError('url_invalid', `The path is not valid percent-encoding: ${request.url.slice(0, 200)}`)
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? new ApiError('route_not_found', 'No resource has an id that long.')
            : new ApiError('request_malformed');
      void send(request, reply, apiError);
    },
  });
  const openApi = buildOpenApiDocument(deps.publicUrl);
  // Every path and its methods, for the 405 routes added once all the real ones are in.
  const known = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = known.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    known.set(route.url, methods);
  });
  if (deps.rateLimit) registerRateLimits(app, deps.rateLimit);
  // No stored text holds a NUL (PostgreSQL's text cannot, and no name or description needs one):
  // refused before any route sees it, the same on both engines.
  app.addHook('preValidation', async (request) => {
    if (request.body !== undefined && hasNul(request.body)) {
      throw new ApiError('parameter_invalid', 'A text field contains the NUL character (\\u0000), which is not accepted.', 422);
    }
  });
  // JSON only: without this, fastify would hand a text/plain body to the handlers as a string.
  app.removeContentTypeParser('text/plain');

  const send = (request: FastifyRequest, reply: FastifyReply, error: ApiError) => {
    if (error.status === 401) reply.header('WWW-Authenticate', challengeOf(error));
    if (error.allow !== undefined) reply.header('Allow', error.allow);
    return reply
      .status(error.status)
      .type('application/json')
      .send(errorBody(error, baseUrlOf(request, deps.publicUrl)));
  };

  app.setErrorHandler(async (error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) return send(request, reply, error);
    const mapped = 'code' in error && typeof error.code === 'string' ? fastifyCodes[error.code] : undefined;
    if (mapped !== undefined) {
      // Fastify closes the connection after any body-parser error, in case more of the body follows.
      // Once the body is all in (bad JSON), or the rest is small enough for node to read and drop,
      // the connection is kept: a 4xx must not cost a keep-alive client its connection.
      if (request.raw.complete || Number(request.headers['content-length']) <= DRAIN_LIMIT) reply.removeHeader('connection');
      const message = mapped === 'parameter_missing' ? 'body: a JSON object is required' : undefined;
      return send(request, reply, new ApiError(mapped, message));
    }
    request.log.error({ err: error }, 'request failed');
    // A failure while the database is away is this node not being ready: 503, which a balancer's
    // passive check counts against the node (and retries an idempotent request elsewhere).
    const ready = await pingWithin(deps.store, READY_TIMEOUT_MS).then(
      () => true,
      () => false,
    );
    return send(request, reply, new ApiError(ready ? 'internal_error' : 'not_ready'));
  });
  app.setNotFoundHandler((request, reply) =>
    send(request, reply, new ApiError('route_not_found', `No endpoint ${request.method} ${request.url.split('?')[0]}.`)),
  );

  app.get('/openapi.json', async () => openApi);
  // Live: the process serves HTTP. Ready: its store answers with every migration applied (the balancer's check).
  app.get('/healthz', async () => ({ status: 'ok', version: deps.version, agents_connected: deps.hub.connected }));
  app.get('/readyz', async (request) => {
    try {
      await pingWithin(deps.store, READY_TIMEOUT_MS);
    } catch (error) {
      request.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'not ready: the store does not answer');
      throw new ApiError('not_ready');
    }
    return { status: 'ready' };
  });
  app.get('/docs/errors/:code', async (request, reply) => {
    const { code } = request.params as { code: string };
    if (!Object.hasOwn(apiErrors, code)) throw new ApiError('route_not_found', `No error code ${code}.`);
    const entry = apiErrors[code as ApiErrorCode];
    const statuses = entry.statuses.join(' or ');
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html><head><meta charset="utf-8"><title>${code}</title></head><body><h1>${code}</h1><p>HTTP ${statuses}. ${escapeHtml(entry.message)}</p><h2>How to solve</h2><p>${escapeHtml(entry.howToSolve)}</p></body></html>\n`;
  });

  registerScheduleRoutes(app, deps);
  registerScanCommandRoutes(app, deps);
  registerScanRoutes(app, deps);
  registerVulnerabilityRoutes(app, deps);
  registerSiteRoutes(app, deps);
  registerConsoleRoutes(app, deps);
  registerOverviewRoutes(app, deps);
  registerDeviceRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerConsoleStatic(app, deps.consoleDir);
  registerMethodNotAllowed(app, known);
  return app;
}
