/**
 * Serves the built web console: `GET /` is its index.html, `/assets/*` its hashed bundles (cached
 * for a year, immutable: a new build has new names). Pages are hash routes, so no API path is
 * shadowed. Every console response carries the CSP below: no 'unsafe-inline', nothing off-site.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../errors.js';

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/** `<package root>/dist/console`: this file is src/control-plane/console/ or dist/control-plane/console/, three below the root. */
export const DEFAULT_CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/console');

const setConsoleHeaders = (reply: Pick<FastifyReply, 'header'>) => {
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) reply.header(name, value);
};

export function registerConsoleStatic(app: FastifyInstance, consoleDir: string = DEFAULT_CONSOLE_DIR): void {
  const index = path.join(consoleDir, 'index.html');
  const assets = path.join(consoleDir, 'assets');

  app.get('/', async (_request, reply) => {
    let html: string;
    try {
      // Read per request: a rebuild is served without a restart, and the file is small.
      html = await readFile(index, 'utf8');
    } catch {
      throw new ApiError('console_not_built', `The web console is not built: ${index} is missing; run npm run build.`);
    }
    setConsoleHeaders(reply);
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(html);
  });

  if (existsSync(assets)) {
    void app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      index: false,
      list: false,
      redirect: false,
      decorateReply: false,
      dotfiles: 'deny',
      immutable: true,
      maxAge: '365d',
      setHeaders: setConsoleHeaders,
    });
  } else {
    // Not built when the API started: say so instead of a bare 404 (a restart after the build serves them).
    app.get('/assets/*', async () => {
      throw new ApiError('console_not_built', `The web console is not built: ${assets} is missing; run npm run build.`);
    });
  }
}
