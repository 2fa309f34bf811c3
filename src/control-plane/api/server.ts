/**
 * The fastify application of the public API: every error leaves as the seed's
 * `{type, code, message, doc_url}` with doc_url at this server's own /docs/errors/<code>.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError, apiErrors, type ApiErrorCode } from '../errors.js';
import { baseUrlOf, type ApiDeps } from './context.js';
import { buildOpenApiDocument } from './openapi/document.js';
import { registerScanCommandRoutes } from './routes/scan-commands.js';
import { registerScanRoutes } from './routes/scans.js';
import { registerScheduleRoutes } from './routes/schedules.js';
import { registerVulnerabilityRoutes } from './routes/vulnerabilities.js';

export const BODY_LIMIT = 1024 * 1024;

/** Fastify's own request errors, by its code, as ours. */
const fastifyCodes: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'parameter_missing',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'content_type_unsupported',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request_too_large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_json',
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function errorBody(error: ApiError, baseUrl: string) {
  return { type: error.type, code: error.code, message: error.message, doc_url: `${baseUrl}/docs/errors/${error.code}` };
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  const openApi = buildOpenApiDocument(deps.publicUrl);
  // JSON only: without this, fastify would hand a text/plain body to the handlers as a string.
  app.removeContentTypeParser('text/plain');

  const send = (request: FastifyRequest, reply: FastifyReply, error: ApiError) =>
    reply
      .status(error.status)
      .type('application/json')
      .send(errorBody(error, baseUrlOf(request, deps.publicUrl)));

  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) return send(request, reply, error);
    const mapped = 'code' in error && typeof error.code === 'string' ? fastifyCodes[error.code] : undefined;
    if (mapped !== undefined) {
      const message = mapped === 'parameter_missing' ? 'body: a JSON object is required' : undefined;
      return send(request, reply, new ApiError(mapped, message));
    }
    request.log.error({ err: error }, 'request failed');
    return send(request, reply, new ApiError('internal_error'));
  });
  app.setNotFoundHandler((request, reply) =>
    send(request, reply, new ApiError('route_not_found', `No endpoint ${request.method} ${request.url.split('?')[0]}.`)),
  );

  app.get('/openapi.json', async () => openApi);
  app.get('/healthz', async () => ({ status: 'ok', version: deps.version, agents_connected: deps.hub.connected }));
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
  return app;
}
